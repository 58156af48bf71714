package io.opendps.broker.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.hub.WebhookSignature;
import io.opendps.core.json.Json;
import io.opendps.core.linkedhub.ConnectorDocument;
import io.opendps.core.linkedhub.LinkedHubRequest;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: devices provision over real MQTT/TLS against a server whose linked hub uses the webhook connector,
 * and the user's backend is a real HTTP server in the test.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebhookHubIT {

    private static final String WEBHOOK_HUB = "hub-w.example.com";
    private static final String SECRET = "it-shared-secret-0123456789";
    private static final String KEY = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef"
            .getBytes(StandardCharsets.US_ASCII));

    /** What the backend answers next (status), and a latch it waits on first when set. */
    private static final AtomicInteger status = new AtomicInteger(200);
    private static final AtomicReference<CountDownLatch> hold = new AtomicReference<>();
    private static final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    private static final List<Boolean> signaturesValid = new CopyOnWriteArrayList<>();

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static HttpServer backend;

    @BeforeAll
    static void start() throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.createContext("/opendps", WebhookHubIT::handle);
        backend.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(2));
        backend.start();
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        server.linkedHubs().put(WEBHOOK_HUB, new LinkedHubRequest(null, 1, false, "westeurope",
                new ConnectorDocument("webhook", "http://127.0.0.1:" + backend.getAddress().getPort() + "/opendps",
                        SECRET)), null, "test");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        backend.stop(0);
    }

    @BeforeEach
    void reset() {
        status.set(200);
        hold.set(null);
        requests.clear();
        signaturesValid.clear();
    }

    private static void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        CountDownLatch latch = hold.get();
        if (latch != null) {
            try {
                latch.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String timestamp = exchange.getRequestHeaders().getFirst(WebhookSignature.TIMESTAMP_HEADER);
        String signature = exchange.getRequestHeaders().getFirst(WebhookSignature.SIGNATURE_HEADER);
        signaturesValid.add(timestamp != null && signature != null
                && WebhookSignature.verify(SECRET, Long.parseLong(timestamp), body, signature));
        JsonNode request = Json.mapper().readTree(body);
        requests.add(request);
        // A healthy backend knows none of these devices yet: a lookup before the first write is a 404.
        int answer = status.get();
        boolean lookup = request.path("operation").asText().equals("get");
        exchange.sendResponseHeaders(lookup && answer / 100 == 2 ? 404 : answer, -1);
        exchange.close();
    }

    private static void enroll(String id) throws IOException {
        server.enrollments().putEnrollment(id, Json.parse(("{\"registrationId\":\"" + id + "\",\"iotHubHostName\":\""
                + WEBHOOK_HUB + "\",\"capabilities\":{\"iotEdge\":true},\"initialTwin\":{\"tags\":{\"site\":\"n\"},"
                + "\"properties\":{\"desired\":{\"interval\":30}}},\"attestation\":{\"type\":\"symmetricKey\","
                + "\"symmetricKey\":{\"primaryKey\":\"" + KEY + "\",\"secondaryKey\":\"" + KEY + "\"}}}")
                .getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class), null);
    }

    @Test
    void provisioning_writesTheSignedIdentityAndTwinToTheBackend_fromAWorkerThread() throws Exception {
        enroll("webhook-ok");
        CountDownLatch release = new CountDownLatch(1);
        hold.set(release);
        AtomicReference<JsonNode> outcome = new AtomicReference<>();
        Thread device = new Thread(() -> outcome.set(registerOverMqtt("webhook-ok")));
        device.start();

        // While the backend holds the call, the thread making it is one of the server's workers (never Netty's or
        // HiveMQ's event loops).
        Thread caller = await().atMost(Duration.ofSeconds(20)).until(WebhookHubIT::webhookCaller, t -> t != null);
        assertThat(caller.getName()).startsWith("opendps-worker-");
        release.countDown();
        device.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(outcome.get().path("status").asText()).isEqualTo("assigned");
        assertThat(outcome.get().at("/registrationState/assignedHub").asText()).isEqualTo(WEBHOOK_HUB);
        assertThat(signaturesValid).containsOnly(true);
        // The registrar first looks the device up (for the substatus), then writes it.
        assertThat(requests).extracting(r -> r.path("operation").asText()).containsExactly("get", "createOrUpdate");
        JsonNode request = requests.get(1);
        assertThat(request.at("/identity/deviceId").asText()).isEqualTo("webhook-ok");
        assertThat(request.at("/identity/authentication/symmetricKey/primaryKey").asText()).isEqualTo(KEY);
        assertThat(request.at("/identity/capabilities/iotEdge").asBoolean()).isTrue();
        assertThat(request.at("/twin/tags/site").asText()).isEqualTo("n");
        assertThat(request.at("/twin/properties/desired/interval").asInt()).isEqualTo(30);
        assertThat(server.registrations().find("webhook-ok").map(DeviceRegistrationState::assignedHub))
                .contains(WEBHOOK_HUB);
    }

    @Test
    void backendDown_retriesThenFailsTheRegistration_withNoHubAssigned() throws Exception {
        enroll("webhook-down");
        status.set(503);

        JsonNode outcome = registerOverMqtt("webhook-down");

        assertThat(outcome.path("status").asText()).isEqualTo("failed");
        assertThat(outcome.at("/registrationState/errorCode").asInt()).isEqualTo(503401);
        assertThat(outcome.at("/registrationState/errorMessage").asText())
                .contains("webhook hub '" + WEBHOOK_HUB + "' failed get of device 'webhook-down' after 4 "
                        + "attempts: HTTP 503");
        assertThat(outcome.at("/registrationState/assignedHub").isMissingNode()).isTrue();
        // The lookup before the write already exhausts its retries: the registration fails without a second budget.
        assertThat(requests).hasSize(4).allMatch(r -> r.path("operation").asText().equals("get"));
        DeviceRegistrationState record = server.registrations().find("webhook-down").orElseThrow();
        assertThat(record.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(record.assignedHub()).isNull();
        assertThat(record.deviceId()).isNull();

        // The backend recovers: the device's next registration succeeds.
        status.set(201);
        assertThat(registerOverMqtt("webhook-down").path("status").asText()).isEqualTo("assigned");
    }

    @Test
    void backendRefuses_isNotRetried() throws Exception {
        enroll("webhook-refused");
        status.set(403);

        JsonNode outcome = registerOverMqtt("webhook-refused");

        assertThat(outcome.path("status").asText()).isEqualTo("failed");
        assertThat(outcome.at("/registrationState/errorMessage").asText()).contains("after 1 attempt: HTTP 403 "
                + "(not retried)");
        assertThat(requests).hasSize(1);
    }

    /** The thread currently inside the webhook connector's HTTP call, or null. */
    private static Thread webhookCaller() {
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().endsWith("WebhookHubConnector"))) {
                return e.getKey();
            }
        }
        return null;
    }

    private static JsonNode registerOverMqtt(String registrationId) {
        try {
            String scope = server.info().idScope();
            String password = SasSigner.deviceToken(scope, registrationId, Base64.getDecoder().decode(KEY),
                    Instant.now().plusSeconds(3600));
            Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(registrationId)
                    .serverHost("localhost").serverPort(server.info().mqttPort())
                    .sslConfig().trustManagerFactory(trustingServerCa()).applySslConfig().buildBlocking();
            client.connectWith().simpleAuth().username(scope + "/registrations/" + registrationId
                    + "/api-version=2019-03-31&ClientVersion=2019-03-31")
                    .password(password.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
            try (Mqtt3BlockingClient.Mqtt3Publishes replies = client.publishes(MqttGlobalPublishFilter.ALL)) {
                client.subscribeWith().topicFilter("$dps/registrations/res/#").qos(MqttQos.AT_LEAST_ONCE).send();
                client.publishWith().topic("$dps/registrations/PUT/iotdps-register/?$rid=1")
                        .payload(("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8))
                        .send();
                JsonNode first = receive(replies);
                if (!first.path("status").asText().equals("assigning")) {
                    return first;
                }
                String operationId = first.path("operationId").asText();
                AtomicInteger rid = new AtomicInteger(1);
                return await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(300)).until(() -> {
                    client.publishWith().topic("$dps/registrations/GET/iotdps-get-operationstatus/?$rid="
                            + rid.incrementAndGet() + "&operationId=" + operationId).send();
                    return receive(replies);
                }, s -> !s.path("status").asText().equals("assigning"));
            } finally {
                client.disconnect();
            }
        } catch (Exception e) {
            throw new AssertionError("registration of " + registrationId + " failed: " + e, e);
        }
    }

    private static JsonNode receive(Mqtt3BlockingClient.Mqtt3Publishes replies) throws Exception {
        Mqtt3Publish reply = replies.receive(30, TimeUnit.SECONDS)
                .orElseThrow(() -> new AssertionError("no DPS reply within 30 s"));
        return Json.mapper().readTree(reply.getPayloadAsBytes());
    }

    private static TrustManagerFactory trustingServerCa() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(server.info().caCertificate())) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory;
    }
}
