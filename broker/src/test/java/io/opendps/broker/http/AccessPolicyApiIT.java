package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared access policy administration over real HTTPS: CRUD with If-Match, keys and their regeneration, that
 * policy changes take effect on the very next request (read-only policies, deleted policies, regenerated keys),
 * expired tokens, and every error case with status, errorCode and message. The main server is only ever changed
 * through policies named {@code it-*} and never touches the owner policy; {@link OwnerPolicy} starts a second,
 * fresh server for the owner-policy rules (last-ServiceConfig guard, {@code service.json} rewriting).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AccessPolicyApiIT {

    private static final String API = "2021-10-01";
    private static final String JSON_UTF8 = "application/json; charset=utf-8";
    private static final String AZURE_TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{7}Z";
    private static final String ALL_RIGHTS = "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, "
            + "RegistrationStatusRead, RegistrationStatusWrite";
    private static final String KEY_16 = Base64.getEncoder().encodeToString(filled(16, 7));
    private static final String KEY_32 = Base64.getEncoder().encodeToString(filled(32, 9));
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dataDir;
    static Target main;

    @BeforeAll
    static void start() {
        main = Target.start(ServerOptions.forTests(dataDir), dataDir);
    }

    @AfterAll
    static void stop() {
        if (main != null) {
            main.close();
        }
    }

    // ---------------------------------------------------------------- create, read, list

    @Test
    void put_new_is200WithKeys_andGetShowsTheViewWithoutKeys() throws Exception {
        Reply put = main.call("PUT", "/authorizationPolicies/it-create").body("{\"rights\":\"EnrollmentRead\"}").send();

        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(put.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode created = put.json();
        assertThat(fieldNames(created)).containsExactly("keyName", "primaryKey", "secondaryKey", "rights", "etag",
                "created", "updated");
        assertThat(created.path("keyName").asText()).isEqualTo("it-create");
        assertThat(Base64.getDecoder().decode(created.path("primaryKey").asText())).hasSize(64);
        assertThat(Base64.getDecoder().decode(created.path("secondaryKey").asText())).hasSize(64);
        assertThat(created.path("rights").asText()).isEqualTo("EnrollmentRead");
        assertThat(created.path("etag").asText()).isNotBlank().isEqualTo(put.header("ETag"));
        assertThat(created.path("created").asText()).matches(AZURE_TIME).isEqualTo(created.path("updated").asText());

        Reply get = main.call("GET", "/authorizationPolicies/it-create").send();
        assertThat(get.status()).as(get.body()).isEqualTo(200);
        assertThat(get.header("ETag")).isEqualTo(created.path("etag").asText());
        assertThat(fieldNames(get.json())).containsExactly("keyName", "rights", "etag", "created", "updated");
        assertThat(get.json().path("etag")).isEqualTo(created.path("etag"));
        assertThat(get.body()).doesNotContain(created.path("primaryKey").asText(),
                created.path("secondaryKey").asText());
    }

    @Test
    void list_isOrderedByNameIgnoringCase_withoutKeys() throws Exception {
        created("it-list-b", "EnrollmentWrite");
        created("IT-list-a", "RegistrationStatusRead, RegistrationStatusWrite");

        Reply r = main.call("GET", "/authorizationPolicies").send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(fieldNames(r.json())).containsExactly("value");
        List<String> names = new ArrayList<>();
        r.json().path("value").forEach(p -> names.add(p.path("keyName").asText()));
        assertThat(names).isSortedAccordingTo(String.CASE_INSENSITIVE_ORDER)
                .contains("IT-list-a", "it-list-b", "provisioningserviceowner");
        assertThat(r.body()).doesNotContain("primaryKey", "secondaryKey");
        r.json().path("value").forEach(p -> {
            if (p.path("keyName").asText().equals("provisioningserviceowner")) {
                assertThat(p.path("rights").asText()).isEqualTo(ALL_RIGHTS);
            }
            if (p.path("keyName").asText().equals("IT-list-a")) {
                assertThat(p.path("rights").asText()).isEqualTo("RegistrationStatusRead, RegistrationStatusWrite");
            }
        });
    }

    @Test
    void put_rightsAsArrayInAnyCase_andSuppliedKeys_areStored() throws Exception {
        Reply r = main.call("PUT", "/authorizationPolicies/it-array").body("{\"keyName\":\"IT-ARRAY\","
                + "\"rights\":[\"enrollmentread\",\"ENROLLMENTWRITE, DeviceConnect\"],\"primaryKey\":\"" + KEY_16
                + "\",\"secondaryKey\":\"" + KEY_32 + "\"}").send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("keyName").asText()).isEqualTo("it-array");
        assertThat(r.json().path("rights").asText()).isEqualTo("EnrollmentRead, EnrollmentWrite, DeviceConnect");
        assertThat(r.json().path("primaryKey").asText()).isEqualTo(KEY_16);
        assertThat(r.json().path("secondaryKey").asText()).isEqualTo(KEY_32);
    }

    // ---------------------------------------------------------------- update, delete, If-Match

    @Test
    void put_existing_ifMatchRules_andOmittedKeysAreKept() throws Exception {
        JsonNode created = created("it-update", "EnrollmentRead");
        String etag = created.path("etag").asText();

        Reply conflict = main.call("PUT", "/authorizationPolicies/IT-UPDATE").body("{\"rights\":\"ServiceConfig\"}")
                .send();
        assertThat(assertError(conflict, 409, 409401)).isEqualTo("access policy 'IT-UPDATE' already exists; send "
                + "If-Match with its etag (or *) to replace it");

        Reply replaced = main.call("PUT", "/authorizationPolicies/it-update").header("If-Match", etag)
                .body("{\"rights\":\"EnrollmentRead, EnrollmentWrite\",\"secondaryKey\":\"" + KEY_16 + "\"}").send();
        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        JsonNode r = replaced.json();
        assertThat(r.path("rights").asText()).isEqualTo("EnrollmentRead, EnrollmentWrite");
        assertThat(r.path("primaryKey")).isEqualTo(created.path("primaryKey"));
        assertThat(r.path("secondaryKey").asText()).isEqualTo(KEY_16);
        assertThat(r.path("etag").asText()).isNotEqualTo(etag).isEqualTo(replaced.header("ETag"));
        assertThat(r.path("created")).isEqualTo(created.path("created"));

        Reply stale = main.call("PUT", "/authorizationPolicies/it-update").header("If-Match", etag)
                .body("{\"rights\":\"ServiceConfig\"}").send();
        assertThat(assertError(stale, 412, 412401)).contains(etag).contains("'it-update'");

        Reply wildcard = main.call("PUT", "/authorizationPolicies/it-update").header("If-Match", "*")
                .body("{\"rights\":\"RegistrationStatusRead\"}").send();
        assertThat(wildcard.status()).as(wildcard.body()).isEqualTo(200);
        assertThat(main.call("GET", "/authorizationPolicies/it-update").send().json().path("rights").asText())
                .isEqualTo("RegistrationStatusRead");
    }

    @Test
    void put_ifMatchOnAbsentPolicy_is412AndCreatesNothing_wildcardCreates() throws Exception {
        Reply r = main.call("PUT", "/authorizationPolicies/it-absent").header("If-Match", "\"some-etag\"")
                .body("{\"rights\":\"EnrollmentRead\"}").send();

        assertThat(assertError(r, 412, 412401)).contains("'it-absent' does not exist");
        assertError(main.call("GET", "/authorizationPolicies/it-absent").send(), 404, 404401);

        Reply wildcard = main.call("PUT", "/authorizationPolicies/it-absent").header("If-Match", "*")
                .body("{\"rights\":\"EnrollmentRead\"}").send();
        assertThat(wildcard.status()).as(wildcard.body()).isEqualTo(200);
    }

    @Test
    void delete_staleEtagIs412_currentEtagIs204_thenAgain404() throws Exception {
        String etag = created("it-delete", "EnrollmentRead").path("etag").asText();

        assertThat(assertError(main.call("DELETE", "/authorizationPolicies/it-delete").header("If-Match",
                "\"stale\"").send(), 412, 412401)).contains("\"stale\"");
        assertThat(main.call("GET", "/authorizationPolicies/it-delete").send().status()).isEqualTo(200);

        Reply deleted = main.call("DELETE", "/authorizationPolicies/IT-Delete").header("If-Match", etag).send();
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();

        assertThat(assertError(main.call("DELETE", "/authorizationPolicies/it-delete").send(), 404, 404401))
                .isEqualTo("access policy 'it-delete' not found");
        assertError(main.call("GET", "/authorizationPolicies/it-delete").send(), 404, 404401);
    }

    // ---------------------------------------------------------------- keys

    @Test
    void listKeys_returnsTheKeys() throws Exception {
        JsonNode created = created("it-listkeys", "EnrollmentRead");

        Reply r = main.call("POST", "/authorizationPolicies/it-listkeys/listkeys").send();

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(created);
    }

    @Test
    void regenerateKey_armBodyOrKeyField_replacesThatKeyOnly_withNewEtag() throws Exception {
        JsonNode created = created("it-regen", "EnrollmentRead");

        Reply primary = main.call("POST", "/authorizationPolicies/it-regen/regenerateKey")
                .body("{\"keyName\":\"Primary\"}").send();
        assertThat(primary.status()).as(primary.body()).isEqualTo(200);
        JsonNode p = primary.json();
        assertThat(p.path("primaryKey").asText()).hasSize(88).isNotEqualTo(created.path("primaryKey").asText());
        assertThat(p.path("secondaryKey")).isEqualTo(created.path("secondaryKey"));
        assertThat(p.path("etag").asText()).isNotEqualTo(created.path("etag").asText()).isEqualTo(primary.header("ETag"));

        Reply secondary = main.call("POST", "/authorizationPolicies/it-regen/REGENERATEKEY")
                .header("If-Match", p.path("etag").asText()).body("{\"key\":\"SECONDARY\"}").send();
        assertThat(secondary.status()).as(secondary.body()).isEqualTo(200);
        assertThat(secondary.json().path("primaryKey")).isEqualTo(p.path("primaryKey"));
        assertThat(secondary.json().path("secondaryKey").asText()).isNotEqualTo(created.path("secondaryKey")
                .asText());
        assertThat(main.call("POST", "/authorizationPolicies/it-regen/listkeys").send().json())
                .isEqualTo(secondary.json());
    }

    @Test
    void regenerateKey_badBodiesAndStaleEtag_areRefusedAndChangeNothing() throws Exception {
        JsonNode created = created("it-regen-bad", "EnrollmentRead");
        String path = "/authorizationPolicies/it-regen-bad/regenerateKey";

        assertThat(assertError(main.call("POST", path).send(), 400, 400001)).contains("the request body is empty");
        assertThat(assertError(main.call("POST", path).body("{}").send(), 400, 400004))
                .contains("keyName is required and must be \"primary\" or \"secondary\"");
        assertThat(assertError(main.call("POST", path).body("{\"keyName\":\"tertiary\"}").send(), 400, 400004))
                .isEqualTo("keyName: 'tertiary' is not 'primary' or 'secondary'");
        assertThat(assertError(main.call("POST", path).body("{\"keyName\":\"primary\",\"key\":\"secondary\"}")
                .send(), 400, 400004)).contains("keyName 'primary' and key 'secondary' disagree");
        assertThat(assertError(main.call("POST", path).body("[\"primary\"]").send(), 400, 400001))
                .contains("must be a JSON object");
        assertThat(assertError(main.call("POST", path).header("If-Match", "\"stale\"")
                .body("{\"keyName\":\"primary\"}").send(), 412, 412401)).contains("\"stale\"");

        assertThat(main.call("POST", "/authorizationPolicies/it-regen-bad/listkeys").send().json())
                .isEqualTo(created);
    }

    // ---------------------------------------------------------------- effect on authorization

    @Test
    void readOnlyPolicy_readsEnrollments_butIsRefusedWritesAndPolicyAdministration() throws Exception {
        createEnrollment("it-ro-device");
        JsonNode reader = created("it-enrollmentread", "EnrollmentRead");
        String token = token("it-enrollmentread", reader.path("primaryKey").asText());

        Reply get = main.call("GET", "/enrollments/it-ro-device").auth(token).send();
        assertThat(get.status()).as(get.body()).isEqualTo(200);
        Reply query = main.call("POST", "/enrollments/query").auth(token).body("{\"query\":\"SELECT *\"}").send();
        assertThat(query.status()).as(query.body()).isEqualTo(200);

        assertThat(assertError(main.call("PUT", "/enrollments/it-ro-new").auth(token)
                .body(enrollment("it-ro-new")).send(), 401, 401002))
                .isEqualTo("Unauthorized: policy 'it-enrollmentread' lacks the EnrollmentWrite right");
        assertThat(assertError(main.call("DELETE", "/enrollments/it-ro-device").auth(token).send(), 401, 401002))
                .contains("lacks the EnrollmentWrite right");
        assertThat(assertError(main.call("GET", "/registrations/it-ro-device").auth(token).send(), 401, 401002))
                .contains("lacks the RegistrationStatusRead right");
        for (Call c : List.of(main.call("GET", "/authorizationPolicies"),
                main.call("GET", "/authorizationPolicies/it-enrollmentread"),
                main.call("POST", "/authorizationPolicies/it-enrollmentread/listkeys"),
                main.call("POST", "/authorizationPolicies/it-enrollmentread/regenerateKey")
                        .body("{\"keyName\":\"primary\"}"),
                main.call("PUT", "/authorizationPolicies/it-ro-escalate").body("{\"rights\":\"ServiceConfig\"}"),
                main.call("PUT", "/authorizationPolicies/it-enrollmentread").header("If-Match", "*")
                        .body("{\"rights\":\"ServiceConfig\"}"),
                main.call("DELETE", "/authorizationPolicies/it-enrollmentread"))) {
            assertThat(assertError(c.auth(token).send(), 401, 401002)).contains("lacks the ServiceConfig right");
        }

        assertThat(main.call("GET", "/enrollments/it-ro-device").send().status()).isEqualTo(200);
        assertError(main.call("GET", "/authorizationPolicies/it-ro-escalate").send(), 404, 404401);
        Reply unchanged = main.call("POST", "/authorizationPolicies/it-enrollmentread/listkeys").send();
        assertThat(unchanged.json()).isEqualTo(reader);
    }

    @Test
    void administratorPolicy_withOnlyServiceConfig_managesPoliciesButNotEnrollments() throws Exception {
        JsonNode admin = created("it-config-only", "ServiceConfig");
        String token = token("it-config-only", admin.path("secondaryKey").asText());

        Reply list = main.call("GET", "/authorizationPolicies").auth(token).send();
        assertThat(list.status()).as(list.body()).isEqualTo(200);
        Reply put = main.call("PUT", "/authorizationPolicies/it-made-by-config").auth(token)
                .body("{\"rights\":\"EnrollmentRead\"}").send();
        assertThat(put.status()).as(put.body()).isEqualTo(200);

        assertThat(assertError(main.call("GET", "/enrollments/any").auth(token).send(), 401, 401002))
                .contains("lacks the EnrollmentRead right");
    }

    @Test
    void deviceConnectOnlyPolicy_grantsNothingOnTheServiceApi() throws Exception {
        createEnrollment("it-dc-device");
        JsonNode device = created("it-deviceconnect", "DeviceConnect");
        String token = token("it-deviceconnect", device.path("primaryKey").asText());

        for (Call c : List.of(main.call("GET", "/enrollments/it-dc-device"),
                main.call("GET", "/registrations/it-dc-device"), main.call("GET", "/authorizationPolicies"))) {
            assertThat(assertError(c.auth(token).send(), 401, 401002)).contains("policy 'it-deviceconnect' lacks");
        }
    }

    @Test
    void deletedPolicy_itsTokensAreRefusedOnTheNextRequest() throws Exception {
        createEnrollment("it-del-device");
        JsonNode policy = created("it-soon-gone", "EnrollmentRead");
        String token = token("it-soon-gone", policy.path("primaryKey").asText());
        assertThat(main.call("GET", "/enrollments/it-del-device").auth(token).send().status()).isEqualTo(200);

        assertThat(main.call("DELETE", "/authorizationPolicies/it-soon-gone").send().status()).isEqualTo(204);

        assertThat(assertError(main.call("GET", "/enrollments/it-del-device").auth(token).send(), 401, 401002))
                .isEqualTo("Unauthorized: unknown shared access policy 'it-soon-gone'");
    }

    @Test
    void regeneratedKey_refusesOldTokensAtOnce_whileTheOtherKeyKeepsWorking() throws Exception {
        createEnrollment("it-rot-device");
        JsonNode policy = created("it-rotating", "EnrollmentRead");
        String oldPrimary = token("it-rotating", policy.path("primaryKey").asText());
        String secondary = token("it-rotating", policy.path("secondaryKey").asText());
        assertThat(main.call("GET", "/enrollments/it-rot-device").auth(oldPrimary).send().status()).isEqualTo(200);

        JsonNode rotated = main.call("POST", "/authorizationPolicies/it-rotating/regenerateKey")
                .body("{\"keyName\":\"primary\"}").send().json();

        assertThat(assertError(main.call("GET", "/enrollments/it-rot-device").auth(oldPrimary).send(), 401, 401002))
                .isEqualTo("Unauthorized: the SAS token signature does not match policy 'it-rotating'");
        assertThat(main.call("GET", "/enrollments/it-rot-device").auth(secondary).send().status()).isEqualTo(200);
        String newPrimary = token("it-rotating", rotated.path("primaryKey").asText());
        assertThat(main.call("GET", "/enrollments/it-rot-device").auth(newPrimary).send().status()).isEqualTo(200);
    }

    @Test
    void rightsChange_takesEffectOnTheNextRequest() throws Exception {
        createEnrollment("it-rights-device");
        JsonNode policy = created("it-changing", "EnrollmentRead");
        String token = token("it-changing", policy.path("primaryKey").asText());
        assertThat(main.call("GET", "/enrollments/it-rights-device").auth(token).send().status()).isEqualTo(200);

        assertThat(main.call("PUT", "/authorizationPolicies/it-changing").header("If-Match", "*")
                .body("{\"rights\":\"RegistrationStatusRead\"}").send().status()).isEqualTo(200);

        assertThat(assertError(main.call("GET", "/enrollments/it-rights-device").auth(token).send(), 401, 401002))
                .contains("lacks the EnrollmentRead right");
    }

    @Test
    void expiredToken_is401_andChangesNothing() throws Exception {
        JsonNode existing = created("it-expired", "EnrollmentRead");
        String expired = token(main.policyName(), main.policyKey(), Instant.now().minus(Duration.ofHours(1)));

        for (Call c : List.of(main.call("PUT", "/authorizationPolicies/it-expired-new")
                        .body("{\"rights\":\"ServiceConfig\"}"),
                main.call("PUT", "/authorizationPolicies/it-expired").header("If-Match", "*")
                        .body("{\"rights\":\"ServiceConfig\"}"),
                main.call("POST", "/authorizationPolicies/it-expired/regenerateKey").body("{\"keyName\":\"primary\"}"),
                main.call("DELETE", "/authorizationPolicies/it-expired"),
                main.call("POST", "/authorizationPolicies/it-expired/listkeys"),
                main.call("GET", "/authorizationPolicies"))) {
            assertThat(assertError(c.auth(expired).send(), 401, 401002))
                    .isEqualTo("Unauthorized: the SAS token has expired");
        }

        assertError(main.call("GET", "/authorizationPolicies/it-expired-new").send(), 404, 404401);
        assertThat(main.call("POST", "/authorizationPolicies/it-expired/listkeys").send().json()).isEqualTo(existing);
    }

    // ---------------------------------------------------------------- errors

    @Test
    void put_invalidBodies_are400NamingTheField_andCreateNothing() throws Exception {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{}", "400004:rights is required");
        cases.put("{\"rights\":\"\"}", "400004:rights must name at least one right");
        cases.put("{\"rights\":[]}", "400004:rights must name at least one right");
        cases.put("{\"rights\":\"EnrollmentRead, Superuser\"}", "400004:rights: unknown access right 'Superuser'; "
                + "valid rights: ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, "
                + "RegistrationStatusRead, RegistrationStatusWrite");
        cases.put("{\"rights\":{\"EnrollmentRead\":true}}", "400001:at 'rights[0]': expected a string, got a JSON object");
        cases.put("{\"rights\":\"EnrollmentRead\",\"primaryKey\":\"not base64!\"}",
                "400004:primaryKey is not valid base64");
        cases.put("{\"rights\":\"EnrollmentRead\",\"secondaryKey\":\"" + Base64.getEncoder().encodeToString(
                filled(15, 1)) + "\"}", "400004:secondaryKey must be base64 of 16 to 64 bytes, got 15 bytes");
        cases.put("{\"rights\":\"EnrollmentRead\",\"primaryKey\":\"" + Base64.getEncoder().encodeToString(
                filled(65, 1)) + "\"}", "400004:primaryKey must be base64 of 16 to 64 bytes, got 65 bytes");
        cases.put("{\"keyName\":\"someone-else\",\"rights\":\"EnrollmentRead\"}",
                "400004:keyName 'someone-else' in the body does not match 'it-bad-body' in the path");
        cases.put("not json", "400001:the request body is not a valid AccessPolicyRequest");
        cases.put("[\"EnrollmentRead\"]", "400001:the request body must be a JSON object");
        cases.put("", "400001:the request body is empty");

        for (Map.Entry<String, String> c : cases.entrySet()) {
            Call call = main.call("PUT", "/authorizationPolicies/it-bad-body");
            if (!c.getKey().isEmpty()) {
                call.body(c.getKey());
            }
            String[] expected = c.getValue().split(":", 2);
            String message = assertError(call.send(), 400, Integer.parseInt(expected[0]));
            assertThat(message).as(c.getKey()).contains(expected[1]);
        }
        assertError(main.call("GET", "/authorizationPolicies/it-bad-body").send(), 404, 404401);
    }

    @Test
    void put_invalidKeyNames_are400() throws Exception {
        for (String name : List.of("bad%20name", "semi;colon", "x".repeat(65), "per%25cent")) {
            Reply r = main.call("PUT", "/authorizationPolicies/" + name).body("{\"rights\":\"EnrollmentRead\"}")
                    .send();
            assertThat(assertError(r, 400, 400004)).as(name).startsWith("invalid keyName '")
                    .endsWith("': use 1-64 characters A-Z a-z 0-9 _ - @ .");
        }
        Reply longest = main.call("PUT", "/authorizationPolicies/it_@." + "n".repeat(59))
                .body("{\"rights\":\"EnrollmentRead\"}").send();
        assertThat(longest.status()).as(longest.body()).isEqualTo(200);
    }

    @Test
    void unknownPolicy_is404401_forEveryOperation() throws Exception {
        for (Call c : List.of(main.call("GET", "/authorizationPolicies/it-nobody"),
                main.call("DELETE", "/authorizationPolicies/it-nobody"),
                main.call("POST", "/authorizationPolicies/it-nobody/listkeys"),
                main.call("POST", "/authorizationPolicies/it-nobody/regenerateKey").body("{\"keyName\":\"primary\"}"))) {
            assertThat(assertError(c.send(), 404, 404401)).isEqualTo("access policy 'it-nobody' not found");
        }
    }

    @Test
    void wrongMethodIs405_unknownPathIs404() throws Exception {
        created("it-methods", "EnrollmentRead");

        assertThat(assertError(main.call("POST", "/authorizationPolicies").body("{}").send(), 405, 405000))
                .isEqualTo("POST is not allowed on /authorizationPolicies");
        assertThat(assertError(main.call("PATCH", "/authorizationPolicies/it-methods").body("{}").send(), 405,
                405000)).isEqualTo("PATCH is not allowed on /authorizationPolicies/it-methods");
        assertThat(assertError(main.call("GET", "/authorizationPolicies/it-methods/listkeys").send(), 405, 405000))
                .contains("GET is not allowed");
        assertThat(assertError(main.call("POST", "/authorizationPolicies/it-methods/rotate").send(), 404, 404000))
                .isEqualTo("no such resource: /authorizationPolicies/it-methods/rotate");
        assertThat(assertError(main.call("GET", "/authorizationPolicies/it-methods/listkeys/x").send(), 404, 404000))
                .contains("no such resource");
    }

    @Test
    void withoutApiVersionIs400_withoutAuthorizationIs401() throws Exception {
        assertThat(assertError(main.call("GET", "/authorizationPolicies").apiVersion(null).send(), 400, 400009))
                .contains("api-version");
        for (Call c : List.of(main.call("GET", "/authorizationPolicies"),
                main.call("PUT", "/authorizationPolicies/it-noauth").body("{\"rights\":\"EnrollmentRead\"}"),
                main.call("POST", "/authorizationPolicies/provisioningserviceowner/listkeys"))) {
            assertThat(assertError(c.auth(null).send(), 401, 401002)).contains("no Authorization header");
        }
        assertError(main.call("GET", "/authorizationPolicies/it-noauth").send(), 404, 404401);
    }

    @Test
    void paths_areCaseInsensitive() throws Exception {
        Reply put = main.call("PUT", "/AUTHORIZATIONPOLICIES/It-Case").body("{\"rights\":\"EnrollmentRead\"}").send();
        assertThat(put.status()).as(put.body()).isEqualTo(200);

        assertThat(main.call("GET", "/authorizationpolicies/IT-CASE").send().json().path("keyName").asText())
                .isEqualTo("It-Case");
        assertThat(main.call("POST", "/AuthorizationPolicies/it-case/LISTKEYS").send().status()).isEqualTo(200);
        assertThat(main.call("DELETE", "/authorizationPOLICIES/it-CASE").send().status()).isEqualTo(204);
    }

    // ---------------------------------------------------------------- owner policy, on a fresh server

    /**
     * A fresh server whose only policy is the owner: the guard against removing the last ServiceConfig policy,
     * and {@code service.json} following the owner's key and existence. Ordered: each step builds on the last.
     */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class OwnerPolicy {

        Path ownerDataDir;
        Target fresh;

        @BeforeAll
        void startFresh(@TempDir Path dir) {
            ownerDataDir = dir;
            fresh = Target.start(ServerOptions.forTests(dir), dir);
        }

        @AfterAll
        void stopFresh() {
            if (fresh != null) {
                fresh.close();
            }
        }

        @Test
        @Order(1)
        void onlyAdministrator_cannotBeDeletedOrDowngraded_andStaysUnchanged() throws Exception {
            JsonNode before = fresh.call("POST", "/authorizationPolicies/provisioningserviceowner/listkeys").send()
                    .json();

            Reply delete = fresh.call("DELETE", "/authorizationPolicies/provisioningserviceowner").send();
            assertThat(assertError(delete, 409, 409402)).isEqualTo("refusing to delete access policy "
                    + "'provisioningserviceowner': it is the last policy holding ServiceConfig, and without one "
                    + "nobody could manage access policies or CA certificates; give ServiceConfig to another "
                    + "policy first");
            Reply downgrade = fresh.call("PUT", "/authorizationPolicies/provisioningserviceowner")
                    .header("If-Match", "*").body("{\"rights\":\"EnrollmentRead, EnrollmentWrite\",\"primaryKey\":\""
                            + KEY_16 + "\"}").send();
            assertThat(assertError(downgrade, 409, 409402)).startsWith("refusing to remove ServiceConfig from "
                    + "access policy 'provisioningserviceowner'");

            assertThat(fresh.call("POST", "/authorizationPolicies/provisioningserviceowner/listkeys").send().json())
                    .isEqualTo(before);
        }

        @Test
        @Order(2)
        void ownerPrimaryKeyRegenerated_serviceJsonIsRewrittenWithTheNewKey() throws Exception {
            String oldToken = fresh.token();
            String fileBefore = Files.readString(ownerDataDir.resolve(ServiceInfo.FILE));

            JsonNode rotated = fresh.call("POST", "/authorizationPolicies/provisioningserviceowner/regenerateKey")
                    .body("{\"keyName\":\"primary\"}").send().json();

            ServiceInfo file = ServiceInfo.read(ownerDataDir);
            assertThat(file.serviceConnectionString()).endsWith(";SharedAccessKeyName=provisioningserviceowner;"
                    + "SharedAccessKey=" + rotated.path("primaryKey").asText());
            assertThat(fresh.server().info()).isEqualTo(file);
            assertThat(assertError(fresh.call("GET", "/authorizationPolicies").auth(oldToken).send(), 401, 401002))
                    .contains("signature does not match");
            assertThat(fresh.call("GET", "/authorizationPolicies").send().status()).isEqualTo(200);
            assertThat(fileBefore).isNotEqualTo(Files.readString(ownerDataDir.resolve(ServiceInfo.FILE)));

            String fileNow = Files.readString(ownerDataDir.resolve(ServiceInfo.FILE));
            assertThat(fresh.call("POST", "/authorizationPolicies/provisioningserviceowner/regenerateKey")
                    .body("{\"keyName\":\"secondary\"}").send().status()).isEqualTo(200);
            assertThat(Files.readString(ownerDataDir.resolve(ServiceInfo.FILE))).as("secondary key is not in it")
                    .isEqualTo(fileNow);
        }

        @Test
        @Order(3)
        void ownerDeleted_serviceJsonNamesTheRemainingAdministrator_whichIsThenTheLast() throws Exception {
            Reply ops = fresh.call("PUT", "/authorizationPolicies/ops-admin")
                    .body("{\"rights\":\"ServiceConfig, EnrollmentRead, EnrollmentWrite\"}").send();
            assertThat(ops.status()).as(ops.body()).isEqualTo(200);
            fresh.call("PUT", "/authorizationPolicies/config-only").body("{\"rights\":\"ServiceConfig\"}").send();

            Reply deleted = fresh.call("DELETE", "/authorizationPolicies/provisioningserviceowner").send();
            assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);

            ServiceInfo file = ServiceInfo.read(ownerDataDir);
            assertThat(file.serviceConnectionString()).endsWith(";SharedAccessKeyName=ops-admin;SharedAccessKey="
                    + ops.json().path("primaryKey").asText());
            assertThat(fresh.call("GET", "/authorizationPolicies").send().status()).isEqualTo(200);
            assertThat(fresh.call("DELETE", "/authorizationPolicies/config-only").send().status()).isEqualTo(204);
            assertThat(assertError(fresh.call("DELETE", "/authorizationPolicies/ops-admin").send(), 409, 409402))
                    .contains("'ops-admin': it is the last policy holding ServiceConfig");
            assertError(fresh.call("GET", "/authorizationPolicies/provisioningserviceowner").send(), 404, 404401);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String token(String policy, String base64Key) {
        return token(policy, Base64.getDecoder().decode(base64Key), Instant.now().plusSeconds(3600));
    }

    private static String token(String policy, byte[] key, Instant expiry) {
        return SasSigner.serviceToken("localhost", policy, key, expiry);
    }

    /** Creates a policy on the main server (owner credentials); returns the view with keys. */
    private static JsonNode created(String name, String rights) throws IOException, InterruptedException {
        Reply r = main.call("PUT", "/authorizationPolicies/" + name).body("{\"rights\":\"" + rights + "\"}").send();
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static String enrollment(String id) {
        return "{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}}";
    }

    private static void createEnrollment(String id) throws IOException, InterruptedException {
        Reply r = main.call("PUT", "/enrollments/" + id).body(enrollment(id)).send();
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    /**
     * Checks an Azure error reply: status, JSON content type, exact {@code errorCode}, {@code x-ms-error-code},
     * {@code trackingId}, {@code timestampUtc}. Returns the message.
     */
    private static String assertError(Reply r, int status, int errorCode) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        assertThat(r.header("x-ms-error-code")).isNotBlank();
        JsonNode body = r.json();
        assertThat(body.path("errorCode").asInt()).as(r.body()).isEqualTo(errorCode);
        assertThat(body.path("trackingId").asText()).isNotBlank();
        assertThat(body.path("timestampUtc").asText()).matches(AZURE_TIME);
        String message = body.path("message").asText();
        assertThat(message).isNotBlank();
        return message;
    }

    /**
     * A running server and an HTTPS client for it, authorised by default with the policy {@code service.json}
     * names at the time of the call (it follows owner key changes).
     */
    private record Target(OpenDpsServer server, Path dataDir, HttpClient http, String base) implements AutoCloseable {

        static Target start(ServerOptions options, Path dataDir) {
            OpenDpsServer server = OpenDpsServer.start(options);
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(TlsMaterial.trustingClientContext(server.info().caCertificate()))
                    .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
            return new Target(server, dataDir, http, "https://localhost:" + server.info().httpsPort());
        }

        private Map<String, String> connectionString() {
            Map<String, String> cs = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String part : ServiceInfo.read(dataDir).serviceConnectionString().split(";")) {
                String[] kv = part.split("=", 2);
                cs.put(kv[0], kv[1]);
            }
            return cs;
        }

        String policyName() {
            return connectionString().get("SharedAccessKeyName");
        }

        byte[] policyKey() {
            return Base64.getDecoder().decode(connectionString().get("SharedAccessKey"));
        }

        String token() {
            return AccessPolicyApiIT.token(policyName(), policyKey(), Instant.now().plusSeconds(3600));
        }

        Call call(String method, String path) {
            return new Call(this, method, path);
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /** One HTTPS request: authorised and versioned unless told otherwise. */
    private static final class Call {
        private final Target target;
        private final String method;
        private final String path;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private @Nullable String body;
        private @Nullable String authorization;
        private @Nullable String apiVersion = API;

        Call(Target target, String method, String path) {
            this.target = target;
            this.method = method;
            this.path = path;
            this.authorization = target.token();
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

        Reply send() throws IOException, InterruptedException {
            String uri = target.base() + path + (apiVersion == null ? "" : "?api-version=" + apiVersion);
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(15))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            headers.forEach(b::header);
            HttpResponse<String> r = target.http().send(b.build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
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
