package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.service.AccessPolicy;
import io.opendps.core.service.AccessRight;
import io.opendps.core.service.Keys;
import io.opendps.core.store.jdbc.DatabaseOptions;
import io.opendps.core.store.jdbc.JdbcDatabase;
import io.opendps.core.store.jdbc.JdbcSettingsStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk operations ({@code POST /enrollments}, {@code POST /enrollmentGroups}, {@code dps-service-api.md} §7) over
 * real HTTPS against a real server with its H2 store: every mode, a mix of successes and per-item failures (each
 * with the single call's code), the whole-request refusals (bad JSON, bad mode, more than 10 items, duplicate ids)
 * and authorisation, each checked to leave the stored enrollments as they were. One server for the class, started
 * with an extra read-only policy ({@code EnrollmentRead} only); every test uses its own ids.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BulkApiIT {

    private static final String API = "2021-10-01";
    private static final String JSON_UTF8 = "application/json; charset=utf-8";
    private static final String READER = "enrollmentreader";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static HttpClient http;
    static String base;
    static String ownerName;
    static byte[] ownerKey;
    static byte[] readerKey;

    @BeforeAll
    static void start() {
        AccessPolicy reader = new AccessPolicy(READER, Keys.generate(), Keys.generate(),
                EnumSet.of(AccessRight.ENROLLMENT_READ));
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dataDir.resolve("db")))) {
            new JdbcSettingsStore(db).policyIfAbsent(reader);
        }
        readerKey = Base64.getDecoder().decode(reader.primaryKey());
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        http = HttpClient.newBuilder().sslContext(TlsMaterial.trustingClientContext(server.info().caCertificate()))
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        base = "https://localhost:" + server.info().httpsPort();
        Map<String, String> cs = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
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

    // ---------------------------------------------------------------- every mode, all succeeding

    @Test
    void enrollments_createUpdateUpdateIfMatchEtagDelete_allSucceed() throws Exception {
        Reply created = bulk("/enrollments", "create", "enrollments", enrollment("cycle-1"), enrollment("cycle-2"));

        assertSuccess(created);
        assertThat(created.body()).doesNotContain("primaryKey").doesNotContain("attestation");
        JsonNode one = get("/enrollments/cycle-1").json();
        JsonNode two = get("/enrollments/cycle-2").json();
        assertThat(attestation("/enrollments/cycle-1").at("/symmetricKey/primaryKey").asText()).hasSize(88);

        // As the .NET e2e does: send the GET results back, first with update, then with updateIfMatchETag.
        ((ObjectNode) one).put("provisioningStatus", "disabled");
        assertSuccess(bulk("/enrollments", "update", "enrollments", one.toString(), two.toString()));
        JsonNode oneUpdated = get("/enrollments/cycle-1").json();
        assertThat(oneUpdated.path("provisioningStatus").asText()).isEqualTo("disabled");
        assertThat(oneUpdated.path("etag").asText()).isNotEqualTo(one.path("etag").asText());

        ((ObjectNode) oneUpdated).put("provisioningStatus", "enabled");
        assertSuccess(bulk("/enrollments", "updateIfMatchETag", "enrollments", oneUpdated.toString()));
        JsonNode oneAgain = get("/enrollments/cycle-1").json();
        assertThat(oneAgain.path("provisioningStatus").asText()).isEqualTo("enabled");

        assertSuccess(bulk("/enrollments", "delete", "enrollments", oneAgain.toString(),
                "{\"registrationId\":\"cycle-2\"}"));
        assertError(get("/enrollments/cycle-1"), 404, 404201);
        assertError(get("/enrollments/cycle-2"), 404, 404201);
    }

    @Test
    void enrollments_update_createsAbsentItems() throws Exception {
        assertSuccess(bulk("/enrollments", "update", "enrollments", enrollment("upsert-1")));

        assertThat(get("/enrollments/upsert-1").status()).isEqualTo(200);
    }

    @Test
    void groups_lowerCasePathAndJavaSdkVersion_createAndDelete() throws Exception {
        Reply created = call("POST", "/enrollmentgroups").apiVersion("2019-03-31").body(body("create",
                "enrollmentGroups", group("bulk-fleet-1"), group("bulk-fleet-2"))).send();

        assertSuccess(created);
        assertThat(get("/enrollmentGroups/bulk-fleet-1").status()).isEqualTo(200);
        assertThat(get("/enrollmentGroups/bulk-fleet-2").status()).isEqualTo(200);

        assertSuccess(bulk("/EnrollmentGroups", "delete", "enrollmentGroups",
                "{\"enrollmentGroupId\":\"bulk-fleet-1\"}", "{\"enrollmentGroupId\":\"bulk-fleet-2\"}"));
        assertError(get("/enrollmentGroups/bulk-fleet-1"), 404, 404204);
    }

    // ---------------------------------------------------------------- per-item failures: 200, data untouched

    @Test
    void create_mixOfSuccessAndFailures_reportsEachFailedItem_andLeavesThemUntouched() throws Exception {
        assertThat(call("PUT", "/enrollments/mix-existing").body(enrollment("mix-existing")).send().status())
                .isEqualTo(200);
        Stored before = stored("/enrollments/mix-existing");

        Reply r = bulk("/enrollments", "create", "enrollments", enrollment("mix-new"), enrollment("mix-existing"),
                "{\"registrationId\":\"mix-bad-key\",\"attestation\":{\"type\":\"symmetricKey\","
                        + "\"symmetricKey\":{\"primaryKey\":\"not base64!\"}}}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode result = r.json();
        assertThat(result.path("isSuccessful").isBoolean()).isTrue();
        assertThat(result.path("isSuccessful").asBoolean()).isFalse();
        assertThat(errors(result)).containsExactly(tuple("mix-existing", 409201), tuple("mix-bad-key", 400004));
        assertThat(result.at("/errors/0/errorStatus").asText()).contains("'mix-existing' already exists");
        assertThat(result.at("/errors/1/errorStatus").asText()).contains("symmetricKey.primaryKey");
        assertThat(result.at("/errors/0").has("enrollmentGroupId")).isFalse();
        assertThat(stored("/enrollments/mix-existing")).isEqualTo(before);
        assertError(get("/enrollments/mix-bad-key"), 404, 404201);
        assertThat(get("/enrollments/mix-new").status()).isEqualTo(200);
    }

    @Test
    void updateIfMatchEtag_staleEtagIs412_missingEtagIs400_andBothStayUntouched() throws Exception {
        for (String id : List.of("etag-ok", "etag-stale", "etag-none")) {
            assertThat(call("PUT", "/enrollments/" + id).body(enrollment(id)).send().status()).isEqualTo(200);
        }
        Stored stale = stored("/enrollments/etag-stale");
        Stored none = stored("/enrollments/etag-none");
        ObjectNode ok = (ObjectNode) get("/enrollments/etag-ok").json();
        ok.put("provisioningStatus", "disabled");

        Reply r = bulk("/enrollments", "updateIfMatchETag", "enrollments", ok.toString(),
                enrollment("etag-stale", "\"provisioningStatus\":\"disabled\",\"etag\":\"\\\"0000\\\"\""),
                enrollment("etag-none", "\"provisioningStatus\":\"disabled\""));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(errors(r.json())).containsExactly(tuple("etag-stale", 412201), tuple("etag-none", 400004));
        assertThat(r.json().at("/errors/1/errorStatus").asText()).contains("no etag");
        assertThat(get("/enrollments/etag-ok").json().path("provisioningStatus").asText()).isEqualTo("disabled");
        assertThat(stored("/enrollments/etag-stale")).isEqualTo(stale);
        assertThat(stored("/enrollments/etag-none")).isEqualTo(none);
    }

    @Test
    void delete_absentIs404_staleEtagIs412_andTheStaleOneStays() throws Exception {
        assertThat(call("PUT", "/enrollments/del-stale").body(enrollment("del-stale")).send().status())
                .isEqualTo(200);
        assertThat(call("PUT", "/enrollments/del-ok").body(enrollment("del-ok")).send().status()).isEqualTo(200);
        Stored before = stored("/enrollments/del-stale");

        Reply r = bulk("/enrollments", "delete", "enrollments", "{\"registrationId\":\"del-ok\"}",
                "{\"registrationId\":\"del-absent\"}", "{\"registrationId\":\"del-stale\",\"etag\":\"\\\"0000\\\"\"}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(errors(r.json())).containsExactly(tuple("del-absent", 404201), tuple("del-stale", 412201));
        assertThat(r.json().at("/errors/0/errorStatus").asText()).isEqualTo("enrollment 'del-absent' not found");
        assertError(get("/enrollments/del-ok"), 404, 404201);
        assertThat(stored("/enrollments/del-stale")).isEqualTo(before);
    }

    @Test
    void groups_duplicateCreateAndTpm_reportEnrollmentGroupIds() throws Exception {
        assertThat(call("PUT", "/enrollmentGroups/grp-existing").body(group("grp-existing")).send().status())
                .isEqualTo(200);
        Stored before = stored("/enrollmentGroups/grp-existing");

        Reply r = bulk("/enrollmentGroups", "create", "enrollmentGroups", group("grp-existing"),
                "{\"enrollmentGroupId\":\"grp-tpm\",\"attestation\":{\"type\":\"tpm\",\"tpm\":"
                        + "{\"endorsementKey\":\"AToAAQAL\"}}}", group("grp-new"));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode result = r.json();
        List<Object> ids = new ArrayList<>();
        result.path("errors").forEach(e -> ids.add(tuple(e.path("enrollmentGroupId").asText(),
                e.path("errorCode").asInt(), e.has("registrationId"))));
        assertThat(ids).containsExactly(tuple("grp-existing", 409204, false), tuple("grp-tpm", 400004, false));
        assertThat(stored("/enrollmentGroups/grp-existing")).isEqualTo(before);
        assertError(get("/enrollmentGroups/grp-tpm"), 404, 404204);
        assertThat(get("/enrollmentGroups/grp-new").status()).isEqualTo(200);
    }

    // ---------------------------------------------------------------- whole-request refusals: 400, nothing written

    @Test
    void elevenItems_is400WithTheLimitCode_andWritesNothing() throws Exception {
        String[] items = IntStream.rangeClosed(1, 11).mapToObj(i -> enrollment("limit-" + i)).toArray(String[]::new);

        String message = assertError(bulk("/enrollments", "create", "enrollments", items), 400, 400220);

        assertThat(message).contains("at most 10").contains("Azure DPS limit");
        assertError(get("/enrollments/limit-1"), 404, 404201);
        assertError(get("/enrollments/limit-11"), 404, 404201);
    }

    @Test
    void tenItems_areAccepted() throws Exception {
        String[] items = IntStream.rangeClosed(1, 10).mapToObj(i -> enrollment("ten-" + i)).toArray(String[]::new);

        assertSuccess(bulk("/enrollments", "create", "enrollments", items));
        assertThat(get("/enrollments/ten-10").status()).isEqualTo(200);
    }

    @Test
    void unknownOrMissingMode_is400ListingTheModes_andWritesNothing() throws Exception {
        String unknown = assertError(bulk("/enrollments", "upsert", "enrollments", enrollment("mode-1")), 400,
                400004);
        String missing = assertError(call("POST", "/enrollments").body("{\"enrollments\":[" + enrollment("mode-1")
                + "]}").send(), 400, 400004);

        assertThat(unknown).isEqualTo("unknown mode 'upsert'; use one of create, update, updateIfMatchETag, delete");
        assertThat(missing).startsWith("mode is required").contains("updateIfMatchETag");
        assertError(get("/enrollments/mode-1"), 404, 404201);
    }

    @Test
    void badJson_is400NamingTheProblem_andWritesNothing() throws Exception {
        String truncated = assertError(call("POST", "/enrollments").body("{\"mode\":\"create\",\"enrollments\":["
                + enrollment("json-1")).send(), 400, 400001);
        String notAList = assertError(call("POST", "/enrollments").body("{\"mode\":\"create\",\"enrollments\":"
                + enrollment("json-1") + "}").send(), 400, 400001);
        String badType = assertError(bulk("/enrollments", "create", "enrollments", enrollment("json-1"),
                "{\"registrationId\":\"json-2\",\"attestation\":{\"type\":\"fingerprint\"}}"), 400, 400001);
        String empty = assertError(call("POST", "/enrollments").send(), 400, 400001);

        assertThat(truncated).contains("BulkEnrollmentOperation");
        assertThat(notAList).contains("'enrollments'");
        assertThat(badType).contains("'enrollments[1].attestation.type'");
        assertThat(empty).contains("empty");
        assertError(get("/enrollments/json-1"), 404, 404201);
    }

    @Test
    void emptyListOrNullItem_is400NamingIt() throws Exception {
        String emptyList = assertError(call("POST", "/enrollments").body("{\"mode\":\"create\",\"enrollments\":[]}")
                .send(), 400, 400004);
        String nullItem = assertError(call("POST", "/enrollmentGroups").body("{\"mode\":\"create\","
                + "\"enrollmentGroups\":[" + group("null-item") + ",null]}").send(), 400, 400001);

        assertThat(emptyList).isEqualTo("enrollments is required: a list of 1 to 10 items");
        assertThat(nullItem).contains("enrollmentGroups[1] is null");
        assertError(get("/enrollmentGroups/null-item"), 404, 404204);
    }

    @Test
    void duplicateIds_is400NamingTheId_andWritesNothing() throws Exception {
        String message = assertError(bulk("/enrollments", "create", "enrollments", enrollment("dup-1"),
                enrollment("dup-other"), enrollment("DUP-1")), 400, 400004);

        assertThat(message).contains("'DUP-1' appears twice").contains("enrollments[0]").contains("enrollments[2]");
        assertError(get("/enrollments/dup-1"), 404, 404201);
        assertError(get("/enrollments/dup-other"), 404, 404201);
    }

    @Test
    void getOnTheCollection_is405() throws Exception {
        assertError(call("GET", "/enrollments").send(), 405, 405000);
    }

    // ---------------------------------------------------------------- authorisation: 401, nothing written

    @Test
    void withoutToken_is401_andWritesNothing() throws Exception {
        String message = assertError(call("POST", "/enrollments").auth(null).body(body("create", "enrollments",
                enrollment("auth-none"))).send(), 401, 401002);

        assertThat(message).contains("Authorization");
        assertError(get("/enrollments/auth-none"), 404, 404201);
    }

    @Test
    void readOnlyPolicy_is401NamingTheRight_andChangesNothing() throws Exception {
        assertThat(call("PUT", "/enrollments/auth-kept").body(enrollment("auth-kept")).send().status())
                .isEqualTo(200);
        Stored before = stored("/enrollments/auth-kept");
        String readerToken = SasSigner.serviceToken("localhost", READER, readerKey, Instant.now().plusSeconds(3600));
        assertThat(call("GET", "/enrollments/auth-kept").auth(readerToken).send().status()).as("reader can read")
                .isEqualTo(200);

        String create = assertError(call("POST", "/enrollments").auth(readerToken).body(body("create",
                "enrollments", enrollment("auth-reader"))).send(), 401, 401002);
        String delete = assertError(call("POST", "/enrollments").auth(readerToken).body(body("delete",
                "enrollments", "{\"registrationId\":\"auth-kept\"}")).send(), 401, 401002);
        String groups = assertError(call("POST", "/enrollmentGroups").auth(readerToken).body(body("create",
                "enrollmentGroups", group("auth-reader-group"))).send(), 401, 401002);

        assertThat(List.of(create, delete, groups)).allSatisfy(m -> assertThat(m).contains(READER)
                .contains("EnrollmentWrite"));
        assertError(get("/enrollments/auth-reader"), 404, 404201);
        assertError(get("/enrollmentGroups/auth-reader-group"), 404, 404204);
        assertThat(stored("/enrollments/auth-kept")).isEqualTo(before);
    }

    // ================================================================ helpers

    /** What a bulk failure must not change: the resource as GET shows it, and its keys. */
    private record Stored(JsonNode resource, JsonNode attestation) {
    }

    private static Stored stored(String path) throws IOException, InterruptedException {
        Reply r = get(path);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return new Stored(r.json(), attestation(path));
    }

    private static JsonNode attestation(String path) throws IOException, InterruptedException {
        Reply r = call("POST", path + "/attestationmechanism").body("{}").send();
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static String enrollment(String id) {
        return enrollment(id, null);
    }

    private static String enrollment(String id, @Nullable String extraFields) {
        return "{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}"
                + (extraFields == null ? "" : "," + extraFields) + "}";
    }

    private static String group(String id) {
        return "{\"enrollmentGroupId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}}";
    }

    private static String body(String mode, String listName, String... items) {
        return "{\"mode\":\"" + mode + "\",\"" + listName + "\":[" + String.join(",", items) + "]}";
    }

    private static Reply bulk(String path, String mode, String listName, String... items)
            throws IOException, InterruptedException {
        return call("POST", path).body(body(mode, listName, items)).send();
    }

    private static Reply get(String path) throws IOException, InterruptedException {
        return call("GET", path).send();
    }

    private static void assertSuccess(Reply r) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode result = r.json();
        assertThat(result.path("isSuccessful").asBoolean()).as(r.body()).isTrue();
        assertThat(result.path("errors").isArray()).as("errors always present").isTrue();
        assertThat(result.path("errors")).isEmpty();
    }

    /** The failed items as (id, errorCode) tuples, in order. */
    private static List<Object> errors(JsonNode result) {
        ArrayNode errors = (ArrayNode) result.path("errors");
        List<Object> out = new ArrayList<>();
        errors.forEach(e -> {
            assertThat(e.path("errorCode").isInt()).isTrue();
            assertThat(e.path("errorStatus").asText()).isNotBlank();
            out.add(tuple(e.path("registrationId").asText(), e.path("errorCode").asInt()));
        });
        return out;
    }

    /** Checks an Azure error reply (status, code, header, body fields) and returns its message. */
    private static String assertError(Reply r, int status, int errorCode) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        assertThat(r.header("x-ms-error-code")).isNotBlank();
        JsonNode body = r.json();
        assertThat(body.path("errorCode").asInt()).as(r.body()).isEqualTo(errorCode);
        assertThat(body.path("trackingId").asText()).isNotBlank();
        String message = body.path("message").asText();
        assertThat(message).isNotBlank();
        return message;
    }

    private static Call call(String method, String path) {
        return new Call(method, path);
    }

    /** One HTTPS request, authorised with the owner policy and versioned (2021-10-01) unless told otherwise. */
    private static final class Call {
        private final String method;
        private final String path;
        private @Nullable String body;
        private @Nullable String authorization = SasSigner.serviceToken("localhost", ownerName, ownerKey,
                Instant.now().plusSeconds(3600));
        private String apiVersion = API;

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

        Call apiVersion(String value) {
            this.apiVersion = value;
            return this;
        }

        Reply send() throws IOException, InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path + "?api-version=" + apiVersion))
                    .timeout(Duration.ofSeconds(15))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
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
}
