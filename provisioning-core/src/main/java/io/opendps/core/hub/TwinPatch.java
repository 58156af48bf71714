package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The body of an operator's twin update, in IoT Hub's twin shape: {@code {"tags": {...}, "properties": {"desired":
 * {...}}}}, each part a JSON merge patch ({@code null} removes a key) and either part optional. Other top-level
 * fields of a twin read back ({@code deviceId}, {@code etag}, {@code version}) are ignored, so a twin can be edited
 * and sent back; {@code properties.reported} is refused (reported properties belong to the device).
 *
 * @param tags the tags patch, or null
 * @param properties {@code {"desired": {...}}}, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TwinPatch(@Nullable JsonNode tags, @Nullable JsonNode properties) {

    /** The tags patch, or null when absent (or JSON {@code null}). */
    public @Nullable JsonNode tagsPatch() {
        return tags == null || tags.isNull() ? null : tags;
    }

    /**
     * The desired-properties patch, or null when absent.
     *
     * @throws ProvisioningException 400 when {@code properties} is not an object or holds anything but
     *     {@code desired}
     */
    public @Nullable JsonNode desiredPatch() {
        if (properties == null || properties.isNull()) {
            return null;
        }
        if (!properties.isObject()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT,
                    "properties must be an object like {\"desired\":{...}}");
        }
        for (Map.Entry<String, JsonNode> field : properties.properties()) {
            if (field.getKey().equals("reported")) {
                throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "properties.reported cannot be set: "
                        + "reported properties belong to the device; send only tags and properties.desired");
            }
            if (!field.getKey().equals("desired")) {
                throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "properties.%s is not allowed: only "
                        + "properties.desired can be set", field.getKey());
            }
        }
        JsonNode desired = properties.get("desired");
        return desired == null || desired.isNull() ? null : desired;
    }

    /**
     * Checks that the patch changes something.
     *
     * @throws ProvisioningException 400 when neither tags nor desired properties are given
     */
    public void requireSomething() {
        if (tagsPatch() == null && desiredPatch() == null) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "the twin patch is empty: send tags and/or "
                    + "properties.desired, e.g. {\"properties\":{\"desired\":{\"interval\":5}}}");
        }
    }
}
