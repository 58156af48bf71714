package io.opendps.broker.mqtt;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The IoT Hub device topics ({@code dps-device-protocol.md} §9) as the built-in hub serves them to one device.
 * Pure functions; thread-safe.
 */
final class HubTopics {

    static final String TWIN_RESPONSE_FILTER = "$iothub/twin/res/#";
    static final String DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";
    static final String METHODS_FILTER = "$iothub/methods/POST/#";
    private static final String TWIN_GET = "$iothub/twin/GET/";
    private static final String REPORTED_PATCH = "$iothub/twin/PATCH/properties/reported/";
    private static final String METHOD_RESPONSE = "$iothub/methods/res/";

    private HubTopics() {
    }

    /** What a device publish asks for. */
    sealed interface Request permits Telemetry, TwinGet, ReportedPatch, MethodResponse, Refused {
    }

    /** Telemetry with its property bag (percent-decoded). */
    record Telemetry(Map<String, String> properties) implements Request {
    }

    /** {@code $iothub/twin/GET/?$rid=..}. */
    record TwinGet(String rid) implements Request {
    }

    /** {@code $iothub/twin/PATCH/properties/reported/?$rid=..}. */
    record ReportedPatch(String rid) implements Request {
    }

    /** A direct-method answer (accepted and ignored: the built-in hub invokes no methods yet). */
    record MethodResponse() implements Request {
    }

    /** A topic this device may not publish to, with the reason for the audit log. */
    record Refused(String reason) implements Request {
    }

    /** The subscriptions a device may make: its own cloud-to-device topic, twin answers and patches, methods. */
    static Set<String> allowedFilters(String deviceId) {
        return Set.of(devicePrefix(deviceId) + "messages/devicebound/#", TWIN_RESPONSE_FILTER, DESIRED_FILTER,
                METHODS_FILTER);
    }

    /** Classifies a publish of {@code deviceId}. */
    static Request parse(String topic, String deviceId) {
        String own = devicePrefix(deviceId) + "messages/events/";
        if (topic.startsWith(own)) {
            return new Telemetry(propertyBag(topic.substring(own.length())));
        }
        if (topic.equals(devicePrefix(deviceId) + "messages/events")) {
            return new Telemetry(Map.of());
        }
        if (topic.startsWith("devices/")) {
            return new Refused("publish to another device's or an unknown device topic '" + topic + "'");
        }
        if (topic.startsWith(TWIN_GET)) {
            return rid(topic, TWIN_GET).<Request>map(TwinGet::new)
                    .orElseGet(() -> new Refused("twin GET without $rid: '" + topic + "'"));
        }
        if (topic.startsWith(REPORTED_PATCH)) {
            return rid(topic, REPORTED_PATCH).<Request>map(ReportedPatch::new)
                    .orElseGet(() -> new Refused("reported PATCH without $rid: '" + topic + "'"));
        }
        if (topic.startsWith(METHOD_RESPONSE)) {
            return new MethodResponse();
        }
        return new Refused("publish to a topic the hub does not serve: '" + topic + "'");
    }

    /** {@code $iothub/twin/res/{status}/?$rid={rid}[&$version={v}]}. */
    static String twinResponse(int status, String rid, Long version) {
        return "$iothub/twin/res/" + status + "/?$rid=" + rid + (version == null ? "" : "&$version=" + version);
    }

    /** {@code $iothub/twin/PATCH/properties/desired/?$version={v}}. */
    static String desiredPatch(long version) {
        return "$iothub/twin/PATCH/properties/desired/?$version=" + version;
    }

    private static String devicePrefix(String deviceId) {
        return "devices/" + deviceId + "/";
    }

    private static java.util.Optional<String> rid(String topic, String path) {
        String rest = topic.substring(path.length());
        if (!rest.startsWith("?")) {
            return java.util.Optional.empty();
        }
        String rid = rawQuery(rest.substring(1)).get("$rid");
        return rid == null || rid.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(rid);
    }

    /** {@code k=v&k2=v2}, keys and values percent-decoded; a key without {@code '='} has an empty value. */
    static Map<String, String> propertyBag(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : text.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String key = PercentDecoding.decode(eq < 0 ? part : part.substring(0, eq));
            String value = eq < 0 ? "" : PercentDecoding.decode(part.substring(eq + 1));
            out.put(key, value);
        }
        return out;
    }

    /** Query parameters with raw (undecoded) values: {@code $rid} is echoed byte for byte. */
    private static Map<String, String> rawQuery(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : text.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return out;
    }
}
