package io.opendps.broker.mqtt;

import static com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE;
import static com.hivemq.client.mqtt.datatypes.MqttQos.AT_MOST_ONCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3SubAckException;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuthBuilder;
import com.hivemq.client.mqtt.mqtt3.message.connect.Mqtt3Connect;
import com.hivemq.client.mqtt.mqtt3.message.connect.Mqtt3ConnectBuilder;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscribe;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscription;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.GroupReference;
import io.opendps.core.registration.RegistrationOperationStatus;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.core.ConditionFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DPS device protocol at the MQTT packet level ({@code dps-device-protocol.md} §0, §2, §3) against a real
 * server: CONNACK, SUBACK, UNSUBACK, PUBACK and every reply PUBLISH, as the Azure device SDKs depend on them.
 *
 * <p>Devices are HiveMQ MQTT 3.1.1 clients over TLS 1.2 that trust only the server's CA and verify the host name
 * {@code localhost}. Every reply a test reads is checked on arrival for what each reply owes every SDK (topic
 * shape with {@code $rid} first, integer retry-after in 2..5, a non-empty ASCII-only JSON object, {@code operationId}
 * and {@code status} in every 2xx, a numeric {@code errorCode} and string {@code trackingId}, {@code message},
 * {@code timestampUtc} in every error); after each test no device may hold an unread reply.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DpsMqttProtocolIT {

    private static final String API_VERSION = "api-version=2019-03-31";
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(5);
    /** After a reply to a subscribed device: a duplicate would be on its heels. */
    private static final Duration NO_MORE_REPLIES = Duration.ofMillis(500);
    /**
     * Where a reply could still be in flight: the ~100 ms reply delay plus the server's retries while a device is
     * not yet subscribed (about one second in all).
     */
    private static final Duration NOTHING_ARRIVES = Duration.ofMillis(1_200);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(10);
    private static final Pattern REPLY_TOPIC =
            Pattern.compile("\\$dps/registrations/res/(\\d{3})/\\?\\$rid=([^&]*)(?:&retry-after=([^&]*))?");
    private static final Pattern OPERATION_ID = Pattern.compile("[A-Za-z0-9.-]+");
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    static Path dataDir;
    private static OpenDpsServer server;
    private static TrustManagerFactory trustServerCa;

    private final List<Device> devices = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        assertThat(server.info().mqttPort()).isNotEqualTo(ServerOptions.DPS_MQTT_PORT);
        trustServerCa = trustManagerFactory(server.info().caCertificate());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void disconnectDevices() {
        List<String> unread = new ArrayList<>();
        for (Device device : devices) {
            unread.addAll(device.unreadTopics());
            device.close();
        }
        assertThat(unread).as("replies nobody asked for (one reply per request)").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // CONNECT

    @ParameterizedTest(name = "{0}")
    @EnumSource(Sdk.class)
    void connect_sdkUsernameAndSessionFlags_isAcceptedWithoutSession(Sdk sdk) {
        Device device = enrolledDevice("connect").speaking(sdk);

        Mqtt3ConnAck connAck = device.connect(sdk.cleanSession, sdk.keepAlive);

        assertThat(connAck.getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SUCCESS);
        assertThat(connAck.isSessionPresent()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 1740})
    void connect_keepAliveAnywhereFrom0To1740_isAccepted(int keepAliveSeconds) {
        Device device = enrolledDevice("keep-alive");

        assertThat(device.connect(true, keepAliveSeconds).getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SUCCESS);
    }

    @Test
    void connect_cleanSessionFalseAfterEarlierSession_sessionPresentIsFalseAndSubscriptionIsGone() {
        Device first = enrolledDevice("session");
        first.connect(false, 230);
        first.subscribeToReplies();
        first.disconnect();
        Device second = first.sameClientAgain();

        Mqtt3ConnAck connAck = second.connect(false, 230);
        second.publish(registerTopic("1"), registrationBody(second.registrationId), AT_LEAST_ONCE);

        assertThat(connAck.isSessionPresent()).isFalse();
        second.receivesNothingFor(NOTHING_ARRIVES);
    }

    static Stream<Arguments> nonDpsUsernames() {
        return Stream.of(
                Arguments.of("plain word", "not-a-dps-username"),
                Arguments.of("IoT Hub username", "hub-1.azure-devices.net/dev-1/?api-version=2021-04-12"),
                Arguments.of("no registrations segment", "0ne00000001/devices/dev-1/" + API_VERSION),
                Arguments.of("no api-version", "0ne00000001/registrations/dev-1"),
                Arguments.of("api-version missing from query", "0ne00000001/registrations/dev-1/ClientVersion=1"),
                Arguments.of("invalid registration id", "0ne00000001/registrations/bad id!/" + API_VERSION),
                Arguments.of("empty ID scope", "/registrations/dev-1/" + API_VERSION),
                Arguments.of("no username at all", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nonDpsUsernames")
    void connect_nonDpsUsername_isRefusedNotAuthorized(String what, @Nullable String username) {
        Device device = enrolledDevice("bad-user").withUsername(username);

        Mqtt3ConnAckReturnCode code = device.connectRefused();

        assertThat(code).isEqualTo(Mqtt3ConnAckReturnCode.NOT_AUTHORIZED);
        assertThat(code.getCode()).isEqualTo(5);
    }

    // ---------------------------------------------------------------------------------------------------------
    // SUBSCRIBE / UNSUBSCRIBE

    @ParameterizedTest(name = "requested {0}")
    @EnumSource(value = MqttQos.class, names = {"AT_LEAST_ONCE", "EXACTLY_ONCE"})
    void subscribe_responseFilter_isGrantedQos1(MqttQos requested) {
        Device device = enrolledDevice("sub").connected();

        List<Mqtt3SubAckReturnCode> granted = device.subscribe(DpsTopics.RESPONSE_FILTER, requested);

        assertThat(granted).containsExactly(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"#", "$dps/#", "$dps/registrations/PUT/#", "$dps/registrations/GET/#",
        "$dps/registrations/res/+", "$dps/registrations/res/202/#", "devices/x/messages/devicebound/#", "+/+"})
    void subscribe_otherFilter_failsWith0x80AndKeepsTheConnection(String filter) {
        Device device = enrolledDevice("sub-other").connected();

        List<Mqtt3SubAckReturnCode> granted = device.subscribe(filter, AT_LEAST_ONCE);

        assertThat(granted).containsExactly(Mqtt3SubAckReturnCode.FAILURE);
        assertThat(granted.get(0).getCode()).isEqualTo(0x80);
        assertThat(device.isConnected()).isTrue();
    }

    @Test
    void subscribe_responseAndOtherFilterTogether_grantsOnlyTheResponseFilter() {
        Device device = enrolledDevice("sub-mixed").connected();

        List<Mqtt3SubAckReturnCode> granted = device.subscribe(AT_LEAST_ONCE, DpsTopics.RESPONSE_FILTER, "#");

        assertThat(granted).containsExactly(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1,
                Mqtt3SubAckReturnCode.FAILURE);
    }

    @Test
    void unsubscribe_responseFilterOrUnknownFilter_getsUnsuback() {
        Device device = enrolledDevice("unsub").connected().subscribedToReplies();

        device.unsubscribe(DpsTopics.RESPONSE_FILTER);
        device.unsubscribe("never/subscribed/#");

        assertThat(device.isConnected()).isTrue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Register and poll: the happy path, as each SDK puts it on the wire

    @ParameterizedTest(name = "{0}")
    @EnumSource(Sdk.class)
    void provisioning_sdkWireSequence_isAssigned(Sdk sdk) {
        Device device = enrolledDevice("seq").speaking(sdk);
        device.connect(sdk.cleanSession, sdk.keepAlive);
        device.subscribeToReplies();

        String registerRid = sdk.rid.apply(1);
        Reply accepted = device.register(registerRid, sdk.registerBody.apply(device.registrationId), sdk.registerQos);
        assertAssigning(accepted, registerRid);
        String pollRid = sdk.rid.apply(2);
        Reply done = device.poll(pollRid, accepted.operationId(), sdk.pollBody.apply(device.registrationId),
                sdk.pollQos);

        DeviceRegistrationState state = assertAssigned(done, pollRid, device.registrationId,
                accepted.operationId());
        assertThat(state.symmetricKey()).isEqualTo(GroupReference.INDIVIDUAL);
        if (sdk.unsubscribesAtEnd) {
            device.unsubscribe(DpsTopics.RESPONSE_FILTER);
        }
    }

    @ParameterizedTest(name = "register at {0}")
    @EnumSource(value = MqttQos.class, names = {"AT_MOST_ONCE", "AT_LEAST_ONCE"})
    void register_qos0OrQos1_getsExactlyOneReply(MqttQos qos) {
        Device device = enrolledDevice("once").connected().subscribedToReplies();

        Reply accepted = device.register("1", registrationBody(device.registrationId), qos);

        assertAssigning(accepted, "1");
        device.receivesNothingFor(NO_MORE_REPLIES);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "4294967295", "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9", "a%2Fb%20c%3D%3D",
        "%7Bd0a67190%7D", "rid.with~unreserved_chars-1"})
    void registerAndPoll_anyRid_isEchoedByteForByte(String rid) {
        Device device = enrolledDevice("rid").connected().subscribedToReplies();

        Reply accepted = device.register(rid, registrationBody(device.registrationId), AT_LEAST_ONCE);
        Reply done = device.poll(rid, accepted.operationId(), " ", AT_LEAST_ONCE);

        assertAssigning(accepted, rid);
        assertAssigned(done, rid, device.registrationId, accepted.operationId());
    }

    static Stream<Arguments> registerBodies() {
        return Stream.of(
                Arguments.of("minimal", "{\"registrationId\":\"%s\"}"),
                Arguments.of("Java: payload as a JSON string", "{\"registrationId\":\"%s\",\"payload\":"
                        + "\"{\\\"modelId\\\":\\\"dtmi:com:example:Thermostat;1\\\"}\"}"),
                Arguments.of("Python: sorted keys, payload null", "{\"payload\": null, \"registrationId\": \"%s\"}"),
                Arguments.of("Node: payload object", "{\"registrationId\":\"%s\",\"payload\":{\"a\":\"b\"}}"),
                Arguments.of("C: escaped slashes", "{\"registrationId\":\"%s\",\"payload\":{\"url\":"
                        + "\"https:\\/\\/example.com\\/fw\"}}"),
                Arguments.of("non-ASCII payload", "{\"registrationId\":\"%s\",\"payload\":{\"site\":\"Caf\u00e9 \u20ac\"}}"),
                Arguments.of("escaped non-ASCII payload", "{\"registrationId\":\"%s\",\"payload\":\"caf\\u00e9\"}"),
                Arguments.of("payload array", "{\"registrationId\":\"%s\",\"payload\":[1,\"two\",null]}"),
                Arguments.of("payload number", "{\"registrationId\":\"%s\",\"payload\":42}"),
                Arguments.of("unknown extra field", "{\"registrationId\":\"%s\",\"tpm\":null,\"extra\":true}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("registerBodies")
    void register_sdkBodyVariant_isAcceptedAndAssigned(String what, String bodyTemplate) {
        Device device = enrolledDevice("body").connected().subscribedToReplies();

        Reply accepted = device.register("1", bodyTemplate.formatted(device.registrationId), AT_LEAST_ONCE);
        Reply done = device.poll("2", accepted.operationId(), "", AT_MOST_ONCE);

        assertAssigning(accepted, "1");
        DeviceRegistrationState state = assertAssigned(done, "2", device.registrationId, accepted.operationId());
        JsonNode payload = done.json().at("/registrationState/payload");
        assertThat(payload.isMissingNode() || payload.isObject()).as("registrationState.payload is an object or "
                + "absent: %s", payload).isTrue();
        assertThat(state.registrationId()).isEqualTo(device.registrationId);
    }

    static Stream<Arguments> pollBodies() {
        return Stream.of(
                Arguments.of("Java: empty", "", AT_MOST_ONCE),
                Arguments.of("Node/Python: one space", " ", AT_LEAST_ONCE),
                Arguments.of("C: the registration JSON", null, AT_MOST_ONCE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pollBodies")
    void poll_sdkBody_getsAssignedWithFullRegistrationState(String what, @Nullable String body, MqttQos qos) {
        Device device = enrolledDevice("poll").connected().subscribedToReplies();
        Reply accepted = device.register("1", registrationBody(device.registrationId), qos);

        Reply done = device.poll("2", accepted.operationId(),
                body == null ? registrationBody(device.registrationId) : body, qos);

        assertAssigned(done, "2", device.registrationId, accepted.operationId());
        device.receivesNothingFor(NO_MORE_REPLIES);
    }

    @Test
    void poll_percentEncodedOperationId_isDecodedAndAssigned() {
        Device device = enrolledDevice("poll-enc").connected().subscribedToReplies();
        Reply accepted = device.register("1", registrationBody(device.registrationId), AT_LEAST_ONCE);
        String encoded = percentEncodeEverything(accepted.operationId());

        Reply done = device.poll("2", encoded, " ", AT_LEAST_ONCE);

        assertAssigned(done, "2", device.registrationId, accepted.operationId());
    }

    @Test
    void register_groupDeviceWithDerivedKey_isAssignedWithEnrollmentGroupId() {
        String groupId = uniqueId("grp");
        EnrollmentGroup group = server.enrollments().putGroup(groupId, EnrollmentGroup.symmetricKey(groupId, null,
                null), null);
        String registrationId = uniqueId("grp-dev");
        Device device = device(registrationId, DerivedKeys.deriveBase64(
                group.attestation().symmetricKey().primaryKey(), registrationId)).connected().subscribedToReplies();

        Reply accepted = device.register("1", registrationBody(registrationId), AT_MOST_ONCE);
        Reply done = device.poll("2", accepted.operationId(), "", AT_MOST_ONCE);

        DeviceRegistrationState state = assertAssigned(done, "2", registrationId, accepted.operationId());
        assertThat(state.symmetricKey()).isEqualTo(new GroupReference(groupId));
        assertThat(done.json().at("/registrationState/symmetricKey/enrollmentGroupId").asText()).isEqualTo(groupId);
    }

    @Test
    void poll_disabledEnrollment_getsDisabledWithErrorInRegistrationState() {
        String registrationId = uniqueId("disabled");
        IndividualEnrollment enabled = IndividualEnrollment.symmetricKey(registrationId, null, null);
        IndividualEnrollment disabled = server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(
                registrationId, null, null, enabled.attestation(), null, null, null, null, ProvisioningStatus.DISABLED,
                null, null, null, null, null, null, null), null);
        Device device = device(registrationId, disabled.attestation().symmetricKey().primaryKey()).connected()
                .subscribedToReplies();

        Reply accepted = device.register("1", registrationBody(registrationId), AT_MOST_ONCE);
        Reply done = device.poll("2", accepted.operationId(), "", AT_MOST_ONCE);

        assertAssigning(accepted, "1");
        assertThat(done.topic()).isEqualTo("$dps/registrations/res/200/?$rid=2");
        assertThat(done.operation().status()).isEqualTo(RegistrationStatus.DISABLED);
        JsonNode state = done.json().path("registrationState");
        assertThat(state.path("registrationId").asText()).isEqualTo(registrationId);
        assertThat(state.path("status").asText()).isEqualTo("disabled");
        assertThat(state.path("errorCode").isIntegralNumber()).as("numeric errorCode in %s", state).isTrue();
        assertThat(state.path("errorMessage").isTextual()).as("string errorMessage in %s", state).isTrue();
    }

    @Test
    void register_publishedBeforeSubscribing_isStillAnsweredOnce() {
        Device device = enrolledDevice("early").connected();

        device.publish(registerTopic("1"), registrationBody(device.registrationId), AT_LEAST_ONCE);
        device.subscribeToReplies();

        assertAssigning(device.nextReply(), "1");
        device.receivesNothingFor(NOTHING_ARRIVES);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Error replies

    @Test
    void register_wrongKey_connectsButGets401WithErrorBody() {
        String registrationId = uniqueId("wrong-key");
        server.enrollments().putEnrollment(registrationId, IndividualEnrollment.symmetricKey(registrationId, null,
                null), null);
        Device device = device(registrationId, Base64.getEncoder().encodeToString(new byte[32]));
        assertThat(device.connect(true, 60).getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SUCCESS);
        device.subscribeToReplies();

        Reply reply = device.register("1", registrationBody(registrationId), AT_MOST_ONCE);

        ErrorBody error = assertError(reply, "1", 401);
        assertThat(error.errorCode()).isEqualTo(401002);
        assertThat(error.trackingId()).isNotBlank();
        assertThat(error.message()).isNotBlank();
        device.receivesNothingFor(NO_MORE_REPLIES);
    }

    @Test
    void register_noPassword_gets401() {
        Device device = enrolledDevice("no-pass").withoutPassword().connected().subscribedToReplies();

        Reply reply = device.register("1", registrationBody(device.registrationId), AT_LEAST_ONCE);

        assertThat(assertError(reply, "1", 401).errorCode()).isEqualTo(401002);
    }

    @Test
    void register_idScopeNotServedHere_gets401() {
        Device device = enrolledDevice("scope");
        device.withUsername("0ne99999999/registrations/" + device.registrationId + "/" + API_VERSION).connected()
                .subscribedToReplies();

        Reply reply = device.register("1", registrationBody(device.registrationId), AT_LEAST_ONCE);

        assertThat(assertError(reply, "1", 401).errorCode()).isEqualTo(401002);
    }

    static Stream<Arguments> malformedBodies() {
        return Stream.of(
                Arguments.of("empty", new byte[0]),
                Arguments.of("truncated", utf8("{\"registrationId\":")),
                Arguments.of("not JSON", utf8("registrationId=x")),
                Arguments.of("array", utf8("[]")),
                Arguments.of("trailing garbage", utf8("{\"registrationId\":\"x\"} }")),
                Arguments.of("invalid UTF-8", new byte[] {'{', '"', (byte) 0xff, (byte) 0xfe, '"', '}'}),
                Arguments.of("no registrationId", utf8("{\"payload\":{}}")),
                Arguments.of("duplicate key", utf8("{\"registrationId\":\"a\",\"registrationId\":\"b\"}")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBodies")
    void register_malformedBody_gets400WithNumericErrorCode(String what, byte[] body) {
        Device device = enrolledDevice("bad-body").connected().subscribedToReplies();

        Reply reply = device.register("7", body, AT_LEAST_ONCE);

        assertThat(assertError(reply, "7", 400).errorCode()).isBetween(400000, 400999);
    }

    @Test
    void register_bodyIdDiffersFromUsername_gets400() {
        Device device = enrolledDevice("mismatch").connected().subscribedToReplies();

        Reply reply = device.register("1", registrationBody("someone-else"), AT_MOST_ONCE);

        ErrorBody error = assertError(reply, "1", 400);
        assertThat(error.errorCode()).isBetween(400000, 400999);
        assertThat(error.message()).contains("someone-else");
    }

    @Test
    void poll_unknownOperationId_gets404() {
        Device device = enrolledDevice("poll-404").connected().subscribedToReplies();

        Reply reply = device.poll("3", "1.0123456789abcdef.00000000-0000-0000-0000-000000000000", "",
                AT_MOST_ONCE);

        assertThat(assertError(reply, "3", 404).errorCode()).isBetween(404000, 404999);
    }

    @Test
    void poll_anotherDevicesOperationId_gets404() {
        Device owner = enrolledDevice("poll-owner").connected().subscribedToReplies();
        String operationId = owner.register("1", registrationBody(owner.registrationId), AT_LEAST_ONCE)
                .operationId();
        Device other = enrolledDevice("poll-other").connected().subscribedToReplies();

        Reply reply = other.poll("2", operationId, " ", AT_LEAST_ONCE);

        assertThat(assertError(reply, "2", 404).errorCode()).isBetween(404000, 404999);
    }

    @Test
    void requests_mixOfErrors_eachGetExactlyOneReply() {
        Device device = enrolledDevice("one-each").withPassword("SharedAccessSignature sr=x&sig=y&se=1")
                .connected().subscribedToReplies();

        device.publish(registerTopic("401"), registrationBody(device.registrationId), AT_MOST_ONCE);
        device.publish(registerTopic("400a"), "{", AT_LEAST_ONCE);
        device.publish(registerTopic("400b"), registrationBody("not-me"), AT_MOST_ONCE);
        device.publish(pollTopic("404", "no-such-operation"), "", AT_LEAST_ONCE);
        List<Reply> replies = List.of(device.nextReply(), device.nextReply(), device.nextReply(),
                device.nextReply());
        device.receivesNothingFor(NOTHING_ARRIVES);

        Map<String, Integer> statusByRid = new HashMap<>();
        replies.forEach(r -> assertThat(statusByRid.put(r.rid(), r.status())).as("second reply to " + r.rid())
                .isNull());
        assertThat(statusByRid).containsExactlyInAnyOrderEntriesOf(Map.of("401", 401, "400a", 400, "400b", 400,
                "404", 404));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Non-ASCII input: replies stay ASCII (the Node SDK decodes MQTT payloads as ASCII)

    @ParameterizedTest
    @ValueSource(strings = {"d\u00e9vice-\u00e9", "\u8bbe\u5907", "pager-\ud83d\udcdf"})
    void register_nonAsciiBodyIdEchoedInMessage_replyIsEscapedAsciiJson(String bodyId) {
        Device device = enrolledDevice("ascii").connected().subscribedToReplies();

        Reply reply = device.register("1", registrationBody(bodyId), AT_LEAST_ONCE);

        ErrorBody error = assertError(reply, "1", 400);
        assertThat(error.message()).contains(bodyId);
        assertThat(reply.text()).containsIgnoringCase(jsonEscaped(bodyId));
    }

    @Test
    void register_nonAsciiMalformedBody_replyIsAsciiJson() {
        Device device = enrolledDevice("ascii-bad").connected().subscribedToReplies();

        Reply reply = device.register("1", "{\"registrationId\": \u00e9t\u00e9}", AT_LEAST_ONCE);

        assertError(reply, "1", 400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"%C3%A9t%C3%A9-op", "\u00e9t\u00e9-op"})
    void poll_nonAsciiOperationId_replyIsEscapedAsciiJson(String operationId) {
        Device device = enrolledDevice("ascii-poll").connected().subscribedToReplies();

        Reply reply = device.poll("1", operationId, "", AT_MOST_ONCE);

        ErrorBody error = assertError(reply, "1", 404);
        assertThat(error.message()).contains("\u00e9t\u00e9-op");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Isolation: replies reach only the requesting connection; device publishes reach nobody

    @Test
    void reply_toOneDevice_isNeverDeliveredToOtherSubscribers() {
        Device requester = enrolledDevice("iso-a").connected().subscribedToReplies();
        Device bystander = enrolledDevice("iso-b").connected().subscribedToReplies();

        Reply accepted = requester.register("1", registrationBody(requester.registrationId), AT_LEAST_ONCE);
        requester.poll("2", accepted.operationId(), " ", AT_LEAST_ONCE);

        bystander.receivesNothingFor(NOTHING_ARRIVES);
        requester.receivesNothingFor(Duration.ZERO);
    }

    @Test
    void publish_toAnyOtherTopic_isDeliveredToNobodyAndTheConnectionStaysUp() {
        Device publisher = enrolledDevice("other-pub").connected().subscribedToReplies();
        Device observer = enrolledDevice("other-obs").connected().subscribedToReplies();
        List<String> topics = List.of(
                "devices/" + publisher.registrationId + "/messages/events/",
                "$dps/registrations/res/200/?$rid=1",
                "$dps/registrations/res/202/?$rid=1&retry-after=3",
                "$dps/registrations/PUT/iotdps-register",
                "$dps/registrations/PUT/iotdps-register/?rid=1",
                "$dps/registrations/PUT/iotdps-register/?$rid=",
                "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1",
                "$dps/registrations/PUT/other/?$rid=1",
                "a/b");

        for (String topic : topics) {
            publisher.publish(topic, registrationBody(publisher.registrationId), AT_LEAST_ONCE);
        }

        observer.receivesNothingFor(NOTHING_ARRIVES);
        publisher.receivesNothingFor(Duration.ZERO);
        assertThat(publisher.isConnected()).isTrue();
        assertAssigning(publisher.register("9", registrationBody(publisher.registrationId), AT_LEAST_ONCE), "9");
    }

    enum FirstConnectionEnds { DISCONNECT, TAKEN_OVER }

    @ParameterizedTest(name = "first connection: {0}")
    @EnumSource(FirstConnectionEnds.class)
    void reconnect_beforeTheReplyIsSent_getsNoStaleReply(FirstConnectionEnds how) {
        Device first = enrolledDevice("stale");
        first.connect(false, 230);
        first.subscribeToReplies();
        first.publish(registerTopic("1"), registrationBody(first.registrationId), AT_LEAST_ONCE);
        if (how == FirstConnectionEnds.DISCONNECT) {
            first.disconnect();
        }
        first.ignoreReplies();
        Device second = first.sameClientAgain();

        Mqtt3ConnAck connAck = second.connect(false, 230);
        second.subscribeToReplies();

        assertThat(connAck.isSessionPresent()).isFalse();
        waiting().alias("the first connection's register was processed")
                .until(() -> server.registrations().find(first.registrationId).isPresent());
        second.receivesNothingFor(NOTHING_ARRIVES);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Reply assertions

    private static void assertAssigning(Reply reply, String rid) {
        assertThat(reply.status()).as("status of %s", reply.topic()).isEqualTo(202);
        assertThat(reply.retryAfter()).as("retry-after of %s", reply.topic()).isNotNull();
        assertThat(reply.topic()).isEqualTo("$dps/registrations/res/202/?$rid=" + rid + "&retry-after="
                + reply.retryAfter());
        assertThat(Integer.parseInt(Objects.requireNonNull(reply.retryAfter()))).isBetween(2, 5);
        RegistrationOperationStatus operation = reply.operation();
        assertThat(operation.status()).isEqualTo(RegistrationStatus.ASSIGNING);
        assertThat(operation.operationId()).matches(OPERATION_ID);
    }

    private static DeviceRegistrationState assertAssigned(Reply reply, String rid, String registrationId,
            String operationId) {
        assertThat(reply.topic()).as("a terminal reply has no retry-after")
                .isEqualTo("$dps/registrations/res/200/?$rid=" + rid);
        RegistrationOperationStatus operation = reply.operation();
        assertThat(operation.operationId()).isEqualTo(operationId);
        assertThat(operation.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        JsonNode json = reply.json().path("registrationState");
        for (String field : List.of("registrationId", "createdDateTimeUtc", "assignedHub", "deviceId", "status",
                "substatus", "lastUpdatedDateTimeUtc", "etag")) {
            assertThat(json.path(field).isTextual()).as("registrationState.%s is a string in %s", field,
                    reply.text()).isTrue();
        }
        DeviceRegistrationState state = Objects.requireNonNull(operation.registrationState());
        assertThat(state.registrationId()).isEqualTo(registrationId);
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(state.assignedHub()).isEqualTo(server.info().hubs().get(0));
        assertThat(state.deviceId()).isEqualTo(registrationId);
        assertThat(state.createdDateTimeUtc()).isNotNull();
        assertThat(state.lastUpdatedDateTimeUtc()).isNotNull();
        assertThat(state.etag()).isNotBlank();
        assertThat(state.errorCode()).isNull();
        return state;
    }

    private static ErrorBody assertError(Reply reply, String rid, int status) {
        assertThat(reply.topic()).isEqualTo("$dps/registrations/res/" + status + "/?$rid=" + rid);
        assertThat(reply.json().has("status")).as("an error body is not an operation status").isFalse();
        ErrorBody error = reply.error();
        assertThat(error.errorCode() / 1000).as("errorCode = status x 1000 + detail").isEqualTo(status);
        return error;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The test DSL: a device connection

    private Device enrolledDevice(String prefix) {
        String registrationId = uniqueId(prefix);
        IndividualEnrollment enrollment = server.enrollments().putEnrollment(registrationId,
                IndividualEnrollment.symmetricKey(registrationId, null, null), null);
        return device(registrationId, enrollment.attestation().symmetricKey().primaryKey());
    }

    private Device device(String registrationId, String base64Key) {
        Device device = new Device(registrationId, registrationId,
                username(registrationId, "&ClientVersion=2019-03-31"),
                javaStyleToken(registrationId, base64Key), base64Key);
        devices.add(device);
        return device;
    }

    /** One device and its MQTT client; collects every PUBLISH the server sends it. */
    private final class Device {

        final String registrationId;
        final String clientId;
        private final String base64Key;
        private @Nullable String username;
        private @Nullable String password;
        private final Mqtt3AsyncClient mqtt;
        private final BlockingQueue<Mqtt3Publish> inbox = new LinkedBlockingQueue<>();
        private boolean ignoreReplies;

        Device(String registrationId, String clientId, @Nullable String username, @Nullable String password,
                String base64Key) {
            this.registrationId = registrationId;
            this.clientId = clientId;
            this.username = username;
            this.password = password;
            this.base64Key = base64Key;
            this.mqtt = MqttClient.builder().useMqttVersion3()
                    .identifier(clientId)
                    .serverHost(server.info().mqttHost())
                    .serverPort(server.info().mqttPort())
                    .sslConfig().trustManagerFactory(trustServerCa).protocols(List.of("TLSv1.2")).applySslConfig()
                    .buildAsync();
            mqtt.publishes(MqttGlobalPublishFilter.ALL, inbox::add);
        }

        /** Username, token and session habits of one SDK. */
        Device speaking(Sdk sdk) {
            username = username(registrationId, sdk.clientVersionQuery);
            password = sdk.token(server.info().idScope(), registrationId, base64Key);
            return this;
        }

        Device withUsername(@Nullable String value) {
            username = value;
            return this;
        }

        Device withPassword(String value) {
            password = value;
            return this;
        }

        Device withoutPassword() {
            password = null;
            return this;
        }

        /** A new client with the same client id, username and password (a reconnecting device). */
        Device sameClientAgain() {
            Device again = new Device(registrationId, clientId, username, password, base64Key);
            devices.add(again);
            return again;
        }

        Device connected() {
            Mqtt3ConnAck connAck = connect(true, 60);
            assertThat(connAck.getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SUCCESS);
            return this;
        }

        Mqtt3ConnAck connect(boolean cleanSession, int keepAliveSeconds) {
            return get(mqtt.connect(connectPacket(cleanSession, keepAliveSeconds)), "CONNACK");
        }

        Mqtt3ConnAckReturnCode connectRefused() {
            Throwable cause = failure(mqtt.connect(connectPacket(true, 60)), "CONNACK");
            assertThat(cause).isInstanceOf(Mqtt3ConnAckException.class);
            return ((Mqtt3ConnAckException) cause).getMqttMessage().getReturnCode();
        }

        private Mqtt3Connect connectPacket(boolean cleanSession, int keepAliveSeconds) {
            Mqtt3ConnectBuilder connect = Mqtt3Connect.builder().cleanSession(cleanSession)
                    .keepAlive(keepAliveSeconds);
            if (username != null) {
                Mqtt3SimpleAuthBuilder.Complete auth = Mqtt3SimpleAuth.builder().username(username);
                if (password != null) {
                    auth = auth.password(password.getBytes(StandardCharsets.UTF_8));
                }
                connect = connect.simpleAuth(auth.build());
            }
            return connect.build();
        }

        Device subscribedToReplies() {
            subscribeToReplies();
            return this;
        }

        void subscribeToReplies() {
            assertThat(subscribe(DpsTopics.RESPONSE_FILTER, AT_LEAST_ONCE))
                    .containsExactly(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1);
        }

        List<Mqtt3SubAckReturnCode> subscribe(String filter, MqttQos qos) {
            return subscribe(qos, filter);
        }

        /** One SUBSCRIBE with one or more filters; the SUBACK's return codes in order, failures included. */
        List<Mqtt3SubAckReturnCode> subscribe(MqttQos qos, String... filters) {
            Mqtt3Subscribe subscribe = Mqtt3Subscribe.builder().addSubscriptions(Stream.of(filters)
                    .map(f -> Mqtt3Subscription.builder().topicFilter(f).qos(qos).build())).build();
            CompletableFuture<List<Mqtt3SubAckReturnCode>> codes = mqtt.subscribe(subscribe)
                    .thenApply(subAck -> subAck.getReturnCodes())
                    .exceptionally(e -> {
                        Throwable cause = e instanceof CompletionException ? e.getCause() : e;
                        if (cause instanceof Mqtt3SubAckException refused) {
                            return refused.getMqttMessage().getReturnCodes();
                        }
                        throw new AssertionError("SUBSCRIBE failed without a SUBACK", cause);
                    });
            return get(codes, "SUBACK");
        }

        /** UNSUBSCRIBE, waiting for its UNSUBACK. */
        void unsubscribe(String filter) {
            get(mqtt.unsubscribeWith().topicFilter(filter).send(), "UNSUBACK");
        }

        /** PUBLISH; at QoS 1 waits for the PUBACK. */
        void publish(String topic, String body, MqttQos qos) {
            publish(topic, utf8(body), qos);
        }

        void publish(String topic, byte[] body, MqttQos qos) {
            get(mqtt.publishWith().topic(topic).qos(qos).payload(body).send(),
                    qos == AT_MOST_ONCE ? "QoS 0 publish" : "PUBACK");
        }

        Reply register(String rid, String body, MqttQos qos) {
            return register(rid, utf8(body), qos);
        }

        Reply register(String rid, byte[] body, MqttQos qos) {
            publish(registerTopic(rid), body, qos);
            return nextReply();
        }

        Reply poll(String rid, String operationId, String body, MqttQos qos) {
            publish(pollTopic(rid, operationId), body, qos);
            return nextReply();
        }

        Reply nextReply() {
            Mqtt3Publish publish = waiting().alias("a reply to " + clientId).atMost(REPLY_TIMEOUT)
                    .until(inbox::poll, Objects::nonNull);
            return Reply.of(publish);
        }

        /** Nothing (more) arrives within {@code window}; zero checks only what has arrived already. */
        void receivesNothingFor(Duration window) {
            if (window.isZero()) {
                assertThat(inboxTopics()).as("messages to %s", clientId).isEmpty();
                return;
            }
            waiting().alias("no (further) message to " + clientId).during(window)
                    .atMost(window.plus(Duration.ofSeconds(2)))
                    .untilAsserted(() -> assertThat(inboxTopics()).as("messages to %s", clientId).isEmpty());
        }

        /** Whatever this connection is sent from now on is not this test's concern. */
        void ignoreReplies() {
            ignoreReplies = true;
        }

        boolean isConnected() {
            return mqtt.getState().isConnected();
        }

        void disconnect() {
            get(mqtt.disconnect(), "DISCONNECT");
        }

        List<String> unreadTopics() {
            return ignoreReplies ? List.of() : inboxTopics();
        }

        private List<String> inboxTopics() {
            return inbox.stream().map(p -> clientId + " <- " + p.getTopic() + " "
                    + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).toList();
        }

        void close() {
            if (mqtt.getState().isConnectedOrReconnect()) {
                mqtt.disconnect().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null).join();
            }
        }
    }

    /** A reply PUBLISH, checked on arrival for what every reply owes every SDK. */
    private record Reply(String topic, int status, String rid, @Nullable String retryAfter, byte[] payload,
            JsonNode json) {

        static Reply of(Mqtt3Publish publish) {
            String topic = publish.getTopic().toString();
            byte[] payload = publish.getPayloadAsBytes();
            assertThat(publish.isRetain()).as("retain flag of %s", topic).isFalse();
            assertThat(publish.getQos()).as("QoS of %s", topic).isEqualTo(AT_LEAST_ONCE);
            Matcher m = REPLY_TOPIC.matcher(topic);
            assertThat(m.matches()).as("reply topic %s is $dps/registrations/res/{status}/?$rid={rid}"
                    + "[&retry-after={n}]", topic).isTrue();
            int status = Integer.parseInt(m.group(1));
            String retryAfter = m.group(3);
            if (retryAfter != null) {
                assertThat(retryAfter).as("retry-after of %s", topic).matches("[2-5]");
            }
            assertThat(payload).as("reply body on %s", topic).isNotEmpty();
            for (byte b : payload) {
                assertThat(b & 0xff).as("every reply byte is ASCII: %s", new String(payload,
                        StandardCharsets.UTF_8)).isLessThan(0x80);
            }
            JsonNode json;
            try {
                json = Json.mapper().readTree(payload);
            } catch (IOException e) {
                throw new AssertionError("reply on " + topic + " is not valid JSON: " + new String(payload,
                        StandardCharsets.US_ASCII), e);
            }
            assertThat(json.isObject()).as("reply body is a JSON object: %s", json).isTrue();
            if (status >= 200 && status < 300) {
                assertThat(json.path("operationId").isTextual()).as("2xx body has operationId: %s", json).isTrue();
                assertThat(json.path("status").asText()).as("2xx body status: %s", json)
                        .isIn("assigning", "assigned", "failed", "disabled");
            } else {
                assertThat(json.path("errorCode").isIntegralNumber()).as("numeric errorCode: %s", json).isTrue();
                for (String field : List.of("trackingId", "message", "timestampUtc")) {
                    assertThat(json.path(field).isTextual()).as("string %s: %s", field, json).isTrue();
                }
            }
            return new Reply(topic, status, m.group(2), retryAfter, payload, json);
        }

        String text() {
            return new String(payload, StandardCharsets.US_ASCII);
        }

        String operationId() {
            return json.path("operationId").asText();
        }

        RegistrationOperationStatus operation() {
            return parse(RegistrationOperationStatus.class);
        }

        ErrorBody error() {
            return parse(ErrorBody.class);
        }

        private <T> T parse(Class<T> type) {
            try {
                return Json.parse(payload, type);
            } catch (IOException e) {
                throw new AssertionError("reply on " + topic + " is not a " + type.getSimpleName() + ": " + text(),
                        e);
            }
        }
    }

    /**
     * What each Azure device SDK puts on the wire ({@code dps-device-protocol.md} §2.1-§2.5, §2.11, §4.1): session
     * flag, keep-alive, QoS of register and poll, request ids, bodies, the username's query and the SAS form.
     */
    enum Sdk {
        JAVA(false, 230, AT_MOST_ONCE, AT_MOST_ONCE, "&ClientVersion=2019-03-31", n -> Integer.toString(n),
                id -> "{\"registrationId\":\"" + id + "\",\"payload\":\"{\\\"modelId\\\":"
                        + "\\\"dtmi:com:example:Thermostat;1\\\"}\"}",
                id -> "", false, r -> r, ""),
        NODE(true, 180, AT_LEAST_ONCE, AT_LEAST_ONCE, "&ClientVersion=azure-iot-provisioning-device%2F1.9.2",
                n -> UUID.randomUUID().toString(),
                id -> "{\"registrationId\":\"" + id + "\",\"payload\":{\"a\":\"b\"}}",
                id -> " ", true, r -> r, "registration"),
        PYTHON(false, 60, AT_LEAST_ONCE, AT_LEAST_ONCE, "&ClientVersion=azure-iot-device-provisioning-py%2F2.14.0"
                + "%28Python%203.11.2%3BLinux%206.1.0%3Bx86_64%29", n -> UUID.randomUUID().toString(),
                id -> "{\"payload\": null, \"registrationId\": \"" + id + "\"}",
                id -> " ", false, r -> r.replace("/", "%2F"), null),
        C(true, 0, AT_MOST_ONCE, AT_MOST_ONCE, "&ClientVersion=1.15.0", n -> Integer.toString(n + 1),
                id -> "{\"registrationId\":\"" + id + "\",\"payload\":{\"fw\":\"https:\\/\\/example.com\"}}",
                id -> "{\"registrationId\":\"" + id + "\",\"payload\":{\"fw\":\"https:\\/\\/example.com\"}}",
                false, r -> r.replace("/", "%2f"), "registration"),
        EMBEDDED_C(false, 240, AT_LEAST_ONCE, AT_MOST_ONCE, "", n -> "1",
                id -> "{\"registrationId\":\"" + id + "\",\"payload\":{\"modelId\":\"dtmi:x;1\"}}",
                id -> "", false, r -> r.replace("/", "%2f"), null);

        final boolean cleanSession;
        final int keepAlive;
        final MqttQos registerQos;
        final MqttQos pollQos;
        final String clientVersionQuery;
        final IntFunction<String> rid;
        final Function<String, String> registerBody;
        final Function<String, String> pollBody;
        final boolean unsubscribesAtEnd;
        private final Function<String, String> writeResource;
        private final @Nullable String keyName;

        Sdk(boolean cleanSession, int keepAlive, MqttQos registerQos, MqttQos pollQos, String clientVersionQuery,
                IntFunction<String> rid, Function<String, String> registerBody, Function<String, String> pollBody,
                boolean unsubscribesAtEnd, Function<String, String> writeResource, @Nullable String keyName) {
            this.cleanSession = cleanSession;
            this.keepAlive = keepAlive;
            this.registerQos = registerQos;
            this.pollQos = pollQos;
            this.clientVersionQuery = clientVersionQuery;
            this.rid = rid;
            this.registerBody = registerBody;
            this.pollBody = pollBody;
            this.unsubscribesAtEnd = unsubscribesAtEnd;
            this.writeResource = writeResource;
            this.keyName = keyName;
        }

        /** The SAS password with this SDK's {@code sr} encoding and {@code skn}. */
        String token(String idScope, String registrationId, String base64Key) {
            return SasSigner.sign(writeResource.apply(idScope + "/registrations/" + registrationId),
                    Instant.now().plus(Duration.ofHours(1)).getEpochSecond(), Base64.getDecoder().decode(base64Key),
                    keyName);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private static String uniqueId(String prefix) {
        return prefix + "-" + IDS.incrementAndGet();
    }

    private static String username(String registrationId, String clientVersionQuery) {
        return server.info().idScope() + "/registrations/" + registrationId + "/" + API_VERSION + clientVersionQuery;
    }

    private static String javaStyleToken(String registrationId, String base64Key) {
        return SasSigner.deviceToken(server.info().idScope(), registrationId, Base64.getDecoder().decode(base64Key),
                Instant.now().plus(Duration.ofHours(1)));
    }

    private static String registrationBody(String registrationId) {
        return Json.toText(Map.of("registrationId", registrationId));
    }

    private static String registerTopic(String rid) {
        return "$dps/registrations/PUT/iotdps-register/?$rid=" + rid;
    }

    private static String pollTopic(String rid, String operationId) {
        return "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=" + rid + "&operationId=" + operationId;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Percent-encodes every byte, upper-case hex (stricter than Python's {@code quote(safe="")}). */
    private static String percentEncodeEverything(String text) {
        StringBuilder sb = new StringBuilder();
        for (byte b : utf8(text)) {
            sb.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
        }
        return sb.toString();
    }

    /** How an ASCII-only JSON writer escapes {@code text}: {@code \\uXXXX} for every non-ASCII UTF-16 unit. */
    private static String jsonEscaped(String text) {
        StringBuilder sb = new StringBuilder();
        text.chars().forEach(c -> sb.append(c < 0x80 ? Character.toString(c)
                : String.format(Locale.ROOT, "\\u%04X", c)));
        return sb.toString();
    }

    private static ConditionFactory waiting() {
        return await().pollInterval(POLL_INTERVAL).pollDelay(Duration.ZERO);
    }

    private static <T> T get(CompletableFuture<T> future, String what) {
        try {
            return future.get(REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(what + " failed", e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no " + what + " within " + REPLY_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        }
    }

    private static Throwable failure(CompletableFuture<?> future, String what) {
        try {
            Object result = future.get(REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected %s to fail, got %s", what, result);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("no " + what + " within " + REPLY_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        }
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
