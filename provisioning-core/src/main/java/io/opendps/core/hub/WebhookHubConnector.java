package io.opendps.core.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link HubConnector} that hands devices to the user's own backend over HTTP: every operation is a signed
 * {@code POST} of a JSON {@link WebhookMessages.Request} to the hub's URL.
 *
 * <h2>Protocol</h2>
 * <ul>
 *   <li>Headers: {@code Content-Type: application/json}, {@value WebhookSignature#OPERATION_HEADER} (the operation),
 *       {@value WebhookSignature#TIMESTAMP_HEADER} (Unix seconds), {@value WebhookSignature#IDEMPOTENCY_HEADER} (a
 *       UUID per call, the same on every retry of it) and {@value WebhookSignature#SIGNATURE_HEADER}
 *       ({@link WebhookSignature}: {@code v1=hex(HMAC-SHA256(secret, timestamp + "." + body))}, recomputed per
 *       attempt with a fresh timestamp).</li>
 *   <li>{@code createOrUpdate}: body has {@code identity} and {@code twin} (tags, desired): create the device with
 *       that twin, or, when it exists, update its authentication, capabilities and status and keep its twin. Any
 *       2xx is success.</li>
 *   <li>{@code createOrReplace} (reprovisioning): as above, but {@code twin} (tags, desired, reported) replaces the
 *       device's twin. Any 2xx is success.</li>
 *   <li>{@code get}: 200 with {@link WebhookMessages.GetResponse} ({@code identity}, {@code twin}); 404 when the device
 *       does not exist.</li>
 *   <li>{@code delete}: 2xx when deleted, 404 when it did not exist.</li>
 * </ul>
 * The backend must make writes idempotent (the same request twice leaves the same state); the idempotency key
 * lets it recognise a retry.
 *
 * <h2>Retries</h2>
 * Connection failures, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter (a
 * {@code Retry-After} in seconds is honoured when longer), within {@link Options#maxAttempts()} and
 * {@link Options#totalBudget()}; other 4xx and unexpected statuses fail at once. The final failure is a
 * {@link HubConnectorException} naming the hub, the operation, the attempts and the last status or error (never the
 * secret); the registrar then records the registration as failed with {@code 503401} and no hub.
 *
 * <p>Thread-safe. Calls block (they use the JDK {@link HttpClient} synchronously, never Netty): the registrar runs
 * them on its worker pool.
 */
public final class WebhookHubConnector implements HubConnector {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookHubConnector.class);

    /**
     * Retry and timeout limits. The defaults keep a whole call under 10 s, well inside the device's polling
     * patience (Azure SDKs poll every 2–3 s for minutes).
     *
     * @param maxAttempts tries per call, at least 1
     * @param initialBackoff wait before the second try; doubled each time (plus up to 50 % jitter)
     * @param requestTimeout timeout of one HTTP exchange
     * @param totalBudget no new attempt starts (and no backoff is waited) beyond this time after the first
     */
    public record Options(int maxAttempts, Duration initialBackoff, Duration requestTimeout, Duration totalBudget) {

        public Options {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1");
            }
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            Objects.requireNonNull(requestTimeout, "requestTimeout");
            Objects.requireNonNull(totalBudget, "totalBudget");
        }

        /** 4 attempts, 250 ms first backoff, 3 s per request, 9 s in all. */
        public static Options defaults() {
            return new Options(4, Duration.ofMillis(250), Duration.ofSeconds(3), Duration.ofSeconds(9));
        }
    }

    private final String hub;
    private final URI url;
    private final String secret;
    private final HttpClient client;
    private final Options options;
    private final Clock clock;

    /**
     * @param hub the linked hub's host name (for messages)
     * @param url where the backend listens
     * @param secret the shared signing secret
     * @param client a shared JDK HTTP client
     * @param options retry limits
     * @param clock signing timestamps
     */
    public WebhookHubConnector(String hub, URI url, String secret, HttpClient client, Options options, Clock clock) {
        this.hub = Objects.requireNonNull(hub, "hub");
        this.url = Objects.requireNonNull(url, "url");
        this.secret = Objects.requireNonNull(secret, "secret");
        this.client = Objects.requireNonNull(client, "client");
        this.options = Objects.requireNonNull(options, "options");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public DeviceIdentity createOrUpdate(DeviceIdentity identity, InitialTwin initialTwin) {
        write(new WebhookMessages.Request(WebhookMessages.CREATE_OR_UPDATE, identity.hub(), identity.deviceId(),
                identity, new WebhookMessages.TwinDocument(initialTwin.tags(),
                        new WebhookMessages.Properties(initialTwin.desired(), null))));
        return identity;
    }

    @Override
    public DeviceIdentity createOrReplace(DeviceIdentity identity, DeviceData data) {
        write(new WebhookMessages.Request(WebhookMessages.CREATE_OR_REPLACE, identity.hub(), identity.deviceId(),
                identity, new WebhookMessages.TwinDocument(data.tags(),
                        new WebhookMessages.Properties(data.desired(), data.reported()))));
        return identity;
    }

    @Override
    public Optional<DeviceIdentity> find(String hub, String deviceId) {
        return get(hub, deviceId).map(WebhookMessages.GetResponse::identity);
    }

    @Override
    public Optional<DeviceData> readData(String hub, String deviceId) {
        return get(hub, deviceId).map(r -> {
            WebhookMessages.TwinDocument twin = r.twin();
            WebhookMessages.Properties p = twin == null ? null : twin.properties();
            return new DeviceData(orEmpty(twin == null ? null : twin.tags()), orEmpty(p == null ? null : p.desired()),
                    orEmpty(p == null ? null : p.reported()));
        });
    }

    @Override
    public boolean delete(String hub, String deviceId) {
        HttpResponse<byte[]> response = call(new WebhookMessages.Request(WebhookMessages.DELETE, hub, deviceId, null,
                null), true);
        return response.statusCode() != 404;
    }

    private Optional<WebhookMessages.GetResponse> get(String hub, String deviceId) {
        HttpResponse<byte[]> response = call(new WebhookMessages.Request(WebhookMessages.GET, hub, deviceId, null,
                null), true);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        WebhookMessages.GetResponse body;
        try {
            body = Json.parse(response.body(), WebhookMessages.GetResponse.class);
        } catch (IOException e) {
            throw new HubConnectorException("webhook hub '" + hub + "' answered get of device '" + deviceId
                    + "' with a body that is not the expected JSON: " + e.getMessage(), e);
        }
        if (body.identity() == null) {
            throw new HubConnectorException("webhook hub '" + hub + "' answered get of device '" + deviceId
                    + "' without an identity");
        }
        return Optional.of(body);
    }

    private void write(WebhookMessages.Request request) {
        call(request, false);
    }

    /**
     * Sends with retries; returns a 2xx response (or 404 when {@code notFoundIsAnswer}), else throws.
     */
    private HttpResponse<byte[]> call(WebhookMessages.Request request, boolean notFoundIsAnswer) {
        byte[] body = Json.toBytes(request);
        String idempotencyKey = UUID.randomUUID().toString();
        long start = System.nanoTime();
        long budget = options.totalBudget().toNanos();
        Duration backoff = options.initialBackoff();
        String last = "no attempt";
        int attempt = 0;
        while (true) {
            attempt++;
            Duration retryAfter = Duration.ZERO;
            try {
                HttpResponse<byte[]> response = client.send(request(request.operation(), body, idempotencyKey),
                        HttpResponse.BodyHandlers.ofByteArray());
                int status = response.statusCode();
                if (status / 100 == 2 || status == 404 && notFoundIsAnswer) {
                    LOG.debug("webhook hub call done [hub: {}, operation: {}, device-id: {}, status: {}, attempt: {}]",
                            hub, request.operation(), request.deviceId(), status, attempt);
                    return response;
                }
                last = "HTTP " + status;
                if (!retryable(status)) {
                    throw failure(request, attempt, last + " (not retried)", null);
                }
                retryAfter = retryAfter(response);
            } catch (HttpTimeoutException e) {
                last = "timed out after " + options.requestTimeout().toMillis() + " ms";
            } catch (IOException e) {
                last = "connection failed: " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure(request, attempt, "interrupted", e);
            }
            Duration wait = max(jittered(backoff), retryAfter);
            long elapsed = System.nanoTime() - start;
            if (attempt >= options.maxAttempts() || elapsed + wait.toNanos() >= budget) {
                throw failure(request, attempt, last, null);
            }
            LOG.info("webhook hub call failed, retrying [hub: {}, operation: {}, device-id: {}, attempt: {}, "
                    + "reason: {}, retry-in-ms: {}]", hub, request.operation(), request.deviceId(), attempt, last,
                    wait.toMillis());
            try {
                TimeUnit.NANOSECONDS.sleep(wait.toNanos());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure(request, attempt, "interrupted", e);
            }
            backoff = backoff.multipliedBy(2);
        }
    }

    private HttpRequest request(String operation, byte[] body, String idempotencyKey) {
        long timestamp = clock.instant().getEpochSecond();
        return HttpRequest.newBuilder(url).timeout(options.requestTimeout())
                .header("Content-Type", "application/json")
                .header(WebhookSignature.OPERATION_HEADER, operation)
                .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
                .header(WebhookSignature.IDEMPOTENCY_HEADER, idempotencyKey)
                .header(WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(secret, timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    private HubConnectorException failure(WebhookMessages.Request request, int attempts, String reason,
            @Nullable Throwable cause) {
        String message = "webhook hub '" + hub + "' failed " + request.operation() + " of device '"
                + request.deviceId() + "' after " + attempts + (attempts == 1 ? " attempt" : " attempts") + ": "
                + reason;
        LOG.warn("{} [url: {}]", message, masked(url));
        return cause == null ? new HubConnectorException(message) : new HubConnectorException(message, cause);
    }

    static boolean retryable(int status) {
        return status == 408 || status == 429 || status >= 500;
    }

    private static Duration retryAfter(HttpResponse<?> response) {
        Optional<String> value = response.headers().firstValue("Retry-After");
        if (value.isEmpty()) {
            return Duration.ZERO;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(value.get().trim())));
        } catch (NumberFormatException e) {
            return Duration.ZERO;
        }
    }

    private static Duration jittered(Duration backoff) {
        long millis = backoff.toMillis();
        return Duration.ofMillis(millis + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String masked(URI uri) {
        String text = uri.toString();
        int q = text.indexOf('?');
        return q < 0 ? text : text.substring(0, q) + "?****";
    }

    private static ObjectNode orEmpty(@Nullable ObjectNode node) {
        return node == null ? Json.mapper().createObjectNode() : node;
    }
}
