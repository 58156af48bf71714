package io.opendps.core.linkedhub;

import org.jspecify.annotations.Nullable;

/**
 * The body of {@code PUT /linkedHubs/{hostName}}: a full description of the hub (absent fields take their
 * defaults, as in Azure: weight 1, allocation applied, no location, built-in connector). Read-only fields of
 * {@link LinkedHubView} ({@code etag}, timestamps) are ignored, so a GET body can be sent back.
 *
 * @param hostName optional; must equal the path's host name (case-insensitive) when given
 * @param allocationWeight 1–1000, null = 1
 * @param applyAllocationPolicy null = true
 * @param location free-form region name for geo-latency allocation, or null
 * @param connector null = built-in
 */
public record LinkedHubRequest(@Nullable String hostName, @Nullable Integer allocationWeight,
        @Nullable Boolean applyAllocationPolicy, @Nullable String location, @Nullable ConnectorDocument connector) {
}
