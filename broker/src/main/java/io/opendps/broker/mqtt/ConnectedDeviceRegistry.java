package io.opendps.broker.mqtt;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The live device connections by MQTT client id. A connection that takes over a client id replaces the old
 * entry; a late disconnect of the old connection does not remove the new one. Thread-safe.
 */
final class ConnectedDeviceRegistry {

    private final ConcurrentMap<String, DeviceConnection> byClientId = new ConcurrentHashMap<>();

    void connected(String clientId, DeviceConnection connection) {
        byClientId.put(clientId, connection);
    }

    void disconnected(String clientId, String connectionToken) {
        byClientId.computeIfPresent(clientId, (id, c) -> c.connectionToken().equals(connectionToken) ? null : c);
    }

    Optional<DeviceConnection> find(String clientId) {
        return Optional.ofNullable(byClientId.get(clientId));
    }

    /** Whether {@code connectionToken} is still the client's current connection. */
    boolean isCurrent(String clientId, String connectionToken) {
        DeviceConnection c = byClientId.get(clientId);
        return c != null && c.connectionToken().equals(connectionToken);
    }

    int size() {
        return byClientId.size();
    }
}
