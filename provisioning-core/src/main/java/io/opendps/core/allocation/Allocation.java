package io.opendps.core.allocation;

import io.opendps.core.error.ErrorCode;

/** The outcome of allocation: a hub, or why there is none. */
public sealed interface Allocation {

    /** The device goes to {@code hub}. */
    record Assigned(String hub) implements Allocation {
    }

    /** No hub: the registration fails with this code and message. */
    record Failed(ErrorCode code, String message) implements Allocation {
    }
}
