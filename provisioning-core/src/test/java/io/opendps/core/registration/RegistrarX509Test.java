package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.ca.CaVerificationCode;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
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
import io.opendps.core.x509.X509ChainValidator;
import io.opendps.core.x509.X509RegistrationResult;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Registrar decisions for X.509 devices ({@code dps-device-protocol.md} §5), real stores on H2. */
class RegistrarX509Test {

    private static final String SCOPE = "0ne00000001";
    private static final String DEVICE = "dev-x509-01";
    private static final String API = "2021-06-01";
    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00.1234567Z");
    private static final String HUB = "hub-a.azure-devices.net";
    private static final String DEVICE_KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";

    private static final Issued ROOT = TestCertificates.ca("Root CA").build();
    private static final Issued INTERMEDIATE = TestCertificates.ca("Intermediate CA").issuedBy(ROOT).build();
    private static final Issued LEAF = TestCertificates.leaf(DEVICE).issuedBy(INTERMEDIATE).build();
    private static final Issued OTHER_LEAF = TestCertificates.leaf(DEVICE).issuedBy(INTERMEDIATE).build();

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcEnrollmentStore enrollmentStore;
    private JdbcRegistrationStore registrations;
    private CaCertificateService cas;
    private EnrollmentService enrollments;
    private Registrar registrar;
    private BuiltInHub hub;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        enrollmentStore = new JdbcEnrollmentStore(database.db());
        registrations = new JdbcRegistrationStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB)));
        hub = new BuiltInHub(List.of(HUB), new JdbcHubStore(database.db()), clock, 100);
        cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()), enrollmentStore,
                CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock)), registrations,
                allocator, hub.connectors(), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    // --- DSL ---

    private void enrollCertificate(String id, Issued cert, @Nullable String deviceId, ProvisioningStatus status) {
        enrollments.putEnrollment(id, new IndividualEnrollment(id, deviceId, null, AttestationMechanism.x509(
                X509Attestation.clientCertificates(new X509Certificates(
                        new X509CertificateWithInfo(cert.pem(), null), null))), null, null, null, null, status,
                null, null, null, null, null, null, null), null);
    }

    private void enrollGroup(String groupId, X509Attestation x509, ProvisioningStatus status) {
        enrollments.putGroup(groupId, new EnrollmentGroup(groupId, AttestationMechanism.x509(x509), null, null,
                null, null, status, null, null, null, null, null, null), null);
    }

    private static X509Attestation signing(Issued anchor) {
        return X509Attestation.signingCertificates(new X509Certificates(
                new X509CertificateWithInfo(anchor.pem(), null), null));
    }

    private static List<X509Certificate> chain(Issued... certs) {
        return java.util.Arrays.stream(certs).map(Issued::certificate).toList();
    }

    private static byte[] body(String registrationId) {
        return ("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private RegistrationReply register(String id, @Nullable String sas, List<X509Certificate> chain) {
        return registrar.register(new RegistrationRequest(SCOPE, id, sas, body(id), API, chain));
    }

    private RegistrationReply poll(String id, @Nullable String sas, String operationId,
            List<X509Certificate> chain) {
        return registrar.operationStatus(new OperationStatusRequest(SCOPE, id, sas, operationId, API, chain));
    }

    private RegistrationReply provision(List<X509Certificate> chain) {
        RegistrationReply registered = register(DEVICE, null, chain);
        assertThat(registered.status()).as("register status %s", registered.error()).isEqualTo(202);
        RegistrationReply polled = poll(DEVICE, null, registered.operation().operationId(), chain);
        assertThat(polled.status()).isEqualTo(200);
        return polled;
    }

    private DeviceRegistrationState assigned(List<X509Certificate> chain) {
        RegistrationReply polled = provision(chain);
        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.ASSIGNED);
        return polled.operation().registrationState();
    }

    private ErrorBody unauthorized(RegistrationReply reply) {
        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.error().errorCode()).isEqualTo(ErrorCode.UNAUTHORIZED.code());
        assertThat(registrations.find(DEVICE)).isEmpty();
        return reply.error();
    }

    private String sas(String key) {
        return SasSigner.deviceToken(SCOPE, DEVICE, Base64.getDecoder().decode(key), T0.plus(Duration.ofHours(1)));
    }

    // --- individual enrollments ---

    @Test
    void register_individualX509Enrollment_isAssignedWithCnAsDeviceIdAndCertificateInfo() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);

        DeviceRegistrationState state = assigned(chain(LEAF));

        assertThat(state.deviceId()).isEqualTo(DEVICE);
        assertThat(state.assignedHub()).isEqualTo(HUB);
        assertThat(state.symmetricKey()).isNull();
        assertThat(state.x509()).isEqualTo(new X509RegistrationResult(X509CertificateInfo.of(LEAF.certificate()),
                null, null));
        assertThat(state.enrollmentGroupId()).isNull();
    }

    @Test
    void register_individualWithDeviceId_usesIt() {
        enrollCertificate(DEVICE, LEAF, "custom-device", ProvisioningStatus.ENABLED);

        assertThat(assigned(chain(LEAF)).deviceId()).isEqualTo("custom-device");
    }

    @Test
    void register_disabledIndividualMatchingTheCertificate_blocksADeviceAnActiveGroupWouldAccept() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.DISABLED);

        RegistrationReply polled = provision(chain(LEAF, INTERMEDIATE));

        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(polled.operation().registrationState().errorMessage()).isEqualTo("Enrollment is disabled");
        assertThat(polled.operation().registrationState().assignedHub()).isNull();
    }

    @Test
    void register_individualHoldingAnotherCertificate_fallsThroughToTheGroup() {
        enrollCertificate(DEVICE, OTHER_LEAF, null, ProvisioningStatus.DISABLED);
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);

        DeviceRegistrationState state = assigned(chain(LEAF, INTERMEDIATE));

        assertThat(state.enrollmentGroupId()).isEqualTo("grp-root");
    }

    @Test
    void register_x509DeviceWithSymmetricKeyIndividualEnrollment_isUnauthorized() {
        enrollments.putEnrollment(DEVICE, IndividualEnrollment.symmetricKey(DEVICE, DEVICE_KEY, null), null);

        ErrorBody error = unauthorized(register(DEVICE, null, chain(LEAF)));

        assertThat(error.message()).contains("uses symmetric-key attestation").contains("SAS token");
    }

    @Test
    void register_sasDeviceWithX509IndividualEnrollment_isUnauthorizedSayingItExpectsTheCertificate() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);

        ErrorBody error = unauthorized(register(DEVICE, sas(DEVICE_KEY), List.of()));

        assertThat(error.message()).contains("uses X.509 attestation").contains("client certificate");
    }

    // --- groups ---

    @Test
    void register_groupWithRootSigningCertificate_intermediateSentByDevice_isAssigned() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);

        DeviceRegistrationState state = assigned(chain(LEAF, INTERMEDIATE));

        assertThat(state.deviceId()).isEqualTo(DEVICE);
        assertThat(state.symmetricKey()).isNull();
        assertThat(state.x509()).isEqualTo(new X509RegistrationResult(X509CertificateInfo.of(LEAF.certificate()),
                X509CertificateInfo.of(ROOT.certificate()), "grp-root"));
        assertThat(registrations.find(DEVICE).orElseThrow().enrollmentGroupId()).isEqualTo("grp-root");
    }

    @Test
    void register_groupWithIntermediateSigningCertificate_leafOnly_isAssigned() {
        enrollGroup("grp-int", signing(INTERMEDIATE), ProvisioningStatus.ENABLED);

        assertThat(assigned(chain(LEAF)).x509().signingCertificateInfo().subjectName())
                .isEqualTo("CN=Intermediate CA");
    }

    @Test
    void register_groupWithRootAndIntermediate_leafOnly_usesTheGroupsIntermediate() {
        enrollGroup("grp-both", X509Attestation.signingCertificates(new X509Certificates(
                new X509CertificateWithInfo(ROOT.pem(), null), new X509CertificateWithInfo(INTERMEDIATE.pem(),
                        null))), ProvisioningStatus.ENABLED);

        assertThat(assigned(chain(LEAF)).x509().enrollmentGroupId()).isEqualTo("grp-both");
    }

    @Test
    void register_rootOnlyGroup_missingIntermediate_isUnauthorizedWithoutRevealingEnrollments() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);

        ErrorBody error = unauthorized(register(DEVICE, null, chain(LEAF)));

        assertThat(error.message()).contains("no enrollment accepts this certificate chain")
                .doesNotContain("grp-root");
    }

    @Test
    void authenticate_noGroupAccepts_detailForTheAuditLogNamesEachGroupsReason() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);
        DeviceAuthenticator authenticator = new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock));

        DeviceAuthenticator.Result result = authenticator.authenticate(DEVICE, null, chain(LEAF), T0);

        assertThat(result).isInstanceOf(DeviceAuthenticator.Rejected.class);
        DeviceAuthenticator.Rejected rejected = (DeviceAuthenticator.Rejected) result;
        assertThat(rejected.reason()).isEqualTo(DeviceAuthenticator.Reason.NO_MATCH);
        assertThat(rejected.detail()).contains("group 'grp-root'").contains("CN=Intermediate CA")
                .contains(LEAF.sha256()).doesNotContain("BEGIN");
    }

    @Test
    void register_mostSpecificGroupWins_evenWhenDisabled() {
        enrollGroup("a-root", signing(ROOT), ProvisioningStatus.ENABLED);
        enrollGroup("b-intermediate", signing(INTERMEDIATE), ProvisioningStatus.DISABLED);

        RegistrationReply polled = provision(chain(LEAF, INTERMEDIATE));

        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(polled.operation().registrationState().errorMessage()).isEqualTo("Enrollment group is disabled");
        assertThat(polled.operation().registrationState().x509().enrollmentGroupId()).isEqualTo("b-intermediate");
    }

    @Test
    void register_mostSpecificEnabledGroupWins() {
        enrollGroup("a-intermediate", signing(INTERMEDIATE), ProvisioningStatus.ENABLED);
        enrollGroup("b-root", signing(ROOT), ProvisioningStatus.ENABLED);

        assertThat(assigned(chain(LEAF, INTERMEDIATE)).enrollmentGroupId()).isEqualTo("a-intermediate");
    }

    @Test
    void register_disabledGroup_isDisabled() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.DISABLED);

        assertThat(provision(chain(LEAF, INTERMEDIATE)).operation().status()).isEqualTo(RegistrationStatus.DISABLED);
    }

    @Test
    void register_groupByVerifiedCaReference_isAssigned() {
        cas.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = cas.generateVerificationCode("root", null);
        cas.verify("root", null, TestCertificates.leaf(code.verificationCode()).issuedBy(ROOT).build().pem());
        enrollGroup("grp-ca", X509Attestation.caReferences(new X509CaReferences("root", null)),
                ProvisioningStatus.ENABLED);

        DeviceRegistrationState state = assigned(chain(LEAF, INTERMEDIATE));

        assertThat(state.x509().enrollmentGroupId()).isEqualTo("grp-ca");
        assertThat(state.x509().signingCertificateInfo().subjectName()).isEqualTo("CN=Root CA");
    }

    @Test
    void register_noEnrollment_isUnauthorized() {
        ErrorBody error = unauthorized(register(DEVICE, null, chain(LEAF, INTERMEDIATE)));

        assertThat(error.message()).contains("no enrollment accepts this certificate chain");
    }

    @Test
    void register_wrongCa_isUnauthorized() {
        enrollGroup("grp-other", signing(TestCertificates.ca("Other Root").build()), ProvisioningStatus.ENABLED);

        unauthorized(register(DEVICE, null, chain(LEAF, INTERMEDIATE)));
    }

    // --- local problems and credential mix-ups ---

    @Test
    void register_certificateAndSasToken_isUnauthorizedNotBoth() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);

        ErrorBody error = unauthorized(register(DEVICE, sas(DEVICE_KEY), chain(LEAF)));

        assertThat(error.message()).contains("either a client certificate or a SAS token, not both");
    }

    @Test
    void register_cnDiffersFromRegistrationId_isUnauthorizedNamingBoth() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);
        Issued other = TestCertificates.leaf("someone-else").issuedBy(INTERMEDIATE).build();

        ErrorBody error = unauthorized(register(DEVICE, null, chain(other, INTERMEDIATE)));

        assertThat(error.message()).contains("'someone-else'").contains("'" + DEVICE + "'");
    }

    @Test
    void register_expiredLeaf_isUnauthorizedSayingSo() {
        Issued expired = TestCertificates.leaf(DEVICE).issuedBy(INTERMEDIATE)
                .validity(Instant.parse("2023-01-01T00:00:00Z"), Instant.parse("2024-01-01T00:00:00Z")).build();
        enrollCertificate(DEVICE, expired, null, ProvisioningStatus.ENABLED);

        ErrorBody error = unauthorized(register(DEVICE, null, chain(expired)));

        assertThat(error.message()).contains("expired at 2024-01-01T00:00:00Z");
    }

    // --- polls ---

    @Test
    void poll_withAnotherCertificate_isUnauthorized() {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);
        RegistrationReply registered = register(DEVICE, null, chain(LEAF, INTERMEDIATE));

        RegistrationReply polled = poll(DEVICE, null, registered.operation().operationId(),
                chain(OTHER_LEAF, INTERMEDIATE));

        assertThat(polled.status()).isEqualTo(401);
        assertThat(polled.error().message()).contains("differs from the one this registration was started with");
    }

    @Test
    void poll_withoutCertificate_isUnauthorized() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);
        RegistrationReply registered = register(DEVICE, null, chain(LEAF));

        assertThat(poll(DEVICE, null, registered.operation().operationId(), List.of()).status()).isEqualTo(401);
        assertThat(poll(DEVICE, sas(DEVICE_KEY), registered.operation().operationId(), List.of()).status())
                .isEqualTo(401);
    }

    @Test
    void operation_ofX509Registration_storesTheLeafThumbprint() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);
        RegistrationReply registered = register(DEVICE, null, chain(LEAF));

        assertThat(registrations.findOperation(registered.operation().operationId()).orElseThrow()
                .clientCertificateThumbprint()).isEqualTo(LEAF.sha256());
    }

    // --- shapes ---

    @Test
    void result_json_hasX509WithAllEightCertificateInfoFields() throws Exception {
        enrollGroup("grp-root", signing(ROOT), ProvisioningStatus.ENABLED);
        RegistrationReply polled = provision(chain(LEAF, INTERMEDIATE));

        JsonNode json = Json.mapper().readTree(Json.toAsciiBytes(polled.body()));

        JsonNode x509 = json.at("/registrationState/x509");
        assertThat(json.at("/registrationState/symmetricKey").isMissingNode()).isTrue();
        assertThat(x509.get("enrollmentGroupId").asText()).isEqualTo("grp-root");
        for (String info : List.of("certificateInfo", "signingCertificateInfo")) {
            assertThat(x509.get(info).fieldNames()).toIterable().containsExactly("subjectName", "sha1Thumbprint",
                    "sha256Thumbprint", "issuerName", "notBeforeUtc", "notAfterUtc", "serialNumber", "version");
            assertThat(x509.get(info).get("version").asInt()).isEqualTo(3);
        }
        assertThat(x509.at("/certificateInfo/subjectName").asText()).isEqualTo("CN=" + DEVICE);
        assertThat(x509.at("/certificateInfo/issuerName").asText()).isEqualTo("CN=Intermediate CA");
    }

    @Test
    void serviceView_ofX509Record_hasNoDeviceSideAttestation() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);
        assigned(chain(LEAF));

        DeviceRegistrationState view = enrollments.getEnrollment(DEVICE).orElseThrow().registrationState();

        assertThat(view.x509()).isNull();
        assertThat(view.symmetricKey()).isNull();
        assertThat(view.deviceId()).isEqualTo(DEVICE);
    }

    @Test
    void reRegister_sameCertificate_keepsTheAssignment() {
        enrollCertificate(DEVICE, LEAF, null, ProvisioningStatus.ENABLED);
        DeviceRegistrationState first = assigned(chain(LEAF));
        clock.advance(Duration.ofMinutes(5));

        DeviceRegistrationState second = assigned(chain(LEAF));

        assertThat(second.createdDateTimeUtc()).isEqualTo(first.createdDateTimeUtc());
        assertThat(second.x509()).isEqualTo(first.x509());
    }
}
