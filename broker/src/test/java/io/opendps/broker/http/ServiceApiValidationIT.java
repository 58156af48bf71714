package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Schema validation of enrollments and groups over real HTTPS ({@code dps-service-api.md} §3, §5, §12): every field
 * stored and returned, every refusal a 400 with the 6-digit code and a message naming the field, and nothing
 * written on a refusal (a GET afterwards shows the old version, or 404). Also devices over MQTT against TPM,
 * {@code custom} and {@code geoLatency} enrollments. One server with two linked hubs; every test uses its own ids.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServiceApiValidationIT {

    private static final String API = "2021-10-01";
    private static final String HUB_1 = "hub-1.opendps.local";
    private static final String HUB_2 = "hub-2.opendps.local";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** A well-formed RSA-2048 endorsement key: the reference's {@code AToAAQAL…} header and a modulus. */
    private static final String EK_1 = endorsementKey(1);
    private static final String EK_2 = endorsementKey(2);
    private static final String SRK = Base64.getEncoder().encodeToString(new byte[] {0, 4, 0, 1, 0, 11});

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static HttpClient http;
    static String base;
    static String policyName;
    static byte[] policyKey;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withHubs(List.of(HUB_1, HUB_2)));
        http = HttpClient.newBuilder().sslContext(TlsMaterial.trustingClientContext(server.info().caCertificate()))
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        base = "https://localhost:" + server.info().httpsPort();
        Map<String, String> cs = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String part : server.info().serviceConnectionString().split(";")) {
            String[] kv = part.split("=", 2);
            cs.put(kv[0], kv[1]);
        }
        policyName = cs.get("SharedAccessKeyName");
        policyKey = Base64.getDecoder().decode(cs.get("SharedAccessKey"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ---------------------------------------------------------------- TPM

    @Test
    void tpm_putGetQueryAndAttestationMechanism_allReturnTheTpmObject() throws Exception {
        String tpm = "{\"endorsementKey\":\"" + EK_1 + "\",\"storageRootKey\":\"" + SRK + "\"}";
        JsonNode expected = MAPPER.readTree("{\"type\":\"tpm\",\"tpm\":" + tpm + "}");

        Reply put = put("/enrollments/tpm-dev-1", "{\"registrationId\":\"tpm-dev-1\",\"attestation\":" + expected
                + "}");

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(put.json().get("attestation")).isEqualTo(expected);
        assertThat(get("/enrollments/tpm-dev-1").json().get("attestation")).isEqualTo(expected);
        assertThat(queryItem("enrollments", "registrationId", "tpm-dev-1").get("attestation")).isEqualTo(expected);
        Reply mechanism = call("POST", "/enrollments/tpm-dev-1/attestationmechanism", "{}", null);
        assertThat(mechanism.status()).isEqualTo(200);
        assertThat(mechanism.json()).isEqualTo(expected);
    }

    @Test
    void tpm_updateWithAnotherEndorsementKey_replacesIt() throws Exception {
        Reply first = put("/enrollments/tpm-dev-2", tpmEnrollment("tpm-dev-2", EK_1));

        Reply second = call("PUT", "/enrollments/tpm-dev-2", tpmEnrollment("tpm-dev-2", EK_2),
                first.json().path("etag").asText());

        assertThat(second.status()).as(second.body()).isEqualTo(200);
        assertThat(get("/enrollments/tpm-dev-2").json().at("/attestation/tpm/endorsementKey").asText()).isEqualTo(EK_2);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"type\":\"tpm\"}|attestation.tpm is required",
        "{\"type\":\"tpm\",\"tpm\":{\"storageRootKey\":\"AAQAAQAL\"}}|attestation.tpm.endorsementKey is required",
        "{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"not base64!\"}}|attestation.tpm.endorsementKey is not valid "
            + "base64",
        "{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AToAAQAL\"}}|attestation.tpm.endorsementKey is not a "
            + "TPM2B_PUBLIC: its 2-byte size field says 314 bytes but 4 follow",
        "{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AAQACAAL\"}}|attestation.tpm.endorsementKey is not an RSA "
            + "(0x0001) or ECC (0x0023) public key: its TPMT_PUBLIC type is 0x0008",
        "{\"type\":\"none\"}|attestation.type 'none' cannot be enrolled"})
    void tpm_badAttestation_is400004NamingTheFieldAndKeepsTheOldVersion(String attestation, String message)
            throws Exception {
        String id = "tpm-bad-" + Integer.toHexString(attestation.hashCode());
        assertError(put("/enrollments/" + id, "{\"attestation\":" + attestation + "}"), 400, 400004, message);
        assertError(get("/enrollments/" + id), 404, 404201, id);

        Reply created = put("/enrollments/" + id, tpmEnrollment(id, EK_1));
        assertError(call("PUT", "/enrollments/" + id, "{\"attestation\":" + attestation + "}", "*"), 400, 400004,
                message);
        assertThat(get("/enrollments/" + id).json()).isEqualTo(created.json());
    }

    @Test
    void group_tpm_is400NamingTheRuleAndCreatesNothing() throws Exception {
        assertError(put("/enrollmentGroups/tpm-group", "{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\""
                + EK_1 + "\"}}}"), 400, 400004, "TPM is not supported for enrollment groups");
        assertError(get("/enrollmentGroups/tpm-group"), 404, 404204, "tpm-group");
    }

    // ---------------------------------------------------------------- allocation

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"HASHED\"|hashed",
        "\"geolatency\"|geoLatency",
        "\"Static\",\"iotHubs\":[\"hub-2.opendps.local\"]|static",
        "\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"https://alloc.example.com/api/allocate?code=k\","
            + "\"apiVersion\":\"2021-10-01\"}|custom"})
    void allocationPolicy_everyValue_isStoredAndReturnedInAzureCasing(String policy, String canonical)
            throws Exception {
        String id = "alloc-" + canonical.toLowerCase(java.util.Locale.ROOT);

        Reply put = call("PUT", "/enrollments/" + id, symmetric("\"allocationPolicy\":" + policy), "*");

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(get("/enrollments/" + id).json().path("allocationPolicy").asText()).isEqualTo(canonical);
    }

    @Test
    void group_customAllocationExample_roundTrips() throws Exception {
        String example = """
                { "enrollmentGroupId": "toasters",
                  "attestation": { "type": "symmetricKey" },
                  "allocationPolicy": "custom",
                  "customAllocationDefinition": { "webhookUrl": "https://alloc.example.com/api/allocate?code=…", "apiVersion": "2021-10-01" },
                  "reprovisionPolicy": { "updateHubAssignment": true, "migrateDeviceData": true },
                  "capabilities": { "iotEdge": false } }""";

        Reply put = put("/enrollmentGroups/toasters", example);

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        JsonNode got = get("/enrollmentGroups/toasters").json();
        for (String key : List.of("enrollmentGroupId", "attestation", "allocationPolicy", "customAllocationDefinition",
                "reprovisionPolicy", "capabilities")) {
            assertThat(got.get(key)).as(key).isEqualTo(MAPPER.readTree(example).get(key));
        }
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"allocationPolicy\":\"custom\"|customAllocationDefinition is required when allocationPolicy is custom",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl is required",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/x\"}"
            + "|customAllocationDefinition.apiVersion is required",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/x\","
            + "\"apiVersion\":\"2018-06-01\"}|customAllocationDefinition.apiVersion '2018-06-01' is older than "
            + "2018-09-01-preview",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"ftp://a.example/x\","
            + "\"apiVersion\":\"2021-10-01\"}|customAllocationDefinition.webhookUrl must be an absolute https://",
        "\"allocationPolicy\":\"static\",\"iotHubs\":[\"hub-1.opendps.local\",\"hub-2.opendps.local\"]"
            + "|allocationPolicy static needs exactly one hub in iotHubs; it has 2",
        "\"iotHubs\":[\"hub-9.opendps.local\"]|iotHubs[0] 'hub-9.opendps.local' is not a linked hub"})
    void allocation_breakingARule_is400004NamingTheFieldAndCreatesNothing(String fields, String message)
            throws Exception {
        String id = "alloc-bad-" + Integer.toHexString(fields.hashCode());

        assertError(put("/enrollments/" + id, symmetric(fields)), 400, 400004, message);
        assertError(get("/enrollments/" + id), 404, 404201, id);
    }

    // ---------------------------------------------------------------- reprovisionPolicy

    @Test
    void reprovisionPolicy_absentStaysAbsentAndSetIsKept() throws Exception {
        put("/enrollments/reprov-absent", symmetric(""));
        put("/enrollments/reprov-never", symmetric("\"reprovisionPolicy\":{\"updateHubAssignment\":false,"
                + "\"migrateDeviceData\":false}"));

        assertThat(get("/enrollments/reprov-absent").json().has("reprovisionPolicy")).isFalse();
        assertThat(get("/enrollments/reprov-never").json().get("reprovisionPolicy"))
                .isEqualTo(MAPPER.readTree("{\"updateHubAssignment\":false,\"migrateDeviceData\":false}"));
    }

    @Test
    void reprovisionPolicy_missingFlag_is400001NamingItAndKeepsTheOldVersion() throws Exception {
        Reply created = put("/enrollments/reprov-half", symmetric(""));

        assertError(call("PUT", "/enrollments/reprov-half", symmetric("\"reprovisionPolicy\":{\"updateHubAssignment\""
                + ":true}"), "*"), 400, 400001, "at 'reprovisionPolicy': reprovisionPolicy.migrateDeviceData is "
                + "required");

        assertThat(get("/enrollments/reprov-half").json()).isEqualTo(withoutKeys(created.json()));
    }

    // ---------------------------------------------------------------- initialTwin, optionalDeviceInformation

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"properties\":{\"reported\":{\"fw\":\"1.0\"}}}|initialTwin.properties.reported cannot be set",
        "{\"tags\":{},\"deviceId\":\"x\"}|initialTwin.deviceId is not allowed",
        "{\"tags\":{\"site.name\":\"plant-7\"}}|initialTwin.tags has an invalid key \"site.name\"",
        "{\"properties\":{\"desired\":{\"cfg\":{\"$x\":1}}}}|initialTwin.properties.desired.cfg has an invalid key",
        "{\"tags\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":1}}}}}}}}}}}}}"
            + "|initialTwin.tags.a.b.c.d.e.f.g.h.i.j.k is nested 11 levels deep"})
    void initialTwin_breakingIotHubRules_is400004NamingThePathAndKeepsTheOldVersion(String twin, String message)
            throws Exception {
        String id = "twin-bad-" + Integer.toHexString(twin.hashCode());
        Reply created = put("/enrollments/" + id, symmetric("\"initialTwin\":{\"tags\":{\"site\":\"plant-7\"}}"));

        assertError(call("PUT", "/enrollments/" + id, symmetric("\"initialTwin\":" + twin), "*"), 400, 400004,
                message);

        assertThat(get("/enrollments/" + id).json()).isEqualTo(withoutKeys(created.json()));
    }

    @Test
    void initialTwin_tooLargeAndLongStrings_are400004NamingTheCollection() throws Exception {
        String big = "{\"properties\":{\"desired\":{" + String.join(",", java.util.stream.IntStream.range(0, 9)
                .mapToObj(i -> "\"k" + i + "\":\"" + "x".repeat(4000) + "\"").toList()) + "}}}";
        String longValue = "{\"tags\":{\"note\":\"" + "x".repeat(4097) + "\"}}";

        assertError(put("/enrollments/twin-big", symmetric("\"initialTwin\":" + big)), 400, 400004,
                "initialTwin.properties.desired is 36");
        assertError(put("/enrollments/twin-big", symmetric("\"initialTwin\":" + longValue)), 400, 400004,
                "initialTwin.tags.note is a string of 4097 bytes");
        assertError(get("/enrollments/twin-big"), 404, 404201, "twin-big");
    }

    @Test
    void initialTwin_roundTrippedTwin_isStoredExactlyAsSent() throws Exception {
        String twin = "{\"tags\":{\"version\":\"1.2\",\"count\":7,\"gone\":null},\"properties\":{\"desired\":{"
                + "\"$version\":3,\"$metadata\":{\"$lastUpdated\":\"2024-03-13T15:22:27Z\"},\"arr\":[1,null,{\"a\":"
                + "null}]}}}";

        Reply put = put("/enrollments/twin-exact", symmetric("\"initialTwin\":" + twin));

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(get("/enrollments/twin-exact").json().get("initialTwin")).isEqualTo(MAPPER.readTree(twin));
    }

    @Test
    void optionalDeviceInformation_notAnObject_is400004() throws Exception {
        assertError(put("/enrollments/odi-bad", symmetric("\"optionalDeviceInformation\":\"TX-200\"")), 400, 400004,
                "optionalDeviceInformation must be a JSON object");
        assertError(get("/enrollments/odi-bad"), 404, 404201, "odi-bad");
    }

    // ---------------------------------------------------------------- JSON shape errors name the field

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"capabilities\":{\"iotEdge\":\"maybe\"}|at 'capabilities.iotEdge': Cannot deserialize value of type "
            + "`boolean` from String \"maybe\"",
        "\"provisioningStatus\":\"sleeping\"|at 'provisioningStatus': unknown provisioningStatus 'sleeping': use "
            + "enabled or disabled",
        "\"allocationPolicy\":\"roundRobin\"|at 'allocationPolicy': unknown allocationPolicy 'roundRobin'",
        "\"iotHubs\":\"hub-1.opendps.local\"|at 'iotHubs': expected a JSON array, got a string",
        "\"deviceId\":{\"id\":1}|at 'deviceId': expected a string, got a JSON object",
        "\"clientCertificateIssuancePolicy\":\"ca\"|at 'clientCertificateIssuancePolicy': expected a JSON object"})
    void jsonShape_wrong_is400001NamingTheField(String fields, String message) throws Exception {
        String id = "shape-" + Integer.toHexString(fields.hashCode());

        String text = assertError(put("/enrollments/" + id, symmetric(fields)), 400, 400001, message);

        assertThat(text).doesNotContain("io.opendps", "java.lang", "line:");
        assertError(get("/enrollments/" + id), 404, 404201, id);
    }

    @Test
    void jsonShape_attestationNotAnObject_is400001NamingIt() throws Exception {
        assertError(put("/enrollments/shape-att", "{\"attestation\":\"tpm\"}"), 400, 400001,
                "at 'attestation': expected a JSON object, got a string 'tpm'");
        assertError(put("/enrollments/shape-att", "{\"attestation\":{\"type\":\"quantum\"}}"), 400, 400001,
                "at 'attestation.type'");
    }

    // ---------------------------------------------------------------- other fields

    @Test
    void capabilitiesAndProvisioningStatus_areStoredAndCanonical() throws Exception {
        put("/enrollments/edge-dev", symmetric("\"capabilities\":{\"iotEdge\":true},\"provisioningStatus\":"
                + "\"Disabled\""));

        JsonNode got = get("/enrollments/edge-dev").json();
        assertThat(got.get("capabilities")).isEqualTo(MAPPER.readTree("{\"iotEdge\":true}"));
        assertThat(got.path("provisioningStatus").asText()).isEqualTo("disabled");
    }

    @Test
    void previewFields_individualAndGroup_areStoredAndReturnedByGetAndQuery() throws Exception {
        String individual = "\"clientCertificateIssuancePolicy\":{\"certificateAuthorityName\":\"ca-client\"},"
                + "\"serverCertificateIssuancePolicy\":{\"certificateAuthorityName\":\"ca-server\"},\"trustBundleId\":"
                + "\"bundle-1\",\"deviceHostname\":\"edge-7.contoso.local\",\"deviceIpAddress\":\"10.0.0.7\"";
        String group = "\"credentialPolicyName\":\"default\",\"clientCertificateIssuancePolicy\":{"
                + "\"certificateAuthorityName\":\"ca-client\"},\"serverCertificateIssuancePolicy\":{"
                + "\"certificateAuthorityName\":\"ca-server\"},\"trustBundleId\":\"bundle-1\"";

        put("/enrollments/preview-dev", symmetric(individual));
        put("/enrollmentGroups/preview-group", symmetric(group));

        JsonNode expectedIndividual = MAPPER.readTree("{" + individual + "}");
        JsonNode expectedGroup = MAPPER.readTree("{" + group + "}");
        JsonNode got = get("/enrollments/preview-dev").json();
        JsonNode listed = queryItem("enrollments", "registrationId", "preview-dev");
        JsonNode gotGroup = get("/enrollmentGroups/preview-group").json();
        expectedIndividual.properties().forEach(e -> {
            assertThat(got.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(listed.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        });
        expectedGroup.properties().forEach(e -> assertThat(gotGroup.get(e.getKey())).as(e.getKey())
                .isEqualTo(e.getValue()));
    }

    @Test
    void unknownFields_areIgnoredNeitherStoredNorEchoed() throws Exception {
        Reply put = put("/enrollments/unknown-fields", symmetric("\"futureField\":{\"x\":[1]},\"$schema\":\"v9\""));

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(put.body()).doesNotContain("futureField", "$schema");
        assertThat(get("/enrollments/unknown-fields").body()).doesNotContain("futureField", "$schema");
    }

    @Test
    void group_readOnlyFieldsInBody_areIgnored() throws Exception {
        Reply created = put("/enrollmentGroups/ro-group", "{\"attestation\":{\"type\":\"symmetricKey\"}}");
        ObjectNode echo = (ObjectNode) get("/enrollmentGroups/ro-group").json();
        echo.put("etag", "\"forged\"");
        echo.put("createdDateTimeUtc", "2001-01-01T00:00:00.0000000Z");
        echo.put("lastUpdatedDateTimeUtc", "2001-01-01T00:00:00.0000000Z");

        Reply replaced = call("PUT", "/enrollmentGroups/ro-group", echo.toString(), created.json().path("etag")
                .asText());

        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        assertThat(replaced.json().path("etag").asText()).isNotEqualTo("\"forged\"");
        assertThat(replaced.json().path("createdDateTimeUtc")).isEqualTo(created.json().path("createdDateTimeUtc"));
        assertThat(replaced.json().path("lastUpdatedDateTimeUtc").asText()).isNotEqualTo(
                "2001-01-01T00:00:00.0000000Z");
    }

    @Test
    void createRequestExample_responseHasTheReferenceKeys() throws Exception {
        String request = """
                { "registrationId": "sensor-0042",
                  "attestation": { "type": "symmetricKey", "symmetricKey": { "primaryKey": "", "secondaryKey": "" } },
                  "capabilities": { "iotEdge": false },
                  "provisioningStatus": "enabled",
                  "reprovisionPolicy": { "updateHubAssignment": true, "migrateDeviceData": true },
                  "allocationPolicy": "hashed",
                  "iotHubs": [ "hub-1.opendps.local", "hub-2.opendps.local" ],
                  "initialTwin": { "tags": { "site": "plant-7" }, "properties": { "desired": { "telemetryIntervalSec": 30 } } },
                  "optionalDeviceInformation": { "model": "TX-200" } }""";

        Reply put = put("/enrollments/sensor-0042", request);

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        List<String> keys = new ArrayList<>();
        put.json().fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactlyInAnyOrder("registrationId", "attestation", "capabilities", "etag",
                "provisioningStatus", "reprovisionPolicy", "createdDateTimeUtc", "lastUpdatedDateTimeUtc",
                "allocationPolicy", "iotHubs", "initialTwin", "optionalDeviceInformation");
    }

    // ---------------------------------------------------------------- devices over MQTT

    @Test
    void tpmEnrollment_deviceWithSasToken_gets401AndNoRecordIsStored() throws Exception {
        put("/enrollments/tpm-mqtt-1", tpmEnrollment("tpm-mqtt-1", EK_1));
        String anyKey = Base64.getEncoder().encodeToString(new byte[32]);

        MqttReply reply = registerOverMqtt("tpm-mqtt-1", anyKey);

        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.json().path("errorCode").asInt()).isEqualTo(401002);
        assertThat(reply.json().path("message").asText()).isEqualTo("Unauthorized: no enrollment for registration id "
                + "'tpm-mqtt-1' accepts this SAS token");
        assertError(get("/registrations/tpm-mqtt-1"), 404, 404202, "tpm-mqtt-1");
        assertThat(get("/enrollments/tpm-mqtt-1").json().has("registrationState")).isFalse();
    }

    @Test
    void customEnrollment_deviceRegistration_endsFailedWith400207AndNoWebhookCall() throws Exception {
        try (ServerSocketChannel webhook = ServerSocketChannel.open()) {
            webhook.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            webhook.configureBlocking(false);
            int port = ((InetSocketAddress) webhook.getLocalAddress()).getPort();
            Reply created = put("/enrollments/custom-mqtt-1", symmetric("\"allocationPolicy\":\"custom\","
                    + "\"customAllocationDefinition\":{\"webhookUrl\":\"http://127.0.0.1:" + port + "/api/allocate\","
                    + "\"apiVersion\":\"2021-10-01\"}"));

            MqttReply reply = registerOverMqtt("custom-mqtt-1",
                    created.json().at("/attestation/symmetricKey/primaryKey").asText());

            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.json().path("status").asText()).isEqualTo("failed");
            assertThat(reply.json().at("/registrationState/errorCode").asInt()).isEqualTo(400207);
            assertThat(reply.json().at("/registrationState/errorMessage").asText())
                    .contains("custom allocation webhooks are not available");
            JsonNode record = get("/registrations/custom-mqtt-1").json();
            assertThat(record.path("status").asText()).isEqualTo("failed");
            assertThat(record.path("errorCode").asInt()).isEqualTo(400207);
            assertThat(record.has("assignedHub")).isFalse();
            assertThat(webhook.accept()).as("no connection to the webhook").isNull();
        }
    }

    @Test
    void geoLatencyEnrollment_device_isAssignedWhereHashedWouldPutIt() throws Exception {
        Allocator hashed = new Allocator(List.of(LinkedHub.of(HUB_1), LinkedHub.of(HUB_2)));
        for (String id : List.of("geo-mqtt-1", "geo-mqtt-2", "geo-mqtt-3")) {
            Reply created = put("/enrollments/" + id, symmetric("\"allocationPolicy\":\"geoLatency\""));

            MqttReply reply = registerOverMqtt(id, created.json().at("/attestation/symmetricKey/primaryKey").asText());

            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.json().path("status").asText()).isEqualTo("assigned");
            String hub = ((Allocation.Assigned) hashed.allocate(id, null)).hub();
            assertThat(reply.json().at("/registrationState/assignedHub").asText()).as(id).isEqualTo(hub);
            assertThat(get("/registrations/" + id).json().path("assignedHub").asText()).isEqualTo(hub);
        }
    }

    // ================================================================ helpers

    private static String endorsementKey(long seed) {
        byte[] header = Base64.getDecoder().decode(
                "AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA");
        byte[] key = new byte[header.length + 256];
        System.arraycopy(header, 0, key, 0, header.length);
        byte[] modulus = new byte[256];
        new Random(seed).nextBytes(modulus);
        System.arraycopy(modulus, 0, key, header.length, modulus.length);
        return Base64.getEncoder().encodeToString(key);
    }

    private static String tpmEnrollment(String id, String ek) {
        return "{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\""
                + ek + "\"}}}";
    }

    /** A symmetric-key body (keys generated) with extra top-level fields. */
    private static String symmetric(String extraFields) {
        return "{\"attestation\":{\"type\":\"symmetricKey\"}" + (extraFields.isEmpty() ? "" : ",") + extraFields + "}";
    }

    /** A PUT response as GET shows it: no symmetric keys. */
    private static JsonNode withoutKeys(JsonNode putResponse) {
        ObjectNode copy = putResponse.deepCopy();
        if (copy.path("attestation").has("symmetricKey")) {
            ((ObjectNode) copy.get("attestation")).remove("symmetricKey");
        }
        return copy;
    }

    private static Reply put(String path, String body) throws IOException, InterruptedException {
        return call("PUT", path, body, null);
    }

    private static Reply get(String path) throws IOException, InterruptedException {
        return call("GET", path, null, null);
    }

    private static JsonNode queryItem(String collection, String idKey, String id) throws Exception {
        Reply r = call("POST", "/" + collection + "/query", "{\"query\":\"SELECT *\"}", null);
        assertThat(r.status()).isEqualTo(200);
        for (JsonNode item : r.json()) {
            if (item.path(idKey).asText().equals(id)) {
                return item;
            }
        }
        throw new AssertionError(id + " not in the first query page");
    }

    private static Reply call(String method, String path, @Nullable String body, @Nullable String ifMatch)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path + "?api-version=" + API))
                .timeout(Duration.ofSeconds(15))
                .header("Authorization", SasSigner.serviceToken("localhost", policyName, policyKey,
                        Instant.now().plusSeconds(3600)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Reply(r.statusCode(), r.body());
    }

    /**
     * Checks an error reply: status, exact 6-digit {@code errorCode}, and a message containing {@code fragment}.
     * Returns the message.
     */
    private static String assertError(Reply r, int status, int errorCode, String fragment) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode body = r.json();
        assertThat(body.path("errorCode").asInt()).as(r.body()).isEqualTo(errorCode);
        String message = body.path("message").asText();
        assertThat(message).contains(fragment);
        return message;
    }

    private record Reply(int status, String body) {

        JsonNode json() throws IOException {
            return MAPPER.readTree(body);
        }
    }

    private record MqttReply(int status, JsonNode json) {
    }

    /**
     * Registers a symmetric-key device the way the Java device SDK does over MQTT; returns the status and body of
     * the final reply (an error reply to the register, or the first poll reply that is no longer assigning).
     */
    private static MqttReply registerOverMqtt(String registrationId, String base64Key) throws Exception {
        String scope = server.info().idScope();
        String password = SasSigner.deviceToken(scope, registrationId, Base64.getDecoder().decode(base64Key),
                Instant.now().plusSeconds(3600));
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(registrationId)
                .serverHost("localhost").serverPort(server.info().mqttPort())
                .sslConfig().trustManagerFactory(trustingServerCa()).applySslConfig()
                .buildBlocking();
        client.connectWith().simpleAuth()
                .username(scope + "/registrations/" + registrationId + "/api-version=2019-03-31&ClientVersion=x")
                .password(password.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        try (Mqtt3BlockingClient.Mqtt3Publishes replies = client.publishes(MqttGlobalPublishFilter.ALL)) {
            client.subscribeWith().topicFilter("$dps/registrations/res/#").qos(MqttQos.AT_LEAST_ONCE).send();
            client.publishWith().topic("$dps/registrations/PUT/iotdps-register/?$rid=1")
                    .payload(("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8))
                    .send();
            MqttReply first = receive(replies);
            if (first.status() != 202) {
                return first;
            }
            String operationId = first.json().path("operationId").asText();
            AtomicInteger rid = new AtomicInteger(1);
            return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
                client.publishWith().topic("$dps/registrations/GET/iotdps-get-operationstatus/?$rid="
                        + rid.incrementAndGet() + "&operationId=" + operationId).send();
                return receive(replies);
            }, r -> r.status() != 202);
        } finally {
            client.disconnect();
        }
    }

    private static MqttReply receive(Mqtt3BlockingClient.Mqtt3Publishes replies) throws Exception {
        Mqtt3Publish reply = replies.receive(15, TimeUnit.SECONDS)
                .orElseThrow(() -> new AssertionError("no DPS reply within 15 s"));
        // $dps/registrations/res/{status}/?$rid=...
        int status = Integer.parseInt(reply.getTopic().getLevels().get(3));
        return new MqttReply(status, MAPPER.readTree(reply.getPayloadAsBytes()));
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
