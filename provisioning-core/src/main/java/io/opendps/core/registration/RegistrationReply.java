package io.opendps.core.registration;

import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What the device gets back: a status (HTTP status, also the MQTT response topic's status), exactly one of an
 * operation status or an error body, and a retry-after for 202 and 429.
 */
public record RegistrationReply(int status, @Nullable RegistrationOperationStatus operation,
        @Nullable ErrorBody error, @Nullable Integer retryAfterSeconds) {

    /** Seconds the device should wait before polling; the Java SDK clamps anything outside 2–5 to 2. */
    public static final int RETRY_AFTER_SECONDS = 2;

    public RegistrationReply {
        if ((operation == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of operation and error");
        }
    }

    /** 202 to a register or to a poll of an unfinished operation. */
    public static RegistrationReply accepted(RegistrationOperationStatus operation) {
        return new RegistrationReply(202, operation, null, RETRY_AFTER_SECONDS);
    }

    /** 200 with a terminal operation status. */
    public static RegistrationReply done(RegistrationOperationStatus operation) {
        return new RegistrationReply(200, operation, null, null);
    }

    /** An error reply. */
    public static RegistrationReply error(ErrorCode code, String message, String trackingId, Instant now) {
        return new RegistrationReply(code.httpStatus(), null, ErrorBody.of(code, message, trackingId, now),
                code == ErrorCode.THROTTLED ? RETRY_AFTER_SECONDS : null);
    }

    /** The JSON body: the operation status or the error. */
    public Object body() {
        return operation != null ? operation : java.util.Objects.requireNonNull(error);
    }
}
