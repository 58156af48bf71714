package io.opendps.core.hub;

import java.util.Optional;

/**
 * The port through which the registrar hands a device to its hub. Implementations: the {@link BuiltInHub} (hubs
 * served by OpenDPS itself) and the {@link WebhookHubConnector} (the user's backend over signed HTTPS calls).
 *
 * <p>Every write is idempotent: writing the same identity twice leaves the hub as after one write, so the registrar
 * can simply redo a write whose outcome it never learned (a crash, a timeout). Calls are synchronous and may be
 * slow (store work, remote calls): callers run them on a worker pool, never on a network event loop. Failures are
 * {@link HubConnectorException}s.
 */
public interface HubConnector {

    /**
     * Creates the device with {@code initialTwin}, or, when it already exists, updates its authentication,
     * capabilities and status and keeps its twin (the initial twin only applies to a new device: re-registration
     * never resets a twin the device or operator has changed since).
     *
     * @return the identity as stored
     */
    DeviceIdentity createOrUpdate(DeviceIdentity identity, InitialTwin initialTwin);

    /** The identity of {@code deviceId} in {@code hub}. */
    Optional<DeviceIdentity> find(String hub, String deviceId);

    /** Deletes the device and its twin; false when it did not exist. */
    boolean delete(String hub, String deviceId);

    /** The device's twin data in hub; empty when the device does not exist there. */
    Optional<DeviceData> readData(String hub, String deviceId);

    /** Creates or updates the identity and replaces its twin with data (reprovisioning: migrate / reset). Idempotent. */
    DeviceIdentity createOrReplace(DeviceIdentity identity, DeviceData data);
}
