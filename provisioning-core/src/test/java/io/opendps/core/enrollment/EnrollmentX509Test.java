package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.ca.CaVerificationCode;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestCertificates;
import io.opendps.core.testing.TestCertificates.Issued;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CaReferences;
import io.opendps.core.x509.X509CertificateInfo;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Enrollment rules for X.509 attestation, through {@link EnrollmentService} on H2. */
class EnrollmentX509Test {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");
    private static final Issued ROOT = TestCertificates.ca("Root CA").build();
    private static final Issued DEVICE = TestCertificates.leaf("dev-1").issuedBy(ROOT).build();
    private static final Issued DEVICE_NEXT = TestCertificates.leaf("dev-1").issuedBy(ROOT).build();

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcEnrollmentStore store;
    private CaCertificateService cas;
    private EnrollmentService service;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        store = new JdbcEnrollmentStore(database.db());
        cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()), store,
                CaCertificateOptions.DEFAULTS, clock);
        service = new EnrollmentService(store, new JdbcRegistrationStore(database.db()),
                new Allocator(List.of(LinkedHub.of("hub-a.azure-devices.net"))), cas, clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private static ProvisioningException rejected(ThrowingCallable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call);
        assertThat(e).as("expected a 400").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        return e;
    }

    private static X509Certificates certs(Issued primary, @Nullable Issued secondary) {
        return new X509Certificates(new X509CertificateWithInfo(primary.pem(), null),
                secondary == null ? null : new X509CertificateWithInfo(secondary.pem(), null));
    }

    private static IndividualEnrollment individual(String id, X509Attestation x509) {
        return new IndividualEnrollment(id, null, null, AttestationMechanism.x509(x509), null, null, null, null,
                null, null, null, null, null, null, null, null);
    }

    private static EnrollmentGroup group(String id, X509Attestation x509) {
        return new EnrollmentGroup(id, AttestationMechanism.x509(x509), null, null, null, null, null, null, null,
                null, null, null, null);
    }

    private static <T> T parse(String json, Class<T> type) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void putEnrollment_clientCertificates_storesPemAndInfo_respondsWithInfoOnly() {
        IndividualEnrollment put = service.putEnrollment("dev-1",
                individual("dev-1", X509Attestation.clientCertificates(certs(DEVICE, DEVICE_NEXT))), null);

        X509Certificates response = put.attestation().x509().clientCertificates();
        assertThat(response.primary().certificate()).isNull();
        assertThat(response.primary().info()).isEqualTo(X509CertificateInfo.of(DEVICE.certificate()));
        assertThat(response.secondary().info().sha256Thumbprint()).isEqualTo(DEVICE_NEXT.sha256());
        X509Certificates stored = store.findEnrollment("dev-1").orElseThrow().attestation().x509()
                .clientCertificates();
        assertThat(stored.primary().certificate()).isEqualTo(DEVICE.pem());
        assertThat(stored.primary().info()).isEqualTo(X509CertificateInfo.of(DEVICE.certificate()));
        String get = Json.toText(service.getEnrollment("dev-1").orElseThrow());
        assertThat(get).contains("\"sha256Thumbprint\":\"" + DEVICE.sha256() + "\"").doesNotContain("BEGIN")
                .doesNotContain("\"certificate\"");
        assertThat(Json.toText(service.enrollmentAttestation("dev-1"))).contains("\"type\":\"x509\"")
                .doesNotContain("BEGIN");
    }

    @Test
    void putEnrollment_jsonWithBase64PemFromTheCSdk_isAccepted() {
        String b64 = java.util.Base64.getEncoder().encodeToString(DEVICE.pem().getBytes(StandardCharsets.US_ASCII));
        IndividualEnrollment body = parse("{\"registrationId\":\"dev-1\",\"attestation\":{\"type\":\"x509\","
                + "\"x509\":{\"clientCertificates\":{\"primary\":{\"certificate\":\"" + b64 + "\"}}}}}",
                IndividualEnrollment.class);

        service.putEnrollment("dev-1", body, null);

        assertThat(store.findEnrollment("dev-1").orElseThrow().attestation().x509().clientCertificates().primary()
                .certificate()).isEqualTo(DEVICE.pem());
    }

    @Test
    void putEnrollment_infoOnlyRoundTrip_keepsTheStoredCertificates() {
        service.putEnrollment("dev-1",
                individual("dev-1", X509Attestation.clientCertificates(certs(DEVICE, DEVICE_NEXT))), null);
        String got = Json.toText(service.getEnrollment("dev-1").orElseThrow());

        service.putEnrollment("dev-1", parse(got, IndividualEnrollment.class), "*");

        X509Certificates stored = store.findEnrollment("dev-1").orElseThrow().attestation().x509()
                .clientCertificates();
        assertThat(stored.primary().certificate()).isEqualTo(DEVICE.pem());
        assertThat(stored.secondary().certificate()).isEqualTo(DEVICE_NEXT.pem());
    }

    @Test
    void putEnrollment_infoNamingNothingStored_is400() {
        service.putEnrollment("dev-1", individual("dev-1", X509Attestation.clientCertificates(certs(DEVICE, null))),
                null);
        X509CertificateInfo unknown = X509CertificateInfo.of(DEVICE_NEXT.certificate());

        ProvisioningException e = rejected(() -> service.putEnrollment("dev-1", individual("dev-1",
                X509Attestation.clientCertificates(new X509Certificates(new X509CertificateWithInfo(null, unknown),
                        null))), "*"));

        assertThat(e).hasMessageContaining("attestation.x509.clientCertificates.primary")
                .hasMessageContaining(DEVICE_NEXT.sha256());
    }

    @Test
    void putEnrollment_nullSecondary_removesIt() {
        service.putEnrollment("dev-1",
                individual("dev-1", X509Attestation.clientCertificates(certs(DEVICE, DEVICE_NEXT))), null);
        String withoutSecondary = "{\"registrationId\":\"dev-1\",\"attestation\":{\"type\":\"x509\",\"x509\":"
                + "{\"clientCertificates\":{\"primary\":{\"info\":{\"sha256Thumbprint\":\"" + DEVICE.sha256()
                + "\"}},\"secondary\":null}}}}";

        service.putEnrollment("dev-1", parse(withoutSecondary, IndividualEnrollment.class), "*");

        assertThat(store.findEnrollment("dev-1").orElseThrow().attestation().x509().clientCertificates()
                .secondary()).isNull();
    }

    @Test
    void putEnrollment_missingPrimary_is400() {
        ProvisioningException e = rejected(() -> service.putEnrollment("dev-1", individual("dev-1",
                X509Attestation.clientCertificates(new X509Certificates(null, null))), null));

        assertThat(e).hasMessageContaining("clientCertificates.primary is required");
    }

    @Test
    void putEnrollment_unreadableCertificate_is400NamingTheField() {
        ProvisioningException e = rejected(() -> service.putEnrollment("dev-1", parse("{\"attestation\":"
                + "{\"type\":\"x509\",\"x509\":{\"clientCertificates\":{\"primary\":{\"certificate\":\"MIIB\"}}}}}",
                IndividualEnrollment.class), null));

        assertThat(e).hasMessageContaining("attestation.x509.clientCertificates.primary.certificate");
    }

    @Test
    void putEnrollment_cnDiffersFromRegistrationId_is400() {
        ProvisioningException e = rejected(() -> service.putEnrollment("dev-2",
                individual("dev-2", X509Attestation.clientCertificates(certs(DEVICE, null))), null));

        assertThat(e).hasMessageContaining("CN 'dev-1'").hasMessageContaining("'dev-2'");
    }

    @Test
    void putEnrollment_signingCertificates_is400() {
        ProvisioningException e = rejected(() -> service.putEnrollment("dev-1",
                individual("dev-1", X509Attestation.signingCertificates(certs(ROOT, null))), null));

        assertThat(e).hasMessageContaining("individual enrollments use attestation.x509.clientCertificates");
    }

    @Test
    void putEnrollment_twoKinds_is400() {
        ProvisioningException e = rejected(() -> service.putEnrollment("dev-1", individual("dev-1",
                new X509Attestation(certs(DEVICE, null), certs(ROOT, null), null)), null));

        assertThat(e).hasMessageContaining("exactly one");
    }

    @Test
    void putEnrollment_x509TypeWithoutObject_is400() {
        ProvisioningException e = rejected(() -> service.putEnrollment("dev-1",
                parse("{\"attestation\":{\"type\":\"x509\"}}", IndividualEnrollment.class), null));

        assertThat(e).hasMessageContaining("attestation.x509 is required");
    }

    @Test
    void putGroup_signingCertificate_isStoredWithInfo() {
        EnrollmentGroup put = service.putGroup("g1", group("g1", X509Attestation.signingCertificates(
                certs(ROOT, null))), null);

        assertThat(put.attestation().x509().signingCertificates().primary().info().subjectName())
                .isEqualTo("CN=Root CA");
        assertThat(Json.toText(put)).doesNotContain("BEGIN");
        assertThat(store.findGroup("g1").orElseThrow().attestation().x509().signingCertificates().primary()
                .certificate()).isEqualTo(ROOT.pem());
    }

    @Test
    void putGroup_infoOnlyRoundTrip_keepsTheSigningCertificate() {
        service.putGroup("g1", group("g1", X509Attestation.signingCertificates(certs(ROOT, null))), null);

        service.putGroup("g1", parse(Json.toText(service.getGroup("g1").orElseThrow()), EnrollmentGroup.class),
                "*");

        assertThat(store.findGroup("g1").orElseThrow().attestation().x509().signingCertificates().primary()
                .certificate()).isEqualTo(ROOT.pem());
    }

    @Test
    void putGroup_clientCertificates_is400() {
        ProvisioningException e = rejected(() -> service.putGroup("g1",
                group("g1", X509Attestation.clientCertificates(certs(DEVICE, null))), null));

        assertThat(e).hasMessageContaining("enrollment groups use");
    }

    @Test
    void putGroup_nonCaSigningCertificate_is400() {
        ProvisioningException e = rejected(() -> service.putGroup("g1",
                group("g1", X509Attestation.signingCertificates(certs(DEVICE, null))), null));

        assertThat(e).hasMessageContaining("signingCertificates.primary.certificate")
                .hasMessageContaining("not a CA certificate");
    }

    @Test
    void putGroup_caReferenceToUnverifiedCa_is400() {
        cas.put("root", ROOT.pem(), false, null);

        ProvisioningException e = rejected(() -> service.putGroup("g1",
                group("g1", X509Attestation.caReferences(new X509CaReferences("root", null))), null));

        assertThat(e).hasMessageContaining("caReferences.primary").hasMessageContaining("not verified");
    }

    @Test
    void putGroup_caReferenceToUnknownCa_is400() {
        ProvisioningException e = rejected(() -> service.putGroup("g1",
                group("g1", X509Attestation.caReferences(new X509CaReferences("nope", null))), null));

        assertThat(e).hasMessageContaining("no CA certificate named 'nope'");
    }

    @Test
    void putGroup_caReferenceToVerifiedCa_isAccepted_andTheCaCannotBeDeletedWhileReferenced() {
        cas.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = cas.generateVerificationCode("root", null);
        cas.verify("root", null, TestCertificates.leaf(code.verificationCode()).issuedBy(ROOT).build().pem());

        EnrollmentGroup put = service.putGroup("g1",
                group("g1", X509Attestation.caReferences(new X509CaReferences("root", null))), null);

        assertThat(Json.toText(put.attestation())).isEqualTo(
                "{\"type\":\"x509\",\"x509\":{\"caReferences\":{\"primary\":\"root\"}}}");
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, () -> cas.delete("root", "*"));
        assertThat(e.code()).isEqualTo(ErrorCode.CA_CERTIFICATE_IN_USE);
        assertThat(e).hasMessageContaining("g1");
    }

    @Test
    void putGroup_caReferenceToUnverifiedCaWithAutoVerify_isAccepted() {
        CaCertificateService auto = new CaCertificateService(new JdbcCaCertificateStore(database.db()), store,
                CaCertificateOptions.autoVerify(true), clock);
        EnrollmentService lenient = new EnrollmentService(store, new JdbcRegistrationStore(database.db()),
                new Allocator(List.of(LinkedHub.of("hub-a.azure-devices.net"))), auto, clock);
        auto.put("root", ROOT.pem(), false, null);

        lenient.putGroup("g1", group("g1", X509Attestation.caReferences(new X509CaReferences("root", null))), null);

        assertThat(store.findGroup("g1")).isPresent();
    }

    @Test
    void putGroup_tpm_is400() {
        ProvisioningException e = rejected(() -> service.putGroup("g1", parse(
                "{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AToAAQAL\"}}}",
                EnrollmentGroup.class), null));

        assertThat(e).hasMessageContaining("tpm");
    }
}
