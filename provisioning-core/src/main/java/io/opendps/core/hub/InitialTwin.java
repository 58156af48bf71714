package io.opendps.core.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import org.jspecify.annotations.Nullable;

/**
 * The twin a device starts with: the enrollment's {@code initialTwin} ({@code dps-service-api.md} §3.5), tags and
 * desired properties, copied as written (no {@code $version} or {@code $metadata} injected). An enrollment without
 * one gives empty tags and desired properties.
 *
 * @param tags the twin tags (a JSON object)
 * @param desired the desired properties (a JSON object)
 */
public record InitialTwin(ObjectNode tags, ObjectNode desired) {

    /** An empty twin. */
    public static InitialTwin empty() {
        return new InitialTwin(Json.mapper().createObjectNode(), Json.mapper().createObjectNode());
    }

    /**
     * The initial twin of an enrollment's {@code initialTwin} value ({@code {"tags":{..},"properties":{"desired":
     * {..}}}}); parts that are absent or not objects become empty objects.
     */
    public static InitialTwin fromEnrollment(@Nullable JsonNode initialTwin) {
        InitialTwin twin = empty();
        if (initialTwin == null || !initialTwin.isObject()) {
            return twin;
        }
        JsonNode tags = initialTwin.get("tags");
        if (tags != null && tags.isObject()) {
            twin.tags().setAll((ObjectNode) tags.deepCopy());
        }
        JsonNode desired = initialTwin.path("properties").get("desired");
        if (desired != null && desired.isObject()) {
            twin.desired().setAll((ObjectNode) desired.deepCopy());
        }
        return twin;
    }
}
