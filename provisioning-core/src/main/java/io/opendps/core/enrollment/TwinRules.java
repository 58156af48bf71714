package io.opendps.core.enrollment;

import static io.opendps.core.enrollment.EnrollmentRules.bad;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * IoT Hub's twin rules, applied to {@code initialTwin} and {@code optionalDeviceInformation} when the enrollment is
 * written, so a device is not refused by its hub much later ({@code dps-service-api.md} §3.5). The JSON itself is
 * stored exactly as sent; these rules only accept or refuse it, each refusal a 400 naming the JSON path.
 *
 * <ul>
 *   <li>{@code initialTwin} is {@code {"tags": {...}, "properties": {"desired": {...}}}}, either part optional (or
 *       {@code null}). Any other key of {@code initialTwin} is refused, and so is any key of {@code properties}
 *       other than {@code desired}: reported properties belong to the device and cannot be set.</li>
 *   <li>{@code tags} and {@code properties.desired}, each: at most {@value #MAX_BYTES} bytes serialised as compact
 *       UTF-8 JSON the way OpenDPS writes it (32 KB; characters outside the BMP count as their escaped surrogate
 *       pair); JSON nested at most {@value #MAX_DEPTH} levels below the collection itself, where every
 *       object <em>or array</em> value is one level (IoT Hub's example of ten nested objects is the limit; counting
 *       arrays too is the cautious reading); keys at most {@value #MAX_KEY_BYTES} bytes of UTF-8 and free of control
 *       characters, {@code .}, {@code $} and space; string values, also inside arrays, at most
 *       {@value #MAX_STRING_BYTES} bytes of UTF-8.</li>
 *   <li>Exception for round-tripped twins: a client that copies a twin from IoT Hub may send its read-only
 *       {@code $version} (a number) and {@code $metadata} (an object) at the top level of {@code tags} or
 *       {@code desired}. They are accepted and stored verbatim (never injected), and, as in IoT Hub, do not count
 *       towards the size, depth and key rules. Any other {@code $} key, and these two anywhere deeper, are
 *       refused.</li>
 *   <li>{@code optionalDeviceInformation} must be a JSON object of at most {@value #MAX_BYTES} bytes serialised; it
 *       is informational (not written to a twin), so the key and depth rules do not apply.</li>
 * </ul>
 *
 * <p>The built-in hub applies the same {@link #collection} rules to an operator's twin patch (a {@code null} value,
 * which removes a property, is allowed) and to the merged result.
 *
 * <p>Stateless and thread-safe.
 */
public final class TwinRules {

    /** Size limit of tags, desired properties and optional device information: 32 KB. */
    static final int MAX_BYTES = 32 * 1024;
    /** Nesting limit below tags and desired properties. */
    static final int MAX_DEPTH = 10;
    /** Key length limit (UTF-8 bytes). */
    static final int MAX_KEY_BYTES = 1024;
    /** String value length limit (UTF-8 bytes). */
    static final int MAX_STRING_BYTES = 4 * 1024;

    private static final String VERSION = "$version";
    private static final String METADATA = "$metadata";
    private static final Set<String> TWIN_KEYS = Set.of("tags", "properties");

    private TwinRules() {
    }

    static void initialTwin(@Nullable JsonNode twin) {
        if (twin == null || twin.isNull()) {
            return;
        }
        if (!twin.isObject()) {
            throw bad("initialTwin must be an object like {\"tags\":{...},\"properties\":{\"desired\":{...}}}");
        }
        for (Map.Entry<String, JsonNode> field : twin.properties()) {
            String key = field.getKey();
            if (!TWIN_KEYS.contains(key)) {
                throw bad("initialTwin.%s is not allowed: an initial twin holds only tags and properties.desired",
                        key);
            }
        }
        collection("initialTwin.tags", twin.get("tags"));
        JsonNode properties = twin.get("properties");
        if (properties == null || properties.isNull()) {
            return;
        }
        if (!properties.isObject()) {
            throw bad("initialTwin.properties must be an object like {\"desired\":{...}}");
        }
        for (Map.Entry<String, JsonNode> field : properties.properties()) {
            String key = field.getKey();
            if (key.equals("reported")) {
                throw bad("initialTwin.properties.reported cannot be set: reported properties belong to the device");
            }
            if (!key.equals("desired")) {
                throw bad("initialTwin.properties.%s is not allowed: only properties.desired can be set", key);
            }
        }
        collection("initialTwin.properties.desired", properties.get("desired"));
    }

    static void optionalDeviceInformation(@Nullable JsonNode info) {
        if (info == null || info.isNull()) {
            return;
        }
        if (!info.isObject()) {
            throw bad("optionalDeviceInformation must be a JSON object, e.g. {\"model\":\"TX-200\"}");
        }
        size("optionalDeviceInformation", info);
    }

    /**
     * Checks {@code tags} or {@code desired} (absent and {@code null} are fine).
     *
     * @param path the JSON path to name in the error, e.g. {@code properties.desired}
     * @throws io.opendps.core.error.ProvisioningException {@code 400004} naming the path of the broken rule
     */
    public static void collection(String path, @Nullable JsonNode node) {
        if (node == null || node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw bad("%s must be an object", path);
        }
        ObjectNode counted = ((ObjectNode) node).deepCopy();
        JsonNode version = counted.remove(VERSION);
        if (version != null && !version.isIntegralNumber()) {
            throw bad("%s.%s must be a number (the twin version a client copied); leave it out otherwise", path,
                    VERSION);
        }
        JsonNode metadata = counted.remove(METADATA);
        if (metadata != null && !metadata.isObject()) {
            throw bad("%s.%s must be an object (the twin metadata a client copied); leave it out otherwise", path,
                    METADATA);
        }
        size(path, counted);
        walk(path, counted, 0);
    }

    private static void size(String path, JsonNode node) {
        int bytes = Json.toBytes(node).length;
        if (bytes > MAX_BYTES) {
            throw bad("%s is %d bytes serialised as UTF-8 JSON; the limit is %d (32 KB)", path, bytes, MAX_BYTES);
        }
    }

    private static void walk(String path, JsonNode node, int depth) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                key(path, field.getKey());
                value(path + "." + field.getKey(), field.getValue(), depth);
            }
        } else {
            for (int i = 0; i < node.size(); i++) {
                value(path + "[" + i + "]", node.get(i), depth);
            }
        }
    }

    private static void value(String path, JsonNode value, int parentDepth) {
        if (value.isContainerNode()) {
            if (parentDepth + 1 > MAX_DEPTH) {
                throw bad("%s is nested %d levels deep; twin JSON may nest at most %d levels", path,
                        parentDepth + 1, MAX_DEPTH);
            }
            walk(path, value, parentDepth + 1);
        } else if (value.isTextual()) {
            int bytes = utf8Length(value.textValue());
            if (bytes > MAX_STRING_BYTES) {
                throw bad("%s is a string of %d bytes (UTF-8); twin string values may have at most %d (4 KB)", path,
                        bytes, MAX_STRING_BYTES);
            }
        }
    }

    private static void key(String path, String key) {
        int bytes = utf8Length(key);
        if (bytes > MAX_KEY_BYTES) {
            throw bad("%s has a key of %d bytes (UTF-8) starting %s; twin keys may have at most %d (1 KB)", path,
                    bytes, quoted(prefix(key, 32) + "..."), MAX_KEY_BYTES);
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '.' || c == '$' || c == ' ' || Character.isISOControl(c)) {
                throw bad("%s has an invalid key %s: twin keys may not contain control characters, '.', '$' or "
                        + "spaces", path, quoted(key.codePointCount(0, key.length()) > 64 ? prefix(key, 64) + "..." : key));
            }
        }
    }

    /** The key as a JSON string, so control characters show escaped. */
    private static String quoted(String key) {
        return Json.toText(key);
    }

    /** The first {@code codePoints} code points of {@code text} (never splits a surrogate pair). */
    private static String prefix(String text, int codePoints) {
        return text.substring(0, text.offsetByCodePoints(0, Math.min(codePoints, text.codePointCount(0,
                text.length()))));
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
