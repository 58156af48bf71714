package io.opendps.core.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Told when an operator changed a device's desired properties, after the change is stored, so that a connected
 * device can get the patch ({@code $iothub/twin/PATCH/properties/desired/?$version=n}). Called on the thread that
 * made the change; implementations hand off quickly and never throw.
 */
@FunctionalInterface
public interface DesiredPropertiesListener {

    /**
     * @param hub the hub host name
     * @param deviceId the device
     * @param patch the change as a merge patch (removed properties are {@code null}), with {@code $version}
     * @param version the new desired version
     */
    void desiredChanged(String hub, String deviceId, ObjectNode patch, long version);
}
