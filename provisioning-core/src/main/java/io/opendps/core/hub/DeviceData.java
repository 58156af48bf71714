package io.opendps.core.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;

/**
 * A device's twin data as it moves between hubs (reprovisioning, {@code dps-service-api.md} §10.2): tags, desired
 * and reported properties, each a JSON object without {@code $version} or {@code $metadata} (versions belong to the
 * hub holding the twin). The nodes are copied on construction.
 *
 * @param tags operator-only tags
 * @param desired desired properties
 * @param reported reported properties
 */
public record DeviceData(ObjectNode tags, ObjectNode desired, ObjectNode reported) {

    public DeviceData {
        tags = tags.deepCopy();
        desired = desired.deepCopy();
        reported = reported.deepCopy();
    }

    /** The data of a device reset to its enrollment's initial twin: its tags and desired, no reported properties. */
    public static DeviceData initial(InitialTwin twin) {
        return new DeviceData(twin.tags(), twin.desired(), Json.mapper().createObjectNode());
    }

    /** The data held in a twin. */
    public static DeviceData of(Twin twin) {
        return new DeviceData(twin.tags(), twin.desired(), twin.reported());
    }
}
