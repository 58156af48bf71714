package io.opendps.core.registration;

import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.tpm.TpmChallenge;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What the device gets back: a status (HTTP status, also the MQTT response topic's status), exactly one of an
 * operation status, an error body or a TPM challenge, and a retry-after for 202 and 429. Edges send {@link #status()}
 * and {@link #body()} as they are, so every kind passes through MQTT and HTTPS alike.
 */
public record RegistrationReply(int status, @Nullable RegistrationOperationStatus operation,
        @Nullable ErrorBody error, @Nullable Integer retryAfterSeconds, @Nullable TpmChallenge challenge) {

    /** Seconds the device should wait before polling; the Java SDK clamps anything outside 2–5 to 2. */
    public static final int RETRY_AFTER_SECONDS = 2;

    public RegistrationReply {
        if ((operation != null ? 1 : 0) + (error != null ? 1 : 0) + (challenge != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("exactly one of operation, error and challenge");
        }
    }

    /** A reply that is no TPM challenge. */
    public RegistrationReply(int status, @Nullable RegistrationOperationStatus operation, @Nullable ErrorBody error,
            @Nullable Integer retryAfterSeconds) {
        this(status, operation, error, retryAfterSeconds, null);
    }

    /** 401 with a TPM challenge ({@code dps-device-protocol.md} §7.3): the body has no {@code status} key. */
    public static RegistrationReply challenge(TpmChallenge challenge) {
        return new RegistrationReply(401, null, null, null, challenge);
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

    /** The JSON body: the operation status, the error or the challenge. */
    public Object body() {
        if (operation != null) {
            return operation;
        }
        return error != null ? error : java.util.Objects.requireNonNull(challenge);
    }
}
