package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A device twin as the service API shows it, in IoT Hub's twin JSON: {@code {"deviceId", "etag", "version",
 * "tags", "properties": {"desired": {..., "$version"}, "reported": {..., "$version"}}}}. The {@code etag} (also the
 * {@code ETag} header, quoted) is what {@code If-Match} of a twin update compares with.
 *
 * @param deviceId the device id
 * @param etag the twin's etag ({@link Twin#etag()})
 * @param version the twin version (grows with every change)
 * @param tags operator-only tags
 * @param properties desired and reported properties, each with its {@code $version}
 */
@JsonPropertyOrder({"deviceId", "etag", "version", "tags", "properties"})
public record TwinView(String deviceId, String etag, long version, ObjectNode tags, Properties properties) {

    /**
     * The twin's property sections.
     *
     * @param desired the desired properties with {@code $version}
     * @param reported the reported properties with {@code $version}
     */
    @JsonPropertyOrder({"desired", "reported"})
    public record Properties(ObjectNode desired, ObjectNode reported) {
    }

    /** The view of a twin. */
    public static TwinView of(Twin twin) {
        return new TwinView(twin.deviceId(), twin.etag(), twin.version(), twin.tags().deepCopy(),
                new Properties(Twin.withVersion(twin.desired(), twin.desiredVersion()),
                        Twin.withVersion(twin.reported(), twin.reportedVersion())));
    }
}
