package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.MessageResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import com.atlassian.oai.validator.schema.SchemaValidator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.sas.SasSigner;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract test of the OpenAPI document ({@code openapi.yaml}): drives the real server over HTTPS with real
 * requests for every documented operation and its main error answers, and validates every request/response pair
 * against the document with Atlassian's {@code swagger-request-validator}.
 *
 * <ul>
 *   <li>Each response must be valid for its operation (status documented, headers, body schema).</li>
 *   <li>Each request must be valid, unless the case sends a deliberately bad request: then the validator must
 *       report exactly the expected problem (the document rejects what the server rejects).</li>
 *   <li>Answers outside any operation (unknown path 404, method not allowed 405) must carry the document's
 *       {@code ErrorBody}, and the validator must agree that no operation exists there.</li>
 *   <li>Coverage: each test declares the operations it exercises ({@link Exercises}), checked after it; every
 *       documented operation is declared by some test; when the whole class runs, every operation was
 *       exercised.</li>
 * </ul>
 *
 * <p>The bulk ({@code POST /enrollments}, {@code POST /enrollmentGroups}) and shared-access-policy operations are in
 * their own test methods ({@code bulk*}, {@code policies*}): they are documented as specified for the
 * implementations built in parallel and pass once those are merged.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpenApiContractIT {

    private static final String API = "2021-10-01";
    private static final String HUB = "hub-1.opendps.local";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** The statuses answered outside any operation: unknown path, method not allowed. */
    private static final Set<String> OUTSIDE_STATUSES = Set.of("404", "405");

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static HttpClient http;
    static String base;
    static String policyName;
    static byte[] policyKey;
    static String documentYaml;
    static OpenAPI document;
    static OpenApiInteractionValidator validator;
    static SchemaValidator schemas;
    /** Operation ("METHOD /template") → statuses received, over the whole class. */
    static final Map<String, Set<Integer>> received = new ConcurrentHashMap<>();
    static final Set<String> testsRun = ConcurrentHashMap.newKeySet();
    static @Nullable Set<String> currentExercised;

    /** The operations ("METHOD /template") a test exercises; checked after it. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface Exercises {
        String[] value();
    }

    @BeforeAll
    static void start() throws IOException {
        try (InputStream in = OpenApiContractIT.class.getResourceAsStream(OpenApiDocument.RESOURCE)) {
            documentYaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        document = new OpenAPIV3Parser().readContents(documentYaml, null, new ParseOptions()).getOpenAPI();
        validator = OpenApiInteractionValidator.createForInlineApiSpecification(documentYaml).build();
        ParseOptions resolving = new ParseOptions();
        resolving.setResolve(true);
        schemas = new SchemaValidator(new OpenAPIV3Parser().readContents(documentYaml, null, resolving).getOpenAPI(),
                new MessageResolver());
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
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

    @BeforeEach
    void track(TestInfo info) {
        currentExercised = ConcurrentHashMap.newKeySet();
        info.getTestMethod().ifPresent(m -> testsRun.add(m.getName()));
    }

    @AfterEach
    void checkDeclaredOperations(TestInfo info) {
        Exercises declared = info.getTestMethod().map(m -> m.getAnnotation(Exercises.class)).orElse(null);
        Set<String> exercised = currentExercised;
        currentExercised = null;
        if (declared == null) {
            assertThat(exercised).as("a test without @Exercises calls no documented operation").isEmpty();
            return;
        }
        assertThat(exercised).as("operations exercised by " + info.getDisplayName())
                .containsExactlyInAnyOrder(declared.value());
    }

    // ================================================================ individual enrollments

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "GET /enrollments/{registrationId}",
        "DELETE /enrollments/{registrationId}"})
    void individualEnrollment_lifecycleAndErrors() throws Exception {
        String id = "contract-enr-1";
        String body = "{\"registrationId\":\"" + id + "\",\"deviceId\":\"device-" + id + "\","
                + "\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"\","
                + "\"secondaryKey\":\"\"}},\"capabilities\":{\"iotEdge\":true},\"provisioningStatus\":\"enabled\","
                + "\"reprovisionPolicy\":{\"updateHubAssignment\":true,\"migrateDeviceData\":false},"
                + "\"allocationPolicy\":\"static\",\"iotHubs\":[\"" + HUB + "\"],"
                + "\"initialTwin\":{\"tags\":{\"site\":\"plant-7\"},\"properties\":{\"desired\":{\"interval\":30}}},"
                + "\"optionalDeviceInformation\":{\"model\":\"TX-200\"}}";

        JsonNode created = call("PUT", "/enrollments/" + id).body(body).send(200).json();
        assertThat(created.at("/attestation/symmetricKey/primaryKey").asText()).hasSize(88);
        String etag = created.path("etag").asText();

        call("PUT", "/enrollments/" + id).body(body).send(409, 409201);
        call("PUT", "/enrollments/" + id).header("If-Match", "\"stale\"").body(body).send(412, 412201);
        JsonNode fetched = call("GET", "/enrollments/" + id).send(200).json();
        assertThat(fetched.path("attestation")).isEqualTo(MAPPER.readTree("{\"type\":\"symmetricKey\"}"));
        // The Java SDK's GET → modify → PUT round trip, read-only fields echoed back.
        JsonNode replaced = call("PUT", "/enrollments/" + id).header("If-Match", etag).body(fetched.toString())
                .send(200).json();
        assertThat(replaced.path("etag").asText()).isNotEqualTo(etag);

        call("PUT", "/enrollments/" + id).header("If-Match", "*").body("{\"registrationId\":")
                .expectInvalidRequest("validation.request.body.schema.invalidJson").send(400, 400001);
        call("PUT", "/enrollments/" + id).header("If-Match", "*").body("{\"registrationId\":\"" + id + "\"}")
                .expectInvalidRequest("validation.request.body.schema.required").send(400, 400004);
        call("PUT", "/enrollments/other-id").body(symmetricKeyEnrollment(id)).send(400, 400004);
        call("PUT", "/enrollments/" + id).auth(null).body(body)
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
        call("PUT", "/enrollments/" + id).apiVersion(null).body(body)
                .expectInvalidRequest("validation.request.parameter.query.missing").send(400, 400009);
        call("PUT", "/enrollments/" + id).contentType("text/plain").body(body)
                .expectInvalidRequest("validation.request.contentType.notAllowed").send(415, 415001);
        String big = enrollment("contract-too-big", "\"initialTwin\":{\"tags\":{\"blob\":\""
                + "x".repeat(100 * 1024) + "\"}}");
        call("PUT", "/enrollments/contract-too-big").body(big).send(413, 413001);

        call("GET", "/enrollments/contract-none").send(404, 404201);
        call("GET", "/enrollments/" + id).auth(wrongKeyToken()).send(401, 401002);
        call("GET", "/enrollments/" + id).apiVersion("yesterday")
                .expectInvalidRequest("validation.request.parameter.schema.pattern").send(400, 400009);

        call("DELETE", "/enrollments/" + id).header("If-Match", etag).send(412, 412201);
        call("DELETE", "/enrollments/" + id).send(204);
        call("DELETE", "/enrollments/" + id).send(404, 404201);
    }

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "GET /enrollments/{registrationId}",
        "POST /enrollments/{registrationId}/attestationmechanism"})
    void individualEnrollment_x509_infoOnlyAnswers() throws Exception {
        String id = "contract-x509-dev";
        Ca ca = Ca.root("contract-x509-dev-root");
        String pem = ca.leafPem(id);

        JsonNode created = call("PUT", "/enrollments/" + id).body("{\"registrationId\":\"" + id + "\","
                + "\"attestation\":{\"type\":\"x509\",\"x509\":{\"clientCertificates\":{\"primary\":{\"certificate\":"
                + MAPPER.writeValueAsString(pem) + "}}}}}").send(200).json();
        assertThat(created.at("/attestation/x509/clientCertificates/primary/info/sha256Thumbprint").asText())
                .hasSize(64);

        JsonNode fetched = call("GET", "/enrollments/" + id).send(200).json();
        call("PUT", "/enrollments/" + id).header("If-Match", "*").body(fetched.toString()).send(200);
        call("POST", "/enrollments/" + id + "/attestationmechanism").body("{}").send(200);
    }

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "POST /enrollments/{registrationId}/attestationmechanism"})
    void individualEnrollment_attestationMechanism() throws Exception {
        String id = "contract-att-1";
        call("PUT", "/enrollments/" + id).body(symmetricKeyEnrollment(id)).send(200);

        JsonNode keys = call("POST", "/enrollments/" + id + "/attestationmechanism").body("{}").send(200).json();
        assertThat(keys.at("/symmetricKey/primaryKey").asText()).hasSize(88);
        call("POST", "/enrollments/" + id + "/attestationmechanism").contentType(null).send(200);
        call("POST", "/enrollments/contract-att-none/attestationmechanism").body("{}").send(404, 404201);
        call("POST", "/enrollments/" + id + "/attestationmechanism").auth(null)
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
    }

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "POST /enrollments/query"})
    void individualEnrollment_queryPages() throws Exception {
        for (int i = 0; i < 3; i++) {
            call("PUT", "/enrollments/contract-q-" + i).body(symmetricKeyEnrollment("contract-q-" + i)).send(200);
        }

        Reply first = call("POST", "/enrollments/query").header("x-ms-max-item-count", "2")
                .body("{\"query\":\"SELECT * FROM enrollments\"}").send(200);
        assertThat(first.header("x-ms-item-type")).isEqualTo("Enrollment");
        String continuation = first.header("x-ms-continuation");
        assertThat(continuation).isNotBlank();
        call("POST", "/enrollments/query").header("x-ms-max-item-count", "2")
                .header("x-ms-continuation", continuation).body("{\"query\":\"*\"}").send(200);

        call("POST", "/enrollments/query").header("x-ms-continuation", "!!not a token!!")
                .body("{\"query\":\"*\"}").send(400, 400004);
        call("POST", "/enrollments/query").header("x-ms-max-item-count", "zero").body("{\"query\":\"*\"}")
                .expectInvalidRequest("validation.request.parameter.schema.type").send(400, 400004);
        call("POST", "/enrollments/query").auth(null).body("{\"query\":\"*\"}")
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
        call("POST", "/enrollments/query").contentType("text/plain").body("{\"query\":\"*\"}")
                .expectInvalidRequest("validation.request.contentType.notAllowed").send(415, 415001);
    }

    // ================================================================ enrollment groups

    @Test
    @Exercises({"PUT /enrollmentGroups/{enrollmentGroupId}", "GET /enrollmentGroups/{enrollmentGroupId}",
        "DELETE /enrollmentGroups/{enrollmentGroupId}", "POST /enrollmentGroups/{enrollmentGroupId}/attestationmechanism",
        "POST /enrollmentGroups/query"})
    void enrollmentGroup_lifecycleAndErrors() throws Exception {
        String id = "contract-grp-1";
        String body = "{\"enrollmentGroupId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"},"
                + "\"capabilities\":{\"iotEdge\":false},\"provisioningStatus\":\"disabled\","
                + "\"reprovisionPolicy\":{\"updateHubAssignment\":false,\"migrateDeviceData\":false},"
                + "\"allocationPolicy\":\"hashed\",\"initialTwin\":{\"tags\":{\"line\":3}}}";

        String etag = call("PUT", "/enrollmentGroups/" + id).body(body).send(200).json().path("etag").asText();
        call("PUT", "/enrollmentGroups/" + id).body(body).send(409, 409204);
        call("PUT", "/enrollmentGroups/" + id).header("If-Match", "\"stale\"").body(body).send(412, 412204);
        JsonNode fetched = call("GET", "/enrollmentGroups/" + id).send(200).json();
        call("PUT", "/enrollmentGroups/" + id).header("If-Match", etag).body(fetched.toString()).send(200);
        call("PUT", "/enrollmentGroups/contract-grp-tpm").body("{\"enrollmentGroupId\":\"contract-grp-tpm\","
                + "\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AToAAQAL\"}}}").send(400, 400004);
        call("GET", "/enrollmentGroups/contract-grp-none").send(404, 404204);
        call("GET", "/enrollmentGroups/" + id).auth(null)
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);

        JsonNode keys = call("POST", "/enrollmentGroups/" + id + "/attestationmechanism").body("{}").send(200).json();
        assertThat(keys.at("/symmetricKey/secondaryKey").asText()).hasSize(88);
        call("POST", "/enrollmentGroups/contract-grp-none/attestationmechanism").contentType(null).send(404, 404204);

        Reply page = call("POST", "/enrollmentGroups/query").body("{\"query\":\"SELECT * FROM enrollmentGroups\"}")
                .send(200);
        assertThat(page.header("x-ms-item-type")).isEqualTo("EnrollmentGroup");
        call("POST", "/enrollmentGroups/query").header("x-ms-continuation", "%%%").body("{\"query\":\"*\"}")
                .send(400, 400004);

        call("DELETE", "/enrollmentGroups/" + id).header("If-Match", "\"stale\"").send(412, 412204);
        call("DELETE", "/enrollmentGroups/" + id).header("If-Match", "*").send(204);
        call("DELETE", "/enrollmentGroups/" + id).send(404, 404204);
    }

    // ================================================================ registration records

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "GET /enrollments/{registrationId}",
        "GET /registrations/{registrationId}", "DELETE /registrations/{registrationId}"})
    void registration_getAndDelete_afterTheDeviceRegistered() throws Exception {
        String id = "contract-reg-1";
        String key = call("PUT", "/enrollments/" + id).body(symmetricKeyEnrollment(id)).send(200).json()
                .at("/attestation/symmetricKey/primaryKey").asText();
        assertThat(registerOverMqtt(id, Base64.getDecoder().decode(key)).path("status").asText()).isEqualTo("assigned");

        JsonNode enrollment = call("GET", "/enrollments/" + id).send(200).json();
        assertThat(enrollment.at("/registrationState/status").asText()).isEqualTo("assigned");
        JsonNode record = call("GET", "/registrations/" + id).send(200).json();
        assertThat(record.path("assignedHub").asText()).isEqualTo(HUB);

        call("GET", "/registrations/contract-reg-none").send(404, 404202);
        call("GET", "/registrations/" + id).auth(wrongKeyToken()).send(401, 401002);
        call("DELETE", "/registrations/" + id).header("If-Match", "\"stale\"").send(412, 412202);
        call("DELETE", "/registrations/" + id).header("If-Match", record.path("etag").asText()).send(204);
        call("DELETE", "/registrations/" + id).send(404, 404202);
    }

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "POST /registrations/{registrationId}/reprovision"})
    void registration_reprovision_marksTheRecordForTheNextRegistration() throws Exception {
        String id = "contract-reprov-1";
        String key = call("PUT", "/enrollments/" + id).body(symmetricKeyEnrollment(id)).send(200).json()
                .at("/attestation/symmetricKey/primaryKey").asText();
        assertThat(registerOverMqtt(id, Base64.getDecoder().decode(key)).path("status").asText()).isEqualTo("assigned");

        call("POST", "/registrations/" + id + "/reprovision").contentType(null).send(204);
        assertThat(server.registrations().reprovisionRequested(id)).isTrue();
        call("POST", "/registrations/" + id + "/reprovision").auth(wrongKeyToken()).send(401, 401002);
        call("POST", "/registrations/contract-reprov-none/reprovision").send(404, 404202);
        call("GET", "/registrations/" + id + "/reprovision").expectOutsideOperations().send(405, 405000);

        assertThat(registerOverMqtt(id, Base64.getDecoder().decode(key)).path("status").asText()).isEqualTo("assigned");
        assertThat(server.registrations().reprovisionRequested(id)).isFalse();
    }

    @Test
    @Exercises({"PUT /enrollmentGroups/{enrollmentGroupId}", "POST /registrations/{enrollmentGroupId}/query"})
    void registration_queryPerGroup() throws Exception {
        String group = "contract-reg-grp";
        String groupKey = call("PUT", "/enrollmentGroups/" + group).body(symmetricKeyGroup(group)).send(200).json()
                .at("/attestation/symmetricKey/primaryKey").asText();
        for (String device : List.of("contract-reg-m1", "contract-reg-m2")) {
            assertThat(registerOverMqtt(device, deriveDeviceKey(groupKey, device)).path("status").asText())
                    .isEqualTo("assigned");
        }

        Reply first = call("POST", "/registrations/" + group + "/query").contentType(null)
                .header("x-ms-max-item-count", "1").send(200);
        assertThat(first.header("x-ms-item-type")).isEqualTo("DeviceRegistration");
        assertThat(first.json()).hasSize(1);
        Reply second = call("POST", "/registrations/" + group + "/query").header("x-ms-max-item-count", "1")
                .header("x-ms-continuation", first.header("x-ms-continuation"))
                .body("{\"query\":\"SELECT * FROM deviceRegistrations\"}").send(200);
        assertThat(second.json().get(0).path("registrationId").asText()).isEqualTo("contract-reg-m2");
        assertThat(call("POST", "/registrations/contract-no-such-group/query").send(200).json()).isEmpty();
        call("POST", "/registrations/" + group + "/query").header("x-ms-continuation", "!!")
                .send(400, 400004);
        call("POST", "/registrations/" + group + "/query").auth(null)
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
    }

    // ================================================================ CA certificates

    @Test
    @Exercises({"PUT /certificates/{certificateName}", "GET /certificates", "GET /certificates/{certificateName}",
        "POST /certificates/{certificateName}/generateVerificationCode", "POST /certificates/{certificateName}/verify",
        "DELETE /certificates/{certificateName}", "PUT /enrollmentGroups/{enrollmentGroupId}",
        "DELETE /enrollmentGroups/{enrollmentGroupId}"})
    void caCertificate_proofOfPossessionAndErrors() throws Exception {
        String name = "contract-ca-1";
        Ca root = Ca.root("contract-ca-1-root");

        String etag = call("PUT", "/certificates/" + name).body(upload(root.pem())).send(201).json()
                .path("etag").asText();
        call("PUT", "/certificates/" + name).body(upload(root.pem())).send(409, 409301);
        call("PUT", "/certificates/" + name).header("If-Match", "\"stale\"").body(upload(root.pem()))
                .send(412, 412301);
        etag = call("PUT", "/certificates/" + name).header("If-Match", etag)
                .body("{\"certificate\":" + MAPPER.writeValueAsString(root.pem()) + ",\"isVerified\":false}")
                .send(200).json().path("etag").asText();
        call("PUT", "/certificates/contract-ca-bad").body(upload("not a certificate")).send(400, 400301);
        call("PUT", "/certificates/" + name).header("If-Match", "*").body("{}").send(400, 400001);

        assertThat(call("GET", "/certificates").send(200).json().path("value").findValuesAsText("name"))
                .contains(name);
        call("GET", "/certificates/" + name).send(200);
        call("GET", "/certificates/contract-ca-none").send(404, 404301);
        call("GET", "/certificates").auth(null).expectInvalidRequest("validation.request.security.missing")
                .send(401, 401002);

        call("POST", "/certificates/" + name + "/verify").body(verifyBody(root.leafPem("0123456789ABCDEF")))
                .send(400, 400302);
        call("POST", "/certificates/" + name + "/generateVerificationCode").header("If-Match", "\"stale\"")
                .send(412, 412301);
        call("POST", "/certificates/contract-ca-none/generateVerificationCode").send(404, 404301);
        JsonNode generated = call("POST", "/certificates/" + name + "/generateVerificationCode")
                .header("If-Match", etag).send(200).json();
        String code = generated.at("/properties/verificationCode").asText();
        call("POST", "/certificates/" + name + "/verify").body(verifyBody(root.leafPem("not-the-code")))
                .send(400, 400302);
        call("POST", "/certificates/" + name + "/verify").body("{}")
                .expectInvalidRequest("validation.request.body.schema.required").send(400, 400001);
        call("POST", "/certificates/contract-ca-none/verify").body(verifyBody(root.leafPem(code))).send(404, 404301);
        JsonNode verified = call("POST", "/certificates/" + name + "/verify")
                .header("If-Match", generated.path("etag").asText()).body(verifyBody(root.leafPem(code))).send(200)
                .json();
        assertThat(verified.at("/properties/isVerified").asBoolean()).isTrue();

        String group = "contract-ca-grp";
        call("PUT", "/enrollmentGroups/" + group).body("{\"enrollmentGroupId\":\"" + group + "\",\"attestation\":"
                + "{\"type\":\"x509\",\"x509\":{\"caReferences\":{\"primary\":\"" + name + "\"}}}}").send(200);
        call("DELETE", "/certificates/" + name).send(409, 409302);
        call("DELETE", "/enrollmentGroups/" + group).send(204);
        call("DELETE", "/certificates/" + name).header("If-Match", "\"stale\"").send(412, 412301);
        call("DELETE", "/certificates/" + name).header("If-Match", verified.path("etag").asText()).send(204);
        call("DELETE", "/certificates/" + name).send(404, 404301);
    }

    @Test
    @Exercises({"PUT /certificates/{certificateName}", "PUT /enrollmentGroups/{enrollmentGroupId}",
        "GET /enrollmentGroups/{enrollmentGroupId}", "POST /enrollmentGroups/{enrollmentGroupId}/attestationmechanism"})
    void enrollmentGroup_x509SigningCertificates_infoOnlyAnswers() throws Exception {
        String group = "contract-x509-grp";
        Ca root = Ca.root("contract-x509-grp-root");

        call("PUT", "/enrollmentGroups/" + group).body("{\"enrollmentGroupId\":\"" + group + "\",\"attestation\":"
                + "{\"type\":\"x509\",\"x509\":{\"signingCertificates\":{\"primary\":{\"certificate\":"
                + MAPPER.writeValueAsString(root.pem()) + "}}}}}").send(200);
        JsonNode fetched = call("GET", "/enrollmentGroups/" + group).send(200).json();
        assertThat(fetched.at("/attestation/x509/signingCertificates/primary/info/subjectName").asText())
                .isEqualTo("CN=contract-x509-grp-root");
        call("POST", "/enrollmentGroups/" + group + "/attestationmechanism").body("{}").send(200);
        call("PUT", "/certificates/contract-x509-unverified").body(upload(root.pem())).send(201);
        call("PUT", "/enrollmentGroups/" + group).header("If-Match", "*").body("{\"enrollmentGroupId\":\"" + group
                + "\",\"attestation\":{\"type\":\"x509\",\"x509\":{\"caReferences\":{\"primary\":"
                + "\"contract-x509-unverified\"}}}}").send(400, 400004);
    }

    // ================================================================ bulk operations (built in parallel)

    @Test
    @Exercises({"POST /enrollments", "GET /enrollments/{registrationId}"})
    void bulkEnrollments_createUpdateDeleteAndErrors() throws Exception {
        ArrayNode items = MAPPER.createArrayNode();
        for (String id : List.of("contract-bulk-1", "contract-bulk-2")) {
            items.add(MAPPER.readTree(symmetricKeyEnrollment(id)));
        }

        JsonNode created = call("POST", "/enrollments").body(bulk("create", "enrollments", items)).send(200).json();
        assertThat(created.path("isSuccessful").asBoolean()).isTrue();
        assertThat(created.path("errors")).isEmpty();
        JsonNode again = call("POST", "/enrollments").body(bulk("create", "enrollments", items)).send(200).json();
        assertThat(again.path("isSuccessful").asBoolean()).isFalse();
        assertThat(again.path("errors")).hasSize(2);
        assertThat(again.path("errors").get(0).path("errorCode").asInt() / 1000).isEqualTo(409);

        ArrayNode stored = MAPPER.createArrayNode();
        stored.add(call("GET", "/enrollments/contract-bulk-1").send(200).json());
        stored.add(call("GET", "/enrollments/contract-bulk-2").send(200).json());
        assertThat(call("POST", "/enrollments").body(bulk("update", "enrollments", stored)).send(200).json()
                .path("isSuccessful").asBoolean()).isTrue();
        JsonNode stale = call("POST", "/enrollments").body(bulk("updateIfMatchETag", "enrollments", stored))
                .send(200).json();
        assertThat(stale.path("isSuccessful").asBoolean()).isFalse();
        assertThat(stale.path("errors").get(0).path("errorCode").asInt() / 1000).isEqualTo(412);
        assertThat(call("POST", "/enrollments").body(bulk("delete", "enrollments", items)).send(200).json()
                .path("isSuccessful").asBoolean()).isTrue();
        call("GET", "/enrollments/contract-bulk-1").send(404, 404201);

        ArrayNode eleven = MAPPER.createArrayNode();
        for (int i = 0; i < 11; i++) {
            eleven.add(MAPPER.readTree(symmetricKeyEnrollment("contract-bulk-x" + i)));
        }
        call("POST", "/enrollments").body(bulk("create", "enrollments", eleven))
                .expectInvalidRequest("validation.request.body.schema.maxItems").send(400, -1);
        call("POST", "/enrollments").body(bulk("upsert", "enrollments", items))
                .expectInvalidRequest("validation.request.body.schema.enum").send(400, -1);
        call("POST", "/enrollments").auth(null).body(bulk("create", "enrollments", items))
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
    }

    @Test
    @Exercises({"POST /enrollmentGroups"})
    void bulkEnrollmentGroups_createDeleteAndErrors() throws Exception {
        ArrayNode items = MAPPER.createArrayNode();
        for (String id : List.of("contract-bulk-g1", "contract-bulk-g2")) {
            items.add(MAPPER.readTree(symmetricKeyGroup(id)));
        }

        assertThat(call("POST", "/enrollmentGroups").body(bulk("create", "enrollmentGroups", items)).send(200)
                .json().path("isSuccessful").asBoolean()).isTrue();
        JsonNode again = call("POST", "/enrollmentGroups").body(bulk("create", "enrollmentGroups", items)).send(200)
                .json();
        assertThat(again.path("errors").get(0).path("enrollmentGroupId").asText()).startsWith("contract-bulk-g");
        assertThat(call("POST", "/enrollmentGroups").body(bulk("delete", "enrollmentGroups", items)).send(200)
                .json().path("errors")).isEmpty();
        call("POST", "/enrollmentGroups").body("{\"mode\":\"create\",\"enrollmentGroups\":[]}")
                .expectInvalidRequest("validation.request.body.schema.minItems").send(400, -1);
        call("POST", "/enrollmentGroups").auth(null).body(bulk("create", "enrollmentGroups", items))
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
    }

    // ================================================================ shared access policies (built in parallel)

    @Test
    @Exercises({"GET /authorizationPolicies", "PUT /authorizationPolicies/{keyName}",
        "GET /authorizationPolicies/{keyName}", "POST /authorizationPolicies/{keyName}/listkeys",
        "POST /authorizationPolicies/{keyName}/regenerateKey", "DELETE /authorizationPolicies/{keyName}",
        "GET /enrollments/{registrationId}", "PUT /enrollments/{registrationId}"})
    void policies_lifecycleRightsAndErrors() throws Exception {
        String name = "contract-reader";
        assertThat(call("GET", "/authorizationPolicies").send(200).json().path("value").findValuesAsText("keyName"))
                .contains(policyName);

        JsonNode created = call("PUT", "/authorizationPolicies/" + name)
                .body("{\"keyName\":\"" + name + "\",\"rights\":\"EnrollmentRead\"}").send(200).json();
        assertThat(created.path("primaryKey").asText()).isNotBlank();
        call("PUT", "/authorizationPolicies/" + name).body("{\"rights\":\"EnrollmentRead\"}").send(409, -1);
        call("PUT", "/authorizationPolicies/" + name).header("If-Match", "\"stale\"")
                .body("{\"rights\":\"EnrollmentRead\"}").send(412, -1);
        call("PUT", "/authorizationPolicies/" + name).header("If-Match", "*")
                .body("{\"rights\":[\"EnrollmentRead\",\"RegistrationStatusRead\"]}").send(200);
        call("PUT", "/authorizationPolicies/contract-bad").body("{\"rights\":\"NoSuchRight\"}").send(400, -1);

        JsonNode fetched = call("GET", "/authorizationPolicies/" + name).send(200).json();
        assertThat(fetched.has("primaryKey")).as("GET shows no keys").isFalse();
        call("GET", "/authorizationPolicies/contract-none").send(404, -1);
        JsonNode keys = call("POST", "/authorizationPolicies/" + name + "/listkeys").send(200).json();
        call("POST", "/authorizationPolicies/contract-none/listkeys").send(404, -1);
        JsonNode regenerated = call("POST", "/authorizationPolicies/" + name + "/regenerateKey")
                .body("{\"keyName\":\"primary\"}").send(200).json();
        assertThat(regenerated.path("primaryKey").asText()).isNotEqualTo(keys.path("primaryKey").asText());
        assertThat(regenerated.path("secondaryKey").asText()).isEqualTo(keys.path("secondaryKey").asText());
        call("POST", "/authorizationPolicies/" + name + "/regenerateKey").body("{\"keyName\":\"tertiary\"}")
                .expectInvalidRequest("validation.request.body.schema.enum").send(400, -1);

        // The rights named in the document: EnrollmentRead reads enrollments but cannot write them.
        call("PUT", "/enrollments/contract-pol-enr").body(symmetricKeyEnrollment("contract-pol-enr")).send(200);
        byte[] readerKey = Base64.getDecoder().decode(regenerated.path("primaryKey").asText());
        String reader = SasSigner.serviceToken("localhost", name, readerKey, Instant.now().plusSeconds(600));
        call("GET", "/enrollments/contract-pol-enr").auth(reader).send(200);
        call("PUT", "/enrollments/contract-pol-enr").auth(reader).header("If-Match", "*")
                .body(symmetricKeyEnrollment("contract-pol-enr")).send(401, 401002);
        call("GET", "/authorizationPolicies").auth(reader).send(401, 401002);

        call("DELETE", "/authorizationPolicies/" + name).header("If-Match", "\"stale\"").send(412, -1);
        call("DELETE", "/authorizationPolicies/" + name).send(204);
        call("DELETE", "/authorizationPolicies/" + name).send(404, -1);
        call("DELETE", "/authorizationPolicies/" + policyName).send(409, -1);
    }

    // ================================================================ linked hubs and allocation settings

    @Test
    @Exercises({"GET /linkedHubs", "PUT /linkedHubs/{hostName}", "GET /linkedHubs/{hostName}",
        "DELETE /linkedHubs/{hostName}", "GET /settings/allocation", "PUT /settings/allocation"})
    void linkedHubs_lifecycleSecretsAndErrors() throws Exception {
        assertThat(call("GET", "/linkedHubs").send(200).json().path("value").findValuesAsText("hostName"))
                .contains(HUB);
        String name = "contract-hub.example.com";
        JsonNode created = call("PUT", "/linkedHubs/" + name).body("{\"allocationWeight\":3,\"applyAllocationPolicy\":false,\"location\":"
                + "\"westeurope\",\"connector\":{\"type\":\"webhook\",\"url\":\"https://backend.example.com/h?"
                + "code=k\",\"secret\":\"0123456789abcdef0123\"}}").send(200).json();
        assertThat(created.path("connector").path("secret").asText()).isEqualTo("****");
        assertThat(created.path("connector").path("url").asText()).isEqualTo("https://backend.example.com/h?****");
        call("PUT", "/linkedHubs/" + name).body("{}").send(409, 409601);
        call("PUT", "/linkedHubs/" + name).header("If-Match", "\"stale\"").body("{}").send(412, 412601);
        call("PUT", "/linkedHubs/" + name).header("If-Match", created.path("etag").asText())
                .body(created.toString()).send(200);
        call("PUT", "/linkedHubs/contract-bad.example.com").body("{\"allocationWeight\":0}")
                .expectInvalidRequest("validation.request.body.schema.minimum").send(400, 400004);
        call("PUT", "/linkedHubs/localhost").body("{}").send(400, 400004);
        JsonNode builtIn = call("PUT", "/linkedHubs/contract-new.example.com")
                .body("{\"applyAllocationPolicy\":false}").send(200).json();
        assertThat(builtIn.path("certificateCoversHostName").asBoolean(true)).isFalse();
        assertThat(call("GET", "/linkedHubs/" + HUB).send(200).json().path("certificateCoversHostName")
                .asBoolean()).isTrue();
        call("GET", "/linkedHubs/nope.example.com").send(404, 404601);
        call("DELETE", "/linkedHubs/" + name).header("If-Match", "\"stale\"").send(412, 412601);
        call("DELETE", "/linkedHubs/" + name).send(204);
        call("DELETE", "/linkedHubs/contract-new.example.com").send(204);
        call("DELETE", "/linkedHubs/" + name).send(404, 404601);

        assertThat(call("GET", "/settings/allocation").send(200).json().path("allocationPolicy").asText())
                .isEqualTo("hashed");
        assertThat(call("PUT", "/settings/allocation").body("{\"allocationPolicy\":\"GeoLatency\"}").send(200)
                .json().path("allocationPolicy").asText()).isEqualTo("geoLatency");
        call("PUT", "/settings/allocation").body("{\"allocationPolicy\":\"custom\"}").send(400, 400004);
        call("PUT", "/settings/allocation").body("{\"allocationPolicy\":\"hashed\"}").send(200);
    }

    // ================================================================ the document and answers outside operations

    @Test
    @Exercises({"GET /openapi.yaml", "GET /openapi.json"})
    void document_isServedOpenly_asTheResource_andAsEquivalentJson() throws Exception {
        Reply yaml = call("GET", "/openapi.yaml").auth(null).apiVersion(null).send(200);
        Reply json = call("GET", "/openapi.json").auth(null).apiVersion(null).send(200);

        assertThat(yaml.header("Content-Type")).isEqualTo("application/yaml; charset=utf-8");
        assertThat(yaml.body()).isEqualTo(documentYaml);
        assertThat(json.header("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(json.json()).isEqualTo(new YAMLMapper().readTree(documentYaml));
        // With credentials and a version too: nothing changes.
        assertThat(call("GET", "/openapi.yaml").send(200).body()).isEqualTo(documentYaml);
    }

    @Test
    void outsideOperations_unknownPathIs404_andUndocumentedMethodIs405_withTheErrorBody() throws Exception {
        call("GET", "/no/such/thing").expectOutsideOperations().send(404, 404000);
        call("GET", "/enrollments/a/b/c").expectOutsideOperations().send(404, 404000);
        call("GET", "/enrollments/contract-any/attestationmechanism").expectOutsideOperations().send(405, 405000);
        call("PATCH", "/enrollments/contract-any").body("{}").expectOutsideOperations().send(405, 405000);
        call("POST", "/certificates/contract-any").body("{}").expectOutsideOperations().send(405, 405000);
        call("GET", "/certificates/contract-any/verify").expectOutsideOperations().send(405, 405000);
        call("GET", "/registrations/contract-any/query").expectOutsideOperations().send(405, 405000);
        call("POST", "/openapi.yaml").auth(null).apiVersion(null).expectOutsideOperations().send(405, 405000);
        call("PUT", "/hubs/" + HUB + "/twins/contract-any").body("{}").expectOutsideOperations().send(405, 405000);
        call("GET", "/hubs/" + HUB + "/gadgets").expectOutsideOperations().send(404, 404000);
    }

    // ================================================================ built-in hub (operator side)

    @Test
    @Exercises({"PUT /enrollments/{registrationId}", "GET /hubs/{hubName}/devices",
        "GET /hubs/{hubName}/devices/{deviceId}", "DELETE /hubs/{hubName}/devices/{deviceId}",
        "GET /hubs/{hubName}/twins/{deviceId}", "PATCH /hubs/{hubName}/twins/{deviceId}"})
    void hub_devicesAndTwins_lifecycleAndErrors() throws Exception {
        String id = "contract-hub-1";
        String key = call("PUT", "/enrollments/" + id).body(enrollment(id, "\"initialTwin\":{\"tags\":{\"site\":"
                + "\"plant-7\"},\"properties\":{\"desired\":{\"interval\":30}}}")).send(200).json()
                .at("/attestation/symmetricKey/primaryKey").asText();
        assertThat(registerOverMqtt(id, Base64.getDecoder().decode(key)).path("status").asText()).isEqualTo("assigned");
        String device = "/hubs/" + HUB + "/devices/" + id;
        String twin = "/hubs/" + HUB + "/twins/" + id;

        Reply page = call("GET", "/hubs/" + HUB + "/devices").header("x-ms-max-item-count", "1").send(200);
        assertThat(page.header("x-ms-item-type")).isEqualTo("Device");
        call("GET", "/hubs/" + HUB + "/devices").header("x-ms-continuation", "%%").send(400, 400004);
        call("GET", "/hubs/nohub.example.com/devices").send(404, 404502);
        call("GET", "/hubs/" + HUB + "/devices").auth(wrongKeyToken()).send(401, 401002);
        assertThat(call("GET", device).send(200).body()).doesNotContain(key);
        call("GET", "/hubs/" + HUB + "/devices/contract-nobody").send(404, 404501);

        Reply read = call("GET", twin).send(200);
        assertThat(read.header("ETag")).isEqualTo("\"" + read.json().path("etag").asText() + "\"");
        Reply patched = call("PATCH", twin).header("If-Match", read.header("ETag"))
                .body("{\"tags\":{\"site\":null},\"properties\":{\"desired\":{\"interval\":5}}}").send(200);
        assertThat(patched.json().at("/properties/desired/$version").asLong()).isEqualTo(2);
        call("PATCH", twin).header("If-Match", read.header("ETag")).body("{\"tags\":{\"a\":1}}")
                .send(412, 412501);
        call("PATCH", twin).body("{\"tags\":{\"bad key\":1}}").send(400, 400004);
        call("PATCH", twin).body("{\"properties\":{\"reported\":{\"fw\":1}}}")
                .expectInvalidRequest("validation.request.body.schema.additionalProperties").send(400, 400004);
        call("PATCH", twin).body("{\"tags\":").expectInvalidRequest("validation.request.body.schema.invalidJson")
                .send(400, 400001);
        call("PATCH", twin).body("{\"tags\":{}}").contentType("text/plain")
                .expectInvalidRequest("validation.request.contentType.notAllowed").send(415, 415001);
        call("PATCH", "/hubs/" + HUB + "/twins/contract-nobody").body("{\"tags\":{\"a\":1}}").send(404, 404501);
        call("GET", "/hubs/nohub.example.com/twins/" + id).send(404, 404502);

        call("DELETE", device).send(204);
        call("DELETE", device).send(404, 404501);
        call("GET", twin).send(404, 404501);
    }

    @Test
    @Exercises({"GET /hubs/{hubName}/messages"})
    void hub_messages_afterACursorAndErrors() throws Exception {
        long after = call("GET", "/hubs/" + HUB + "/messages").query("limit", "1000").send(200).json()
                .path("next").asLong();
        server.hub().appendMessage(HUB, "contract-sender", Map.of("$.ct", "text/plain", "seq", "1"),
                "hello".getBytes(StandardCharsets.UTF_8));

        JsonNode page = call("GET", "/hubs/" + HUB + "/messages").query("after", Long.toString(after))
                .query("limit", "10").send(200).json();
        assertThat(page.path("messages").size()).isEqualTo(1);
        assertThat(page.at("/messages/0/body").asText()).isEqualTo("aGVsbG8=");
        call("GET", "/hubs/" + HUB + "/messages").query("limit", "0")
                .expectInvalidRequest("validation.request.parameter.schema.minimum").send(400, 400004);
        call("GET", "/hubs/" + HUB + "/messages").query("after", "x")
                .expectInvalidRequest("validation.request.parameter.schema.type").send(400, 400004);
        call("GET", "/hubs/nohub.example.com/messages").send(404, 404502);
        call("GET", "/hubs/" + HUB + "/messages").auth(null)
                .expectInvalidRequest("validation.request.security.missing").send(401, 401002);
    }

    // ================================================================ coverage

    @Test
    void everyDocumentedOperation_isDeclaredByAContractTest() {
        Set<String> declared = new TreeSet<>();
        for (Method m : OpenApiContractIT.class.getDeclaredMethods()) {
            Exercises e = m.getAnnotation(Exercises.class);
            if (e != null) {
                declared.addAll(Arrays.asList(e.value()));
            }
        }

        assertThat(declared).containsExactlyInAnyOrderElementsOf(documentedOperations());
    }

    @AfterAll
    static void everyDocumentedOperationWasExercised_whenTheWholeClassRan() {
        Set<String> allTests = Arrays.stream(OpenApiContractIT.class.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(Test.class)).map(Method::getName).collect(Collectors.toSet());
        if (!testsRun.containsAll(allTests)) {
            return; // a method filter ran part of the class: the per-test checks hold for what ran
        }
        assertThat(received.keySet()).as("operations exercised").containsExactlyInAnyOrderElementsOf(
                documentedOperations());
    }

    private static Set<String> documentedOperations() {
        Set<String> ops = new TreeSet<>();
        document.getPaths().forEach((path, item) -> item.readOperationsMap()
                .forEach((method, op) -> ops.add(method + " " + path)));
        return ops;
    }

    // ================================================================ HTTP, validation and recording

    private static Call call(String method, String path) {
        return new Call(method, path);
    }

    /** One HTTPS request, authorised and versioned unless told otherwise, validated against the document. */
    private static final class Call {
        private final String method;
        private final String path;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private final Map<String, String> query = new LinkedHashMap<>();
        private @Nullable String body;
        private @Nullable String authorization = token();
        private @Nullable String apiVersion = API;
        private @Nullable String contentType = "application/json";
        private final Set<String> expectedRequestProblems = new LinkedHashSet<>();
        private boolean outside;

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

        Call contentType(@Nullable String value) {
            this.contentType = value;
            return this;
        }

        Call header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        /** A query parameter besides {@code api-version} (sent URL-encoded). */
        Call query(String name, String value) {
            query.put(name, value);
            return this;
        }

        /** This request breaks the document on purpose: the validator must report this problem (and no other). */
        Call expectInvalidRequest(String validatorKey) {
            expectedRequestProblems.add(validatorKey);
            return this;
        }

        /** No operation exists for this method and path: the validator must say so. */
        Call expectOutsideOperations() {
            this.outside = true;
            return this;
        }

        /** Sends; asserts the status ({@code errorCode} too when positive) and the contract. */
        Reply send(int status) throws IOException, InterruptedException {
            return send(status, 0);
        }

        Reply send(int status, int errorCode) throws IOException, InterruptedException {
            Map<String, String> sent = new LinkedHashMap<>(headers);
            if (body != null && contentType != null) {
                sent.put("Content-Type", contentType);
            }
            if (authorization != null) {
                sent.put("Authorization", authorization);
            }
            StringBuilder uri = new StringBuilder(base + path + (apiVersion == null ? "" : "?api-version=" + apiVersion));
            query.forEach((k, v) -> uri.append(uri.indexOf("?") < 0 ? '?' : '&').append(k).append('=')
                    .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri.toString())).timeout(Duration.ofSeconds(20))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            sent.forEach(b::header);
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            Reply reply = new Reply(r.statusCode(), r.headers().map(), r.body());
            String what = method + " " + path + " → " + reply.status() + " " + abbreviate(reply.body());

            assertThat(reply.status()).as(what).isEqualTo(status);
            if (status >= 400) {
                assertErrorBody(reply, status, errorCode, what);
            }
            checkContract(sent, reply, what);
            return reply;
        }

        private void checkContract(Map<String, String> sent, Reply reply, String what) {
            SimpleRequest.Builder request = new SimpleRequest.Builder(method, path);
            if (apiVersion != null) {
                request.withQueryParam("api-version", apiVersion);
            }
            query.forEach(request::withQueryParam);
            sent.forEach(request::withHeader);
            if (body != null) {
                request.withBody(body);
            }
            List<String> requestProblems = errors(validator.validateRequest(request.build()));
            String operation = operationOf(method, path);
            if (outside) {
                assertThat(operation).as("no documented operation for " + what).isNull();
                assertThat(requestProblems).as(what).anyMatch(p -> p.startsWith("validation.request.path.missing")
                        || p.startsWith("validation.request.operation.notAllowed"));
                assertThat(String.valueOf(reply.status())).as(what).isIn(OUTSIDE_STATUSES);
                List<String> bodyProblems = errors(schemas.validate(reply.body(),
                        document.getComponents().getSchemas().get("ErrorBody"), "response.body"));
                assertThat(bodyProblems).as("ErrorBody of " + what).isEmpty();
                return;
            }
            assertThat(operation).as("a documented operation for " + what).isNotNull();
            if (expectedRequestProblems.isEmpty()) {
                assertThat(requestProblems).as("request of " + what).isEmpty();
            } else {
                assertThat(requestProblems).as("request of " + what).isNotEmpty().allSatisfy(p ->
                        assertThat(expectedRequestProblems).anyMatch(p::startsWith));
            }
            SimpleResponse.Builder response = new SimpleResponse.Builder(reply.status());
            reply.headers().forEach((name, values) -> response.withHeader(name, values));
            if (!reply.body().isEmpty()) {
                response.withBody(reply.body());
            }
            List<String> responseProblems = errors(validator.validateResponse(path, Request.Method.valueOf(method),
                    response.build()));
            assertThat(responseProblems).as("response of " + what).isEmpty();
            Operation op = document.getPaths().get(operation.substring(operation.indexOf(' ') + 1))
                    .readOperationsMap().get(PathItem.HttpMethod.valueOf(method));
            assertThat(op.getResponses()).as("documented statuses of " + operation)
                    .containsKey(String.valueOf(reply.status()));
            received.computeIfAbsent(operation, k -> ConcurrentHashMap.newKeySet()).add(reply.status());
            if (currentExercised != null) {
                currentExercised.add(operation);
            }
        }
    }

    private record Reply(int status, Map<String, List<String>> headers, String body) {

        JsonNode json() throws IOException {
            return MAPPER.readTree(body);
        }

        @Nullable String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** "key: message" of each error of a validation report. */
    private static List<String> errors(ValidationReport report) {
        List<String> out = new ArrayList<>();
        for (ValidationReport.Message m : report.getMessages()) {
            if (m.getLevel() == ValidationReport.Level.ERROR) {
                out.add(m.getKey() + ": " + m.getMessage());
            }
        }
        return out;
    }

    /** The documented operation ("METHOD /template") a request addresses, literal segments winning. */
    private static @Nullable String operationOf(String method, String path) {
        String[] segments = path.substring(1).split("/");
        String best = null;
        int bestLiterals = -1;
        for (Map.Entry<String, PathItem> e : document.getPaths().entrySet()) {
            String[] template = e.getKey().substring(1).split("/");
            if (template.length != segments.length) {
                continue;
            }
            int literals = 0;
            boolean matches = true;
            for (int i = 0; i < template.length && matches; i++) {
                if (template[i].startsWith("{")) {
                    continue;
                }
                matches = template[i].equals(segments[i]);
                literals++;
            }
            Map<PathItem.HttpMethod, Operation> ops = e.getValue().readOperationsMap();
            if (matches && literals > bestLiterals && ops.containsKey(PathItem.HttpMethod.valueOf(method))) {
                best = method + " " + e.getKey();
                bestLiterals = literals;
            }
        }
        return best;
    }

    private static void assertErrorBody(Reply r, int status, int errorCode, String what) throws IOException {
        assertThat(r.header("Content-Type")).as(what).isEqualTo("application/json; charset=utf-8");
        assertThat(r.header("x-ms-error-code")).as(what).isNotBlank();
        JsonNode body = r.json();
        if (errorCode > 0) {
            assertThat(body.path("errorCode").asInt()).as(what).isEqualTo(errorCode);
        } else {
            assertThat(body.path("errorCode").asInt() / 1000).as(what).isEqualTo(status);
        }
        assertThat(body.path("message").asText()).as(what).isNotBlank();
    }

    private static String abbreviate(String text) {
        return text.length() <= 400 ? text : text.substring(0, 400) + "...";
    }

    // ================================================================ bodies, tokens, certificates, devices

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

    private static String bulk(String mode, String collection, ArrayNode items) {
        ObjectNode body = MAPPER.createObjectNode().put("mode", mode);
        body.set(collection, items);
        return body.toString();
    }

    private static String upload(String certificate) {
        ObjectNode properties = MAPPER.createObjectNode().put("certificate", certificate).put("isVerified", false);
        return MAPPER.createObjectNode().set("properties", properties).toString();
    }

    private static String verifyBody(String certificate) {
        return MAPPER.createObjectNode().put("certificate", certificate).toString();
    }

    private static String token() {
        return SasSigner.serviceToken("localhost", policyName, policyKey, Instant.now().plusSeconds(3600));
    }

    private static String wrongKeyToken() {
        byte[] wrongKey = new byte[32];
        new SecureRandom().nextBytes(wrongKey);
        return SasSigner.serviceToken("localhost", policyName, wrongKey, Instant.now().plusSeconds(3600));
    }

    /** A group member's key: base64 HMAC-SHA256 of the registration id under the group key. */
    private static byte[] deriveDeviceKey(String groupKey, String registrationId)
            throws NoSuchAlgorithmException, InvalidKeyException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(groupKey), "HmacSHA256"));
        return mac.doFinal(registrationId.getBytes(StandardCharsets.UTF_8));
    }

    /** A self-signed CA with its key. */
    private record Ca(X509Certificate cert, KeyPair keys, String pem) {

        static Ca root(String cn) {
            KeyPair keys = Certificates.newEcKeyPair();
            X509Certificate cert = Certificates.template(Certificates.commonName(cn), keys.getPublic())
                    .selfSigned(keys.getPrivate()).ca().validity(Instant.now().minus(Duration.ofMinutes(5)),
                            Duration.ofDays(30)).issue();
            return new Ca(cert, keys, Certificates.toPem(cert));
        }

        /** An end-entity certificate signed by this CA: a device, or a verification certificate (CN = the code). */
        String leafPem(String cn) {
            KeyPair leafKeys = Certificates.newEcKeyPair();
            X509Certificate leaf = Certificates.template(Certificates.commonName(cn), leafKeys.getPublic())
                    .issuedBy(cert, keys.getPrivate()).validity(Instant.now().minus(Duration.ofMinutes(5)),
                            Duration.ofDays(1)).extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH).issue();
            return Certificates.toPem(leaf);
        }
    }

    /** Registers a symmetric-key device the way the Java device SDK does over MQTT; returns the final status. */
    private static JsonNode registerOverMqtt(String registrationId, byte[] key) throws Exception {
        String scope = server.info().idScope();
        String password = SasSigner.deviceToken(scope, registrationId, key, Instant.now().plusSeconds(3600));
        Mqtt3BlockingClient client = MqttClient.builder().useMqttVersion3().identifier(registrationId)
                .serverHost("localhost").serverPort(server.info().mqttPort())
                .sslConfig().trustManagerFactory(trustingServerCa()).applySslConfig()
                .buildBlocking();
        client.connectWith().simpleAuth()
                .username(scope + "/registrations/" + registrationId
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
