package io.opendps.core.registration;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Registration statuses. {@code unassigned} exists in the model but is never sent to a non-TPM device (the
 * Node, Python and C SDKs treat it as an error, {@code dps-device-protocol.md} §3.7).
 */
public enum RegistrationStatus {
    @JsonProperty("unassigned") UNASSIGNED,
    @JsonProperty("assigning") ASSIGNING,
    @JsonProperty("assigned") ASSIGNED,
    @JsonProperty("failed") FAILED,
    @JsonProperty("disabled") DISABLED;

    /** Whether the operation is over (the device stops polling). */
    public boolean terminal() {
        return this != UNASSIGNED && this != ASSIGNING;
    }
}
