package io.opendps.core.registration;

import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The answer to a device's registration status lookup ({@code POST /{idScope}/registrations/{registrationId}},
 * {@code dps-device-protocol.md} §6.1): 200 with the device's registration record as a bare
 * {@code DeviceRegistrationResult} (not wrapped in an operation status), or an error body. Edges send
 * {@link #status()} and {@link #body()} as they are.
 *
 * @param status the HTTP status
 * @param registration the record (device view, with its {@code symmetricKey}/{@code x509} sub-object) on 200
 * @param error the error on any other status
 */
public record RegistrationStatusReply(int status, @Nullable DeviceRegistrationState registration,
        @Nullable ErrorBody error) {

    public RegistrationStatusReply {
        if ((registration == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of registration and error");
        }
    }

    /** 200 with the record. */
    public static RegistrationStatusReply found(DeviceRegistrationState registration) {
        return new RegistrationStatusReply(200, registration, null);
    }

    /** An error reply with the code's HTTP status. */
    public static RegistrationStatusReply error(ErrorBody error, int status) {
        return new RegistrationStatusReply(status, null, error);
    }

    /** An error reply for a code and message. */
    public static RegistrationStatusReply error(ErrorCode code, String message, String trackingId, Instant now) {
        return new RegistrationStatusReply(code.httpStatus(), null, ErrorBody.of(code, message, trackingId, now));
    }

    /** The JSON body: the record or the error. */
    public Object body() {
        return registration != null ? registration : Objects.requireNonNull(error);
    }
}
