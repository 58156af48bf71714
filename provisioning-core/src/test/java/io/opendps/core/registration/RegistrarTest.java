package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.X509ChainValidator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Registrar decisions with real JDBC stores on in-memory H2 and a fixed clock. */
class RegistrarTest {

    private static final String SCOPE = "0ne00000001";
    private static final String DEVICE = "my-device-01";
    private static final String API = "2021-06-01";
    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00.1234567Z");
    /** {@code dps-device-protocol.md} §4.3 / §4.4 test keys. */
    private static final String DEVICE_KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String GROUP_KEY = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";
    private static final String DERIVED_KEY = "pVwrrnsS3LMMG0J+YLiW+6Ewipb33TvgohNoecRqnGA=";
    private static final String OTHER_KEY = "T1RIRVItS0VZLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU=";
    private static final String HUB_A = "hub-a.azure-devices.net";
    private static final String HUB_B = "hub-b.azure-devices.net";
    private static final String HUB_MANUAL = "manual.azure-devices.net";

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcEnrollmentStore enrollmentStore;
    private JdbcRegistrationStore registrations;
    private Allocator allocator;
    private EnrollmentService enrollments;
    private Registrar registrar;
    private BuiltInHub hub;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        enrollmentStore = new JdbcEnrollmentStore(database.db());
        registrations = new JdbcRegistrationStore(database.db());
        allocator = new Allocator(List.of(LinkedHub.of(HUB_A), LinkedHub.of(HUB_B),
                new LinkedHub(HUB_MANUAL, 1000, false)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        DeviceAuthenticator authenticator = new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock));
        hub = new BuiltInHub(List.of(HUB_A, HUB_B, HUB_MANUAL), new JdbcHubStore(database.db()), clock, 100);
        registrar = new Registrar(SCOPE, authenticator, registrations, allocator, hub.connectors(), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    // --- a small DSL ---

    private void enroll(String registrationId, String key) {
        enrollments.putEnrollment(registrationId, IndividualEnrollment.symmetricKey(registrationId, key, null), null);
    }

    private void enrollJson(String registrationId, String json) {
        try {
            enrollments.putEnrollment(registrationId, Json.parse(json.getBytes(StandardCharsets.UTF_8),
                    IndividualEnrollment.class), null);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void enrollGroup(String groupId, String primary, @Nullable String secondary, ProvisioningStatus status) {
        enrollments.putGroup(groupId, new EnrollmentGroup(groupId, AttestationMechanism.symmetricKey(primary,
                secondary), null, null, null, null, status, null, null, null, null, null, null), null);
    }

    private void disable(String registrationId) {
        IndividualEnrollment current = enrollmentStore.findEnrollment(registrationId).orElseThrow();
        enrollments.putEnrollment(registrationId, new IndividualEnrollment(registrationId, current.deviceId(), null,
                AttestationMechanism.symmetricKey(null, null), current.capabilities(), current.iotHubHostName(),
                null, null, ProvisioningStatus.DISABLED, null, null, null, null, null, null, null), "*");
    }

    private String token(String registrationId, String key) {
        return SasSigner.deviceToken(SCOPE, registrationId, Base64.getDecoder().decode(key),
                clock.instant().plus(Duration.ofHours(1)));
    }

    private static byte[] body(String registrationId) {
        return ("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private RegistrationReply register(String registrationId, @Nullable String token) {
        return registrar.register(new RegistrationRequest(SCOPE, registrationId, token, body(registrationId), API));
    }

    private RegistrationReply registerWithBody(String registrationId, String token, byte[] body) {
        return registrar.register(new RegistrationRequest(SCOPE, registrationId, token, body, API));
    }

    private RegistrationReply poll(String registrationId, @Nullable String token, String operationId) {
        return registrar.operationStatus(new OperationStatusRequest(SCOPE, registrationId, token, operationId, API));
    }

    private static String operationId(RegistrationReply reply) {
        assertThat(reply.status()).as("register status").isEqualTo(202);
        return reply.operation().operationId();
    }

    /** Register then poll once; returns the poll reply. */
    private RegistrationReply provision(String registrationId, String token) {
        return poll(registrationId, token, operationId(register(registrationId, token)));
    }

    private DeviceRegistrationState assigned(String registrationId, String token) {
        RegistrationReply reply = provision(registrationId, token);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.operation().status()).isEqualTo(RegistrationStatus.ASSIGNED);
        return reply.operation().registrationState();
    }

    private String hashedHub(String registrationId) {
        return ((Allocation.Assigned) allocator.allocate(registrationId, null)).hub();
    }

    private int operationCount() {
        return database.db().inTransaction("counting operations", c -> {
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM registration_operation")) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    private ErrorBody assertError(RegistrationReply reply, ErrorCode code) {
        assertThat(reply.status()).isEqualTo(code.httpStatus());
        assertThat(reply.operation()).isNull();
        assertThat(reply.error()).isNotNull();
        assertThat(reply.error().errorCode()).isEqualTo(code.code());
        assertThat(reply.error().trackingId()).isNotBlank();
        assertThat(reply.error().timestampUtc()).isEqualTo(clock.instant());
        return reply.error();
    }

    private ErrorBody assertUnauthorizedAndNothingStored(RegistrationReply reply, String registrationId) {
        ErrorBody error = assertError(reply, ErrorCode.UNAUTHORIZED);
        assertThat(error.errorCode()).isEqualTo(401002);
        assertThat(registrations.find(registrationId)).isEmpty();
        assertThat(operationCount()).isZero();
        return error;
    }

    // --- individual enrollments ---

    @Test
    void register_individualEnrollment_is202ThenPollIs200Assigned() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);

        RegistrationReply registered = register(DEVICE, token);

        assertThat(registered.status()).isEqualTo(202);
        assertThat(registered.retryAfterSeconds()).isEqualTo(RegistrationReply.RETRY_AFTER_SECONDS);
        assertThat(Json.toText(registered.body()))
                .isEqualTo("{\"operationId\":\"" + operationId(registered) + "\",\"status\":\"assigning\"}");

        RegistrationReply polled = poll(DEVICE, token, operationId(registered));

        assertThat(polled.status()).isEqualTo(200);
        assertThat(polled.retryAfterSeconds()).isNull();
        assertThat(polled.operation().operationId()).isEqualTo(operationId(registered));
        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.ASSIGNED);
        DeviceRegistrationState state = polled.operation().registrationState();
        assertThat(state.registrationId()).isEqualTo(DEVICE);
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(state.assignedHub()).isEqualTo(hashedHub(DEVICE));
        assertThat(state.deviceId()).isEqualTo(DEVICE);
        assertThat(state.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(state.lastUpdatedDateTimeUtc()).isEqualTo(T0);
        assertThat(state.etag()).isNotBlank();
        assertThat(Base64.getDecoder().decode(state.etag())).isNotEmpty();
        assertThat(state.symmetricKey()).isEqualTo(GroupReference.INDIVIDUAL);
        assertThat(state.errorCode()).isNull();
        assertThat(state.payload()).isNull();
        assertThat(registrations.find(DEVICE)).contains(state);
        assertThat(Json.toText(polled.body())).startsWith("{\"operationId\":\"" + operationId(registered)
                + "\",\"status\":\"assigned\",\"registrationState\":{\"registrationId\":\"my-device-01\",")
                .contains("\"symmetricKey\":{}", "\"createdDateTimeUtc\":\"2024-05-01T10:00:00.1234567Z\"");
    }

    @Test
    void register_operationIds_areUniquePerAttempt() {
        enroll(DEVICE, DEVICE_KEY);

        String first = operationId(register(DEVICE, token(DEVICE, DEVICE_KEY)));
        String second = operationId(register(DEVICE, token(DEVICE, DEVICE_KEY)));

        assertThat(first).isNotEqualTo(second).matches("^1\\.[0-9a-f]{16}\\.[0-9a-f-]{36}$");
    }

    @Test
    void register_secondaryKey_isAccepted() {
        enrollments.putEnrollment(DEVICE, IndividualEnrollment.symmetricKey(DEVICE, OTHER_KEY, DEVICE_KEY), null);

        assertThat(assigned(DEVICE, token(DEVICE, DEVICE_KEY)).assignedHub()).isNotNull();
    }

    @Test
    void register_enrollmentWithDeviceId_usesItsDeviceId() {
        enrollJson(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                + "\"}},\"deviceId\":\"Thermostat-7\"}");

        assertThat(assigned(DEVICE, token(DEVICE, DEVICE_KEY)).deviceId()).isEqualTo("Thermostat-7");
    }

    @Test
    void register_staticIotHubHostName_assignsThatHubEvenOutsideAllocation() {
        enrollJson(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                + "\"}},\"iotHubHostName\":\"Manual.Azure-Devices.net\"}");

        assertThat(assigned(DEVICE, token(DEVICE, DEVICE_KEY)).assignedHub()).isEqualTo(HUB_MANUAL);
    }

    @Test
    void register_staticAllocationPolicyWithOneHub_assignsThatHub() {
        String other = HUB_A.equals(hashedHub(DEVICE)) ? HUB_B : HUB_A;
        enrollJson(DEVICE, "{\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + DEVICE_KEY
                + "\"}},\"allocationPolicy\":\"static\",\"iotHubs\":[\"" + other + "\"]}");

        assertThat(assigned(DEVICE, token(DEVICE, DEVICE_KEY)).assignedHub()).isEqualTo(other);
    }

    @Test
    void register_hashedAllocation_followsTheAllocatorAndSkipsExcludedHubs() {
        for (int i = 0; i < 12; i++) {
            String id = "sensor-" + i;
            enroll(id, DEVICE_KEY);

            String hub = assigned(id, token(id, DEVICE_KEY)).assignedHub();

            assertThat(hub).isEqualTo(hashedHub(id)).isIn(HUB_A, HUB_B);
        }
    }

    @Test
    void register_bodyIdInOtherCase_isAccepted() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);

        RegistrationReply reply = registerWithBody(DEVICE, token, body("MY-DEVICE-01"));

        assertThat(reply.status()).isEqualTo(202);
    }

    // --- groups ---

    @Test
    void register_groupMemberWithDerivedKey_isAssignedNamingTheGroup() {
        assertThat(DerivedKeys.deriveBase64(GROUP_KEY, DEVICE)).isEqualTo(DERIVED_KEY);
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        String token = token(DEVICE, DERIVED_KEY);

        RegistrationReply polled = provision(DEVICE, token);

        DeviceRegistrationState state = polled.operation().registrationState();
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.deviceId()).isEqualTo(DEVICE);
        assertThat(state.assignedHub()).isEqualTo(hashedHub(DEVICE));
        assertThat(state.enrollmentGroupId()).isEqualTo("grp-1");
        assertThat(Json.toText(polled.body())).contains("\"symmetricKey\":{\"enrollmentGroupId\":\"grp-1\"}");
    }

    @Test
    void register_keyDerivedFromSecondaryGroupKey_isAccepted() {
        enrollGroup("grp-1", OTHER_KEY, GROUP_KEY, ProvisioningStatus.ENABLED);

        assertThat(assigned(DEVICE, token(DEVICE, DERIVED_KEY)).enrollmentGroupId()).isEqualTo("grp-1");
    }

    @Test
    void register_secondMatchingGroup_isFound() {
        enrollGroup("grp-a", OTHER_KEY, null, ProvisioningStatus.ENABLED);
        enrollGroup("grp-b", GROUP_KEY, null, ProvisioningStatus.ENABLED);

        assertThat(assigned(DEVICE, token(DEVICE, DERIVED_KEY)).enrollmentGroupId()).isEqualTo("grp-b");
    }

    @Test
    void register_groupKeyItself_isUnauthorized() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);

        RegistrationReply reply = register(DEVICE, token(DEVICE, GROUP_KEY));

        assertUnauthorizedAndNothingStored(reply, DEVICE);
    }

    @Test
    void register_derivedKeyForAnotherDevice_isUnauthorized() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        String othersKey = DerivedKeys.deriveBase64(GROUP_KEY, "other-device");

        assertUnauthorizedAndNothingStored(register(DEVICE, token(DEVICE, othersKey)), DEVICE);
    }

    @Test
    void register_disabledIndividualEnrollment_blocksADeviceTheGroupWouldAccept() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        enroll(DEVICE, DERIVED_KEY);
        disable(DEVICE);

        RegistrationReply polled = provision(DEVICE, token(DEVICE, DERIVED_KEY));

        assertThat(polled.status()).isEqualTo(200);
        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.DISABLED);
        DeviceRegistrationState state = polled.operation().registrationState();
        assertThat(state.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(state.enrollmentGroupId()).as("the individual enrollment decided").isNull();
        assertThat(state.errorMessage()).isEqualTo("Enrollment is disabled");
        assertThat(state.assignedHub()).isNull();
    }

    @Test
    void register_individualEnrollmentWithOtherKeys_decidesAloneOverTheGroup() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        enroll(DEVICE, OTHER_KEY);
        disable(DEVICE);

        assertUnauthorizedAndNothingStored(register(DEVICE, token(DEVICE, DERIVED_KEY)), DEVICE);
    }

    @Test
    void register_enabledIndividualEnrollment_beatsTheGroup() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        enroll(DEVICE, DERIVED_KEY);

        DeviceRegistrationState state = assigned(DEVICE, token(DEVICE, DERIVED_KEY));

        assertThat(state.enrollmentGroupId()).isNull();
        assertThat(state.symmetricKey()).isEqualTo(GroupReference.INDIVIDUAL);
    }

    // --- disabled ---

    @Test
    void register_disabledEnrollment_pollsDisabledAndSavesTheRecord() {
        enroll(DEVICE, DEVICE_KEY);
        disable(DEVICE);
        String token = token(DEVICE, DEVICE_KEY);

        RegistrationReply registered = register(DEVICE, token);
        RegistrationReply polled = poll(DEVICE, token, operationId(registered));

        assertThat(polled.status()).isEqualTo(200);
        RegistrationOperationStatus op = polled.operation();
        assertThat(op.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(op.registrationState().registrationId()).isEqualTo(DEVICE);
        assertThat(op.registrationState().status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(op.registrationState().errorCode()).isEqualTo(401002);
        assertThat(op.registrationState().errorMessage()).isEqualTo("Enrollment is disabled");
        DeviceRegistrationState record = registrations.find(DEVICE).orElseThrow();
        assertThat(record.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(record.etag()).isNotBlank();
        assertThat(record.lastUpdatedDateTimeUtc()).isEqualTo(T0);
        assertThat(Json.toText(polled.body())).startsWith("{\"operationId\":\"" + operationId(registered)
                + "\",\"status\":\"disabled\",\"registrationState\":{\"registrationId\":\"my-device-01\"")
                .contains("\"errorCode\":401002");
    }

    @Test
    void register_disabledGroup_pollsDisabledNamingTheGroup() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.DISABLED);

        RegistrationReply polled = provision(DEVICE, token(DEVICE, DERIVED_KEY));

        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(polled.operation().registrationState().errorMessage()).isEqualTo("Enrollment group is disabled");
        assertThat(polled.operation().registrationState().enrollmentGroupId()).isEqualTo("grp-1");
        assertThat(registrations.find(DEVICE).orElseThrow().status()).isEqualTo(RegistrationStatus.DISABLED);
    }

    @Test
    void register_disabledAfterAssignment_keepsHubInRecordButReportsDisabled() {
        enroll(DEVICE, DEVICE_KEY);
        DeviceRegistrationState first = assigned(DEVICE, token(DEVICE, DEVICE_KEY));
        disable(DEVICE);

        RegistrationReply polled = provision(DEVICE, token(DEVICE, DEVICE_KEY));

        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(registrations.find(DEVICE).orElseThrow().createdDateTimeUtc())
                .isEqualTo(first.createdDateTimeUtc());
    }

    // --- refusals: 401 ---

    @Test
    void register_wrongKeyAndUnknownId_getTheSameUnauthorizedMessage() {
        enroll(DEVICE, DEVICE_KEY);
        ErrorBody wrongKey = assertUnauthorizedAndNothingStored(register(DEVICE, token(DEVICE, OTHER_KEY)), DEVICE);
        enrollments.deleteEnrollment(DEVICE, null);

        ErrorBody unknown = assertUnauthorizedAndNothingStored(register(DEVICE, token(DEVICE, OTHER_KEY)), DEVICE);

        assertThat(unknown.message()).isEqualTo(wrongKey.message()).startsWith("Unauthorized");
        assertThat(unknown.trackingId()).isNotEqualTo(wrongKey.trackingId());
    }

    @Test
    void register_wrongGroupKeyAndUnknownId_getTheSameUnauthorizedMessage() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        ErrorBody wrongKey = assertUnauthorizedAndNothingStored(register(DEVICE, token(DEVICE, OTHER_KEY)), DEVICE);
        enrollments.deleteGroup("grp-1", null);

        ErrorBody unknown = assertUnauthorizedAndNothingStored(register(DEVICE, token(DEVICE, DERIVED_KEY)), DEVICE);

        assertThat(unknown.message()).isEqualTo(wrongKey.message());
    }

    @Test
    void register_unknownRegistrationId_isUnauthorized() {
        enroll(DEVICE, DEVICE_KEY);

        assertUnauthorizedAndNothingStored(register("ghost-01", token("ghost-01", DEVICE_KEY)), "ghost-01");
    }

    @Test
    void register_expiredToken_isUnauthorized() {
        enroll(DEVICE, DEVICE_KEY);
        String expired = SasSigner.deviceToken(SCOPE, DEVICE, Base64.getDecoder().decode(DEVICE_KEY),
                clock.instant().minus(Duration.ofMinutes(6)));

        ErrorBody error = assertUnauthorizedAndNothingStored(register(DEVICE, expired), DEVICE);

        assertThat(error.message()).contains("expired");
    }

    @Test
    void register_tokenExpiredWithinClockSkew_isAccepted() {
        enroll(DEVICE, DEVICE_KEY);
        String recent = SasSigner.deviceToken(SCOPE, DEVICE, Base64.getDecoder().decode(DEVICE_KEY),
                clock.instant().minus(Duration.ofMinutes(4)));

        assertThat(register(DEVICE, recent).status()).isEqualTo(202);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "SharedAccessSignature", "SharedAccessSignature sr=x&sig=%%&se=1",
        "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&se=1893456000",
        "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=abc&se=soon", "Basic dXNlcjpwYXNz"})
    void register_missingOrMalformedToken_isUnauthorized(String token) {
        enroll(DEVICE, DEVICE_KEY);

        ErrorBody error = assertUnauthorizedAndNothingStored(register(DEVICE, token), DEVICE);

        assertThat(error.message()).startsWith("Unauthorized");
    }

    @Test
    void register_noToken_isUnauthorizedSayingSo() {
        enroll(DEVICE, DEVICE_KEY);

        ErrorBody error = assertUnauthorizedAndNothingStored(register(DEVICE, null), DEVICE);

        assertThat(error.message()).contains("no SAS token");
    }

    @Test
    void register_tokenForAnotherRegistrationId_isUnauthorized() {
        enroll(DEVICE, DEVICE_KEY);
        enroll("other-device", DEVICE_KEY);

        ErrorBody error = assertUnauthorizedAndNothingStored(register(DEVICE, token("other-device", DEVICE_KEY)),
                DEVICE);

        assertThat(error.message()).contains("does not name");
    }

    @Test
    void register_tokenForAnotherIdScope_isUnauthorized() {
        enroll(DEVICE, DEVICE_KEY);
        String token = SasSigner.deviceToken("0ne99999999", DEVICE, Base64.getDecoder().decode(DEVICE_KEY),
                clock.instant().plusSeconds(600));

        assertUnauthorizedAndNothingStored(register(DEVICE, token), DEVICE);
    }

    @Test
    void register_requestForAnotherIdScope_isUnauthorized() {
        enroll(DEVICE, DEVICE_KEY);
        String token = SasSigner.deviceToken("0ne99999999", DEVICE, Base64.getDecoder().decode(DEVICE_KEY),
                clock.instant().plusSeconds(600));

        RegistrationReply reply = registrar.register(new RegistrationRequest("0ne99999999", DEVICE, token,
                body(DEVICE), API));

        assertThat(assertUnauthorizedAndNothingStored(reply, DEVICE).message()).contains("0ne99999999");
    }

    @Test
    void register_idScopeInOtherCase_isAccepted() {
        enroll(DEVICE, DEVICE_KEY);

        RegistrationReply reply = registrar.register(new RegistrationRequest("0NE00000001", DEVICE,
                token(DEVICE, DEVICE_KEY), body(DEVICE), API));

        assertThat(reply.status()).isEqualTo(202);
    }

    // --- refusals: 400 ---

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"{not json", "{}", "{\"registrationId\":\"\"}", "{\"registrationId\":\"  \"}",
        "{\"registrationId\":null}", "null", "[]", "\"my-device-01\"", "42",
        "{\"registrationId\":\"my-device-01\"} trailing",
        "{\"registrationId\":\"my-device-01\",\"registrationId\":\"my-device-01\"}"})
    void register_malformedBody_is400AndStoresNothing(String body) {
        enroll(DEVICE, DEVICE_KEY);

        RegistrationReply reply = registerWithBody(DEVICE, token(DEVICE, DEVICE_KEY),
                body.getBytes(StandardCharsets.UTF_8));

        assertThat(assertError(reply, ErrorCode.INVALID_REQUEST_BODY).errorCode()).isEqualTo(400001);
        assertThat(registrations.find(DEVICE)).isEmpty();
        assertThat(operationCount()).isZero();
    }

    @Test
    void register_emptyBody_is400SayingSo() {
        enroll(DEVICE, DEVICE_KEY);

        RegistrationReply reply = registerWithBody(DEVICE, token(DEVICE, DEVICE_KEY), new byte[0]);

        assertThat(assertError(reply, ErrorCode.INVALID_REQUEST_BODY).message()).contains("empty");
        assertThat(operationCount()).isZero();
    }

    @Test
    void register_bodyIdDiffersFromConnectionId_is400AndStoresNothing() {
        enroll(DEVICE, DEVICE_KEY);
        enroll("other-device", DEVICE_KEY);

        RegistrationReply reply = registerWithBody(DEVICE, token(DEVICE, DEVICE_KEY), body("other-device"));

        ErrorBody error = assertError(reply, ErrorCode.REGISTRATION_ID_MISMATCH);
        assertThat(error.message()).contains("other-device", DEVICE);
        assertThat(registrations.find(DEVICE)).isEmpty();
        assertThat(registrations.find("other-device")).isEmpty();
        assertThat(operationCount()).isZero();
    }

    @Test
    void register_payloadOfAnyJsonType_isAccepted() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);

        for (String payload : List.of("{\"a\":1}", "\"{\\\"a\\\":1}\"", "null", "[1]")) {
            byte[] body = ("{\"registrationId\":\"" + DEVICE + "\",\"payload\":" + payload + "}")
                    .getBytes(StandardCharsets.UTF_8);
            assertThat(registerWithBody(DEVICE, token, body).status()).as(payload).isEqualTo(202);
        }
    }

    // --- re-registration ---

    @Test
    void register_again_isIdempotentWithNewOperationEtagAndTimestamp() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);
        String firstOp = operationId(register(DEVICE, token));
        DeviceRegistrationState first = poll(DEVICE, token, firstOp).operation().registrationState();
        clock.advance(Duration.ofMinutes(3));

        String secondOp = operationId(register(DEVICE, token));
        DeviceRegistrationState second = poll(DEVICE, token, secondOp).operation().registrationState();

        assertThat(secondOp).isNotEqualTo(firstOp);
        assertThat(second.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(second.assignedHub()).isEqualTo(first.assignedHub());
        assertThat(second.deviceId()).isEqualTo(first.deviceId());
        assertThat(second.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(second.lastUpdatedDateTimeUtc()).isEqualTo(T0.plus(Duration.ofMinutes(3)));
        assertThat(second.etag()).isNotEqualTo(first.etag());
        assertThat(registrations.find(DEVICE)).contains(second);
        assertThat(poll(DEVICE, token, firstOp).operation().registrationState()).as("old operation unchanged")
                .isEqualTo(first);
    }

    @Test
    void register_againAfterDeviceIdChange_keepsTheRecordedDeviceId() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);
        assertThat(assigned(DEVICE, token).deviceId()).isEqualTo(DEVICE);
        enrollments.putEnrollment(DEVICE, new IndividualEnrollment(DEVICE, "renamed", null,
                AttestationMechanism.symmetricKey(null, null), DeviceCapabilities.NONE, null, null, null,
                ProvisioningStatus.ENABLED, null, null, null, null, null, null, null), "*");

        assertThat(assigned(DEVICE, token).deviceId()).isEqualTo(DEVICE);
        registrations.delete(DEVICE, null);
        assertThat(assigned(DEVICE, token).deviceId()).as("after the record is deleted").isEqualTo("renamed");
    }

    // --- polls ---

    @Test
    void operationStatus_wrongRegistrationId_is404() {
        enroll(DEVICE, DEVICE_KEY);
        enroll("other-device", DEVICE_KEY);
        String op = operationId(register(DEVICE, token(DEVICE, DEVICE_KEY)));

        RegistrationReply reply = poll("other-device", token("other-device", DEVICE_KEY), op);

        assertThat(assertError(reply, ErrorCode.REGISTRATION_NOT_FOUND).errorCode()).isEqualTo(404202);
    }

    @Test
    void operationStatus_unknownOperation_is404() {
        enroll(DEVICE, DEVICE_KEY);

        RegistrationReply reply = poll(DEVICE, token(DEVICE, DEVICE_KEY), "1.0000000000000000.nope");

        assertThat(assertError(reply, ErrorCode.REGISTRATION_NOT_FOUND).message()).contains("1.0000000000000000.nope");
    }

    @Test
    void operationStatus_registrationIdInOtherCase_isFound() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);
        String op = operationId(register(DEVICE, token));

        assertThat(poll("MY-DEVICE-01", token, op).status()).isEqualTo(200);
    }

    @Test
    void operationStatus_wrongKey_is401() {
        enroll(DEVICE, DEVICE_KEY);
        String op = operationId(register(DEVICE, token(DEVICE, DEVICE_KEY)));

        assertError(poll(DEVICE, token(DEVICE, OTHER_KEY), op), ErrorCode.UNAUTHORIZED);
        assertError(poll(DEVICE, null, op), ErrorCode.UNAUTHORIZED);
    }

    @Test
    void operationStatus_tokenExpiredSinceRegister_is401() {
        enroll(DEVICE, DEVICE_KEY);
        String token = SasSigner.deviceToken(SCOPE, DEVICE, Base64.getDecoder().decode(DEVICE_KEY),
                clock.instant().plusSeconds(30));
        String op = operationId(register(DEVICE, token));
        clock.advance(Duration.ofMinutes(10));

        assertThat(assertError(poll(DEVICE, token, op), ErrorCode.UNAUTHORIZED).message()).contains("expired");
    }

    @Test
    void operationStatus_groupMemberWithWrongKey_is401() {
        enrollGroup("grp-1", GROUP_KEY, null, ProvisioningStatus.ENABLED);
        String op = operationId(register(DEVICE, token(DEVICE, DERIVED_KEY)));

        assertError(poll(DEVICE, token(DEVICE, GROUP_KEY), op), ErrorCode.UNAUTHORIZED);
        assertThat(poll(DEVICE, token(DEVICE, DERIVED_KEY), op).status()).isEqualTo(200);
    }

    @Test
    void operationStatus_enrollmentDeletedSinceRegister_is401() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);
        String op = operationId(register(DEVICE, token));
        enrollments.deleteEnrollment(DEVICE, null);

        assertError(poll(DEVICE, token, op), ErrorCode.UNAUTHORIZED);
    }

    @Test
    void operationStatus_anotherIdScope_is401() {
        enroll(DEVICE, DEVICE_KEY);
        String token = token(DEVICE, DEVICE_KEY);
        String op = operationId(register(DEVICE, token));

        RegistrationReply reply = registrar.operationStatus(new OperationStatusRequest("0ne99999999", DEVICE, token,
                op, API));

        assertThat(assertError(reply, ErrorCode.UNAUTHORIZED).message()).contains("0ne99999999");
    }

    @Test
    void operationStatus_unfinishedOperation_is202WithRegistrationId() {
        enroll(DEVICE, DEVICE_KEY);
        DeviceRegistrationState assigning = new DeviceRegistrationState(DEVICE, T0, null, null,
                RegistrationStatus.ASSIGNING, null, null, null, T0, "ZTE=", GroupReference.INDIVIDUAL, null);
        registrations.saveAttempt(assigning, new RegistrationOperation("1.abc.pending", DEVICE,
                EnrollmentRef.individual(DEVICE), T0, new RegistrationOperationStatus("1.abc.pending",
                        RegistrationStatus.ASSIGNING, null)));

        RegistrationReply reply = poll(DEVICE, token(DEVICE, DEVICE_KEY), "1.abc.pending");

        assertThat(reply.status()).isEqualTo(202);
        assertThat(reply.retryAfterSeconds()).isEqualTo(RegistrationReply.RETRY_AFTER_SECONDS);
        assertThat(Json.toText(reply.body())).isEqualTo("{\"operationId\":\"1.abc.pending\",\"status\":\"assigning\","
                + "\"registrationState\":{\"registrationId\":\"my-device-01\",\"status\":\"assigning\"}}");
    }

    // --- allocation failure ---

    @Test
    void register_staticHubNoLongerLinked_failsWith400209() {
        enrollmentStore.insertEnrollment(new IndividualEnrollment(DEVICE, null, null,
                AttestationMechanism.symmetricKey(DEVICE_KEY, OTHER_KEY), DeviceCapabilities.NONE,
                "gone.azure-devices.net", null, "\"e-1\"", ProvisioningStatus.ENABLED, null, T0, T0, null, null, null,
                null));

        RegistrationReply polled = provision(DEVICE, token(DEVICE, DEVICE_KEY));

        assertThat(polled.status()).isEqualTo(200);
        assertThat(polled.operation().status()).isEqualTo(RegistrationStatus.FAILED);
        DeviceRegistrationState state = polled.operation().registrationState();
        assertThat(state.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(state.errorCode()).isEqualTo(400209);
        assertThat(state.errorMessage()).contains("gone.azure-devices.net");
        assertThat(state.assignedHub()).isNull();
        assertThat(state.deviceId()).isNull();
        assertThat(registrations.find(DEVICE).orElseThrow().status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(Json.toText(polled.body())).startsWith("{\"operationId\":").contains("\"status\":\"failed\"",
                "\"errorCode\":400209");
    }
}
