package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.DeviceData;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.hub.Twin;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.X509ChainValidator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reprovisioning decision table ({@code dps-service-api.md} §10.2–10.5) on real H2 and the real built-in hub with
 * two hubs: each policy moving (or not) a device whose enrollment's static hub changed between registrations, the
 * twin on the new hub, the old hub emptied, the substatus per api-version, moves that survive a crash, the operator's
 * reprovision mark, and a deleted record.
 */
class RegistrarReprovisionTest {

    private static final String SCOPE = "0ne00000001";
    private static final String API = "2021-06-01";
    private static final String OLD_API = "2019-03-31";
    private static final String LEGACY_API = "2018-04-01";
    private static final String DEVICE = "mover-01";
    private static final String KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String HUB_A = "hub-a.example.com";
    private static final String HUB_B = "hub-b.example.com";
    private static final String TWIN = ",\"initialTwin\":{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":"
            + "{\"interval\":30}}}";
    private static final String MIGRATE = ",\"reprovisionPolicy\":{\"updateHubAssignment\":true,"
            + "\"migrateDeviceData\":true}";
    private static final String RESET = ",\"reprovisionPolicy\":{\"updateHubAssignment\":true,"
            + "\"migrateDeviceData\":false}";
    private static final String NEVER = ",\"reprovisionPolicy\":{\"updateHubAssignment\":false,"
            + "\"migrateDeviceData\":false}";

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private TestDatabase database;
    private JdbcRegistrationStore registrations;
    private EnrollmentService enrollments;
    private BuiltInHub hub;
    private Registrar registrar;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        registrations = new JdbcRegistrationStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB_A), LinkedHub.of(HUB_B)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        hub = new BuiltInHub(List.of(HUB_A, HUB_B), new JdbcHubStore(database.db()), clock, 100);
        registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock)), registrations,
                allocator, hub.connectors(), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    // --- DSL ---

    private static <T> T parse(String json, Class<T> type) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** (Re)writes the enrollment: static allocation to {@code staticHub}, plus {@code extra} JSON members. */
    private void enroll(String staticHub, String extra) {
        enrollments.putEnrollment(DEVICE, parse("{\"registrationId\":\"" + DEVICE + "\",\"attestation\":{\"type\":"
                + "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + KEY + "\"}},\"allocationPolicy\":\"static\","
                + "\"iotHubs\":[\"" + staticHub + "\"]" + extra + "}", IndividualEnrollment.class), "*");
    }

    private String token() {
        return SasSigner.deviceToken(SCOPE, DEVICE, Base64.getDecoder().decode(KEY),
                clock.instant().plus(Duration.ofHours(1)));
    }

    private DeviceRegistrationState provision(String api) {
        RegistrationReply registered = registrar.register(new RegistrationRequest(SCOPE, DEVICE, token(),
                ("{\"registrationId\":\"" + DEVICE + "\"}").getBytes(StandardCharsets.UTF_8), api));
        assertThat(registered.status()).isEqualTo(202);
        return poll(registered.operation().operationId(), api);
    }

    private DeviceRegistrationState poll(String operationId, String api) {
        RegistrationReply polled = registrar.operationStatus(new OperationStatusRequest(SCOPE, DEVICE, token(),
                operationId, api));
        assertThat(polled.status()).isEqualTo(200);
        return polled.operation().registrationState();
    }

    /** First registration to hub A, then the device reports and an operator changes its desired properties. */
    private void assignedToHubAWithData(String policy) {
        enroll(HUB_A, TWIN + policy);
        assertThat(provision(API).substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        hub.patchReported(HUB_A, DEVICE, parse("{\"fw\":\"1.0\"}", ObjectNode.class));
        hub.updateTwin(HUB_A, DEVICE, parse("{\"owner\":\"ops\"}", ObjectNode.class),
                parse("{\"interval\":5}", ObjectNode.class));
    }

    private void assertResetTwin(String hubName) {
        Twin twin = hub.twin(hubName, DEVICE);
        assertThat(Json.toText(twin.tags())).isEqualTo("{\"site\":\"north\"}");
        assertThat(Json.toText(twin.desired())).isEqualTo("{\"interval\":30}");
        assertThat(Json.toText(twin.reported())).isEqualTo("{}");
    }

    // --- policies across hubs ---

    @Test
    void migrate_hubChanged_movesTwinAndDeletesTheOldDevice() {
        assignedToHubAWithData(MIGRATE);
        enroll(HUB_B, TWIN + MIGRATE);

        DeviceRegistrationState state = provision(OLD_API);

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(state.deviceId()).isEqualTo(DEVICE);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
        Twin twin = hub.twin(HUB_B, DEVICE);
        assertThat(Json.toText(twin.tags())).isEqualTo("{\"site\":\"north\",\"owner\":\"ops\"}");
        assertThat(Json.toText(twin.desired())).isEqualTo("{\"interval\":5}");
        assertThat(Json.toText(twin.reported())).isEqualTo("{\"fw\":\"1.0\"}");
        assertThat(hub.find(HUB_A, DEVICE)).isEmpty();
        assertThat(registrations.findMove(DEVICE)).isEmpty();
        assertThat(registrations.find(DEVICE).orElseThrow().substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
    }

    @Test
    void noPolicy_defaultsToMigrate_butIsNeverFilledIntoTheEnrollment() {
        assignedToHubAWithData("");
        enroll(HUB_B, TWIN);

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
        assertThat(hub.twin(HUB_B, DEVICE).reported().path("fw").asText()).isEqualTo("1.0");
        assertThat(enrollments.getEnrollment(DEVICE).orElseThrow().reprovisionPolicy()).isNull();
    }

    @Test
    void reset_hubChanged_newHubGetsTheInitialTwinAndTheOldDeviceIsDeleted() {
        assignedToHubAWithData(RESET);
        enroll(HUB_B, TWIN + RESET);

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_RESET);
        assertResetTwin(HUB_B);
        assertThat(hub.find(HUB_A, DEVICE)).isEmpty();
    }

    @Test
    void never_hubChanged_deviceStaysWithItsTwin() {
        assignedToHubAWithData(NEVER);
        enroll(HUB_B, TWIN + NEVER);

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_A);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(hub.twin(HUB_A, DEVICE).reported().path("fw").asText()).isEqualTo("1.0");
        assertThat(hub.find(HUB_B, DEVICE)).isEmpty();
    }

    @Test
    void legacyApiVersion_noPolicy_isStickyButAPolicyWins() {
        assignedToHubAWithData("");
        enroll(HUB_B, TWIN);

        assertThat(provision(LEGACY_API).assignedHub()).isEqualTo(HUB_A);

        enroll(HUB_B, TWIN + MIGRATE);
        DeviceRegistrationState moved = provision(LEGACY_API);
        assertThat(moved.assignedHub()).isEqualTo(HUB_B);
        assertThat(moved.substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
    }

    // --- same hub ---

    @Test
    void migrate_sameHub_staysWithItsTwin_substatusGatedByApiVersion() {
        assignedToHubAWithData(MIGRATE);

        RegistrationReply registered = registrar.register(new RegistrationRequest(SCOPE, DEVICE, token(),
                ("{\"registrationId\":\"" + DEVICE + "\"}").getBytes(StandardCharsets.UTF_8), API));
        String operationId = registered.operation().operationId();

        assertThat(poll(operationId, API).substatus()).isEqualTo(Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT);
        assertThat(poll(operationId, "2019-04-15").substatus())
                .isEqualTo(Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT);
        assertThat(poll(operationId, OLD_API).substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(hub.twin(HUB_A, DEVICE).reported().path("fw").asText()).isEqualTo("1.0");
        assertThat(registrations.find(DEVICE).orElseThrow().forApiVersion(OLD_API).substatus())
                .isEqualTo(Substatus.INITIAL_ASSIGNMENT);
    }

    @Test
    void reset_sameHub_reappliesTheInitialTwinInPlace() {
        assignedToHubAWithData(RESET);
        long desiredVersion = hub.twin(HUB_A, DEVICE).desiredVersion();

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_A);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_RESET);
        assertResetTwin(HUB_A);
        assertThat(hub.twin(HUB_A, DEVICE).desiredVersion()).isEqualTo(desiredVersion + 1);
    }

    @Test
    void firstAssignment_toAHubThatAlreadyHoldsTheDevice_isReprovisionedToInitialAssignment() {
        enroll(HUB_A, TWIN);
        hub.createOrUpdate(new DeviceIdentity(HUB_A, DEVICE, io.opendps.core.hub.DeviceAuthentication.sas(KEY),
                null, null), io.opendps.core.hub.InitialTwin.empty());

        assertThat(provision(API).substatus()).isEqualTo(Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT);
    }

    // --- crash safety ---

    /** A move decided and persisted, then the process died before touching any hub. */
    private String crashedMove(HubMove move) {
        String operationId = "1.crashed.move";
        DeviceRegistrationState intended = new DeviceRegistrationState(DEVICE, clock.instant(), move.toHub(),
                move.toDeviceId(), RegistrationStatus.ASSIGNING, move.substatus(), null, null, clock.instant(),
                Etags.newRegistrationEtag(), GroupReference.INDIVIDUAL, null);
        registrations.saveAttempt(intended, new RegistrationOperation(operationId, DEVICE,
                EnrollmentRef.individual(DEVICE), clock.instant(), new RegistrationOperationStatus(operationId,
                RegistrationStatus.ASSIGNING, DeviceRegistrationState.assigning(DEVICE))), move);
        return operationId;
    }

    @Test
    void crashedMove_isFinishedByThePoll() {
        assignedToHubAWithData(MIGRATE);
        enroll(HUB_B, TWIN + MIGRATE);
        String operationId = crashedMove(new HubMove(HUB_A, DEVICE, HUB_B, DEVICE, HubMove.Mode.MIGRATE));

        DeviceRegistrationState state = poll(operationId, API);

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
        assertThat(hub.twin(HUB_B, DEVICE).reported().path("fw").asText()).isEqualTo("1.0");
        assertThat(hub.find(HUB_A, DEVICE)).isEmpty();
        assertThat(registrations.findMove(DEVICE)).isEmpty();
    }

    @Test
    void crashedMove_afterTheNewHubWasWrittenAndTheOldDeviceDeleted_isDoneByTheNextRegistration() {
        assignedToHubAWithData(MIGRATE);
        DeviceData data = hub.readData(HUB_A, DEVICE).orElseThrow();
        hub.createOrReplace(hub.find(HUB_A, DEVICE).map(d -> new DeviceIdentity(HUB_B, DEVICE, d.authentication(),
                d.capabilities(), d.status())).orElseThrow(), data);
        hub.delete(HUB_A, DEVICE);
        crashedMove(new HubMove(HUB_A, DEVICE, HUB_B, DEVICE, HubMove.Mode.MIGRATE));
        enroll(HUB_A, TWIN + MIGRATE); // a later enrollment change waits for the pending move to finish first

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
        assertThat(Json.toText(hub.twin(HUB_B, DEVICE).reported())).isEqualTo("{\"fw\":\"1.0\"}");
        assertThat(hub.twin(HUB_B, DEVICE).reportedVersion()).isEqualTo(1);
    }

    @Test
    void moveToAHubWithoutConnector_failsAndStaysPendingForTheNextRegistration() {
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB_A), LinkedHub.of(HUB_B),
                LinkedHub.of("hub-x.example.com")));
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock)), registrations,
                allocator, hub.connectors(), clock);
        assignedToHubAWithData(MIGRATE);
        enroll("hub-x.example.com", TWIN + MIGRATE);

        DeviceRegistrationState state = provision(API);

        assertThat(state.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(state.errorCode()).isEqualTo(ErrorCode.HUB_WRITE_FAILED.code());
        assertThat(state.errorMessage()).contains(HUB_A, "hub-x.example.com", "next registration retries");
        assertThat(registrations.findMove(DEVICE)).contains(new HubMove(HUB_A, DEVICE, "hub-x.example.com", DEVICE,
                HubMove.Mode.MIGRATE));
        assertThat(hub.twin(HUB_A, DEVICE).reported().path("fw").asText()).isEqualTo("1.0");
    }

    // --- operator, deletion, disabled ---

    @Test
    void operatorReprovision_overridesNever_andIsConsumedOnce() {
        assignedToHubAWithData(NEVER);
        enroll(HUB_B, TWIN + NEVER);
        new RegistrationRecordService(registrations).requestReprovision(DEVICE);
        assertThat(registrations.reprovisionRequested(DEVICE)).isTrue();

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(state.substatus()).isEqualTo(Substatus.DEVICE_DATA_MIGRATED);
        assertThat(hub.twin(HUB_B, DEVICE).reported().path("fw").asText()).isEqualTo("1.0");
        assertThat(registrations.reprovisionRequested(DEVICE)).isFalse();
        enroll(HUB_A, TWIN + NEVER);
        assertThat(provision(API).assignedHub()).isEqualTo(HUB_B);
    }

    @Test
    void deletedRecord_nextRegistrationIsAFreshAssignmentAndTheOldHubDeviceIsLeft() {
        assignedToHubAWithData(MIGRATE);
        enroll(HUB_B, TWIN + MIGRATE);
        new RegistrationRecordService(registrations).delete(DEVICE, null);

        DeviceRegistrationState state = provision(API);

        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertResetTwin(HUB_B);
        assertThat(hub.find(HUB_A, DEVICE)).isPresent();
    }

    @Test
    void disabledEnrollment_onReRegistration_isDisabledAndKeepsTheHub() {
        assignedToHubAWithData(MIGRATE);
        enroll(HUB_B, TWIN + MIGRATE + ",\"provisioningStatus\":\"disabled\"");

        DeviceRegistrationState state = provision(API);

        assertThat(state.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(state.assignedHub()).isEqualTo(HUB_A);
        assertThat(hub.find(HUB_A, DEVICE)).isPresent();
        assertThat(hub.find(HUB_B, DEVICE)).isEmpty();
    }
}
