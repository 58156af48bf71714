package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * The few service-API calls the load harness makes before the measurement (bulk enrollment creation, one group):
 * {@link HttpClient} with a service SAS from the connection string. The harness lives in device-sim, which does
 * not depend on the CLI's full service client; this is the minimum it needs. One HTTP client, shared: requests
 * from several threads run concurrently over its connection pool.
 */
final class LoadServiceApi {

    static final String API_VERSION = "2021-10-01";

    private final String host;
    private final int port;
    private final String keyName;
    private final byte[] key;
    private final HttpClient http;

    private LoadServiceApi(String host, int port, String keyName, byte[] key, TrustManagerFactory trust)
            throws GeneralSecurityException {
        this.host = host;
        this.port = port;
        this.keyName = keyName;
        this.key = key;
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        this.http = HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /**
     * A client for a connection string {@code HostName=h[:port];SharedAccessKeyName=n;SharedAccessKey=k}.
     *
     * @param httpsEndpoint {@code host:port} overriding the connection string's host (service.json's
     *     {@code httpsEndpoint}), or {@code null}
     * @throws IllegalArgumentException if a part is missing or the key is not base64
     */
    static LoadServiceApi of(String connectionString, @Nullable String httpsEndpoint, TrustManagerFactory trust)
            throws GeneralSecurityException {
        Map<String, String> parts = new HashMap<>();
        for (String part : connectionString.trim().split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                parts.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
            }
        }
        String hostName = require(parts, "hostname", "HostName");
        String name = require(parts, "sharedaccesskeyname", "SharedAccessKeyName");
        byte[] keyBytes;
        try {
            keyBytes = Base64.getDecoder().decode(require(parts, "sharedaccesskey", "SharedAccessKey"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the connection string's SharedAccessKey is not valid base64", e);
        }
        if (httpsEndpoint != null && !httpsEndpoint.isBlank()) {
            hostName = httpsEndpoint.replaceFirst("^https://", "").replaceFirst("/.*$", "");
        }
        int colon = hostName.lastIndexOf(':');
        if (colon > 0) {
            return new LoadServiceApi(hostName.substring(0, colon), Integer.parseInt(hostName.substring(colon + 1)),
                    name, keyBytes, trust);
        }
        return new LoadServiceApi(hostName, 443, name, keyBytes, trust);
    }

    /** A fresh random 32-byte key, base64 (what the service generates when none is given). */
    static String randomKey(SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    /**
     * Sends a request and returns the answer's JSON.
     *
     * @throws IllegalStateException on a transport failure or a status of 300 or more (with the error body)
     */
    JsonNode send(String method, String path, Object body) {
        URI uri = URI.create("https://" + host + ":" + port + "/" + path + "?api-version=" + API_VERSION);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", SasSigner.serviceToken(host, keyName, key,
                        Instant.now().plus(Duration.ofHours(1))))
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Accept", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(Json.toBytes(body)))
                .build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach the service API at " + host + ":" + port + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling the service API", e);
        }
        String text = new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
        if (response.statusCode() >= 300) {
            throw new IllegalStateException(method + " /" + path + " answered " + response.statusCode() + ": "
                    + text);
        }
        try {
            return text.isEmpty() ? Json.mapper().nullNode() : Json.mapper().readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException(method + " /" + path + " answered unreadable JSON", e);
        }
    }

    private static String require(Map<String, String> parts, String key, String name) {
        String value = parts.get(key);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("the connection string has no " + name);
        }
        return value;
    }
}
