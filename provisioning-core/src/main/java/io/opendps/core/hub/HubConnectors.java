package io.opendps.core.hub;

import java.util.Optional;

/**
 * Which connector writes to which linked hub: the {@link BuiltInHub} or the hub's {@link WebhookHubConnector}, as
 * configured per linked hub ({@code LinkedHubService#connectors}); the allocator keeps knowing only host names,
 * weights, flags and locations.
 */
@FunctionalInterface
public interface HubConnectors {

    /** The connector of {@code hub} (a linked hub's host name), or empty when none is configured. */
    Optional<HubConnector> forHub(String hub);
}
