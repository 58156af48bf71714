package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestCertificates;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.testing.TestTpm;
import io.opendps.core.x509.X509ChainValidator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
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
import org.slf4j.LoggerFactory;

/**
 * The registrar with enrollment kinds whose device side is special: TPM enrollments given a SAS token or a
 * certificate, without an issued key (refused like a wrong credential, audited; the TPM flow is RegistrarTpmTest), {@code custom} allocation (fails without calling the webhook, audited) and
 * {@code geoLatency} (allocates like {@code hashed}). Real stores on H2.
 */
class RegistrarPolicyTest {

    private static final String SCOPE = "0ne00000001";
    private static final String DEVICE = "policy-device-01";
    private static final String API = "2021-06-01";
    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00.1234567Z");
    private static final String DEVICE_KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String GROUP_KEY = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";
    private static final String HUB_A = "hub-a.azure-devices.net";
    private static final String HUB_B = "hub-b.azure-devices.net";
    private static final String HUB_C = "hub-c.azure-devices.net";

    private final MutableClock clock = new MutableClock(T0);
    private final ListAppender<ILoggingEvent> audit = new ListAppender<>();
    private final Logger auditLogger = (Logger) LoggerFactory.getLogger("io.opendps.audit");
    private Level auditLevel;
    private TestDatabase database;
    private JdbcRegistrationStore registrations;
    private Allocator allocator;
    private EnrollmentService enrollments;
    private Registrar registrar;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        registrations = new JdbcRegistrationStore(database.db());
        allocator = new Allocator(List.of(LinkedHub.of(HUB_A), LinkedHub.of(HUB_B), LinkedHub.of(HUB_C)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock)), registrations,
                allocator, new BuiltInHub(List.of(HUB_A, HUB_B, HUB_C), new JdbcHubStore(database.db()), clock, 100)
                .connectors(), clock);
        auditLevel = auditLogger.getLevel();
        auditLogger.setLevel(Level.INFO);
        audit.start();
        auditLogger.addAppender(audit);
    }

    @AfterEach
    void tearDown() {
        auditLogger.detachAppender(audit);
        auditLogger.setLevel(auditLevel);
        database.close();
    }

    // --- DSL ---

    private void enroll(String registrationId, String json) {
        try {
            enrollments.putEnrollment(registrationId, Json.parse(json.getBytes(StandardCharsets.UTF_8),
                    IndividualEnrollment.class), "*");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void enrollGroup(String groupId, String json) {
        try {
            enrollments.putGroup(groupId, Json.parse(json.getBytes(StandardCharsets.UTF_8), EnrollmentGroup.class),
                    null);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void enrollTpm(String registrationId) {
        enroll(registrationId, "{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\""
                + TestTpm.rsaEndorsementKey(7) + "\"}}}");
    }

    private String token(String registrationId, String key) {
        return SasSigner.deviceToken(SCOPE, registrationId, Base64.getDecoder().decode(key),
                clock.instant().plus(Duration.ofHours(1)));
    }

    private RegistrationReply register(String registrationId, @Nullable String token, List<X509Certificate> chain) {
        return registrar.register(new RegistrationRequest(SCOPE, registrationId, token,
                ("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8), API, chain));
    }

    private RegistrationReply provision(String registrationId, String token) {
        RegistrationReply registered = register(registrationId, token, List.of());
        assertThat(registered.status()).as("register %s", registered.error()).isEqualTo(202);
        RegistrationReply polled = registrar.operationStatus(new OperationStatusRequest(SCOPE, registrationId, token,
                registered.operation().operationId(), API));
        assertThat(polled.status()).isEqualTo(200);
        return polled;
    }

    private String hashedHub(String registrationId) {
        return ((Allocation.Assigned) allocator.allocate(registrationId, null)).hub();
    }

    private List<String> auditLines() {
        return audit.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private ErrorBody unauthorizedAndNothingStored(RegistrationReply reply, String registrationId) {
        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.operation()).isNull();
        assertThat(reply.error().errorCode()).isEqualTo(ErrorCode.UNAUTHORIZED.code());
        assertThat(registrations.find(registrationId)).isEmpty();
        return reply.error();
    }

    // --- TPM enrollments ---

    @Test
    void register_sasTokenForTpmEnrollment_isRefusedLikeAWrongKeyAndAudited() {
        enrollTpm(DEVICE);

        RegistrationReply reply = register(DEVICE, token(DEVICE, DEVICE_KEY), List.of());

        ErrorBody error = unauthorizedAndNothingStored(reply, DEVICE);
        assertThat(error.message()).isEqualTo("Unauthorized: no enrollment for registration id '" + DEVICE
                + "' accepts this SAS token");
        assertThat(register("nobody-01", token("nobody-01", DEVICE_KEY), List.of()).error().message())
                .as("same text as for an unknown registration id").isEqualTo(error.message()
                        .replace(DEVICE, "nobody-01"));
        assertThat(auditLines()).anySatisfy(line -> assertThat(line).contains("registration refused",
                "registration-id: " + DEVICE, "reason: TPM_NOT_PROVEN", "uses TPM attestation"));
    }

    @Test
    void register_certificateForTpmEnrollment_isRefusedAndAudited() {
        enrollTpm(DEVICE);
        TestCertificates.Issued leaf = TestCertificates.leaf(DEVICE).build();

        RegistrationReply reply = register(DEVICE, null, List.of(leaf.certificate()));

        ErrorBody error = unauthorizedAndNothingStored(reply, DEVICE);
        assertThat(error.message()).isEqualTo("Unauthorized: no enrollment for registration id '" + DEVICE
                + "' accepts this certificate chain");
        assertThat(auditLines()).anySatisfy(line -> assertThat(line).contains("reason: WRONG_ATTESTATION",
                "uses TPM attestation", "a client certificate [sha256: " + leaf.sha256()));
    }

    @Test
    void operationStatus_enrollmentTurnedTpmAfterRegister_isRefused() {
        enroll(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                + "\"}}}");
        String token = token(DEVICE, DEVICE_KEY);
        String operationId = register(DEVICE, token, List.of()).operation().operationId();
        enrollTpm(DEVICE);

        RegistrationReply poll = registrar.operationStatus(new OperationStatusRequest(SCOPE, DEVICE, token,
                operationId, API));

        assertThat(poll.status()).isEqualTo(401);
        assertThat(auditLines()).anySatisfy(line -> assertThat(line).contains("reason: TPM_NOT_PROVEN"));
    }

    @Test
    void register_noCredentialAtAll_explainsHowATpmDeviceAsksForItsChallenge() {
        enrollTpm(DEVICE);

        RegistrationReply reply = register(DEVICE, null, List.of());

        assertThat(unauthorizedAndNothingStored(reply, DEVICE).message())
                .contains("a TPM device sends \"tpm\":{\"endorsementKey\"");
    }

    // --- custom allocation ---

    @Test
    void register_customPolicy_failsWith400207WithoutCallingTheWebhook() throws IOException {
        try (ServerSocketChannel webhook = ServerSocketChannel.open()) {
            webhook.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            webhook.configureBlocking(false);
            int port = ((InetSocketAddress) webhook.getLocalAddress()).getPort();
            enroll(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\""
                    + DEVICE_KEY + "\"}},\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":"
                    + "\"http://127.0.0.1:" + port + "/api/allocate?code=s3cret\",\"apiVersion\":\"2021-10-01\"}}");

            RegistrationReply polled = provision(DEVICE, token(DEVICE, DEVICE_KEY));

            DeviceRegistrationState state = polled.operation().registrationState();
            assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.FAILED);
            assertThat(state.errorCode()).isEqualTo(400207);
            assertThat(state.errorMessage()).isEqualTo(PolicyAllocation.CUSTOM_UNAVAILABLE)
                    .contains("custom allocation webhooks are not available");
            assertThat(state.assignedHub()).isNull();
            assertThat(registrations.find(DEVICE).orElseThrow().status()).isEqualTo(RegistrationStatus.FAILED);
            assertThat(webhook.accept()).as("nobody connected to the webhook").isNull();
            assertThat(auditLines()).anySatisfy(line -> assertThat(line).contains("custom allocation not available",
                    "registration-id: " + DEVICE, "enrollment: individual " + DEVICE,
                    "webhook: http://127.0.0.1:" + port + "/api/allocate?****"));
            assertThat(auditLines()).noneSatisfy(line -> assertThat(line).contains("s3cret"));
        }
    }

    @Test
    void register_customPolicyOnAGroup_failsTheMemberWith400207() {
        enrollGroup("toasters", "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\""
                + GROUP_KEY + "\"}},\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":"
                + "\"https://alloc.example.com/api/allocate\",\"apiVersion\":\"2019-03-31\"}}");
        String memberKey = Base64.getEncoder().encodeToString(DerivedKeys.derive(Base64.getDecoder().decode(GROUP_KEY),
                "toaster-1"));

        RegistrationReply polled = provision("toaster-1", token("toaster-1", memberKey));

        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(polled.operation().registrationState().errorCode()).isEqualTo(400207);
        assertThat(auditLines()).anySatisfy(line -> assertThat(line).contains("enrollment: group toasters",
                "webhook: https://alloc.example.com/api/allocate]"));
    }

    @Test
    void register_customPolicyWithLegacyHostName_stillGoesToTheWebhookPath() {
        enroll(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                + "\"}},\"iotHubHostName\":\"" + HUB_A + "\",\"allocationPolicy\":\"custom\","
                + "\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/x\",\"apiVersion\":"
                + "\"2021-10-01\"}}");

        RegistrationReply polled = provision(DEVICE, token(DEVICE, DEVICE_KEY));

        assertThat(polled.operation().registrationState().errorCode()).isEqualTo(400207);
    }

    @Test
    void register_definitionWithHashedPolicy_isInertAndTheDeviceIsHashed() {
        enroll(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                + "\"}},\"allocationPolicy\":\"hashed\",\"customAllocationDefinition\":{\"webhookUrl\":"
                + "\"https://a.example/x\",\"apiVersion\":\"2021-10-01\"}}");

        RegistrationReply polled = provision(DEVICE, token(DEVICE, DEVICE_KEY));

        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(polled.operation().registrationState().assignedHub()).isEqualTo(hashedHub(DEVICE));
    }

    // --- geoLatency ---

    @Test
    void register_geoLatency_assignsWhatHashedAssigns() {
        for (int i = 0; i < 12; i++) {
            String id = "geo-" + i;
            enroll(id, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                    + "\"}},\"allocationPolicy\":\"geoLatency\"}");

            RegistrationReply polled = provision(id, token(id, DEVICE_KEY));

            assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.ASSIGNED);
            assertThat(polled.operation().registrationState().assignedHub()).as(id).isEqualTo(hashedHub(id));
        }
    }

    @Test
    void register_geoLatencyGroup_assignsWhatHashedAssigns() {
        enrollGroup("geo-group", "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\""
                + GROUP_KEY + "\"}},\"allocationPolicy\":\"GeoLatency\"}");
        for (int i = 0; i < 6; i++) {
            String id = "geo-member-" + i;
            String key = Base64.getEncoder().encodeToString(DerivedKeys.derive(Base64.getDecoder().decode(GROUP_KEY),
                    id));

            RegistrationReply polled = provision(id, token(id, key));

            assertThat(polled.operation().registrationState().assignedHub()).as(id).isEqualTo(hashedHub(id));
        }
    }
}
