package io.opendps.core.registration;

import java.time.Instant;

/**
 * One register attempt: its id, the device, the enrollment that authenticated it (polls re-check the
 * device's credential against it), and the answer polls receive.
 */
public record RegistrationOperation(String operationId, String registrationId, EnrollmentRef enrollment,
        Instant createdAt, RegistrationOperationStatus result) {
}
