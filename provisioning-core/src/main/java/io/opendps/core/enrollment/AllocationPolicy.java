package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/**
 * The data-plane {@code allocationPolicy} of an enrollment or group ({@code dps-service-api.md} §3.1, §9.2).
 *
 * <p>Input is case-insensitive ({@code "GeoLatency"}, the ARM casing, and {@code "HASHED"} are accepted); output is
 * always Azure's canonical data-plane casing ({@code hashed}, {@code geoLatency}, {@code static}, {@code custom}),
 * because the Java service SDK parses the value case-sensitively and would read any other casing as "no policy".
 * An unknown value is a 400 naming the field and the accepted values.
 *
 * <p>What each policy does at registration time is the registrar's business: until the allocation issue (#6)
 * builds latency ranking and webhooks, {@code geoLatency} allocates like {@code hashed} (a single-site server sees
 * the same latency to every hub) and {@code custom} ends the registration {@code failed} without calling the
 * webhook.
 */
public enum AllocationPolicy {
    /** Weighted hashing over the candidate hubs. */
    HASHED("hashed"),
    /** The lowest-latency hub; ties hashed. */
    GEO_LATENCY("geoLatency"),
    /** The one hub named on the enrollment. */
    STATIC("static"),
    /** A webhook chooses ({@code customAllocationDefinition}). */
    CUSTOM("custom");

    private final String wire;

    AllocationPolicy(String wire) {
        this.wire = wire;
    }

    /** The canonical JSON value, e.g. {@code geoLatency}. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /**
     * Reads a policy, ignoring case.
     *
     * @throws IllegalArgumentException naming the accepted values when {@code text} is none of them
     */
    @JsonCreator
    public static AllocationPolicy parse(String text) {
        for (AllocationPolicy p : values()) {
            if (p.wire.equalsIgnoreCase(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown allocationPolicy '" + text + "': use one of "
                + Arrays.stream(values()).map(AllocationPolicy::wire).toList());
    }

    @Override
    public String toString() {
        return wire;
    }
}
