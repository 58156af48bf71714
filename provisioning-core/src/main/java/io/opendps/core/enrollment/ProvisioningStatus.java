package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Whether an enrollment may provision devices. */
public enum ProvisioningStatus {
    @JsonProperty("enabled") ENABLED,
    @JsonProperty("disabled") DISABLED
}
