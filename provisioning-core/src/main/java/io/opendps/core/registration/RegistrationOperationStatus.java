package io.opendps.core.registration;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import org.jspecify.annotations.Nullable;

/**
 * The body of every 2xx device answer: {@code operationId} and {@code status} always (Java and Embedded C
 * reject bodies missing either), {@code registrationState} for polls.
 */
@JsonPropertyOrder({"operationId", "status", "registrationState"})
public record RegistrationOperationStatus(String operationId, RegistrationStatus status,
        @Nullable DeviceRegistrationState registrationState) {

    /** The status as a device on {@code apiVersion} sees it ({@link DeviceRegistrationState#forApiVersion}). */
    public RegistrationOperationStatus forApiVersion(String apiVersion) {
        return registrationState == null ? this
                : new RegistrationOperationStatus(operationId, status, registrationState.forApiVersion(apiVersion));
    }

    /** The answer to a register: {@code {"operationId":..,"status":"assigning"}}, exactly as Azure sends it. */
    public static RegistrationOperationStatus accepted(String operationId) {
        return new RegistrationOperationStatus(operationId, RegistrationStatus.ASSIGNING, null);
    }
}
