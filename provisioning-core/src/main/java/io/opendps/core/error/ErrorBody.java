package io.opendps.core.error;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The Azure error body ({@code ProvisioningServiceErrorDetails}), on the device path and the service API:
 * numeric {@code errorCode}, string {@code trackingId}, {@code message}, {@code timestampUtc}, optional flat
 * string map {@code info}.
 */
public record ErrorBody(int errorCode, String trackingId, String message, Instant timestampUtc,
        @Nullable Map<String, String> info) {

    public ErrorBody {
        info = info == null ? null : Map.copyOf(info);
    }

    /** An error body for a code and message, stamped now. */
    public static ErrorBody of(ErrorCode code, String message, String trackingId, Instant now) {
        return new ErrorBody(code.code(), trackingId, message, now, null);
    }
}
