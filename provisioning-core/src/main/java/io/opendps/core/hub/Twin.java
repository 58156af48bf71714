package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * A device twin in the built-in hub. Versions start at 1 when the device is created (the initial twin is desired
 * version 1) and grow by one with every change of their section; a change of tags alone does not bump the desired
 * version. The twin {@code version} grows by one with every change of tags, desired or reported properties, and the
 * twin's {@link #etag()} is derived from it.
 *
 * @param hub the hub host name
 * @param deviceId the device id
 * @param tags operator-only tags (never sent to the device)
 * @param desired desired properties, without {@code $version}
 * @param desiredVersion the desired {@code $version}
 * @param reported reported properties, without {@code $version}
 * @param reportedVersion the reported {@code $version}
 * @param version the twin's version: 1 when created, +1 with every change of any section
 */
@JsonPropertyOrder({"hub", "deviceId", "tags", "desired", "desiredVersion", "reported", "reportedVersion", "version"})
public record Twin(String hub, String deviceId, ObjectNode tags, ObjectNode desired, long desiredVersion,
        ObjectNode reported, long reportedVersion, long version) {

    /**
     * The twin's etag, as IoT Hub writes one: base64 of the 8-byte big-endian twin version (version 1 is
     * {@code AAAAAAAAAAE=}), without quotes. Every change of the twin changes it.
     */
    public String etag() {
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(Long.BYTES).putLong(version).array());
    }

    /**
     * The device's view, as IoT Hub answers {@code $iothub/twin/GET}: {@code {"desired":{..,"$version":n},
     * "reported":{..,"$version":m}}} (no tags).
     */
    public ObjectNode deviceView() {
        ObjectNode out = Json.mapper().createObjectNode();
        out.set("desired", withVersion(desired, desiredVersion));
        out.set("reported", withVersion(reported, reportedVersion));
        return out;
    }

    /** A section with its {@code $version} appended, as devices receive it. */
    public static ObjectNode withVersion(ObjectNode section, long version) {
        ObjectNode copy = section.deepCopy();
        copy.put("$version", version);
        return copy;
    }
}
