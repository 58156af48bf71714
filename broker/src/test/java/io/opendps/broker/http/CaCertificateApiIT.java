package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * CA certificates with proof of possession ({@code dps-service-api.md} §14) and X.509 enrollments (§3.3, §5) over
 * real HTTPS: the ARM envelopes at {@code /certificates/{name}} and under the verbatim ARM prefix, If-Match rules,
 * the verification-code flow and its failures, deletion while referenced, and the info-only X.509 attestation shape
 * of enrollment responses with its round trip. One server for the class with CA auto-verification off (the
 * default); {@link AutoVerify} starts a second one with it on. Every test uses its own names and CAs.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CaCertificateApiIT {

    private static final String API = "2021-10-01";
    private static final String JSON_UTF8 = "application/json; charset=utf-8";
    private static final String ARM_PREFIX =
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/provisioningServices/d";
    /** RFC 1123 as ARM writes it, e.g. {@code Sat, 31 Dec 2039 23:59:59 GMT}. */
    private static final String RFC_1123 = "\\w{3}, \\d{1,2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> INFO_FIELDS = List.of("subjectName", "sha1Thumbprint", "sha256Thumbprint",
            "issuerName", "notBeforeUtc", "notAfterUtc", "serialNumber", "version");

    @TempDir
    static Path dataDir;
    static Target main;

    @BeforeAll
    static void start() {
        main = Target.start(ServerOptions.forTests(dataDir));
    }

    @AfterAll
    static void stop() {
        if (main != null) {
            main.close();
        }
    }

    // ---------------------------------------------------------------- upload (PUT)

    @Test
    void put_new_is201WithTheArmEnvelopeAndETag() throws Exception {
        Ca root = Ca.root("api-put-root");

        Reply r = main.call("PUT", "/certificates/api-put").body(upload(root.pem(), false)).send();

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode c = r.json();
        assertThat(c.path("id").asText()).endsWith("/certificates/api-put");
        assertThat(c.path("name").asText()).isEqualTo("api-put");
        assertThat(c.path("type").asText()).isEqualTo("Microsoft.Devices/ProvisioningServices/Certificates");
        assertThat(c.path("etag").asText()).isNotBlank().isEqualTo(r.header("ETag"));
        JsonNode p = c.path("properties");
        assertThat(p.path("subject").asText()).isEqualTo("CN=api-put-root");
        assertThat(p.path("expiry").asText()).matches(RFC_1123);
        assertThat(p.path("thumbprint").asText()).isEqualTo(sha1(root.cert()));
        assertThat(p.path("isVerified").isBoolean()).isTrue();
        assertThat(p.path("isVerified").asBoolean()).isFalse();
        assertThat(Base64.getDecoder().decode(p.path("certificate").asText())).isEqualTo(root.cert().getEncoded());
        assertThat(p.path("created").asText()).matches(RFC_1123);
        assertThat(p.path("updated").asText()).matches(RFC_1123);
        assertThat(p.has("verificationCode")).isFalse();
    }

    @Test
    void put_base64DerAndFlatBody_areAcceptedToo() throws Exception {
        Ca root = Ca.root("api-der-root");
        String der = Base64.getEncoder().encodeToString(root.cert().getEncoded());

        Reply r = main.call("PUT", "/certificates/api-der").body("{\"certificate\":\"" + der + "\"}").send();

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("properties").path("thumbprint").asText()).isEqualTo(sha1(root.cert()));
    }

    @Test
    void put_existing_withoutIfMatch_is409_withIfMatch_is200_withStaleIfMatch_is412() throws Exception {
        Ca root = Ca.root("api-again-root");
        String etag = created("api-again", root).path("etag").asText();

        Reply again = main.call("PUT", "/certificates/api-again").body(upload(root.pem(), false)).send();
        assertThat(assertError(again, 409, 409301)).contains("'api-again' already exists").contains("If-Match");

        Reply replaced = main.call("PUT", "/certificates/api-again").header("If-Match", etag)
                .body(upload(root.pem(), false)).send();
        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        String newEtag = replaced.json().path("etag").asText();
        assertThat(newEtag).isNotEqualTo(etag).isEqualTo(replaced.header("ETag"));

        Reply stale = main.call("PUT", "/certificates/api-again").header("If-Match", etag)
                .body(upload(root.pem(), false)).send();
        assertThat(assertError(stale, 412, 412301)).contains(etag);

        Reply wildcard = main.call("PUT", "/certificates/api-again").header("If-Match", "*")
                .body(upload(Ca.root("api-again-other").pem(), false)).send();
        assertThat(wildcard.status()).as(wildcard.body()).isEqualTo(200);
        assertThat(wildcard.json().path("properties").path("subject").asText()).isEqualTo("CN=api-again-other");
    }

    @Test
    void put_isVerifiedTrue_withoutAutoVerify_is400AskingForProofOfPossession() throws Exception {
        Reply r = main.call("PUT", "/certificates/api-selfverified")
                .body(upload(Ca.root("api-selfverified-root").pem(), true)).send();

        assertThat(assertError(r, 400, 400301)).contains("isVerified=true needs proof of possession");
        assertError(main.call("GET", "/certificates/api-selfverified").send(), 404, 404301);
    }

    @Test
    void put_nonCaGarbageOrMissingCertificate_is400() throws Exception {
        Ca root = Ca.root("api-bad-root");
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(upload(root.leafPem("api-bad-leaf"), false), "is not a CA certificate");
        cases.put(upload("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", false),
                "certificate");
        cases.put(upload("garbage", false), "certificate");
        cases.put("{\"properties\":{\"isVerified\":false}}", "properties");
        cases.put("not json", "");

        for (Map.Entry<String, String> c : cases.entrySet()) {
            Reply r = main.call("PUT", "/certificates/api-bad").body(c.getKey()).send();
            assertThat(assertError(r, 400, -1)).as(c.getKey()).contains(c.getValue());
        }
        assertError(main.call("GET", "/certificates/api-bad").send(), 404, 404301);
    }

    @Test
    void put_invalidName_is400() throws Exception {
        Reply r = main.call("PUT", "/certificates/-bad-name-").body(upload(Ca.root("api-name-root").pem(), false))
                .send();

        assertThat(assertError(r, 400, 400004)).contains("invalid CA certificate name");
    }

    // ---------------------------------------------------------------- read

    @Test
    void getAndList_returnTheEnvelope() throws Exception {
        Ca root = Ca.root("api-get-root");
        JsonNode created = created("api-get", root);

        Reply got = main.call("GET", "/certificates/api-get").send();
        assertThat(got.status()).as(got.body()).isEqualTo(200);
        assertThat(got.header("ETag")).isEqualTo(created.path("etag").asText());
        assertThat(got.json()).isEqualTo(created);

        Reply list = main.call("GET", "/certificates").send();
        assertThat(list.status()).as(list.body()).isEqualTo(200);
        assertThat(list.json().path("value").isArray()).isTrue();
        assertThat(list.json().path("value")).anySatisfy(c -> assertThat(c).isEqualTo(created));
    }

    @Test
    void withoutAuthorization_is401() throws Exception {
        String pem = Ca.root("api-noauth-root").pem();
        for (Call c : List.of(main.call("GET", "/certificates"), main.call("GET", "/certificates/api-noauth"),
                main.call("PUT", "/certificates/api-noauth").body(upload(pem, false)),
                main.call("GET", ARM_PREFIX + "/certificates"))) {
            assertError(c.auth(null).send(), 401, 401002);
        }
        assertError(main.call("GET", "/certificates/api-noauth").send(), 404, 404301);
    }

    @Test
    void withoutApiVersion_is400() throws Exception {
        Reply r = main.call("GET", "/certificates").apiVersion(null).send();

        assertThat(assertError(r, 400, -1)).contains("api-version");
    }

    // ---------------------------------------------------------------- proof of possession

    @Test
    void proofOfPossession_codeThenVerify_andEveryFailureIsAClear400() throws Exception {
        Ca root = Ca.root("api-pop-root");
        Ca other = Ca.root("api-pop-other");
        String uploadEtag = created("api-pop", root).path("etag").asText();

        Reply before = main.call("POST", "/certificates/api-pop/verify")
                .body(verifyBody(root.leafPem("0123456789ABCDEF"))).send();
        assertThat(assertError(before, 400, 400302)).contains("no verification code is pending");

        Reply generated = main.call("POST", "/certificates/api-pop/generateVerificationCode").send();
        assertThat(generated.status()).as(generated.body()).isEqualTo(200);
        JsonNode p = generated.json().path("properties");
        String code = p.path("verificationCode").asText();
        assertThat(code).matches("[0-9A-F]{48}");
        assertThat(p.path("isVerified").asBoolean()).isFalse();
        assertThat(p.path("subject").asText()).isEqualTo("CN=api-pop-root");
        assertThat(generated.json().path("etag").asText()).isNotEqualTo(uploadEtag).isEqualTo(generated.header("ETag"));
        assertThat(main.call("GET", "/certificates/api-pop").send().json().path("properties").has("verificationCode"))
                .as("the code is shown once").isFalse();

        Reply wrongCn = main.call("POST", "/certificates/api-pop/verify")
                .body(verifyBody(root.leafPem("not-the-code"))).send();
        assertThat(assertError(wrongCn, 400, 400302)).contains("'api-pop'").contains("'not-the-code'")
                .contains("is not the current verification code");

        Reply wrongSigner = main.call("POST", "/certificates/api-pop/verify").body(verifyBody(other.leafPem(code)))
                .send();
        assertThat(assertError(wrongSigner, 400, 400302))
                .contains("not signed by the private key of this CA certificate");

        Reply unreadable = main.call("POST", "/certificates/api-pop/verify").body("{\"certificate\":\"garbage\"}")
                .send();
        assertThat(assertError(unreadable, 400, 400302)).contains("unreadable");

        Reply missing = main.call("POST", "/certificates/api-pop/verify").body("{}").send();
        assertThat(assertError(missing, 400, -1)).contains("certificate");

        Reply staleEtag = main.call("POST", "/certificates/api-pop/verify").header("If-Match", uploadEtag)
                .body(verifyBody(root.leafPem(code))).send();
        assertError(staleEtag, 412, 412301);

        String proof = root.leafPem(code.toLowerCase(java.util.Locale.ROOT));
        Reply verified = main.call("POST", "/certificates/api-pop/verify")
                .header("If-Match", generated.json().path("etag").asText()).body(verifyBody(proof)).send();
        assertThat(verified.status()).as(verified.body()).isEqualTo(200);
        assertThat(verified.json().path("properties").path("isVerified").asBoolean()).isTrue();
        assertThat(verified.json().path("etag").asText()).isEqualTo(verified.header("ETag"));
        assertThat(main.call("GET", "/certificates/api-pop").send().json().path("properties").path("isVerified")
                .asBoolean()).isTrue();

        Reply reused = main.call("POST", "/certificates/api-pop/verify").body(verifyBody(proof)).send();
        assertThat(assertError(reused, 400, 400302)).contains("no verification code is pending");
    }

    @Test
    void reuploadOfTheSameVerifiedCertificate_staysVerified_anotherCertificateStartsUnverified() throws Exception {
        Ca root = Ca.root("api-reup-root");
        String etag = verified("api-reup", root).path("etag").asText();

        Reply same = main.call("PUT", "/certificates/api-reup").header("If-Match", etag)
                .body(upload(root.pem(), true)).send();
        assertThat(same.status()).as(same.body()).isEqualTo(200);
        assertThat(same.json().path("properties").path("isVerified").asBoolean()).isTrue();

        Reply other = main.call("PUT", "/certificates/api-reup").header("If-Match", "*")
                .body(upload(Ca.root("api-reup-other").pem(), false)).send();
        assertThat(other.status()).as(other.body()).isEqualTo(200);
        assertThat(other.json().path("properties").path("isVerified").asBoolean()).isFalse();
    }

    // ---------------------------------------------------------------- delete

    @Test
    void delete_is204_thenGetAndDeleteAre404() throws Exception {
        created("api-del", Ca.root("api-del-root"));

        Reply deleted = main.call("DELETE", "/certificates/api-del").send();
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();

        assertThat(assertError(main.call("GET", "/certificates/api-del").send(), 404, 404301))
                .contains("'api-del' not found");
        assertError(main.call("DELETE", "/certificates/api-del").send(), 404, 404301);
        assertThat(main.call("GET", "/certificates").send().json().path("value").findValuesAsText("name"))
                .doesNotContain("api-del");
    }

    @Test
    void delete_withStaleIfMatch_is412() throws Exception {
        String etag = created("api-del-stale", Ca.root("api-del-stale-root")).path("etag").asText();
        main.call("POST", "/certificates/api-del-stale/generateVerificationCode").send();

        assertError(main.call("DELETE", "/certificates/api-del-stale").header("If-Match", etag).send(), 412, 412301);
        assertThat(main.call("GET", "/certificates/api-del-stale").send().status()).isEqualTo(200);
    }

    @Test
    void delete_whileAGroupReferencesIt_is409NamingTheGroup_afterTheGroupIsGone_is204() throws Exception {
        verified("api-inuse", Ca.root("api-inuse-root"));
        Reply group = main.call("PUT", "/enrollmentGroups/api-inuse-group").body(caReferencesGroup("api-inuse-group",
                "api-inuse")).send();
        assertThat(group.status()).as(group.body()).isEqualTo(200);

        Reply inUse = main.call("DELETE", "/certificates/api-inuse").send();
        assertThat(assertError(inUse, 409, 409302)).contains("'api-inuse' is referenced")
                .contains("api-inuse-group");
        assertThat(main.call("GET", "/certificates/api-inuse").send().status()).isEqualTo(200);

        assertThat(main.call("DELETE", "/enrollmentGroups/api-inuse-group").send().status()).isEqualTo(204);
        assertThat(main.call("DELETE", "/certificates/api-inuse").send().status()).isEqualTo(204);
    }

    // ---------------------------------------------------------------- the ARM path

    @Test
    void armPrefixedPaths_workTheSame() throws Exception {
        Ca root = Ca.root("api-arm-root");
        String path = ARM_PREFIX + "/certificates/api-arm";

        Reply put = main.call("PUT", path).body(upload(root.pem(), false)).send();
        assertThat(put.status()).as(put.body()).isEqualTo(201);
        assertThat(put.json().path("name").asText()).isEqualTo("api-arm");
        assertThat(main.call("GET", "/certificates/api-arm").send().json()).isEqualTo(put.json());
        assertThat(main.call("GET", path).send().json()).isEqualTo(put.json());
        assertThat(main.call("GET", ARM_PREFIX + "/certificates").send().json().path("value")
                .findValuesAsText("name")).contains("api-arm");
        assertError(main.call("PUT", path).body(upload(root.pem(), false)).send(), 409, 409301);

        Reply generated = main.call("POST", path + "/generateVerificationCode").send();
        assertThat(generated.status()).as(generated.body()).isEqualTo(200);
        String code = generated.json().path("properties").path("verificationCode").asText();
        Reply verified = main.call("POST", path + "/verify").body(verifyBody(root.leafPem(code))).send();
        assertThat(verified.status()).as(verified.body()).isEqualTo(200);
        assertThat(verified.json().path("properties").path("isVerified").asBoolean()).isTrue();

        assertThat(main.call("DELETE", path).send().status()).isEqualTo(204);
        assertError(main.call("GET", path).send(), 404, 404301);
    }

    @Test
    void unknownActionOrWrongMethod_areJsonErrors() throws Exception {
        created("api-405", Ca.root("api-405-root"));

        assertError(main.call("POST", "/certificates/api-405/noSuchAction").body("{}").send(), 404, -1);
        assertError(main.call("POST", "/certificates/api-405").body("{}").send(), 405, -1);
        assertError(main.call("DELETE", "/certificates").send(), 405, -1);
        assertError(main.call("GET", "/certificates/api-405/verify").send(), 405, -1);
        assertError(main.call("PUT", "/certificates/api-405/generateVerificationCode").body("{}").send(), 405, -1);
    }

    // ---------------------------------------------------------------- X.509 enrollments

    @Test
    void x509Enrollment_putGetAndAttestationMechanism_carryInfoWithAllEightFieldsAndNoCertificate()
            throws Exception {
        Ca root = Ca.root("api-enr-root");
        Leaf device = root.leaf("api-x509-dev");

        Reply put = main.call("PUT", "/enrollments/api-x509-dev")
                .body(clientCertificateEnrollment("api-x509-dev", device.pem())).send();
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertX509Info(put.json().path("attestation"), "clientCertificates", device.cert());

        Reply get = main.call("GET", "/enrollments/api-x509-dev").send();
        assertThat(get.status()).as(get.body()).isEqualTo(200);
        assertX509Info(get.json().path("attestation"), "clientCertificates", device.cert());

        Reply mechanism = main.call("POST", "/enrollments/api-x509-dev/attestationmechanism").body("{}").send();
        assertThat(mechanism.status()).as(mechanism.body()).isEqualTo(200);
        assertX509Info(mechanism.json(), "clientCertificates", device.cert());

        Reply query = main.call("POST", "/enrollments/query").header("x-ms-max-item-count", "1000")
                .body("{\"query\":\"*\"}").send();
        assertThat(query.body()).doesNotContain("BEGIN CERTIFICATE").doesNotContain("\"certificate\"");
    }

    @Test
    void x509Enrollment_infoOnlyRoundTrip_keepsTheCertificate_unknownThumbprint_is400() throws Exception {
        Ca root = Ca.root("api-rt-root");
        Leaf device = root.leaf("api-x509-rt");
        main.call("PUT", "/enrollments/api-x509-rt").body(clientCertificateEnrollment("api-x509-rt", device.pem()))
                .send();
        Reply get = main.call("GET", "/enrollments/api-x509-rt").send();
        ObjectNode body = (ObjectNode) get.json();
        body.put("provisioningStatus", "disabled");

        Reply roundTrip = main.call("PUT", "/enrollments/api-x509-rt").header("If-Match", get.header("ETag"))
                .body(body.toString()).send();

        assertThat(roundTrip.status()).as(roundTrip.body()).isEqualTo(200);
        assertThat(roundTrip.json().path("provisioningStatus").asText()).isEqualTo("disabled");
        assertX509Info(roundTrip.json().path("attestation"), "clientCertificates", device.cert());
        assertX509Info(main.call("POST", "/enrollments/api-x509-rt/attestationmechanism").body("{}").send().json(),
                "clientCertificates", device.cert());

        ObjectNode stranger = (ObjectNode) roundTrip.json();
        ((ObjectNode) stranger.path("attestation").path("x509").path("clientCertificates").path("primary")
                .path("info")).put("sha256Thumbprint", "00".repeat(32)).put("sha1Thumbprint", "00".repeat(20));
        Reply unknown = main.call("PUT", "/enrollments/api-x509-rt").header("If-Match", "*")
                .body(stranger.toString()).send();
        assertThat(assertError(unknown, 400, -1)).contains("names no certificate stored on this enrollment");
    }

    @Test
    void x509Enrollment_cnNotTheRegistrationId_is400() throws Exception {
        Leaf device = Ca.root("api-cn-root").leaf("api-cn-device");

        Reply r = main.call("PUT", "/enrollments/api-cn-other")
                .body(clientCertificateEnrollment("api-cn-other", device.pem())).send();

        assertThat(assertError(r, 400, -1)).contains("CN 'api-cn-device'").contains("api-cn-other");
    }

    @Test
    void x509Group_signingCertificates_carryInfoWithoutCertificate_andLeafIsRefused() throws Exception {
        Ca root = Ca.root("api-grp-root");
        String body = "{\"enrollmentGroupId\":\"api-grp\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
                + "\"signingCertificates\":{\"primary\":{\"certificate\":" + MAPPER.writeValueAsString(root.pem())
                + "}}}}}";

        Reply put = main.call("PUT", "/enrollmentGroups/api-grp").body(body).send();
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertX509Info(put.json().path("attestation"), "signingCertificates", root.cert());
        assertX509Info(main.call("GET", "/enrollmentGroups/api-grp").send().json().path("attestation"),
                "signingCertificates", root.cert());

        String leaf = body.replace("api-grp\"", "api-grp-leaf\"").replace(MAPPER.writeValueAsString(root.pem()),
                MAPPER.writeValueAsString(root.leafPem("api-grp-leaf")));
        Reply refused = main.call("PUT", "/enrollmentGroups/api-grp-leaf").body(leaf).send();
        assertThat(assertError(refused, 400, -1)).contains("is not a CA certificate");
    }

    @Test
    void x509Group_caReferences_unverifiedOrMissing_is400_verified_is200() throws Exception {
        Ca root = Ca.root("api-ref-root");
        created("api-ref", root);

        Reply unverified = main.call("PUT", "/enrollmentGroups/api-ref-group")
                .body(caReferencesGroup("api-ref-group", "api-ref")).send();
        assertThat(assertError(unverified, 400, -1)).contains("'api-ref' is not verified")
                .contains("proof of possession");
        Reply missing = main.call("PUT", "/enrollmentGroups/api-ref-group")
                .body(caReferencesGroup("api-ref-group", "api-ref-missing")).send();
        assertThat(assertError(missing, 400, -1)).contains("no CA certificate named 'api-ref-missing'");
        assertError(main.call("GET", "/enrollmentGroups/api-ref-group").send(), 404, 404204);

        String code = main.call("POST", "/certificates/api-ref/generateVerificationCode").send().json()
                .path("properties").path("verificationCode").asText();
        assertThat(main.call("POST", "/certificates/api-ref/verify").body(verifyBody(root.leafPem(code))).send()
                .status()).isEqualTo(200);

        Reply ok = main.call("PUT", "/enrollmentGroups/api-ref-group")
                .body(caReferencesGroup("api-ref-group", "api-ref")).send();
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        assertThat(ok.json().path("attestation").path("x509").path("caReferences").path("primary").asText())
                .isEqualTo("api-ref");
    }

    // ---------------------------------------------------------------- serve --auto-verify-ca

    /** A second server started as {@code serve --auto-verify-ca} would start it. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class AutoVerify {

        Target auto;

        @BeforeAll
        void startAutoVerifying(@TempDir Path autoDataDir) {
            auto = Target.start(ServerOptions.forTests(autoDataDir).withAutoVerifyCa(true));
        }

        @AfterAll
        void stopAutoVerifying() {
            if (auto != null) {
                auto.close();
            }
        }

        @Test
        void put_isVerifiedTrue_isStoredVerified_andGroupsMayReferenceUnverifiedUploads() throws Exception {
            Reply verified = auto.call("PUT", "/certificates/auto-yes").body(upload(Ca.root("auto-yes-root").pem(),
                    true)).send();
            assertThat(verified.status()).as(verified.body()).isEqualTo(201);
            assertThat(verified.json().path("properties").path("isVerified").asBoolean()).isTrue();

            Reply unverified = auto.call("PUT", "/certificates/auto-no").body(upload(Ca.root("auto-no-root").pem(),
                    false)).send();
            assertThat(unverified.status()).as(unverified.body()).isEqualTo(201);
            assertThat(unverified.json().path("properties").path("isVerified").asBoolean()).isFalse();

            for (String name : List.of("auto-yes", "auto-no")) {
                Reply group = auto.call("PUT", "/enrollmentGroups/group-" + name)
                        .body(caReferencesGroup("group-" + name, name)).send();
                assertThat(group.status()).as(group.body()).isEqualTo(200);
            }
            Reply missing = auto.call("PUT", "/enrollmentGroups/group-missing")
                    .body(caReferencesGroup("group-missing", "auto-missing")).send();
            assertThat(assertError(missing, 400, -1)).contains("no CA certificate named 'auto-missing'");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Checks {@code x509.<kind>.primary}: the 8 info fields, computed from {@code cert}, and no certificate. */
    private static void assertX509Info(JsonNode attestation, String kind, X509Certificate cert) throws Exception {
        assertThat(attestation.path("type").asText()).as(attestation.toString()).isEqualTo("x509");
        JsonNode x509 = attestation.path("x509");
        List<String> kinds = new ArrayList<>();
        x509.fieldNames().forEachRemaining(kinds::add);
        assertThat(kinds).as(x509.toString()).containsExactly(kind);
        JsonNode primary = x509.path(kind).path("primary");
        assertThat(primary.has("certificate")).as(primary.toString()).isFalse();
        assertThat(x509.toString()).doesNotContain("BEGIN CERTIFICATE");
        JsonNode info = primary.path("info");
        List<String> fields = new ArrayList<>();
        info.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactlyInAnyOrderElementsOf(INFO_FIELDS);
        assertThat(info.path("subjectName").asText()).isEqualTo(cert.getSubjectX500Principal().getName());
        assertThat(info.path("issuerName").asText()).isEqualTo(cert.getIssuerX500Principal().getName());
        assertThat(info.path("sha1Thumbprint").asText()).isEqualTo(sha1(cert));
        assertThat(info.path("sha256Thumbprint").asText()).isEqualTo(Certificates.sha256Thumbprint(cert));
        assertThat(Instant.parse(info.path("notBeforeUtc").asText())).isEqualTo(cert.getNotBefore().toInstant());
        assertThat(Instant.parse(info.path("notAfterUtc").asText())).isEqualTo(cert.getNotAfter().toInstant());
        assertThat(info.path("serialNumber").asText()).matches("[0-9A-F]+");
        assertThat(new BigInteger(info.path("serialNumber").asText(), 16)).isEqualTo(cert.getSerialNumber());
        assertThat(info.path("version").isInt()).isTrue();
        assertThat(info.path("version").asInt()).isEqualTo(3);
    }

    /** Uploads {@code ca} unverified under {@code name}; returns the envelope. */
    private static JsonNode created(String name, Ca ca) throws Exception {
        Reply r = main.call("PUT", "/certificates/" + name).body(upload(ca.pem(), false)).send();
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    /** Uploads and proves possession of {@code ca}; returns the verified envelope. */
    private static JsonNode verified(String name, Ca ca) throws Exception {
        created(name, ca);
        String code = main.call("POST", "/certificates/" + name + "/generateVerificationCode").send().json()
                .path("properties").path("verificationCode").asText();
        Reply r = main.call("POST", "/certificates/" + name + "/verify").body(verifyBody(ca.leafPem(code))).send();
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static String upload(String certificate, boolean isVerified) {
        ObjectNode properties = MAPPER.createObjectNode().put("certificate", certificate).put("isVerified", isVerified);
        return MAPPER.createObjectNode().set("properties", properties).toString();
    }

    private static String verifyBody(String certificate) {
        return MAPPER.createObjectNode().put("certificate", certificate).toString();
    }

    private static String clientCertificateEnrollment(String id, String pem) throws IOException {
        return "{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
                + "\"clientCertificates\":{\"primary\":{\"certificate\":" + MAPPER.writeValueAsString(pem) + "}}}}}";
    }

    private static String caReferencesGroup(String id, String caName) {
        return "{\"enrollmentGroupId\":\"" + id + "\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
                + "\"caReferences\":{\"primary\":\"" + caName + "\"}}}}";
    }

    private static String sha1(X509Certificate cert) throws Exception {
        return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-1").digest(cert.getEncoded()));
    }

    /** Checks an Azure error reply (status, JSON, numeric errorCode exact when positive) and returns the message. */
    private static String assertError(Reply r, int status, int errorCode) throws IOException {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).isEqualTo(JSON_UTF8);
        JsonNode body = r.json();
        assertThat(body.path("errorCode").isInt()).as(r.body()).isTrue();
        if (errorCode > 0) {
            assertThat(body.path("errorCode").asInt()).as(r.body()).isEqualTo(errorCode);
        } else {
            assertThat(body.path("errorCode").asInt() / 1000).as(r.body()).isEqualTo(status);
        }
        String message = body.path("message").asText();
        assertThat(message).isNotBlank();
        return message;
    }

    /** A CA certificate (self-signed root) with its key. */
    private record Ca(X509Certificate cert, KeyPair keys, String pem) {

        static Ca root(String cn) {
            KeyPair keys = Certificates.newEcKeyPair();
            X509Certificate cert = Certificates.template(Certificates.commonName(cn), keys.getPublic())
                    .selfSigned(keys.getPrivate()).ca().validity(Instant.now().minus(Duration.ofMinutes(5)),
                            Duration.ofDays(30)).issue();
            return new Ca(cert, keys, Certificates.toPem(cert));
        }

        /** An end-entity certificate signed by this CA (a device, or a verification certificate: CN = the code). */
        Leaf leaf(String cn) {
            KeyPair leafKeys = Certificates.newEcKeyPair();
            X509Certificate leaf = Certificates.template(Certificates.commonName(cn), leafKeys.getPublic())
                    .issuedBy(cert, keys.getPrivate()).validity(Instant.now().minus(Duration.ofMinutes(5)),
                            Duration.ofDays(1)).extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH).issue();
            return new Leaf(leaf, Certificates.toPem(leaf));
        }

        String leafPem(String cn) {
            return leaf(cn).pem();
        }
    }

    private record Leaf(X509Certificate cert, String pem) {
    }

    /** A running server and an authorised HTTPS client for it. */
    private record Target(OpenDpsServer server, HttpClient http, String base, String policyName, byte[] policyKey)
            implements AutoCloseable {

        static Target start(ServerOptions options) {
            OpenDpsServer server = OpenDpsServer.start(options);
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(TlsMaterial.trustingClientContext(server.info().caCertificate()))
                    .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
            Map<String, String> cs = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String part : server.info().serviceConnectionString().split(";")) {
                String[] kv = part.split("=", 2);
                cs.put(kv[0], kv[1]);
            }
            return new Target(server, http, "https://localhost:" + server.info().httpsPort(),
                    cs.get("SharedAccessKeyName"), Base64.getDecoder().decode(cs.get("SharedAccessKey")));
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
            this.authorization = SasSigner.serviceToken("localhost", target.policyName(), target.policyKey(),
                    Instant.now().plusSeconds(3600));
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
