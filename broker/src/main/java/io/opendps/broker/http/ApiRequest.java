package io.opendps.broker.http;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP request as the service API sees it, free of Netty types: method, decoded path segments, query
 * parameters, headers (names case-insensitive) and body.
 */
public record ApiRequest(String method, List<String> segments, Map<String, String> query,
        Map<String, String> headers, byte[] body) {

    public ApiRequest {
        segments = List.copyOf(segments);
        query = Map.copyOf(query);
        TreeMap<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers);
        headers = java.util.Collections.unmodifiableMap(h);
    }

    /** A header value (name case-insensitive). */
    public @Nullable String header(String name) {
        return headers.get(name);
    }

    /** The i-th path segment lower-cased, or "" when absent. */
    public String segmentLower(int i) {
        return i < segments.size() ? segments.get(i).toLowerCase(Locale.ROOT) : "";
    }
}
