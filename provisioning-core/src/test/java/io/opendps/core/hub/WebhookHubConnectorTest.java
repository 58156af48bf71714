package io.opendps.core.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The webhook connector against a real HTTP server (the JDK's), with scripted answers. */
@Timeout(30)
class WebhookHubConnectorTest {

    private static final String HUB = "hub-w.example.com";
    private static final String SECRET = "a-shared-secret-of-some-length";
    private static final WebhookHubConnector.Options FAST = new WebhookHubConnector.Options(3, Duration.ofMillis(20),
            Duration.ofSeconds(2), Duration.ofSeconds(5));

    /** One received request. */
    private record Received(String operation, String timestamp, String idempotencyKey, String signature,
            byte[] body) {
        JsonNode json() throws IOException {
            return Json.mapper().readTree(body);
        }
    }

    /** A scripted answer. */
    private record Answer(int status, String body) {
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Deque<Answer> answers = new ArrayDeque<>();
    private HttpServer server;
    private WebhookHubConnector connector;

    @BeforeEach
    void setUp() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/opendps", this::handle);
        server.start();
        connector = connector(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/opendps"), FAST);
    }

    @AfterEach
    void tearDown() {
        server.stop(0);
    }

    private static WebhookHubConnector connector(URI uri, WebhookHubConnector.Options options) {
        return new WebhookHubConnector(HUB, uri, SECRET, HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2)).build(), options, Clock.systemUTC());
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        received.add(new Received(exchange.getRequestHeaders().getFirst("X-OpenDPS-Operation"),
                exchange.getRequestHeaders().getFirst("X-OpenDPS-Timestamp"),
                exchange.getRequestHeaders().getFirst("X-OpenDPS-Idempotency-Key"),
                exchange.getRequestHeaders().getFirst("X-OpenDPS-Signature"), body));
        Answer answer;
        synchronized (answers) {
            answer = answers.isEmpty() ? new Answer(200, "{}") : answers.poll();
        }
        byte[] out = answer.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(answer.status(), out.length == 0 ? -1 : out.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(out);
        }
    }

    private void script(Answer... scripted) {
        synchronized (answers) {
            answers.addAll(List.of(scripted));
        }
    }

    private static DeviceIdentity identity() {
        return new DeviceIdentity(HUB, "dev-1", DeviceAuthentication.sas("a2V5LWtleS1rZXk="),
                new DeviceCapabilities(true), DeviceStatus.ENABLED);
    }

    private static InitialTwin twin() {
        InitialTwin twin = InitialTwin.empty();
        twin.tags().put("site", "north");
        twin.desired().put("interval", 30);
        return twin;
    }

    @Test
    void createOrUpdate_postsSignedIdentityAndTwin() throws IOException {
        assertThat(connector.createOrUpdate(identity(), twin())).isEqualTo(identity());

        assertThat(received).hasSize(1);
        Received r = received.get(0);
        assertThat(r.operation()).isEqualTo("createOrUpdate");
        assertThat(r.idempotencyKey()).isNotBlank();
        assertThat(Long.parseLong(r.timestamp())).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data
                .Offset.offset(60L));
        assertThat(WebhookSignature.verify(SECRET, Long.parseLong(r.timestamp()), r.body(), r.signature())).isTrue();
        assertThat(WebhookSignature.verify("another-secret-entirely", Long.parseLong(r.timestamp()), r.body(),
                r.signature())).isFalse();
        assertThat(r.json().toString()).isEqualTo("{\"operation\":\"createOrUpdate\",\"hub\":\"" + HUB + "\","
                + "\"deviceId\":\"dev-1\",\"identity\":{\"hub\":\"" + HUB + "\",\"deviceId\":\"dev-1\",\"status\":"
                + "\"enabled\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":"
                + "\"a2V5LWtleS1rZXk=\"}},\"capabilities\":{\"iotEdge\":true}},\"twin\":{\"tags\":{\"site\":\"north\"},"
                + "\"properties\":{\"desired\":{\"interval\":30}}}}");
    }

    @Test
    void signature_isTheDocumentedHmacOverTimestampDotBody() throws Exception {
        byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec("k".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "v1=" + java.util.HexFormat.of().formatHex(mac.doFinal(
                "1700000000.{\"a\":1}".getBytes(StandardCharsets.UTF_8)));

        assertThat(WebhookSignature.sign("k", 1_700_000_000L, body)).isEqualTo(expected);
    }

    @Test
    void retryableFailures_areRetriedWithTheSameIdempotencyKey_thenSucceed() {
        script(new Answer(503, ""), new Answer(429, ""), new Answer(204, ""));

        connector.createOrReplace(identity(), new DeviceData(twin().tags(), twin().desired(),
                Json.mapper().createObjectNode().put("temp", 20)));

        assertThat(received).hasSize(3);
        assertThat(received).extracting(Received::idempotencyKey).containsOnly(received.get(0).idempotencyKey());
        assertThat(received).allSatisfy(r -> assertThat(WebhookSignature.verify(SECRET, Long.parseLong(r.timestamp()),
                r.body(), r.signature())).isTrue());
        assertThat(new String(received.get(2).body(), StandardCharsets.UTF_8))
                .contains("\"operation\":\"createOrReplace\"").contains("\"reported\":{\"temp\":20}");
    }

    @Test
    void retriesExhausted_failWithAClearMessage() {
        script(new Answer(500, ""), new Answer(502, ""), new Answer(503, ""), new Answer(200, "{}"));

        assertThatThrownBy(() -> connector.createOrUpdate(identity(), twin()))
                .isInstanceOf(HubConnectorException.class)
                .hasMessage("webhook hub '" + HUB + "' failed createOrUpdate of device 'dev-1' after 3 attempts: "
                        + "HTTP 503")
                .hasMessageNotContaining(SECRET);
        assertThat(received).hasSize(3);
    }

    @Test
    void clientErrors_areNotRetried() {
        script(new Answer(400, "{\"error\":\"bad\"}"), new Answer(200, "{}"));

        assertThatThrownBy(() -> connector.createOrUpdate(identity(), twin()))
                .hasMessageEndingWith("after 1 attempt: HTTP 400 (not retried)");
        assertThat(received).hasSize(1);
    }

    @Test
    void requestTimeout408_isRetried() {
        script(new Answer(408, ""), new Answer(200, "{}"));

        connector.createOrUpdate(identity(), twin());

        assertThat(received).hasSize(2);
    }

    @Test
    void unreachableBackend_isRetriedWithinTheBudget_thenFails() throws IOException {
        int freePort;
        try (ServerSocket s = new ServerSocket(0)) {
            freePort = s.getLocalPort();
        }
        WebhookHubConnector unreachable = connector(URI.create("http://127.0.0.1:" + freePort + "/x"), FAST);

        assertThatThrownBy(() -> unreachable.createOrUpdate(identity(), twin()))
                .isInstanceOf(HubConnectorException.class)
                .hasMessageContaining("after 3 attempts: connection failed");
    }

    @Test
    void totalBudget_stopsRetryingEarly() {
        WebhookHubConnector impatient = connector(URI.create("http://127.0.0.1:" + server.getAddress().getPort()
                + "/opendps"), new WebhookHubConnector.Options(10, Duration.ofMillis(400), Duration.ofSeconds(1),
                Duration.ofMillis(500)));
        script(new Answer(500, ""), new Answer(500, ""), new Answer(500, ""), new Answer(500, ""));

        assertThatThrownBy(() -> impatient.createOrUpdate(identity(), twin())).hasMessageContaining("HTTP 500");
        assertThat(received).hasSizeLessThan(3);
    }

    @Test
    void get_readsIdentityAndTwin_404IsEmpty() {
        script(new Answer(200, "{\"identity\":" + Json.toText(identity()) + ",\"twin\":{\"tags\":{\"t\":1},"
                + "\"properties\":{\"desired\":{\"d\":2},\"reported\":{\"r\":3}}}}"), new Answer(200, "{\"identity\":"
                + Json.toText(identity()) + "}"), new Answer(404, ""), new Answer(200, "not json"));

        DeviceData data = connector.readData(HUB, "dev-1").orElseThrow();
        assertThat(Json.toText(data.tags())).isEqualTo("{\"t\":1}");
        assertThat(Json.toText(data.desired())).isEqualTo("{\"d\":2}");
        assertThat(Json.toText(data.reported())).isEqualTo("{\"r\":3}");
        assertThat(connector.find(HUB, "dev-1")).contains(identity());
        assertThat(connector.find(HUB, "dev-1")).isEmpty();
        assertThatThrownBy(() -> connector.find(HUB, "dev-1")).hasMessageContaining("not the expected JSON");
        assertThat(received).extracting(Received::operation).containsOnly("get");
    }

    @Test
    void delete_2xxIsDeleted_404IsAbsent() {
        script(new Answer(204, ""), new Answer(404, ""));

        assertThat(connector.delete(HUB, "dev-1")).isTrue();
        assertThat(connector.delete(HUB, "dev-1")).isFalse();
        assertThat(new String(received.get(0).body(), StandardCharsets.UTF_8))
                .isEqualTo("{\"operation\":\"delete\",\"hub\":\"" + HUB + "\",\"deviceId\":\"dev-1\"}");
    }
}
