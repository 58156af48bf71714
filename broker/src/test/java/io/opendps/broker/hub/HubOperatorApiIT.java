package io.opendps.broker.hub;

import static com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE;
import static com.hivemq.client.mqtt.datatypes.MqttQos.AT_MOST_ONCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientState;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.hub.DeviceAuthentication;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.hub.DeviceStatus;
import io.opendps.core.hub.InitialTwin;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in hub's operator API ({@code HubApi}) over real HTTPS, with devices connected over real MQTT/TLS to the
 * same server: listing with paging, device and twin reads (never keys), twin updates with If-Match and the push to
 * the connected device, validation, delete with disconnect, telemetry reads after a cursor, rights and every error
 * code.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HubOperatorApiIT {

    private static final String HUB = "hub-1.opendps.local";
    private static final String API = "?api-version=2021-10-01";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    static Path dataDir;
    private static OpenDpsServer server;
    private static HttpClient http;
    private static SSLContext trustServer;
    private static TrustManagerFactory trustDevices;
    private static String ownerName;
    private static byte[] ownerKey;

    private final List<Mqtt3BlockingClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        trustServer = TlsMaterial.trustingClientContext(server.info().caCertificate());
        trustDevices = trustManagerFactory(server.info().caCertificate());
        http = HttpClient.newBuilder().sslContext(trustServer).connectTimeout(TIMEOUT).build();
        Map<String, String> cs = new LinkedHashMap<>();
        for (String part : server.info().serviceConnectionString().split(";")) {
            String[] kv = part.split("=", 2);
            cs.put(kv[0], kv[1]);
        }
        ownerName = cs.get("SharedAccessKeyName");
        ownerKey = Base64.getDecoder().decode(cs.get("SharedAccessKey"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void disconnect() {
        for (Mqtt3BlockingClient c : clients) {
            if (c.getState() == MqttClientState.CONNECTED) {
                c.disconnect();
            }
        }
    }

    // --- helpers ---

    private record Reply(int status, String body, HttpResponse<String> raw) {
        JsonNode json() throws IOException {
            return Json.parse(body.getBytes(StandardCharsets.UTF_8), JsonNode.class);
        }

        @Nullable String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        int errorCode() throws IOException {
            return json().path("errorCode").asInt();
        }
    }

    private static Reply call(String method, String path, @Nullable String body, Map<String, String> headers)
            throws Exception {
        return call(method, path, body, headers, ownerName, ownerKey);
    }

    private static Reply call(String method, String path, @Nullable String body, Map<String, String> headers,
            String policy, byte[] key) throws Exception {
        String sep = path.contains("?") ? "&" : "?";
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + server.info().httpsPort()
                        + path + sep + API.substring(1))).timeout(TIMEOUT)
                .header("Authorization", SasSigner.serviceToken("localhost", policy, key,
                        Instant.now().plusSeconds(600)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        headers.forEach(b::header);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
    }

    private static Reply get(String path) throws Exception {
        return call("GET", path, null, Map.of());
    }

    private static String devicePath(String id) {
        return "/hubs/" + HUB + "/devices/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
    }

    private static String twinPath(String id) {
        return "/hubs/" + HUB + "/twins/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
    }

    /** A device written to the hub the way the registrar hands one over (the DPS path is HubMqttIT's subject). */
    private record Device(String id, String key) {
    }

    private static Device device(String prefix) throws IOException {
        String id = prefix + "-" + IDS.incrementAndGet();
        String key = Base64.getEncoder().encodeToString(("key-of-" + id + "-0123456789abcdef")
                .getBytes(StandardCharsets.UTF_8));
        server.hub().createOrUpdate(new DeviceIdentity(HUB, id, DeviceAuthentication.sas(key),
                DeviceCapabilities.NONE, DeviceStatus.ENABLED), InitialTwin.fromEnrollment(Json.parse(
                "{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"interval\":30}}}"
                        .getBytes(StandardCharsets.UTF_8), JsonNode.class)));
        return new Device(id, key);
    }

    private Mqtt3BlockingClient connect(Device d, BlockingQueue<Mqtt3Publish> inbox) {
        Mqtt3BlockingClient c = MqttClient.builder().useMqttVersion3().identifier(d.id())
                .serverHost(server.info().mqttHost()).serverPort(server.info().mqttPort())
                .sslConfig().trustManagerFactory(trustDevices)
                .applySslConfig().buildBlocking();
        c.toAsync().publishes(MqttGlobalPublishFilter.ALL, inbox::add);
        clients.add(c);
        String sr = URLEncoder.encode(HUB + "/devices/" + d.id(), StandardCharsets.UTF_8);
        String token = SasSigner.sign(sr, Instant.now().plusSeconds(3600).getEpochSecond(),
                Base64.getDecoder().decode(d.key()), null);
        c.connectWith().simpleAuth().username(HUB + "/" + d.id() + "/?api-version=2020-09-30")
                .password(token.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        return c;
    }

    private static TrustManagerFactory trustManagerFactory(Path caPem) throws IOException, GeneralSecurityException {
        KeyStore trustStore = KeyStore.getInstance(KeyStore.getDefaultType());
        trustStore.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            int i = 0;
            for (Certificate ca : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trustStore.setCertificateEntry("opendps-ca-" + i++, ca);
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trustStore);
        return factory;
    }

    private static Mqtt3Publish next(BlockingQueue<Mqtt3Publish> inbox, String what) throws InterruptedException {
        Mqtt3Publish p = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(p).as("no " + what + " within " + TIMEOUT).isNotNull();
        return p;
    }

    private static void assertError(Reply r, int status, int code, String messagePart) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.errorCode()).as(r.body()).isEqualTo(code);
        assertThat(r.json().path("message").asText()).contains(messagePart);
    }

    // --- devices ---

    @Test
    void listDevices_pagesWithContinuation_andShowsConnectionStateButNoKeys() throws Exception {
        List<Device> mine = List.of(device("list"), device("list"), device("list"));
        connect(mine.get(1), new LinkedBlockingQueue<>());

        List<JsonNode> all = new ArrayList<>();
        String continuation = null;
        int pages = 0;
        do {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("x-ms-max-item-count", "2");
            if (continuation != null) {
                h.put("x-ms-continuation", continuation);
            }
            Reply page = call("GET", "/hubs/" + HUB + "/devices", null, h);
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            assertThat(page.header("x-ms-item-type")).isEqualTo("Device");
            assertThat(page.header("x-ms-max-item-count")).isEqualTo("2");
            assertThat(page.json().size()).isLessThanOrEqualTo(2);
            page.json().forEach(all::add);
            continuation = page.header("x-ms-continuation");
            pages++;
        } while (continuation != null);

        assertThat(pages).isGreaterThanOrEqualTo(2);
        List<String> ids = all.stream().map(d -> d.path("deviceId").asText()).toList();
        assertThat(ids).isSorted().doesNotHaveDuplicates().contains(mine.get(0).id(), mine.get(1).id(),
                mine.get(2).id());
        JsonNode connected = all.stream().filter(d -> d.path("deviceId").asText().equals(mine.get(1).id()))
                .findFirst().orElseThrow();
        assertThat(Json.toText(connected)).isEqualTo("{\"deviceId\":\"" + mine.get(1).id() + "\",\"status\":"
                + "\"enabled\",\"connectionState\":\"Connected\",\"authentication\":{\"type\":\"sas\"},"
                + "\"capabilities\":{\"iotEdge\":false}}");
        for (Device d : mine) {
            assertThat(all.toString()).doesNotContain(d.key());
        }
    }

    @Test
    void getDevice_unknownDeviceHubOrResource_are404WithTheirCodes() throws Exception {
        Device d = device("show");

        Reply shown = get(devicePath(d.id()));
        assertThat(shown.status()).as(shown.body()).isEqualTo(200);
        assertThat(shown.json().path("connectionState").asText()).isEqualTo("Disconnected");
        assertThat(shown.body()).doesNotContain(d.key());

        assertError(get(devicePath("nobody")), 404, 404501, "no device 'nobody' in hub '" + HUB + "'");
        assertError(get(devicePath(d.id().toUpperCase(Locale.ROOT))), 404, 404501, "no device");
        assertError(get("/hubs/elsewhere.example.com/devices/" + d.id()), 404, 404502,
                "hub 'elsewhere.example.com' is not served by this OpenDPS server");
        assertError(get("/hubs/elsewhere.example.com/devices"), 404, 404502, "is not served");
        assertError(get("/hubs/" + HUB + "/gadgets/x"), 404, 404000, "no such resource");
        assertError(call("PUT", devicePath(d.id()), "{}", Map.of()), 405, 405000, "PUT is not allowed");
        assertError(call("GET", "/hubs/" + HUB + "/devices", null, Map.of("x-ms-continuation", "%%")), 400, 400004,
                "x-ms-continuation");
    }

    @Test
    void deleteDevice_disconnectsIt_leavesTheRegistrationAlone_andItCannotReconnect() throws Exception {
        Device d = device("delete");
        Mqtt3BlockingClient c = connect(d, new LinkedBlockingQueue<>());

        Reply deleted = call("DELETE", devicePath(d.id()), null, Map.of());

        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        await().atMost(TIMEOUT).until(() -> c.getState() != MqttClientState.CONNECTED);
        assertError(get(twinPath(d.id())), 404, 404501, "no device");
        assertError(call("DELETE", devicePath(d.id()), null, Map.of()), 404, 404501, "no device");
        Mqtt3BlockingClient again = MqttClient.builder().useMqttVersion3().identifier(d.id())
                .serverHost(server.info().mqttHost()).serverPort(server.info().mqttPort())
                .sslConfig().trustManagerFactory(trustDevices)
                .applySslConfig().buildBlocking();
        String token = SasSigner.sign(URLEncoder.encode(HUB + "/devices/" + d.id(), StandardCharsets.UTF_8),
                Instant.now().plusSeconds(3600).getEpochSecond(), Base64.getDecoder().decode(d.key()), null);
        assertThatThrownBy(() -> again.connectWith().simpleAuth()
                .username(HUB + "/" + d.id() + "/?api-version=2020-09-30")
                .password(token.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send())
                .isInstanceOf(Mqtt3ConnAckException.class);
    }

    // --- twins ---

    @Test
    void twin_getHasEtag_patchMergesPushesToTheDevice_andStaleIfMatchIs412() throws Exception {
        Device d = device("twin");
        BlockingQueue<Mqtt3Publish> inbox = new LinkedBlockingQueue<>();
        Mqtt3BlockingClient c = connect(d, inbox);
        c.subscribeWith().topicFilter("$iothub/twin/PATCH/properties/desired/#").qos(AT_LEAST_ONCE).send();

        Reply read = get(twinPath(d.id()));
        assertThat(read.status()).as(read.body()).isEqualTo(200);
        assertThat(read.body()).isEqualTo("{\"deviceId\":\"" + d.id() + "\",\"etag\":\"AAAAAAAAAAE=\",\"version\":1,"
                + "\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"interval\":30,\"$version\":1},"
                + "\"reported\":{\"$version\":1}}}");
        assertThat(read.header("ETag")).isEqualTo("\"AAAAAAAAAAE=\"");

        Reply patched = call("PATCH", twinPath(d.id()), "{\"tags\":{\"site\":null,\"floor\":3},\"properties\":"
                + "{\"desired\":{\"interval\":5,\"mode\":{\"eco\":true}}}}", Map.of("If-Match", read.header("ETag")));
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(patched.json().path("tags").toString()).isEqualTo("{\"floor\":3}");
        assertThat(patched.json().path("properties").path("desired").toString())
                .isEqualTo("{\"interval\":5,\"mode\":{\"eco\":true},\"$version\":2}");
        assertThat(patched.json().path("version").asLong()).isEqualTo(2);
        assertThat(patched.header("ETag")).isEqualTo("\"" + patched.json().path("etag").asText() + "\"")
                .isNotEqualTo(read.header("ETag"));

        Mqtt3Publish push = next(inbox, "desired push");
        assertThat(push.getTopic().toString()).isEqualTo("$iothub/twin/PATCH/properties/desired/?$version=2");
        assertThat(new String(push.getPayloadAsBytes(), StandardCharsets.UTF_8))
                .isEqualTo("{\"interval\":5,\"mode\":{\"eco\":true},\"$version\":2}");

        assertError(call("PATCH", twinPath(d.id()), "{\"properties\":{\"desired\":{\"interval\":1}}}",
                Map.of("If-Match", read.header("ETag"))), 412, 412501, "does not match the current etag");
        Reply forced = call("PATCH", twinPath(d.id()), "{\"properties\":{\"desired\":{\"interval\":1}}}",
                Map.of("If-Match", "*"));
        assertThat(forced.json().path("properties").path("desired").path("$version").asLong()).isEqualTo(3);
        Reply unconditional = call("PATCH", twinPath(d.id()), "{\"tags\":{\"floor\":4}}", Map.of());
        assertThat(unconditional.json().path("version").asLong()).isEqualTo(4);
        assertThat(unconditional.json().path("properties").path("desired").path("$version").asLong()).isEqualTo(3);
    }

    @Test
    void twinPatch_badInput_is400NamingTheFieldAndChangesNothing() throws Exception {
        Device d = device("badtwin");
        String before = get(twinPath(d.id())).body();

        assertError(call("PATCH", twinPath(d.id()), "{\"properties\":{\"desired\":{\"a.b\":1}}}", Map.of()), 400,
                400004, "properties.desired has an invalid key \"a.b\"");
        assertError(call("PATCH", twinPath(d.id()), "{\"tags\":{\"note\":\"" + "x".repeat(4097) + "\"}}", Map.of()),
                400, 400004, "tags.note is a string of 4097 bytes");
        assertError(call("PATCH", twinPath(d.id()), "{\"properties\":{\"reported\":{\"fw\":1}}}", Map.of()), 400,
                400004, "properties.reported cannot be set");
        assertError(call("PATCH", twinPath(d.id()), "{\"tags\":[1]}", Map.of()), 400, 400004,
                "tags must be a JSON object");
        assertError(call("PATCH", twinPath(d.id()), "{}", Map.of()), 400, 400004, "the twin patch is empty");
        assertError(call("PATCH", twinPath(d.id()), "{\"tags\":", Map.of()), 400, 400001, "not a valid TwinPatch");
        assertError(call("PUT", twinPath(d.id()), "{\"tags\":{}}", Map.of()), 405, 405000, "allowed: GET, PATCH");
        assertError(call("PATCH", twinPath("nobody"), "{\"tags\":{\"a\":1}}", Map.of()), 404, 404501, "no device");

        assertThat(get(twinPath(d.id())).body()).isEqualTo(before);
    }

    // --- telemetry ---

    @Test
    void messages_afterACursorWithLimit_nextCursorFollows_andBadParametersAre400() throws Exception {
        Device d = device("telemetry");
        long cursor = get("/hubs/" + HUB + "/messages?after=0&limit=1000").json().path("next").asLong();
        Mqtt3BlockingClient c = connect(d, new LinkedBlockingQueue<>());
        for (int i = 1; i <= 3; i++) {
            c.publishWith().topic("devices/" + d.id() + "/messages/events/seq=" + i).qos(AT_LEAST_ONCE)
                    .payload(("message " + i).getBytes(StandardCharsets.UTF_8)).send();
        }

        Reply first = get("/hubs/" + HUB + "/messages?after=" + cursor + "&limit=2");
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        JsonNode page = first.json();
        assertThat(page.path("messages").size()).isEqualTo(2);
        JsonNode m = page.path("messages").get(0);
        assertThat(m.path("deviceId").asText()).isEqualTo(d.id());
        assertThat(m.path("properties").path("seq").asText()).isEqualTo("1");
        assertThat(new String(Base64.getDecoder().decode(m.path("body").asText()), StandardCharsets.UTF_8))
                .isEqualTo("message 1");
        assertThat(page.path("next").asLong()).isEqualTo(page.path("messages").get(1).path("sequence").asLong());

        JsonNode rest = get("/hubs/" + HUB + "/messages?after=" + page.path("next").asLong()).json();
        assertThat(rest.path("messages").size()).isEqualTo(1);
        JsonNode empty = get("/hubs/" + HUB + "/messages?after=" + rest.path("next").asLong()).json();
        assertThat(empty.path("messages").size()).isZero();
        assertThat(empty.path("next").asLong()).isEqualTo(rest.path("next").asLong());

        assertError(get("/hubs/" + HUB + "/messages?limit=0"), 400, 400004, "limit must be an integer 1..1000");
        assertError(get("/hubs/" + HUB + "/messages?limit=1001"), 400, 400004, "limit");
        assertError(get("/hubs/" + HUB + "/messages?after=x"), 400, 400004, "after must be an integer");
        assertError(get("/hubs/nohub.example.com/messages"), 404, 404502, "is not served");
        assertError(call("POST", "/hubs/" + HUB + "/messages", "{}", Map.of()), 405, 405000, "POST");
    }

    // --- rights ---

    @Test
    void rights_readsNeedRegistrationStatusRead_writesRegistrationStatusWrite() throws Exception {
        Device d = device("rights");
        JsonNode readOnly = call("PUT", "/authorizationPolicies/hub-reader", "{\"rights\":\"RegistrationStatusRead\"}",
                Map.of()).json();
        JsonNode enrollmentOnly = call("PUT", "/authorizationPolicies/hub-enroller",
                "{\"rights\":\"EnrollmentRead, EnrollmentWrite\"}", Map.of()).json();
        byte[] readerKey = Base64.getDecoder().decode(readOnly.path("primaryKey").asText());
        byte[] enrollerKey = Base64.getDecoder().decode(enrollmentOnly.path("primaryKey").asText());

        assertThat(call("GET", twinPath(d.id()), null, Map.of(), "hub-reader", readerKey).status()).isEqualTo(200);
        assertThat(call("GET", "/hubs/" + HUB + "/messages", null, Map.of(), "hub-reader", readerKey).status())
                .isEqualTo(200);
        assertThat(call("PATCH", twinPath(d.id()), "{\"tags\":{\"a\":1}}", Map.of(), "hub-reader", readerKey)
                .status()).isEqualTo(401);
        assertThat(call("DELETE", devicePath(d.id()), null, Map.of(), "hub-reader", readerKey).status())
                .isEqualTo(401);
        Reply refused = call("GET", "/hubs/unknown.example.com/devices", null, Map.of(), "hub-enroller", enrollerKey);
        assertThat(refused.status()).as("the right is checked before the hub is looked up").isEqualTo(401);
        assertThat(get(devicePath(d.id())).status()).isEqualTo(200);
    }

    @Test
    void desiredUpdate_toADisconnectedDevice_isReadOnItsNextTwinGet() throws Exception {
        Device d = device("offline");
        call("PATCH", twinPath(d.id()), "{\"properties\":{\"desired\":{\"interval\":7}}}", Map.of());
        BlockingQueue<Mqtt3Publish> inbox = new LinkedBlockingQueue<>();
        Mqtt3BlockingClient c = connect(d, inbox);
        c.subscribeWith().topicFilter("$iothub/twin/res/#").qos(AT_MOST_ONCE).send();

        c.publishWith().topic("$iothub/twin/GET/?$rid=1").qos(AT_MOST_ONCE).send();

        JsonNode twin = Json.parse(next(inbox, "twin").getPayloadAsBytes(), JsonNode.class);
        assertThat(twin.path("desired").toString()).isEqualTo("{\"interval\":7,\"$version\":2}");
    }
}
