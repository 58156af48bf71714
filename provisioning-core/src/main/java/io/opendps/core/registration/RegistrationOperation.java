package io.opendps.core.registration;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One register attempt: its id, the device, the enrollment that authenticated it (polls re-check the
 * device's credential against it), and the answer polls receive.
 *
 * @param clientCertificateThumbprint for X.509 registrations, the SHA-256 thumbprint (upper-case hex) of the
 *     leaf the device registered with: a poll must present the same leaf. Null for SAS registrations, whose
 *     polls re-verify the token against the enrollment.
 */
public record RegistrationOperation(String operationId, String registrationId, EnrollmentRef enrollment,
        Instant createdAt, RegistrationOperationStatus result, @Nullable String clientCertificateThumbprint) {

    /** An operation of a SAS-authenticated register. */
    public RegistrationOperation(String operationId, String registrationId, EnrollmentRef enrollment,
            Instant createdAt, RegistrationOperationStatus result) {
        this(operationId, registrationId, enrollment, createdAt, result, null);
    }
}
