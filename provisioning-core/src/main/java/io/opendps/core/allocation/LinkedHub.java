package io.opendps.core.allocation;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A hub devices can be assigned to.
 *
 * @param hostName the hub's host name, as devices will connect to it
 * @param allocationWeight 1–1000; a higher weight draws proportionally more devices under hashed allocation
 * @param applyAllocationPolicy false keeps the hub out of hashed allocation (it can still be named statically)
 * @param location the hub's region (free-form, e.g. {@code westeurope}) for geo-latency allocation, or null
 */
public record LinkedHub(String hostName, int allocationWeight, boolean applyAllocationPolicy,
        @Nullable String location) {

    public LinkedHub {
        if (hostName.isBlank()) {
            throw new IllegalArgumentException("hub host name must not be empty");
        }
        if (allocationWeight < 1 || allocationWeight > 1000) {
            throw new IllegalArgumentException("allocation weight of hub " + hostName + " must be 1..1000, was "
                    + allocationWeight);
        }
        hostName = hostName.toLowerCase(Locale.ROOT);
    }

    /** A hub without a location. */
    public LinkedHub(String hostName, int allocationWeight, boolean applyAllocationPolicy) {
        this(hostName, allocationWeight, applyAllocationPolicy, null);
    }

    /** A hub with weight 1 that takes part in allocation. */
    public static LinkedHub of(String hostName) {
        return new LinkedHub(hostName, 1, true);
    }
}
