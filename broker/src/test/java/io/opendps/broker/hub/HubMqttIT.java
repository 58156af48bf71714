package io.opendps.broker.hub;

import static com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE;
import static com.hivemq.client.mqtt.datatypes.MqttQos.AT_MOST_ONCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientState;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;

import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAck;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.hub.HubMessage;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
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
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in hub's MQTT endpoint at the packet level ({@code dps-device-protocol.md} §9) against a real server:
 * devices are provisioned through the real DPS MQTT path, then connect to their hub on the same listener with the
 * key they proved. The TLS host is {@code localhost} while the username names the hub {@code hub-1.opendps.local},
 * exactly what a client connecting through a gateway host name does.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HubMqttIT {

    private static final String HUB = "hub-1.opendps.local";
    private static final String HUB_API = "?api-version=2020-09-30&DeviceClientType=opendps-test";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    static Path dataDir;
    private static OpenDpsServer server;
    private static TrustManagerFactory trustServerCa;

    private final List<Mqtt3BlockingClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        trustServerCa = trustManagerFactory(server.info().caCertificate());
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

    private record Provisioned(String deviceId, String hub, String key) {
    }

    private static final class Inbox {
        final BlockingQueue<Mqtt3Publish> queue = new LinkedBlockingQueue<>();

        Mqtt3Publish next(String what) throws InterruptedException {
            Mqtt3Publish p = queue.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(p).as("no " + what + " within " + TIMEOUT).isNotNull();
            return p;
        }
    }

    private Mqtt3BlockingClient client(String clientId, Inbox inbox) {
        Mqtt3BlockingClient c = MqttClient.builder().useMqttVersion3().identifier(clientId)
                .serverHost(server.info().mqttHost()).serverPort(server.info().mqttPort())
                .sslConfig().trustManagerFactory(trustServerCa).protocols(List.of("TLSv1.2")).applySslConfig()
                .buildBlocking();
        c.toAsync().publishes(MqttGlobalPublishFilter.ALL, inbox.queue::add);
        clients.add(c);
        return c;
    }

    /** Enrolls a device with an initial twin and provisions it over the real DPS MQTT path. */
    private Provisioned provision(String prefix) throws Exception {
        String id = prefix + "-" + IDS.incrementAndGet();
        String key = Base64.getEncoder().encodeToString(("key-of-" + id + "-0123456789abcdef").getBytes(
                StandardCharsets.UTF_8));
        server.enrollments().putEnrollment(id, Json.parse(("{\"registrationId\":\"" + id + "\",\"attestation\":"
                + "{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + key + "\"}},\"initialTwin\":"
                + "{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"interval\":30}}}}")
                .getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class), null);
        Inbox inbox = new Inbox();
        Mqtt3BlockingClient dps = client(id, inbox);
        dps.connectWith().simpleAuth().username(server.info().idScope() + "/registrations/" + id
                + "/api-version=2019-03-31").password(SasSigner.deviceToken(server.info().idScope(), id,
                Base64.getDecoder().decode(key), Instant.now().plusSeconds(3600)).getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send();
        dps.subscribeWith().topicFilter("$dps/registrations/res/#").qos(AT_LEAST_ONCE).send();
        dps.publishWith().topic("$dps/registrations/PUT/iotdps-register/?$rid=1").qos(AT_LEAST_ONCE)
                .payload(("{\"registrationId\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8)).send();
        JsonNode accepted = json(inbox.next("register reply"));
        dps.publishWith().topic("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId="
                + accepted.path("operationId").asText()).qos(AT_LEAST_ONCE).send();
        JsonNode done = json(inbox.next("poll reply"));
        dps.disconnect();
        assertThat(done.path("status").asText()).isEqualTo("assigned");
        return new Provisioned(done.path("registrationState").path("deviceId").asText(),
                done.path("registrationState").path("assignedHub").asText(), key);
    }

    private static String hubToken(String hub, String deviceId, String key) {
        String sr = URLEncoder.encode(hub + "/devices/" + deviceId, StandardCharsets.UTF_8);
        return SasSigner.sign(sr, Instant.now().plusSeconds(3600).getEpochSecond(), Base64.getDecoder().decode(key),
                null);
    }

    private Mqtt3BlockingClient connectHub(String clientId, String usernameHub, String deviceId, String password,
            Inbox inbox) {
        Mqtt3BlockingClient c = client(clientId, inbox);
        c.connectWith().simpleAuth().username(usernameHub + "/" + deviceId + "/" + HUB_API)
                .password(password.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        return c;
    }

    private Mqtt3BlockingClient connectHub(Provisioned device, Inbox inbox) {
        return connectHub(device.deviceId(), device.hub(), device.deviceId(),
                hubToken(device.hub(), device.deviceId(), device.key()), inbox);
    }

    private Mqtt3ConnAckReturnCode refusedConnect(String clientId, String usernameHub, String deviceId,
            String password) {
        Mqtt3BlockingClient c = client(clientId, new Inbox());
        try {
            c.connectWith().simpleAuth().username(usernameHub + "/" + deviceId + "/" + HUB_API)
                    .password(password.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        } catch (Mqtt3ConnAckException e) {
            return e.getMqttMessage().getReturnCode();
        }
        throw new AssertionError("the CONNECT was accepted");
    }

    private static JsonNode json(Mqtt3Publish publish) throws IOException {
        return Json.parse(publish.getPayloadAsBytes(), JsonNode.class);
    }

    private static JsonNode twinGet(Mqtt3BlockingClient c, Inbox inbox, String rid) throws Exception {
        c.publishWith().topic("$iothub/twin/GET/?$rid=" + rid).qos(AT_MOST_ONCE).send();
        Mqtt3Publish reply = inbox.next("twin response");
        assertThat(reply.getTopic().toString()).isEqualTo("$iothub/twin/res/200/?$rid=" + rid);
        return json(reply);
    }

    private static void subscribeTwin(Mqtt3BlockingClient c) {
        Mqtt3SubAck ack = c.subscribeWith().topicFilter("$iothub/twin/res/#").qos(AT_MOST_ONCE)
                .addSubscription().topicFilter("$iothub/twin/PATCH/properties/desired/#").qos(AT_LEAST_ONCE)
                .applySubscription().send();
        assertThat(ack.getReturnCodes()).doesNotContain(Mqtt3SubAckReturnCode.FAILURE);
    }

    private static ObjectNode object(String text) throws IOException {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8), ObjectNode.class);
    }

    // --- tests ---

    @Test
    void provisionedDevice_connectsWithItsKeyAndReadsTheInitialTwin() throws Exception {
        Provisioned device = provision("twin");
        Inbox inbox = new Inbox();
        Mqtt3BlockingClient hub = connectHub(device, inbox);
        subscribeTwin(hub);

        JsonNode twin = twinGet(hub, inbox, "7");

        assertThat(device.hub()).isEqualTo(HUB);
        assertThat(Json.toText(twin)).isEqualTo("{\"desired\":{\"interval\":30,\"$version\":1},\"reported\":"
                + "{\"$version\":1}}");
    }

    @Test
    void wrongCredentials_unknownHub_unknownDevice_foreignClientId_areRefusedWithConnack5() throws Exception {
        Provisioned device = provision("refused");
        Provisioned other = provision("refused-other");
        String otherKey = other.key();
        String id = device.deviceId();

        assertThat(refusedConnect(id, HUB, id, hubToken(HUB, id, otherKey)))
                .as("signed with another device's key").isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(refusedConnect(id, HUB, id, hubToken(HUB, other.deviceId(), otherKey)))
                .as("another device's token").isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(refusedConnect(id, "hub-9.opendps.local", id, hubToken("hub-9.opendps.local", id, device.key())))
                .as("a hub not served here").isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(refusedConnect("nobody", HUB, "nobody", hubToken(HUB, "nobody", device.key())))
                .as("no such device").isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(refusedConnect(other.deviceId(), HUB, id, hubToken(HUB, id, device.key())))
                .as("client id differs from the device id").isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(refusedConnect(id, HUB, id, "SharedAccessSignature garbage"))
                .as("malformed token").isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
    }

    @Test
    void telemetry_qos0AndQos1WithPropertyBag_isStoredInTheHubLog() throws Exception {
        Provisioned device = provision("telemetry");
        long cursor = lastSequence();
        Mqtt3BlockingClient hub = connectHub(device, new Inbox());

        hub.publishWith().topic("devices/" + device.deviceId() + "/messages/events/%24.ct=application%2Fjson&"
                + "%24.ce=utf-8&temp=high").qos(AT_LEAST_ONCE).payload("{\"t\":21.5}".getBytes(StandardCharsets.UTF_8))
                .send();
        hub.publishWith().topic("devices/" + device.deviceId() + "/messages/events/").qos(AT_MOST_ONCE)
                .payload("second".getBytes(StandardCharsets.UTF_8)).send();

        List<HubMessage> messages = await().atMost(TIMEOUT).until(() -> mine(cursor, device.deviceId()),
                m -> m.size() == 2);
        assertThat(new String(messages.get(0).body(), StandardCharsets.UTF_8)).isEqualTo("{\"t\":21.5}");
        assertThat(messages.get(0).properties()).containsEntry("$.ct", "application/json")
                .containsEntry("$.ce", "utf-8").containsEntry("temp", "high");
        assertThat(new String(messages.get(1).body(), StandardCharsets.UTF_8)).isEqualTo("second");
        assertThat(messages.get(1).properties()).isEmpty();
    }

    private static long lastSequence() {
        List<HubMessage> all = server.hub().messagesAfter(HUB, 0, 1000);
        return all.isEmpty() ? 0 : all.get(all.size() - 1).sequence();
    }

    private static List<HubMessage> mine(long cursor, String deviceId) {
        return server.hub().messagesAfter(HUB, cursor, 1000).stream().filter(m -> m.deviceId().equals(deviceId))
                .toList();
    }

    @Test
    void reportedPatch_is204WithTheNewVersionAndReadBack() throws Exception {
        Provisioned device = provision("reported");
        Inbox inbox = new Inbox();
        Mqtt3BlockingClient hub = connectHub(device, inbox);
        subscribeTwin(hub);

        hub.publishWith().topic("$iothub/twin/PATCH/properties/reported/?$rid=r1").qos(AT_MOST_ONCE)
                .payload("{\"fw\":\"1.2\"}".getBytes(StandardCharsets.UTF_8)).send();
        Mqtt3Publish ack = inbox.next("reported patch response");
        hub.publishWith().topic("$iothub/twin/PATCH/properties/reported/?$rid=r2").qos(AT_MOST_ONCE)
                .payload("[1]".getBytes(StandardCharsets.UTF_8)).send();
        Mqtt3Publish bad = inbox.next("reported patch response");

        assertThat(ack.getTopic().toString()).isEqualTo("$iothub/twin/res/204/?$rid=r1&$version=2");
        assertThat(bad.getTopic().toString()).isEqualTo("$iothub/twin/res/400/?$rid=r2");
        assertThat(Json.toText(twinGet(hub, inbox, "r3").path("reported")))
                .isEqualTo("{\"fw\":\"1.2\",\"$version\":2}");
        assertThat(server.hub().twin(HUB, device.deviceId()).reported().path("fw").asText()).isEqualTo("1.2");
    }

    @Test
    void desiredUpdate_isPushedToThatDeviceOnlyWithItsVersion() throws Exception {
        Provisioned device = provision("desired");
        Provisioned bystander = provision("bystander");
        Inbox inbox = new Inbox();
        Inbox bystanderInbox = new Inbox();
        Mqtt3BlockingClient hub = connectHub(device, inbox);
        subscribeTwin(hub);
        subscribeTwin(connectHub(bystander, bystanderInbox));

        server.hub().updateTwin(HUB, device.deviceId(), null, object("{\"interval\":5}"));
        Mqtt3Publish patch = inbox.next("desired patch");

        assertThat(patch.getTopic().toString()).isEqualTo("$iothub/twin/PATCH/properties/desired/?$version=2");
        assertThat(Json.toText(json(patch))).isEqualTo("{\"interval\":5,\"$version\":2}");
        assertThat(Json.toText(twinGet(hub, inbox, "after").path("desired")))
                .isEqualTo("{\"interval\":5,\"$version\":2}");
        assertThat(bystanderInbox.queue).isEmpty();
    }

    @Test
    void subscriptions_onlyTheDevicesOwnTopicsAreGranted() throws Exception {
        Provisioned device = provision("subs");
        Provisioned other = provision("subs-other");
        Mqtt3BlockingClient hub = connectHub(device, new Inbox());

        Mqtt3SubAck own = hub.subscribeWith().topicFilter("devices/" + device.deviceId() + "/messages/devicebound/#")
                .qos(AT_LEAST_ONCE).addSubscription().topicFilter("$iothub/methods/POST/#").qos(AT_MOST_ONCE)
                .applySubscription().send();
        assertThat(own.getReturnCodes()).containsExactly(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1,
                Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_0);
        for (String filter : List.of("devices/" + other.deviceId() + "/messages/devicebound/#", "#",
                "devices/+/messages/events/#", "$dps/registrations/res/#", "$iothub/twin/#")) {
            assertThatThrownBy(() -> hub.subscribeWith().topicFilter(filter).qos(AT_MOST_ONCE).send())
                    .as(filter).isInstanceOfSatisfying(Mqtt3SubAckException.class, e -> assertThat(
                            e.getMqttMessage().getReturnCodes()).containsExactly(Mqtt3SubAckReturnCode.FAILURE));
        }
    }

    @Test
    void publishToAnotherDevicesTopic_isNotStoredAndDisconnectsTheClient() throws Exception {
        Provisioned device = provision("intruder");
        Provisioned victim = provision("victim");
        long cursor = lastSequence();
        Mqtt3BlockingClient hub = connectHub(device, new Inbox());

        hub.publishWith().topic("devices/" + victim.deviceId() + "/messages/events/").qos(AT_MOST_ONCE)
                .payload("spoofed".getBytes(StandardCharsets.UTF_8)).send();

        await().atMost(TIMEOUT).until(() -> hub.getState() != MqttClientState.CONNECTED);
        assertThat(server.hub().messagesAfter(HUB, cursor, 1000)).isEmpty();
    }

    @Test
    void twinGet_answersEachDeviceWithItsOwnTwin() throws Exception {
        Provisioned a = provision("own-a");
        Provisioned b = provision("own-b");
        server.hub().updateTwin(HUB, b.deviceId(), null, object("{\"only\":\"b\"}"));
        Inbox inboxA = new Inbox();
        Mqtt3BlockingClient hubA = connectHub(a, inboxA);
        subscribeTwin(hubA);

        JsonNode twin = twinGet(hubA, inboxA, "1");

        assertThat(twin.path("desired").has("only")).isFalse();
        assertThat(twin.path("desired").path("$version").asLong()).isEqualTo(1);
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

}
