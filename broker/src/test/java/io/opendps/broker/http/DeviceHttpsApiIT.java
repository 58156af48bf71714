package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.json.Json;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS device API ({@code dps-device-protocol.md} §6) on the real server's HTTPS listener (ephemeral port,
 * real TLS, real H2), driven by the JDK {@link HttpClient} as the SDKs drive it: register, poll, status lookup with
 * SAS (individual and group-derived keys) and with a TLS client certificate, and every error path.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeviceHttpsApiIT {

    private static final String API = "?api-version=2019-03-31";
    private static final String JSON = "application/json; charset=utf-8";

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static HttpClient http;
    static String scope;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        scope = server.info().idScope();
        http = client(TlsMaterial.trustingClientContext(server.info().caCertificate()));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void symmetricKey_register_poll_lookup() throws Exception {
        String key = enroll("https-sym-1");
        String sas = sas("https-sym-1", key);

        Reply registered = send(http, "PUT", "/" + scope + "/registrations/https-sym-1/register" + API, sas,
                body("https-sym-1"));

        assertThat(registered.status).isEqualTo(202);
        assertThat(registered.response.headers().firstValue("Content-Type")).contains(JSON);
        assertThat(registered.response.headers().firstValue("Retry-After")).contains("2");
        assertThat(registered.json.get("status").asText()).isEqualTo("assigning");
        String operationId = registered.json.get("operationId").asText();
        assertThat(operationId).matches("[A-Za-z0-9.-]+");

        // Node sends {} with its GET; the body is ignored.
        Reply polled = send(http, "GET", "/" + scope + "/registrations/https-sym-1/operations/" + operationId + API,
                sas, "{}");

        assertThat(polled.status).isEqualTo(200);
        assertThat(polled.response.headers().firstValue("Content-Type")).contains(JSON);
        assertThat(polled.json.get("operationId").asText()).isEqualTo(operationId);
        assertThat(polled.json.get("status").asText()).isEqualTo("assigned");
        JsonNode state = polled.json.get("registrationState");
        assertThat(state.get("registrationId").asText()).isEqualTo("https-sym-1");
        assertThat(state.get("assignedHub").asText()).isEqualTo("hub-1.opendps.local");
        assertThat(state.get("deviceId").asText()).isEqualTo("https-sym-1");
        assertThat(state.get("substatus").asText()).isEqualTo("initialAssignment");

        Reply looked = send(http, "POST", "/" + scope + "/registrations/https-sym-1" + API, sas,
                body("https-sym-1"));

        assertThat(looked.status).isEqualTo(200);
        assertThat(looked.json.has("operationId")).as("the bare DeviceRegistrationResult").isFalse();
        assertThat(looked.json.get("status").asText()).isEqualTo("assigned");
        assertThat(looked.json.get("etag").asText()).isEqualTo(state.get("etag").asText());
        assertThat(server.registrations().find("https-sym-1").orElseThrow().status())
                .isEqualTo(RegistrationStatus.ASSIGNED);
    }

    @Test
    void groupDerivedKey_isAssigned_andMqttStyleSasFormsVerify() throws Exception {
        EnrollmentGroup g = server.enrollments().putGroup("https-group", EnrollmentGroup.symmetricKey("https-group",
                null, null), null);
        String deviceKey = DerivedKeys.deriveBase64(g.attestation().symmetricKey().primaryKey(), "https-member-3");
        // C and Python percent-encode sr (lower/upper-case hex); the server verifies the literal text.
        String encodedSr = SasSigner.sign(scope + "%2fregistrations%2fhttps-member-3",
                Instant.now().plus(Duration.ofHours(1)).getEpochSecond(), Base64.getDecoder().decode(deviceKey), null);

        Reply polled = provision("https-member-3", encodedSr);

        assertThat(polled.json.get("status").asText()).isEqualTo("assigned");
        assertThat(polled.json.get("registrationState").get("symmetricKey").get("enrollmentGroupId").asText())
                .isEqualTo("https-group");
        assertThat(server.registrations().find("https-member-3").orElseThrow().enrollmentGroupId())
                .isEqualTo("https-group");
    }

    @Test
    void x509_clientCertificateOverTls_isAssigned_andPollNeedsTheSameCertificate() throws Exception {
        KeyPair rootKeys = Certificates.newEcKeyPair();
        X509Certificate root = Certificates.template("CN=HTTPS Device Root", rootKeys.getPublic()).ca()
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(30))
                .selfSigned(rootKeys.getPrivate()).issue();
        server.enrollments().putGroup("https-x509-group", EnrollmentGroup.symmetricKey("https-x509-group", null,
                null).withAttestation(AttestationMechanism.x509(X509Attestation.signingCertificates(
                        new X509Certificates(new X509CertificateWithInfo(Certificates.toPem(root), null), null)))),
                null);
        HttpClient device = deviceClient("https-x509-dev", root, rootKeys);

        Reply registered = send(device, "PUT", "/" + scope + "/registrations/https-x509-dev/register" + API, null,
                body("https-x509-dev"));
        assertThat(registered.status).as(registered.text).isEqualTo(202);
        String operationId = registered.json.get("operationId").asText();
        String pollPath = "/" + scope + "/registrations/https-x509-dev/operations/" + operationId + API;
        Reply polled = send(device, "GET", pollPath, null, null);

        assertThat(polled.status).isEqualTo(200);
        assertThat(polled.json.get("status").asText()).isEqualTo("assigned");
        JsonNode x509 = polled.json.get("registrationState").get("x509");
        assertThat(x509.get("enrollmentGroupId").asText()).isEqualTo("https-x509-group");
        assertThat(x509.get("certificateInfo").get("subjectName").asText()).contains("https-x509-dev");

        // Another device (another certificate) cannot read this operation; no certificate at all is refused too.
        HttpClient other = deviceClient("https-x509-dev", root, rootKeys);
        assertError(send(other, "GET", pollPath, null, null), 401, 401002);
        assertError(send(http, "GET", pollPath, null, null), 401, 401002);

        Reply looked = send(device, "POST", "/" + scope + "/registrations/https-x509-dev" + API, null,
                body("https-x509-dev"));
        assertThat(looked.status).isEqualTo(200);
        assertThat(looked.json.get("x509").get("enrollmentGroupId").asText()).isEqualTo("https-x509-group");
    }

    @Test
    void x509_certificateOfAnUnknownCa_is401() throws Exception {
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate stranger = Certificates.template("CN=HTTPS Stranger Root", keys.getPublic()).ca()
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(30))
                .selfSigned(keys.getPrivate()).issue();

        Reply r = send(deviceClient("https-stranger", stranger, keys), "PUT",
                "/" + scope + "/registrations/https-stranger/register" + API, null, body("https-stranger"));

        assertThat(assertError(r, 401, 401002)).contains("no enrollment accepts this certificate chain");
    }

    @Test
    void wrongKey_is401_likeMqtt() throws Exception {
        enroll("https-wrong-key");
        String wrong = sas("https-wrong-key", Base64.getEncoder().encodeToString(new byte[32]));

        Reply r = send(http, "PUT", "/" + scope + "/registrations/https-wrong-key/register" + API, wrong,
                body("https-wrong-key"));

        assertThat(assertError(r, 401, 401002)).contains("no enrollment for registration id");
        assertThat(server.registrations().find("https-wrong-key")).isEmpty();
    }

    @Test
    void missingCredential_is401() throws Exception {
        enroll("https-no-sas");

        assertError(send(http, "PUT", "/" + scope + "/registrations/https-no-sas/register" + API, null,
                body("https-no-sas")), 401, 401002);
    }

    @Test
    void unknownIdScope_is401_namingTheScope() throws Exception {
        String key = enroll("https-scope");

        Reply r = send(http, "PUT", "/0ne99999999/registrations/https-scope/register" + API,
                SasSigner.deviceToken("0ne99999999", "https-scope", Base64.getDecoder().decode(key),
                        Instant.now().plus(Duration.ofHours(1))), body("https-scope"));

        assertThat(assertError(r, 401, 401002)).contains("0ne99999999");
    }

    @Test
    void apiVersion_missingOrMalformed_is400009() throws Exception {
        String key = enroll("https-api");
        String sas = sas("https-api", key);
        String path = "/" + scope + "/registrations/https-api/register";

        assertThat(assertError(send(http, "PUT", path, sas, body("https-api")), 400, 400009))
                .contains("api-version query parameter is required");
        assertThat(assertError(send(http, "PUT", path + "?api-version=yesterday", sas, body("https-api")), 400,
                400009)).contains("'yesterday'");
        // Any YYYY-MM-DD[-preview] is served, and unknown parameters (Node's forceRegistration) are ignored.
        assertThat(send(http, "PUT", path + "?api-version=2021-06-01&forceRegistration=true", sas,
                body("https-api")).status).isEqualTo(202);
    }

    @Test
    void badBodies_are400_withMqttCodes() throws Exception {
        String key = enroll("https-body");
        String sas = sas("https-body", key);
        String path = "/" + scope + "/registrations/https-body/register" + API;

        assertThat(assertError(send(http, "PUT", path, sas, "{\"registrationId\":"), 400, 400001))
                .contains("not a valid registration");
        assertThat(assertError(send(http, "PUT", path, sas, ""), 400, 400001)).contains("empty");
        assertThat(assertError(send(http, "PUT", path, sas, "{}"), 400, 400001)).contains("no registrationId");
        assertThat(assertError(send(http, "PUT", path, sas, body("someone-else")), 400, 400005))
                .contains("someone-else");
        assertThat(server.registrations().find("https-body")).isEmpty();
    }

    @Test
    void replies_areAsciiOnlyJson() throws Exception {
        String key = enroll("https-ascii");

        Reply r = send(http, "PUT", "/" + scope + "/registrations/https-ascii/register" + API,
                sas("https-ascii", key), "{\"registrationId\":\"gr\u00fc\u00dfe-\u2603\"}");

        assertError(r, 400, 400005);
        assertThat(r.text).matches("[\\x00-\\x7F]*");
        assertThat(r.text).contains("\\u00FC").contains("\\u2603");
        assertThat(r.json.get("message").asText()).contains("gr\u00fc\u00dfe-\u2603");
    }

    @Test
    void pollOfUnknownOperation_is404() throws Exception {
        String key = enroll("https-poll-404");

        Reply r = send(http, "GET", "/" + scope + "/registrations/https-poll-404/operations/1.abc.def" + API,
                sas("https-poll-404", key), null);

        assertThat(assertError(r, 404, 404202)).contains("1.abc.def");
    }

    @Test
    void lookupBeforeRegistering_is404() throws Exception {
        String key = enroll("https-lookup-404");

        Reply r = send(http, "POST", "/" + scope + "/registrations/https-lookup-404" + API,
                sas("https-lookup-404", key), body("https-lookup-404"));

        assertThat(assertError(r, 404, 404202)).contains("register first");
    }

    @Test
    void unknownPathsAndMethods_underAnIdScope() throws Exception {
        assertThat(assertError(send(http, "GET", "/" + scope + "/registrations/dev/nothing-here" + API, null,
                null), 404, 404000)).contains("no such device API resource");
        assertThat(assertError(send(http, "PUT", "/" + scope + "/registrations/dev/operations/x/y" + API, null,
                null), 404, 404000)).contains("/registrations/dev/operations/x/y");
        Reply wrongMethod = send(http, "GET", "/" + scope + "/registrations/dev/register" + API, null, null);
        assertThat(assertError(wrongMethod, 405, 405000)).contains("use PUT");
        assertThat(wrongMethod.response.headers().firstValue("Allow")).contains("PUT");
        assertThat(assertError(send(http, "PUT", "/" + scope + "/registrations/bad%20id!/register" + API, null,
                "{}"), 400, 400004)).contains("invalid registration id");
    }

    @Test
    void percentEncodedPath_asTheCSdkSendsIt_isDecoded() throws Exception {
        String key = enroll("https-enc:1");
        String sas = sas("https-enc:1", key);

        Reply r = send(http, "PUT", "/" + scope + "/registrations/https-enc%3a1/register?api-version=2021-06-01",
                sas, body("https-enc:1"));

        assertThat(r.status).as(r.text).isEqualTo(202);
    }

    @Test
    void serviceApi_isUnchangedOnTheSameListener() throws Exception {
        // The service API's own /registrations/{id} is not a device path; without a service SAS it is refused.
        Reply r = send(http, "GET", "/registrations/https-sym-1" + API, null, null);
        assertThat(r.status).isEqualTo(401);
        assertThat(send(http, "GET", "/openapi.json", null, null).status).isEqualTo(200);
    }

    // --- helpers ---

    private record Reply(int status, HttpResponse<byte[]> response, byte[] bytes, String text, JsonNode json) {}

    private static Reply provision(String registrationId, String sas) throws Exception {
        Reply registered = send(http, "PUT", "/" + scope + "/registrations/" + registrationId + "/register" + API,
                sas, body(registrationId));
        assertThat(registered.status).as(registered.text).isEqualTo(202);
        Reply polled = send(http, "GET", "/" + scope + "/registrations/" + registrationId + "/operations/"
                + registered.json.get("operationId").asText() + API, sas, null);
        assertThat(polled.status).as(polled.text).isEqualTo(200);
        return polled;
    }

    private static String assertError(Reply r, int status, int errorCode) {
        assertThat(r.status).as(r.text).isEqualTo(status);
        assertThat(r.response.headers().firstValue("Content-Type")).contains(JSON);
        assertThat(r.json.get("errorCode").isInt()).isTrue();
        assertThat(r.json.get("errorCode").asInt()).as(r.text).isEqualTo(errorCode);
        assertThat(r.json.get("trackingId").asText()).isNotBlank();
        assertThat(r.json.get("timestampUtc").asText()).isNotBlank();
        return r.json.get("message").asText();
    }

    private static Reply send(HttpClient client, String method, String path, @Nullable String authorization,
            @Nullable String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + server.info().httpsPort()
                        + path))
                .timeout(Duration.ofSeconds(20))
                .header("Accept", "application/json")
                .header("Content-Type", JSON)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        HttpResponse<byte[]> response = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        String text = new String(response.body(), StandardCharsets.UTF_8);
        return new Reply(response.statusCode(), response, response.body(), text,
                Json.mapper().readTree(response.body()));
    }

    private static String enroll(String registrationId) {
        return server.enrollments().putEnrollment(registrationId, IndividualEnrollment.symmetricKey(registrationId,
                null, null), null).attestation().symmetricKey().primaryKey();
    }

    /** A SAS token with a raw {@code sr}, as Java and Node sign it. */
    private static String sas(String registrationId, String key) {
        return SasSigner.deviceToken(scope, registrationId, Base64.getDecoder().decode(key),
                Instant.now().plus(Duration.ofHours(1)));
    }

    private static String body(String registrationId) {
        return "{\"registrationId\":\"" + registrationId + "\"}";
    }

    private static HttpClient client(SSLContext context) {
        return HttpClient.newBuilder().sslContext(context).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A client presenting a fresh device certificate (CN = registration id) issued by {@code ca}. */
    private static HttpClient deviceClient(String cn, X509Certificate ca, KeyPair caKeys) throws Exception {
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate leaf = Certificates.template("CN=" + cn, keys.getPublic())
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(30))
                .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH)
                .issuedBy(ca, caKeys.getPrivate()).issue();
        char[] password = "device".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("device", keys.getPrivate(), password, new X509Certificate[] {leaf});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", Certificates.readCertificates(server.info().caCertificate()).get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return client(context);
    }
}
