package io.opendps.broker.mqtt;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The live hub device connections by MQTT client id (which IoT Hub requires to equal the device id). A connection
 * that takes over a client id replaces the old entry; a late disconnect of the old one does not remove the new one.
 * Thread-safe.
 */
final class HubConnectionRegistry {

    /** One authenticated hub connection. */
    record HubConnection(String connectionToken, String hub, String deviceId) {
    }

    private final ConcurrentMap<String, HubConnection> byClientId = new ConcurrentHashMap<>();

    void connected(String clientId, HubConnection connection) {
        byClientId.put(clientId, connection);
    }

    void disconnected(String clientId, String connectionToken) {
        byClientId.computeIfPresent(clientId, (id, c) -> c.connectionToken().equals(connectionToken) ? null : c);
    }

    /** The client's connection if it is still {@code connectionToken}. */
    Optional<HubConnection> current(String clientId, String connectionToken) {
        HubConnection c = byClientId.get(clientId);
        return c != null && c.connectionToken().equals(connectionToken) ? Optional.of(c) : Optional.empty();
    }

    boolean isCurrent(String clientId, String connectionToken) {
        return current(clientId, connectionToken).isPresent();
    }

    /** The connection of a device (client id = device id), if it is connected to that hub. */
    Optional<HubConnection> findDevice(String hub, String deviceId) {
        HubConnection c = byClientId.get(deviceId);
        return c != null && c.hub().equals(hub) ? Optional.of(c) : Optional.empty();
    }

    int size() {
        return byClientId.size();
    }
}
