package io.opendps.core.hub;

import java.util.Optional;

/**
 * Which connector writes to which linked hub. Today every linked hub is served by the {@link BuiltInHub}; when
 * other connectors exist, this lookup is where a hub's configured connector is chosen (the allocator keeps knowing
 * only host names, weights and flags).
 */
@FunctionalInterface
public interface HubConnectors {

    /** The connector of {@code hub} (a linked hub's host name), or empty when none is configured. */
    Optional<HubConnector> forHub(String hub);
}
