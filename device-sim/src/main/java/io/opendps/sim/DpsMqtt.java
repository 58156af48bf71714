package io.opendps.sim;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The DPS MQTT vocabulary as a device uses it: username, subscription filter, request topics, and the parser for
 * response topics ({@code dps-device-protocol.md} §2.2–§2.6).
 *
 * <p>Stateless and thread-safe; all arguments are non-null.
 */
public final class DpsMqtt {

    /** The API version the simulator speaks (the one the Java, Node and Python SDKs send). */
    public static final String API_VERSION = "2019-03-31";

    /** The client version the simulator reports, before percent-encoding. */
    public static final String CLIENT_VERSION = "opendps-device-sim/0.1";

    /** The one subscription every DPS device makes. */
    public static final String RESPONSE_FILTER = "$dps/registrations/res/#";

    /** Keep-alive in seconds sent in CONNECT. */
    public static final int KEEP_ALIVE_SECONDS = 60;

    private static final String RESPONSE_PREFIX = "$dps/registrations/res/";
    private static final String REGISTER_PREFIX = "$dps/registrations/PUT/iotdps-register/?$rid=";
    private static final String POLL_PREFIX = "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=";

    private DpsMqtt() {
    }

    /**
     * The CONNECT username:
     * {@code {idScope}/registrations/{registrationId}/api-version=2019-03-31&ClientVersion=opendps-device-sim%2F0.1}.
     */
    public static String username(String idScope, String registrationId) {
        return idScope + "/registrations/" + registrationId + "/api-version=" + API_VERSION
                + "&ClientVersion=" + percentEncode(CLIENT_VERSION);
    }

    /** The register topic, {@code $dps/registrations/PUT/iotdps-register/?$rid={rid}}. */
    public static String registerTopic(String rid) {
        return REGISTER_PREFIX + rid;
    }

    /**
     * The operation-status topic,
     * {@code $dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={operationId}}; the
     * operation id is percent-encoded (a no-op for the {@code [A-Za-z0-9.-]} ids servers issue).
     */
    public static String pollTopic(String rid, String operationId) {
        return POLL_PREFIX + rid + "&operationId=" + percentEncode(operationId);
    }

    /**
     * Parses a response topic. Unknown query parameters are ignored; a {@code retry-after} that is not a positive
     * integer is treated as absent.
     *
     * @param topic a topic received on {@link #RESPONSE_FILTER}
     * @return the parts, or empty if the topic is not a DPS response topic with a status and a {@code $rid}
     */
    public static Optional<ResponseTopic> parseResponseTopic(String topic) {
        if (!topic.startsWith(RESPONSE_PREFIX)) {
            return Optional.empty();
        }
        String rest = topic.substring(RESPONSE_PREFIX.length());
        int separator = rest.indexOf("/?");
        Integer status = separator < 1 ? null : parseNumber(rest.substring(0, separator));
        if (status == null) {
            return Optional.empty();
        }
        return parseQuery(status, rest.substring(separator + 2));
    }

    private static Optional<ResponseTopic> parseQuery(int status, String query) {
        String rid = null;
        Integer retryAfter = null;
        for (String parameter : query.split("&", -1)) {
            int equals = parameter.indexOf('=');
            String key = equals < 0 ? parameter : parameter.substring(0, equals);
            String value = equals < 0 ? "" : parameter.substring(equals + 1);
            if (key.equals("$rid") && rid == null) {
                rid = value;
            } else if (key.equals("retry-after")) {
                retryAfter = parseNumber(value);
            }
        }
        if (rid == null || rid.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ResponseTopic(status, rid, retryAfter == null || retryAfter < 1 ? null : retryAfter));
    }

    private static @Nullable Integer parseNumber(String digits) {
        if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        return Integer.parseInt(digits);
    }

    /** Percent-encodes everything except the RFC 3986 unreserved characters (upper-case hex). */
    static String percentEncode(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (isUnreserved(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }
}
