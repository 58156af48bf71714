package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.tls.TlsMaterial;
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
import java.util.List;
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
        List<JsonNode> items = new ArrayList<>();
        String continuation = null;
        do {
            Reply r = send("POST", collection + "/query", "{\"query\":\"SELECT *\"}".getBytes(StandardCharsets.UTF_8),
                    continuation, null);
            r.body().forEach(items::add);
            continuation = r.headers().firstValue("x-ms-continuation").orElse(null);
        } while (continuation != null);
        return items;
    }

    private Reply send(String method, String path, byte @Nullable [] body, @Nullable String continuation,
            @Nullable String ifMatch) {
        URI uri = URI.create("https://" + connection.host() + ":" + connection.port() + "/" + path + "?api-version="
                + API_VERSION);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                .header("Authorization", SasSigner.serviceToken(connection.host(), connection.keyName(),
                        connection.key(), Instant.now().plus(Duration.ofHours(1))))
                .header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", "application/json; charset=utf-8");
        }
        if (continuation != null) {
            b.header("x-ms-continuation", continuation);
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
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
