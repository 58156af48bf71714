package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.BulkOperationResult;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A small client of the service REST API, for the CLI and the demo: signs each request with a fresh service SAS
 * from the connection string and speaks the Azure paths and JSON. Errors are {@link ApiException}s carrying the
 * server's status, error code and message. Thread-safe.
 */
final class ServiceClient {

    static final String API_VERSION = "2021-10-01";

    private final ConnectionString connection;
    private final HttpClient http;

    ServiceClient(ConnectionString connection, @Nullable Path caCertificate) {
        this.connection = connection;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (caCertificate != null) {
            SSLContext ssl = TlsMaterial.trustingClientContext(caCertificate);
            b.sslContext(ssl);
        }
        this.http = b.build();
    }

    /** The endpoint and credentials this client signs its requests with. */
    ConnectionString connection() {
        return connection;
    }

    /** A JSON reply (null body for 204). */
    record Reply(int status, @Nullable JsonNode body, java.net.http.HttpHeaders headers) {
    }

    /** The server refused the request. */
    static final class ApiException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final int errorCode;

        ApiException(int status, int errorCode, String message) {
            super(message);
            this.status = status;
            this.errorCode = errorCode;
        }

        int status() {
            return status;
        }

        int errorCode() {
            return errorCode;
        }
    }

    JsonNode put(String collection, String id, Object body) {
        return send("PUT", collection + "/" + encode(id), Json.toBytes(body), null, null).body();
    }

    JsonNode get(String collection, String id) {
        return send("GET", collection + "/" + encode(id), null, null, null).body();
    }

    void delete(String collection, String id) {
        send("DELETE", collection + "/" + encode(id), null, null, null);
    }

    JsonNode attestation(String collection, String id) {
        return send("POST", collection + "/" + encode(id) + "/attestationmechanism", "{}".getBytes(
                StandardCharsets.UTF_8), null, null).body();
    }

    /** Any request: {@code path} relative to the service root, e.g. {@code certificates/my-root/verify}. */
    @Nullable JsonNode call(String method, String path, @Nullable Object body) {
        return call(method, path, body, null);
    }

    /** {@link #call(String, String, Object)} with an {@code If-Match} header when {@code ifMatch} is not null. */
    @Nullable JsonNode call(String method, String path, @Nullable Object body, @Nullable String ifMatch) {
        return send(method, path, body == null ? null : Json.toBytes(body), null, ifMatch).body();
    }

    /** Every item of a collection, following continuation tokens. */
    List<JsonNode> queryAll(String collection) {
        return queryAll(collection, "SELECT *", 0);
    }

    /** Every item a query returns, following continuation tokens; {@code pageSize} 0 = the server's default. */
    List<JsonNode> queryAll(String collection, String queryText, int pageSize) {
        List<JsonNode> items = new ArrayList<>();
        String continuation = null;
        do {
            QueryPage page = query(collection, queryText, pageSize, continuation);
            items.addAll(page.items());
            continuation = page.continuation();
        } while (continuation != null);
        return items;
    }

    /** One page of a query result and the token of the next page (null on the last page). */
    record QueryPage(List<JsonNode> items, @Nullable String continuation) {
        QueryPage {
            items = List.copyOf(items);
        }
    }

    /**
     * One page of {@code POST {collection}/query}: {@code pageSize} items at most ({@code x-ms-max-item-count}; 0 =
     * the server's default), after {@code continuation} (null = the first page).
     */
    QueryPage query(String collection, String queryText, int pageSize, @Nullable String continuation) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (pageSize > 0) {
            headers.put("x-ms-max-item-count", Integer.toString(pageSize));
        }
        if (continuation != null) {
            headers.put("x-ms-continuation", continuation);
        }
        ObjectNode spec = Json.mapper().createObjectNode().put("query", queryText);
        Reply r = send("POST", collection + "/query", Json.toBytes(spec), headers);
        List<JsonNode> items = new ArrayList<>();
        if (r.body() != null) {
            r.body().forEach(items::add);
        }
        return new QueryPage(items, r.headers().firstValue("x-ms-continuation").filter(t -> !t.isEmpty())
                .orElse(null));
    }

    /**
     * {@code POST {collection}} with a bulk operation body ({@code enrollments} or {@code enrollmentGroups}): the
     * per-item result; a request refused as a whole is an {@link ApiException}.
     */
    BulkOperationResult bulk(String collection, Object operation) {
        JsonNode body = send("POST", collection, Json.toBytes(operation), Map.of()).body();
        if (body == null) {
            throw new IllegalStateException("the service answered the bulk operation without a result");
        }
        try {
            return Json.mapper().treeToValue(body, BulkOperationResult.class);
        } catch (IOException e) {
            throw new IllegalStateException("the service answered the bulk operation with an unreadable result: "
                    + e.getMessage(), e);
        }
    }

    private Reply send(String method, String path, byte @Nullable [] body, @Nullable String continuation,
            @Nullable String ifMatch) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (continuation != null) {
            headers.put("x-ms-continuation", continuation);
        }
        if (ifMatch != null) {
            headers.put("If-Match", ifMatch);
        }
        return send(method, path, body, headers);
    }

    /**
     * Any request with extra query parameters and headers; the whole reply (its headers too). {@code path} is
     * relative to the service root with its segments already encoded.
     */
    Reply exchange(String method, String path, Map<String, String> query, @Nullable Object body,
            Map<String, String> headers) {
        return sendWithQuery(method, path, query, body == null ? null : Json.toBytes(body), headers);
    }

    private Reply send(String method, String path, byte @Nullable [] body, Map<String, String> headers) {
        return sendWithQuery(method, path, Map.of(), body, headers);
    }

    private Reply sendWithQuery(String method, String path, Map<String, String> query, byte @Nullable [] body,
            Map<String, String> headers) {
        StringBuilder target = new StringBuilder("https://" + connection.host() + ":" + connection.port() + "/" + path
                + "?api-version=" + API_VERSION);
        query.forEach((k, v) -> target.append('&').append(encode(k)).append('=').append(encode(v)));
        URI uri = URI.create(target.toString());
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                .header("Authorization", SasSigner.serviceToken(connection.host(), connection.keyName(),
                        connection.key(), Instant.now().plus(Duration.ofHours(1))))
                .header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", "application/json; charset=utf-8");
        }
        headers.forEach(b::header);
        HttpResponse<byte[]> response;
        try {
            response = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach the service at " + connection.host() + ":"
                    + connection.port() + ": " + e.getMessage() + " (is './opendps serve' running?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        JsonNode json = parse(response.body());
        if (response.statusCode() >= 300) {
            throw new ApiException(response.statusCode(), json == null ? 0 : json.path("errorCode").asInt(),
                    json == null ? "HTTP " + response.statusCode() : json.path("message").asText());
        }
        return new Reply(response.statusCode(), json, response.headers());
    }

    private static @Nullable JsonNode parse(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            return Json.mapper().readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static String encode(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8);
    }
}
