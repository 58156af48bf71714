package io.opendps.core.hub;

/**
 * Told when a built-in hub device was deleted, after the delete is stored, so that a connected device can be
 * disconnected. Called on the thread that deleted it; implementations hand off quickly and never throw.
 */
@FunctionalInterface
public interface DeviceDeletedListener {

    /**
     * @param hub the hub host name (lower-case)
     * @param deviceId the deleted device
     */
    void deviceDeleted(String hub, String deviceId);
}
