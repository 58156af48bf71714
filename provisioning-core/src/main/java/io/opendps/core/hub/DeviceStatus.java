package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Whether a hub device may connect. */
public enum DeviceStatus {
    @JsonProperty("enabled") ENABLED,
    @JsonProperty("disabled") DISABLED
}
