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
import io.opendps.core.sas.SasSigner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service REST API over real HTTPS ({@code dps-service-api.md} §0–§6, §12, §15), driven with the JDK
 * {@link HttpClient} (and a raw TLS socket where the exact bytes matter, e.g. a bodiless GET with a JSON
 * content type and no {@code Content-Length}, as the Java service SDK sends). One server for the class; every
 * test uses its own ids, except the paging test, which first empties the collection through the API.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ServiceApiIT {

    private static final String API_2021 = "2021-10-01";
    private static final String API_2019 = "2019-03-31";
    private static final String JSON_UTF8 = "application/json; charset=utf-8";
    /** Azure's date-time text: seven fraction digits and {@code Z}. */
    private static final String AZURE_TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{7}Z";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static HttpClient http;
    static SSLContext tls;
    static String base;
    /** {@code HostName} of the server's connection string: {@code localhost:<port>}. */
    static String connectionHost;
    static String policyName;
    static byte[] policyKey;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        tls = TlsMaterial.trustingClientContext(server.info().caCertificate());
        http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        base = "https://localhost:" + server.info().httpsPort();
        Map<String, String> cs = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String part : server.info().serviceConnectionString().split(";")) {
            String[] kv = part.split("=", 2);
            cs.put(kv[0], kv[1]);
        }
        connectionHost = cs.get("HostName");
        policyName = cs.get("SharedAccessKeyName");
        policyKey = Base64.getDecoder().decode(cs.get("SharedAccessKey"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void put_withoutAuthorization_is401AndCreatesNothing() throws Exception {
        Reply r = call("PUT", "/enrollments/auth-none").auth(null).body(symmetricKeyEnrollment("auth-none")).send();

        String message = assertError(r, 401, 401002);
        assertThat(message).containsIgnoringCase("Authorization");
        assertError(call("GET", "/enrollments/auth-none").send(), 404, 404201);
    }

    @Test
    void get_tokenSignedWithWrongKey_is401() throws Exception {
        byte[] wrongKey = new byte[32];
        new SecureRandom().nextBytes(wrongKey);
        String token = SasSigner.serviceToken("localhost", policyName, wrongKey, Instant.now().plusSeconds(3600));

        Reply r = call("GET", "/enrollments/auth-any").auth(token).send();

        assertThat(assertError(r, 401, 401002)).contains("signature");
    }

    @Test
    void get_expiredToken_is401() throws Exception {
        String token = SasSigner.serviceToken("localhost", policyName, policyKey,
                Instant.now().minus(Duration.ofHours(1)));

        Reply r = call("GET", "/enrollments/auth-any").auth(token).send();

        assertThat(assertError(r, 401, 401002)).contains("expired");
    }

    @Test
    void get_unknownPolicy_is401() throws Exception {
        String token = SasSigner.serviceToken("localhost", "nosuchpolicy", policyKey, Instant.now().plusSeconds(3600));

        Reply r = call("GET", "/enrollments/auth-any").auth(token).send();

        assertThat(assertError(r, 401, 401002)).contains("nosuchpolicy").contains("policy");
    }

    @Test
    void get_tokenForAnotherHost_is401() throws Exception {
        String token = SasSigner.serviceToken("other-dps.azure-devices-provisioning.net", policyName, policyKey,
                Instant.now().plusSeconds(3600));

        Reply r = call("GET", "/enrollments/auth-any").auth(token).send();

        assertThat(assertError(r, 401, 401002)).contains("sr").contains("other-dps.azure-devices-provisioning.net");
    }

    @Test
    void get_malformedToken_is401() throws Exception {
        Reply r = call("GET", "/enrollments/auth-any").auth("SharedAccessSignature sr=localhost&se=1").send();

        assertThat(assertError(r, 401, 401002)).contains("sig");
    }

    @Test
    void get_lowerCaseAuthorizationHeaderName_isAccepted() throws Exception {
        createEnrollment("auth-lower-header");

        RawReply r = raw("GET /enrollments/auth-lower-header?api-version=" + API_2019 + " HTTP/1.1\r\n"
                + "Host: localhost\r\n"
                + "authorization: " + token() + "\r\n"
                + "accept: application/json\r\n"
                + "Connection: close\r\n\r\n");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(MAPPER.readTree(r.body()).path("registrationId").asText()).isEqualTo("auth-lower-header");
    }

    @Test
    void get_javaSdkStyleToken_lowerCasedAndPercentEncodedSr_isAccepted() throws Exception {
        createEnrollment("auth-java-style");
        // ProvisioningSasToken: sr = URLEncoder.encode(hostName.toLowerCase()), signed over that encoded text.
        String sr = URLEncoder.encode(connectionHost.toLowerCase(Locale.ROOT), StandardCharsets.UTF_8);
        String token = SasSigner.sign(sr, Instant.now().plusSeconds(3600).getEpochSecond(), policyKey, policyName);

        Reply r = call("GET", "/enrollments/auth-java-style").apiVersion(API_2019).auth(token).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void get_tokenForConnectionStringHostAsConfigured_isAccepted() throws Exception {
        createEnrollment("auth-node-style");
        // Node, CLI (--login) and C sign the connection string's HostName as written, port included.
        String token = SasSigner.serviceToken(connectionHost, policyName, policyKey, Instant.now().plusSeconds(3600));

        Reply r = call("GET", "/enrollments/auth-node-style").auth(token).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void get_tokenWithUpperCaseHostAndPathPrefix_isAccepted() throws Exception {
        createEnrollment("auth-prefix");
        String token = SasSigner.serviceToken("LOCALHOST/enrollments", policyName, policyKey,
                Instant.now().plusSeconds(3600));

        Reply r = call("GET", "/enrollments/auth-prefix").auth(token).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    // ---------------------------------------------------------------- api-version

    @Test
    void request_withoutApiVersion_is400() throws Exception {
        Reply r = call("GET", "/enrollments/no-version").apiVersion(null).send();

        assertThat(assertError(r, 400, 400009)).contains("api-version");
    }

    @Test
    void put_bothClientApiVersions_areAccepted() throws Exception {
        Reply java = call("PUT", "/enrollments/version-2019").apiVersion(API_2019)
                .body(symmetricKeyEnrollment("version-2019")).send();
        Reply cli = call("PUT", "/enrollments/version-2021").apiVersion(API_2021)
                .body(symmetricKeyEnrollment("version-2021")).send();

        assertThat(java.status()).as(java.body()).isEqualTo(200);
        assertThat(cli.status()).as(cli.body()).isEqualTo(200);
    }

    // ---------------------------------------------------------------- individual enrollments

    @Test
    void put_newSymmetricKeyEnrollment_is200WithGeneratedKeys() throws Exception {
        Reply r = call("PUT", "/enrollments/create-1").body(symmetricKeyEnrollment("create-1")).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode e = r.json();
        assertThat(e.path("registrationId").asText()).isEqualTo("create-1");
        assertThat(e.path("attestation").path("type").asText()).isEqualTo("symmetricKey");
        assertGeneratedKey(e.path("attestation").path("symmetricKey").path("primaryKey").asText());
        assertGeneratedKey(e.path("attestation").path("symmetricKey").path("secondaryKey").asText());
        assertThat(e.path("attestation").path("symmetricKey").path("primaryKey").asText())
                .isNotEqualTo(e.path("attestation").path("symmetricKey").path("secondaryKey").asText());
        assertThat(e.path("etag").asText()).isNotBlank();
        assertThat(r.header("ETag")).isEqualTo(e.path("etag").asText());
        assertThat(e.path("createdDateTimeUtc").asText()).matches(AZURE_TIME);
        assertThat(e.path("lastUpdatedDateTimeUtc").asText()).matches(AZURE_TIME);
        assertThat(e.path("capabilities")).isEqualTo(MAPPER.readTree("{\"iotEdge\":false}"));
        assertThat(e.path("provisioningStatus").asText()).isEqualTo("enabled");
        assertThat(e.has("reprovisionPolicy")).as("reprovisionPolicy absent when not sent").isFalse();
        assertThat(e.has("registrationState")).isFalse();
    }

    @Test
    void put_javaE2eEmptyKeys_generatesKeys() throws Exception {
        String body = "{\"registrationId\":\"create-empty-keys\",\"attestation\":{\"type\":\"symmetricKey\","
                + "\"symmetricKey\":{\"primaryKey\":\"\",\"secondaryKey\":\"\"}},\"capabilities\":{\"iotEdge\":false},"
                + "\"provisioningStatus\":\"enabled\"}";

        Reply r = call("PUT", "/enrollments/create-empty-keys").apiVersion(API_2019).body(body).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertGeneratedKey(r.json().path("attestation").path("symmetricKey").path("primaryKey").asText());
        assertGeneratedKey(r.json().path("attestation").path("symmetricKey").path("secondaryKey").asText());
    }

    @Test
    void put_suppliedKeys_areKept() throws Exception {
        String primary = Base64.getEncoder().encodeToString(new byte[32]);
        String secondary = Base64.getEncoder().encodeToString(new byte[16]);
        String body = "{\"registrationId\":\"create-own-keys\",\"attestation\":{\"type\":\"symmetricKey\","
                + "\"symmetricKey\":{\"primaryKey\":\"" + primary + "\",\"secondaryKey\":\"" + secondary + "\"}}}";

        Reply r = call("PUT", "/enrollments/create-own-keys").body(body).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().at("/attestation/symmetricKey/primaryKey").asText()).isEqualTo(primary);
        assertThat(r.json().at("/attestation/symmetricKey/secondaryKey").asText()).isEqualTo(secondary);
    }

    @Test
    void get_enrollment_hasNoKeyMaterial() throws Exception {
        JsonNode created = createEnrollment("read-1");

        Reply r = call("GET", "/enrollments/read-1").send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        assertThat(r.json().path("attestation")).isEqualTo(MAPPER.readTree("{\"type\":\"symmetricKey\"}"));
        assertThat(r.body()).doesNotContain(created.at("/attestation/symmetricKey/primaryKey").asText());
        assertThat(r.json().path("etag").asText()).isEqualTo(created.path("etag").asText());
        assertThat(r.header("ETag")).isEqualTo(created.path("etag").asText());
        assertThat(r.json().path("createdDateTimeUtc").asText()).isEqualTo(created.path("createdDateTimeUtc").asText());
        assertThat(r.json().path("capabilities").path("iotEdge").isBoolean()).isTrue();
    }

    @Test
    void attestationMechanism_withEmptyObjectOrNoBody_returnsKeys() throws Exception {
        JsonNode created = createEnrollment("attest-1");
        JsonNode keys = created.at("/attestation/symmetricKey");

        Reply java = call("POST", "/enrollments/attest-1/attestationmechanism").apiVersion(API_2019).body("{}").send();
        Reply cli = call("POST", "/enrollments/attest-1/attestationmechanism").send();

        for (Reply r : List.of(java, cli)) {
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
            assertThat(r.json().path("type").asText()).isEqualTo("symmetricKey");
            assertThat(r.json().path("symmetricKey")).isEqualTo(keys);
        }
    }

    @Test
    void attestationMechanism_unknownEnrollment_is404() throws Exception {
        assertError(call("POST", "/enrollments/attest-nobody/attestationmechanism").body("{}").send(), 404, 404201);
    }

    // ---------------------------------------------------------------- ETag / If-Match

    @Test
    void put_existingWithoutIfMatch_is409AndKeepsEnrollment() throws Exception {
        JsonNode created = createEnrollment("etag-exists");

        Reply r = call("PUT", "/enrollments/etag-exists").body(symmetricKeyEnrollment("etag-exists")).send();

        assertError(r, 409, 409201);
        assertThat(call("GET", "/enrollments/etag-exists").send().json().path("etag"))
                .isEqualTo(created.path("etag"));
    }

    @Test
    void put_existingWithWildcardIfMatch_replacesWithNewEtag() throws Exception {
        JsonNode created = createEnrollment("etag-star");

        Reply r = call("PUT", "/enrollments/etag-star").header("If-Match", "*")
                .body(symmetricKeyEnrollment("etag-star")).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("etag").asText()).isNotBlank().isNotEqualTo(created.path("etag").asText());
        assertThat(r.header("ETag")).isEqualTo(r.json().path("etag").asText());
        assertThat(r.json().path("createdDateTimeUtc")).isEqualTo(created.path("createdDateTimeUtc"));
        assertThat(r.json().path("lastUpdatedDateTimeUtc").asText()).matches(AZURE_TIME);
        // Omitted keys on update keep the stored ones (dps-service-api.md §3.3).
        assertThat(r.json().at("/attestation/symmetricKey")).isEqualTo(created.at("/attestation/symmetricKey"));
    }

    @Test
    void put_withCurrentEtag_replaces_andStaleEtag_is412() throws Exception {
        JsonNode created = createEnrollment("etag-current");
        String first = created.path("etag").asText();

        Reply update = call("PUT", "/enrollments/etag-current").header("If-Match", first)
                .body(enrollment("etag-current", "\"provisioningStatus\":\"disabled\"")).send();
        Reply stale = call("PUT", "/enrollments/etag-current").header("If-Match", first)
                .body(symmetricKeyEnrollment("etag-current")).send();

        assertThat(update.status()).as(update.body()).isEqualTo(200);
        assertThat(update.json().path("provisioningStatus").asText()).isEqualTo("disabled");
        assertThat(update.json().path("etag").asText()).isNotEqualTo(first);
        assertError(stale, 412, 412201);
        assertThat(call("GET", "/enrollments/etag-current").send().json().path("provisioningStatus").asText())
                .isEqualTo("disabled");
    }

    @Test
    void put_ifMatchOnAbsentEnrollment_is412AndCreatesNothing() throws Exception {
        Reply r = call("PUT", "/enrollments/etag-absent").header("If-Match", "\"00000000-0000-0000-0000-000000000000\"")
                .body(symmetricKeyEnrollment("etag-absent")).send();

        assertError(r, 412, 412201);
        assertError(call("GET", "/enrollments/etag-absent").send(), 404, 404201);
    }

    @Test
    void put_wildcardIfMatchOnAbsentEnrollment_creates() throws Exception {
        Reply r = call("PUT", "/enrollments/etag-star-new").header("If-Match", "*")
                .body(symmetricKeyEnrollment("etag-star-new")).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void delete_withStaleEtag_is412_withCurrentEtag_is204() throws Exception {
        JsonNode created = createEnrollment("etag-delete");

        Reply stale = call("DELETE", "/enrollments/etag-delete").header("If-Match", "\"not-the-etag\"").send();
        Reply ok = call("DELETE", "/enrollments/etag-delete").header("If-Match", created.path("etag").asText()).send();

        assertError(stale, 412, 412201);
        assertThat(ok.status()).as(ok.body()).isEqualTo(204);
    }

    // ---------------------------------------------------------------- validation

    @Test
    void put_bodyIdDifferentFromPath_is400() throws Exception {
        Reply r = call("PUT", "/enrollments/valid-path-id").body(symmetricKeyEnrollment("other-body-id")).send();

        assertThat(assertError(r, 400, -1)).contains("other-body-id").contains("valid-path-id");
    }

    @Test
    void put_bodyIdDifferingOnlyInCase_isAccepted() throws Exception {
        Reply r = call("PUT", "/enrollments/valid-case-id").body(symmetricKeyEnrollment("VALID-Case-Id")).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    @Test
    void put_invalidIds_are400() throws Exception {
        for (String id : List.of("-leading-dash", "trailing-dot.", "a".repeat(129), "bad!char")) {
            Reply r = call("PUT", "/enrollments/" + id).body(symmetricKeyEnrollment(id)).send();

            assertThat(assertError(r, 400, -1)).as(id).contains("invalid");
        }
    }

    @Test
    void put_invalidJson_is400001WithMessage() throws Exception {
        Reply r = call("PUT", "/enrollments/bad-json").body("{\"registrationId\": \"bad-json\", ").send();

        assertThat(assertError(r, 400, 400001)).contains("not a valid");
    }

    @Test
    void put_nonObjectJson_is400() throws Exception {
        for (String body : List.of("[1,2,3]", "\"text\"", "42", "null")) {
            Reply r = call("PUT", "/enrollments/bad-shape").body(body).send();

            assertThat(assertError(r, 400, 400001)).as(body).isNotBlank();
        }
    }

    @Test
    void put_emptyBody_is400() throws Exception {
        Reply r = call("PUT", "/enrollments/bad-empty").send();

        assertThat(assertError(r, 400, 400001)).contains("empty");
    }

    @Test
    void put_missingAttestation_is400() throws Exception {
        Reply r = call("PUT", "/enrollments/bad-no-attestation").body("{\"registrationId\":\"bad-no-attestation\"}")
                .send();

        assertThat(assertError(r, 400, -1)).contains("attestation");
    }

    @Test
    void put_x509UnreadableCertificate_is400NamingTheField() throws Exception {
        String body = "{\"registrationId\":\"bad-x509\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
                + "\"clientCertificates\":{\"primary\":{\"certificate\":\"MIIB\"}}}}}";

        Reply r = call("PUT", "/enrollments/bad-x509").body(body).send();

        assertThat(assertError(r, 400, -1)).contains("attestation.x509.clientCertificates.primary.certificate")
                .contains("not a readable certificate");
        assertError(call("GET", "/enrollments/bad-x509").send(), 404, 404201);
    }

    @Test
    void put_badKeys_are400NamingTheField() throws Exception {
        String shortKey = Base64.getEncoder().encodeToString(new byte[8]);
        String good = Base64.getEncoder().encodeToString(new byte[32]);
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("\"primaryKey\":\"not*base64!\",\"secondaryKey\":\"" + good + "\"", "primaryKey");
        cases.put("\"primaryKey\":\"" + good + "\",\"secondaryKey\":\"" + shortKey + "\"", "secondaryKey");
        cases.put("\"primaryKey\":\"" + Base64.getEncoder().encodeToString(new byte[65]) + "\"", "primaryKey");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String body = "{\"registrationId\":\"bad-key\",\"attestation\":{\"type\":\"symmetricKey\","
                    + "\"symmetricKey\":{" + c.getKey() + "}}}";

            Reply r = call("PUT", "/enrollments/bad-key").body(body).send();

            assertThat(assertError(r, 400, -1)).as(c.getKey()).contains(c.getValue());
        }
        assertError(call("GET", "/enrollments/bad-key").send(), 404, 404201);
    }

    @Test
    void put_unknownEnumValue_is400() throws Exception {
        Reply r = call("PUT", "/enrollments/bad-status")
                .body(enrollment("bad-status", "\"provisioningStatus\":\"sleeping\"")).send();

        assertThat(assertError(r, 400, 400001)).contains("provisioningStatus").contains("sleeping");
    }

    @Test
    void put_readOnlyFieldsEchoedBack_areIgnored() throws Exception {
        JsonNode created = createEnrollment("echo-1");
        JsonNode fetched = call("GET", "/enrollments/echo-1").send().json();
        // What the Java SDK sends on update: the GET result (incl. server-owned fields) with changes applied.
        ObjectNode echo = fetched.deepCopy();
        echo.put("provisioningStatus", "disabled");
        echo.put("etag", "\"client-echoed-etag\"");
        echo.put("createdDateTimeUtc", "2001-01-01T00:00:00.0000000Z");
        echo.put("lastUpdatedDateTimeUtc", "2001-01-01T00:00:00.0000000Z");
        echo.set("registrationState", MAPPER.readTree("{\"registrationId\":\"echo-1\","
                + "\"createdDateTimeUtc\":\"2024-03-13T15:30:02.1234567Z\",\"assignedHub\":\"hub-x.example\","
                + "\"deviceId\":\"echo-1\",\"status\":\"assigned\",\"substatus\":\"initialAssignment\","
                + "\"lastUpdatedDateTimeUtc\":\"2024-03-13T15:30:02.4567890Z\","
                + "\"etag\":\"IjFhMDBmZmZmLTAwMDAtMDcwMC0wMDAwLTY1ZjFjNGJhMDAwMCI=\"}"));

        Reply r = call("PUT", "/enrollments/echo-1").apiVersion(API_2019)
                .header("If-Match", fetched.path("etag").asText()).body(echo.toString()).send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode e = r.json();
        assertThat(e.path("provisioningStatus").asText()).isEqualTo("disabled");
        assertThat(e.path("etag").asText()).isNotEqualTo("\"client-echoed-etag\"")
                .isNotEqualTo(created.path("etag").asText());
        assertThat(e.path("createdDateTimeUtc")).isEqualTo(created.path("createdDateTimeUtc"));
        assertThat(e.path("lastUpdatedDateTimeUtc").asText()).isNotEqualTo("2001-01-01T00:00:00.0000000Z");
        assertThat(e.has("registrationState")).isFalse();
        // The key-less round trip keeps the stored keys.
        assertThat(e.at("/attestation/symmetricKey")).isEqualTo(created.at("/attestation/symmetricKey"));
        JsonNode after = call("GET", "/enrollments/echo-1").send().json();
        assertThat(after.has("registrationState")).isFalse();
        assertThat(after.path("etag")).isEqualTo(e.path("etag"));
    }

    @Test
    void getAndDelete_javaSdkBodilessWithJsonContentType_work() throws Exception {
        createEnrollment("bodiless-1");
        String head = "Host: " + connectionHost + "\r\n"
                + "authorization: " + token() + "\r\n"
                + "User-Agent: com.microsoft.azure.sdk.iot.provisioning.service.provisioning-service-client/2.0.3\r\n"
                + "Request-Id: 1001\r\n"
                + "Accept: application/json\r\n"
                + "Content-Type: application/json\r\n"
                + "charset: utf-8\r\n"
                + "Connection: close\r\n\r\n";

        RawReply get = raw("GET /enrollments/bodiless-1?api-version=" + API_2019 + " HTTP/1.1\r\n" + head);
        RawReply delete = raw("DELETE /enrollments/bodiless-1?api-version=" + API_2019 + " HTTP/1.1\r\n" + head);

        assertThat(get.status()).as(get.body()).isEqualTo(200);
        assertThat(MAPPER.readTree(get.body()).path("registrationId").asText()).isEqualTo("bodiless-1");
        assertThat(delete.status()).as(delete.body()).isEqualTo(204);
        assertThat(delete.body()).isEmpty();
        assertThat(delete.header("Content-Length")).as("no Content-Length on a 204 (RFC 9110 §8.6)").isNull();
        assertError(call("GET", "/enrollments/bodiless-1").send(), 404, 404201);
    }

    // ---------------------------------------------------------------- delete / not found

    @Test
    void delete_existing_is204WithoutBody_thenAgain404() throws Exception {
        createEnrollment("delete-1");

        Reply first = call("DELETE", "/enrollments/delete-1").send();
        Reply second = call("DELETE", "/enrollments/delete-1").send();

        assertThat(first.status()).as(first.body()).isEqualTo(204);
        assertThat(first.body()).isEmpty();
        assertError(second, 404, 404201);
        assertError(call("GET", "/enrollments/delete-1").send(), 404, 404201);
    }

    @Test
    void get_unknownEnrollment_is404201_andUnknownGroup_is404204() throws Exception {
        assertThat(assertError(call("GET", "/enrollments/nobody-here").send(), 404, 404201)).contains("nobody-here");
        assertError(call("GET", "/enrollmentGroups/no-group-here").send(), 404, 404204);
        assertError(call("DELETE", "/enrollmentGroups/no-group-here").send(), 404, 404204);
        assertError(call("POST", "/enrollmentGroups/no-group-here/attestationmechanism").send(), 404, 404204);
    }

    // ---------------------------------------------------------------- enrollment groups

    @Test
    void group_putGetAttestationDelete_lifecycle() throws Exception {
        Reply put = call("PUT", "/enrollmentGroups/group-1").body(symmetricKeyGroup("group-1")).send();
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        JsonNode g = put.json();
        assertThat(g.path("enrollmentGroupId").asText()).isEqualTo("group-1");
        assertGeneratedKey(g.at("/attestation/symmetricKey/primaryKey").asText());
        assertGeneratedKey(g.at("/attestation/symmetricKey/secondaryKey").asText());
        assertThat(g.path("createdDateTimeUtc").asText()).matches(AZURE_TIME);
        assertThat(g.path("capabilities")).isEqualTo(MAPPER.readTree("{\"iotEdge\":false}"));
        assertThat(g.path("provisioningStatus").asText()).isEqualTo("enabled");
        assertThat(put.header("ETag")).isEqualTo(g.path("etag").asText());
        assertThat(put.header("Content-Type")).isEqualTo(JSON_UTF8);

        Reply get = call("GET", "/enrollmentGroups/group-1").send();
        assertThat(get.status()).as(get.body()).isEqualTo(200);
        assertThat(get.json().path("attestation")).isEqualTo(MAPPER.readTree("{\"type\":\"symmetricKey\"}"));
        assertThat(get.json().path("etag")).isEqualTo(g.path("etag"));

        // Node lower-cases the collection segment.
        Reply attestation = call("POST", "/enrollmentgroups/group-1/attestationmechanism").body("{}").send();
        assertThat(attestation.status()).as(attestation.body()).isEqualTo(200);
        assertThat(attestation.json().path("symmetricKey")).isEqualTo(g.at("/attestation/symmetricKey"));

        assertError(call("PUT", "/enrollmentGroups/group-1").body(symmetricKeyGroup("group-1")).send(), 409, 409204);
        assertError(call("PUT", "/enrollmentGroups/group-1").header("If-Match", "\"stale\"")
                .body(symmetricKeyGroup("group-1")).send(), 412, 412204);
        Reply replaced = call("PUT", "/enrollmentGroups/group-1").header("If-Match", g.path("etag").asText())
                .body(symmetricKeyGroup("group-1")).send();
        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        assertThat(replaced.json().at("/attestation/symmetricKey")).isEqualTo(g.at("/attestation/symmetricKey"));

        Reply delete = call("DELETE", "/enrollmentGroups/group-1").send();
        assertThat(delete.status()).as(delete.body()).isEqualTo(204);
        assertThat(delete.body()).isEmpty();
        assertThat(delete.header("Content-Length")).as("no Content-Length on a 204 (RFC 9110 §8.6)").isNull();
        assertError(call("GET", "/enrollmentGroups/group-1").send(), 404, 404204);
        assertError(call("DELETE", "/enrollmentGroups/group-1").send(), 404, 404204);
    }

    @Test
    void group_bodyIdMismatchAndTpm_are400() throws Exception {
        assertError(call("PUT", "/enrollmentGroups/group-mismatch").body(symmetricKeyGroup("group-other")).send(),
                400, -1);
        String tpm = "{\"enrollmentGroupId\":\"group-tpm\",\"attestation\":{\"type\":\"tpm\",\"tpm\":{"
                + "\"endorsementKey\":\"AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA\"}}}";
        assertThat(assertError(call("PUT", "/enrollmentGroups/group-tpm").body(tpm).send(), 400, -1)).contains("tpm");
    }

    @Test
    void paths_andIds_areCaseInsensitive() throws Exception {
        Reply put = call("PUT", "/enrollments/Case-Device-1").body(symmetricKeyEnrollment("Case-Device-1")).send();
        assertThat(put.status()).as(put.body()).isEqualTo(200);

        Reply upperPath = call("GET", "/ENROLLMENTS/Case-Device-1").send();
        Reply lowerId = call("GET", "/enrollments/case-device-1").send();
        Reply attestation = call("POST", "/Enrollments/CASE-DEVICE-1/AttestationMechanism").send();

        assertThat(upperPath.status()).as(upperPath.body()).isEqualTo(200);
        assertThat(lowerId.status()).as(lowerId.body()).isEqualTo(200);
        // The casing given on create is echoed.
        assertThat(lowerId.json().path("registrationId").asText()).isEqualTo("Case-Device-1");
        assertThat(attestation.status()).as(attestation.body()).isEqualTo(200);
        assertError(call("PUT", "/enrollments/CASE-DEVICE-1").body(symmetricKeyEnrollment("CASE-DEVICE-1")).send(),
                409, 409201);

        Reply group = call("PUT", "/enrollmentgroups/Case-Group-1").body(symmetricKeyGroup("Case-Group-1")).send();
        assertThat(group.status()).as(group.body()).isEqualTo(200);
        assertThat(call("GET", "/EnrollmentGroups/case-group-1").send().status()).isEqualTo(200);
        assertThat(call("POST", "/enrollmentgroups/CASE-GROUP-1/attestationmechanism").body("{}").send().status())
                .isEqualTo(200);
        assertThat(call("DELETE", "/enrollmentGroups/case-GROUP-1").send().status()).isEqualTo(204);
    }

    // ---------------------------------------------------------------- query

    @Test
    void query_pagesWithContinuation_untilTheLastPage() throws Exception {
        deleteAll("enrollments");
        for (int i = 1; i <= 5; i++) {
            createEnrollment("query-" + i);
        }

        List<Integer> sizes = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        String continuation = null;
        do {
            Call c = call("POST", "/enrollments/query").apiVersion(API_2019).header("x-ms-max-item-count", "2")
                    .body("{\"query\":\"SELECT * FROM enrollments\"}");
            if (continuation != null) {
                c.header("x-ms-continuation", continuation);
            }
            Reply r = c.send();
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.header("x-ms-item-type")).isEqualTo("Enrollment");
            assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
            assertThat(r.header("x-ms-max-item-count")).as("the page size used").isEqualTo("2");
            assertThat(r.json().isArray()).isTrue();
            for (JsonNode item : r.json()) {
                ids.add(item.path("registrationId").asText());
                assertThat(item.path("attestation")).isEqualTo(MAPPER.readTree("{\"type\":\"symmetricKey\"}"));
                assertThat(item.path("etag").asText()).isNotBlank();
            }
            sizes.add(r.json().size());
            continuation = r.header("x-ms-continuation");
            if (continuation != null) {
                assertThat(continuation).as("never an empty continuation").isNotBlank();
            }
            assertThat(sizes).as("runaway paging").hasSizeLessThan(10);
        } while (continuation != null);

        assertThat(sizes).containsExactly(2, 2, 1);
        assertThat(ids).containsExactly("query-1", "query-2", "query-3", "query-4", "query-5");
    }

    @Test
    void query_otherQueryTexts_returnEverything() throws Exception {
        createEnrollment("query-star");

        for (String q : List.of("{\"query\":\"*\"}", "{\"query\":\"select * from enrollments\"}",
                "{\"query\":\"SELECT *\"}")) {
            Reply r = call("POST", "/enrollments/query").body(q).send();

            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.header("x-ms-item-type")).isEqualTo("Enrollment");
            assertThat(r.header("x-ms-continuation")).as("single page").isNull();
            assertThat(r.header("x-ms-max-item-count")).as("the default page size, echoed").isEqualTo("100");
            List<String> ids = new ArrayList<>();
            r.json().forEach(item -> ids.add(item.path("registrationId").asText()));
            assertThat(ids).as(q).contains("query-star");
        }
    }

    @Test
    void query_groups_haveItemTypeEnrollmentGroup() throws Exception {
        for (int i = 1; i <= 3; i++) {
            Reply put = call("PUT", "/enrollmentGroups/qgroup-" + i).body(symmetricKeyGroup("qgroup-" + i)).send();
            assertThat(put.status()).as(put.body()).isEqualTo(200);
        }

        List<String> ids = new ArrayList<>();
        String continuation = null;
        int pages = 0;
        do {
            Call c = call("POST", "/enrollmentgroups/query").header("x-ms-max-item-count", "1")
                    .body("{\"query\":\"SELECT * FROM enrollmentGroups\"}");
            if (continuation != null) {
                c.header("x-ms-continuation", continuation);
            }
            Reply r = c.send();
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.header("x-ms-item-type")).isEqualTo("EnrollmentGroup");
            assertThat(r.json().size()).isEqualTo(1);
            JsonNode item = r.json().get(0);
            ids.add(item.path("enrollmentGroupId").asText());
            assertThat(item.path("attestation")).isEqualTo(MAPPER.readTree("{\"type\":\"symmetricKey\"}"));
            continuation = r.header("x-ms-continuation");
            if (continuation != null) {
                assertThat(continuation).isNotBlank();
            }
            assertThat(++pages).as("runaway paging").isLessThan(50);
        } while (continuation != null);

        assertThat(ids).contains("qgroup-1", "qgroup-2", "qgroup-3").doesNotHaveDuplicates();
    }

    @Test
    void query_bogusContinuationOrPageSize_is400() throws Exception {
        assertError(call("POST", "/enrollments/query").header("x-ms-continuation", "!!not a token!!")
                .body("{\"query\":\"*\"}").send(), 400, -1);
        assertError(call("POST", "/enrollments/query").header("x-ms-max-item-count", "zero")
                .body("{\"query\":\"*\"}").send(), 400, -1);
    }

    @Test
    void query_withoutAuthorization_is401() throws Exception {
        assertError(call("POST", "/enrollments/query").auth(null).body("{\"query\":\"*\"}").send(), 401, 401002);
    }

    // ---------------------------------------------------------------- routing and transport

    @Test
    void unknownPath_is404Json() throws Exception {
        assertError(call("GET", "/no/such/thing").send(), 404, -1);
        assertError(call("GET", "/enrollments/a/b/c").send(), 404, -1);
    }

    @Test
    void wrongMethod_is405Json() throws Exception {
        assertError(call("PATCH", "/enrollments/method-1").body("{}").send(), 405, -1);
        assertError(call("POST", "/enrollments/method-1").body("{}").send(), 405, -1);
        assertError(call("GET", "/enrollments/method-1/attestationmechanism").send(), 405, -1);
    }

    @Test
    void body_over96KB_is413JsonAndCreatesNothing() throws Exception {
        String big = enrollment("too-big", "\"initialTwin\":{\"tags\":{\"blob\":\"" + "x".repeat(100 * 1024) + "\"}}");

        Reply r = call("PUT", "/enrollments/too-big").body(big).send();

        assertError(r, 413, 413001);
        assertError(call("GET", "/enrollments/too-big").send(), 404, 404201);
    }

    @Test
    void body_over96KB_withExpectContinue_is413BeforeTheBodyIsSent() throws Exception {
        String big = enrollment("too-big-2", "\"initialTwin\":{\"tags\":{\"blob\":\"" + "x".repeat(100 * 1024)
                + "\"}}");

        Reply r = call("PUT", "/enrollments/too-big-2").expectContinue().body(big).send();

        // Netty's empty 413 on purpose: a body here hangs the JDK 17 HttpClient (see ApiObjectAggregator).
        assertThat(r.status()).isEqualTo(413);
        assertError(call("GET", "/enrollments/too-big-2").send(), 404, 404201);
    }

    @Test
    void body_justUnder96KB_isAccepted() throws Exception {
        // About 92 KB within IoT Hub's twin limits: tags and desired just under 32 KB each (strings of at most
        // 4 KB), optional device information 28 KB.
        String body = enrollment("almost-big", "\"initialTwin\":{\"tags\":" + blobs(8) + ",\"properties\":{"
                + "\"desired\":" + blobs(8) + "}},\"optionalDeviceInformation\":" + blobs(7));
        assertThat(body.length()).isBetween(90 * 1024, 96 * 1024);

        Reply r = call("PUT", "/enrollments/almost-big").body(body).send();

        assertThat(r.status()).as(r.body().substring(0, Math.min(300, r.body().length()))).isEqualTo(200);
        assertThat(r.json().at("/initialTwin/tags/blob7").asText()).hasSize(4000);
        assertThat(r.json().at("/optionalDeviceInformation/blob6").asText()).hasSize(4000);
    }

    /** {@code {"blob0":"xxx…","blob1":…}}: {@code count} strings of 4000 characters. */
    private static String blobs(int count) {
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            entries.add("\"blob" + i + "\":\"" + "x".repeat(4000) + "\"");
        }
        return "{" + String.join(",", entries) + "}";
    }

    @Test
    void body_withNonJsonContentType_is415NamingTheHeader_andCreatesNothing() throws Exception {
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml")) {
            Reply r = call("PUT", "/enrollments/media-1").contentType(type).body(symmetricKeyEnrollment("media-1"))
                    .send();

            assertThat(assertError(r, 415, 415001)).contains("Content-Type").contains(type);
        }
        assertError(call("GET", "/enrollments/media-1").send(), 404, 404201);
        assertError(call("POST", "/enrollments/query").contentType("text/plain").body("{\"query\":\"*\"}").send(),
                415, 415001);
    }

    @Test
    void body_withJsonContentTypeVariantsOrNone_isAccepted() throws Exception {
        List<String> types = new ArrayList<>(List.of("application/json; charset=utf-8", "APPLICATION/JSON",
                "text/json", "application/merge-patch+json"));
        types.add(null);
        int i = 0;
        for (String type : types) {
            String id = "media-ok-" + i++;
            Reply r = call("PUT", "/enrollments/" + id).contentType(type).body(symmetricKeyEnrollment(id)).send();

            assertThat(r.status()).as(type + ": " + r.body()).isEqualTo(200);
        }
    }

    @Test
    void malformedHttpRequest_is400Json() throws Exception {
        // A header longer than the decoder accepts: Netty marks the request as failed to decode.
        RawReply r = raw("GET /enrollments/anything?api-version=" + API_2021 + " HTTP/1.1\r\n"
                + "Host: localhost\r\n"
                + "X-Huge: " + "h".repeat(9 * 1024) + "\r\n"
                + "Authorization: " + token() + "\r\n"
                + "Connection: close\r\n\r\n");

        assertThat(r.status()).as(r.head() + r.body()).isEqualTo(400);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode body = MAPPER.readTree(r.body());
        assertThat(body.path("errorCode").asInt() / 1000).isEqualTo(400);
        assertThat(body.path("message").asText()).isNotBlank();
    }

    // ---------------------------------------------------------------- registration state

    @Test
    void get_afterDeviceRegistered_embedsRegistrationState() throws Exception {
        JsonNode created = createEnrollment("registered-1");
        String key = created.at("/attestation/symmetricKey/primaryKey").asText();

        JsonNode operation = registerOverMqtt("registered-1", key);
        assertThat(operation.path("status").asText()).as(operation.toString()).isEqualTo("assigned");

        JsonNode e = call("GET", "/enrollments/registered-1").send().json();
        JsonNode state = e.path("registrationState");
        assertThat(state.path("registrationId").asText()).isEqualTo("registered-1");
        assertThat(state.path("status").asText()).isEqualTo("assigned");
        assertThat(state.path("substatus").asText()).isEqualTo("initialAssignment");
        assertThat(state.path("assignedHub").asText()).isEqualTo("hub-1.opendps.local");
        assertThat(state.path("deviceId").asText()).isEqualTo("registered-1");
        assertThat(state.path("createdDateTimeUtc").asText()).matches(AZURE_TIME);
        assertThat(state.path("lastUpdatedDateTimeUtc").asText()).matches(AZURE_TIME);
        assertThat(state.path("etag").asText()).isNotBlank();
        assertThat(e.path("attestation")).isEqualTo(MAPPER.readTree("{\"type\":\"symmetricKey\"}"));
        JsonNode listed = null;
        for (JsonNode item : call("POST", "/enrollments/query").body("{\"query\":\"*\"}").send().json()) {
            if (item.path("registrationId").asText().equals("registered-1")) {
                listed = item;
            }
        }
        assertThat(listed).as("query item").isNotNull();
        assertThat(listed.path("registrationState")).as("query items are shaped like GET (§6)").isEqualTo(state);

        // The Java SDK echoes the embedded state on update: ignored, and the state stays the device's.
        ObjectNode echo = e.deepCopy();
        ((ObjectNode) echo.path("registrationState")).put("assignedHub", "elsewhere.example");
        Reply update = call("PUT", "/enrollments/registered-1").header("If-Match", e.path("etag").asText())
                .body(echo.toString()).send();
        assertThat(update.status()).as(update.body()).isEqualTo(200);
        assertThat(call("GET", "/enrollments/registered-1").send().json().at("/registrationState/assignedHub")
                .asText()).isEqualTo("hub-1.opendps.local");
    }

    // ================================================================ helpers

    private static String symmetricKeyEnrollment(String id) {
        return enrollment(id, null);
    }

    private static String enrollment(String id, @Nullable String extraFields) {
        return "{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}"
                + (extraFields == null ? "" : "," + extraFields) + "}";
    }

    private static String symmetricKeyGroup(String id) {
        return "{\"enrollmentGroupId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}}";
    }

    private static JsonNode createEnrollment(String id) throws IOException, InterruptedException {
        Reply r = call("PUT", "/enrollments/" + id).body(symmetricKeyEnrollment(id)).send();
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    /** Empties a collection through the query and delete operations. */
    private static void deleteAll(String collection) throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        String continuation = null;
        do {
            Call c = call("POST", "/" + collection + "/query").header("x-ms-max-item-count", "1000")
                    .body("{\"query\":\"*\"}");
            if (continuation != null) {
                c.header("x-ms-continuation", continuation);
            }
            Reply r = c.send();
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            r.json().forEach(item -> ids.add(item.has("registrationId") ? item.path("registrationId").asText()
                    : item.path("enrollmentGroupId").asText()));
            continuation = r.header("x-ms-continuation");
        } while (continuation != null);
        for (String id : ids) {
            assertThat(call("DELETE", "/" + collection + "/" + id).send().status()).isEqualTo(204);
        }
    }

    private static void assertGeneratedKey(String key) {
        assertThat(key).hasSize(88).endsWith("==");
        assertThat(Base64.getDecoder().decode(key)).hasSize(64);
    }

    /**
     * Checks an Azure error reply: status, JSON content type, numeric {@code errorCode} (exact when
     * {@code errorCode > 0}, else only its HTTP class), {@code trackingId}, {@code message}, {@code timestampUtc},
     * and the {@code x-ms-error-code} header. Returns the message.
     */
    private static String assertError(Reply r, int status, int errorCode) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        assertThat(r.header("x-ms-error-code")).isNotBlank();
        JsonNode body = r.json();
        assertThat(body.path("errorCode").isInt()).as(r.body()).isTrue();
        if (errorCode > 0) {
            assertThat(body.path("errorCode").asInt()).isEqualTo(errorCode);
        } else {
            assertThat(body.path("errorCode").asInt() / 1000).isEqualTo(status);
        }
        assertThat(body.path("trackingId").asText()).isNotBlank();
        assertThat(body.path("timestampUtc").asText()).matches(AZURE_TIME);
        String message = body.path("message").asText();
        assertThat(message).isNotBlank();
        return message;
    }

    private static String token() {
        return SasSigner.serviceToken("localhost", policyName, policyKey, Instant.now().plusSeconds(3600));
    }

    private static Call call(String method, String path) {
        return new Call(method, path);
    }

    /** One HTTPS request: authorised and versioned (2021-10-01) unless told otherwise. */
    private static final class Call {
        private final String method;
        private final String path;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private @Nullable String body;
        private @Nullable String authorization = token();
        private @Nullable String apiVersion = API_2021;
        private @Nullable String contentType = "application/json";
        private boolean expectContinue;

        Call(String method, String path) {
            this.method = method;
            this.path = path;
        }

        Call body(String json) {
            this.body = json;
            return this;
        }

        Call auth(@Nullable String value) {
            this.authorization = value;
            return this;
        }

        Call apiVersion(@Nullable String value) {
            this.apiVersion = value;
            return this;
        }

        Call header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        /** The Content-Type sent with a body ({@code application/json} unless told otherwise; null: none). */
        Call contentType(@Nullable String value) {
            this.contentType = value;
            return this;
        }

        Call expectContinue() {
            this.expectContinue = true;
            return this;
        }

        Reply send() throws IOException, InterruptedException {
            String uri = base + path + (apiVersion == null ? "" : "?api-version=" + apiVersion);
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(15))
                    .expectContinue(expectContinue)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            if (body != null && contentType != null) {
                b.header("Content-Type", contentType);
            }
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            headers.forEach(b::header);
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Reply(r.statusCode(), r.headers(), r.body());
        }
    }

    private record Reply(int status, HttpHeaders headers, String body) {

        JsonNode json() throws IOException {
            return MAPPER.readTree(body);
        }

        @Nullable String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }

    private record RawReply(int status, String head, Map<String, String> headers, String body) {

        @Nullable String header(String name) {
            return headers.get(name);
        }
    }

    /** Sends exact request bytes over TLS (the request must say {@code Connection: close}) and reads the reply. */
    private static RawReply raw(String request) throws IOException {
        try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost",
                server.info().httpsPort())) {
            SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                bytes.write(buffer, 0, n);
            }
            String text = bytes.toString(StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            assertThat(end).as("a complete response head: " + text).isPositive();
            String head = text.substring(0, end);
            String[] lines = head.split("\r\n");
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim());
            }
            return new RawReply(Integer.parseInt(lines[0].split(" ")[1]), head, headers, text.substring(end + 4));
        }
    }

    // ---------------------------------------------------------------- a device over MQTT (registrationState)

    /** Registers a symmetric-key device the way the Java device SDK does over MQTT; returns the final status. */
    private static JsonNode registerOverMqtt(String registrationId, String base64Key) throws Exception {
        String scope = server.info().idScope();
        String password = SasSigner.deviceToken(scope, registrationId, Base64.getDecoder().decode(base64Key),
                Instant.now().plusSeconds(3600));
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(registrationId)
                .serverHost("localhost").serverPort(server.info().mqttPort())
                .sslConfig().trustManagerFactory(trustingServerCa()).applySslConfig()
                .buildBlocking();
        client.connectWith().simpleAuth()
                .username(scope + "/registrations/" + registrationId + "/api-version=" + API_2019
                        + "&ClientVersion=" + API_2019)
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
            return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
                client.publishWith().topic("$dps/registrations/GET/iotdps-get-operationstatus/?$rid="
                        + rid.incrementAndGet() + "&operationId=" + operationId).send();
                return receive(replies);
            }, status -> !status.path("status").asText().equals("assigning"));
        } finally {
            client.disconnect();
        }
    }

    private static JsonNode receive(Mqtt3BlockingClient.Mqtt3Publishes replies) throws Exception {
        Mqtt3Publish reply = replies.receive(15, TimeUnit.SECONDS)
                .orElseThrow(() -> new AssertionError("no DPS reply within 15 s"));
        return MAPPER.readTree(reply.getPayloadAsBytes());
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
