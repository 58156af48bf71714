package io.opendps.core.registration;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Substatus of an {@code assigned} registration (reprovisioning outcomes). */
public enum Substatus {
    @JsonProperty("initialAssignment") INITIAL_ASSIGNMENT,
    @JsonProperty("deviceDataMigrated") DEVICE_DATA_MIGRATED,
    @JsonProperty("deviceDataReset") DEVICE_DATA_RESET,
    @JsonProperty("reprovisionedToInitialAssignment") REPROVISIONED_TO_INITIAL_ASSIGNMENT
}
