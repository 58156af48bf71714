package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.DeviceAuthentication;
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
 * The registrar hands devices to their hub (real H2, the real built-in hub): assigned only after the hub write,
 * failed (never half-assigned) when it fails, and an assignment interrupted between the two steps is finished by
 * the next poll or registration.
 */
class RegistrarHubTest {

    private static final String SCOPE = "0ne00000001";
    private static final String API = "2021-06-01";
    private static final String DEVICE = "my-device-01";
    private static final String KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String SECONDARY = "T1RIRVItS0VZLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU=";
    private static final String GROUP_KEY = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";
    private static final String DERIVED_KEY = "pVwrrnsS3LMMG0J+YLiW+6Ewipb33TvgohNoecRqnGA=";
    /** Served by the built-in hub. */
    private static final String HUB = "hub-a.example.com";
    /** Linked, but no connector is configured for it: every write to it fails. */
    private static final String UNSERVED_HUB = "hub-x.example.com";

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
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB), new LinkedHub(UNSERVED_HUB, 1, false)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        hub = new BuiltInHub(List.of(HUB), new JdbcHubStore(database.db()), clock, 100);
        registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock)), registrations,
                allocator, hub.connectors(), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private static <T> T parse(String json, Class<T> type) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void enrollIndividual(String extra) {
        enrollments.putEnrollment(DEVICE, parse("{\"registrationId\":\"" + DEVICE + "\",\"attestation\":{\"type\":"
                + "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + KEY + "\",\"secondaryKey\":\"" + SECONDARY
                + "\"}}" + extra + "}", IndividualEnrollment.class), null);
    }

    private String token(String key) {
        return SasSigner.deviceToken(SCOPE, DEVICE, Base64.getDecoder().decode(key),
                clock.instant().plus(Duration.ofHours(1)));
    }

    private RegistrationReply register(String token) {
        return registrar.register(new RegistrationRequest(SCOPE, DEVICE, token,
                ("{\"registrationId\":\"" + DEVICE + "\"}").getBytes(StandardCharsets.UTF_8), API));
    }

    private RegistrationReply poll(String token, String operationId) {
        return registrar.operationStatus(new OperationStatusRequest(SCOPE, DEVICE, token, operationId, API));
    }

    private DeviceRegistrationState provision(String token) {
        RegistrationReply registered = register(token);
        assertThat(registered.status()).isEqualTo(202);
        RegistrationReply polled = poll(token, registered.operation().operationId());
        assertThat(polled.status()).isEqualTo(200);
        return polled.operation().registrationState();
    }

    @Test
    void assigned_deviceIsInTheHubWithTheKeyItProvedAndTheEnrollmentsInitialTwin() {
        enrollIndividual(",\"deviceId\":\"dev-42\",\"capabilities\":{\"iotEdge\":true},\"initialTwin\":{\"tags\":"
                + "{\"site\":\"north\"},\"properties\":{\"desired\":{\"interval\":30}}}");

        DeviceRegistrationState state = provision(token(SECONDARY));

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.assignedHub()).isEqualTo(HUB);
        DeviceIdentity identity = hub.find(HUB, "dev-42").orElseThrow();
        assertThat(identity.authentication()).isEqualTo(DeviceAuthentication.sas(SECONDARY));
        assertThat(identity.capabilities().iotEdge()).isTrue();
        Twin twin = hub.twin(HUB, "dev-42");
        assertThat(Json.toText(twin.tags())).isEqualTo("{\"site\":\"north\"}");
        assertThat(Json.toText(twin.deviceView()))
                .isEqualTo("{\"desired\":{\"interval\":30,\"$version\":1},\"reported\":{\"$version\":1}}");
    }

    @Test
    void groupDevice_getsTheDerivedKeyAndTheGroupsInitialTwin() {
        enrollments.putGroup("grp-1", parse("{\"enrollmentGroupId\":\"grp-1\",\"attestation\":{\"type\":"
                + "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + GROUP_KEY + "\",\"secondaryKey\":\""
                + SECONDARY + "\"}},\"initialTwin\":{\"properties\":{\"desired\":{\"fw\":\"2.0\"}}}}",
                EnrollmentGroup.class), null);

        DeviceRegistrationState state = provision(token(DERIVED_KEY));

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(hub.find(HUB, DEVICE).orElseThrow().authentication())
                .isEqualTo(DeviceAuthentication.sas(DERIVED_KEY));
        assertThat(hub.twin(HUB, DEVICE).desired().path("fw").asText()).isEqualTo("2.0");
    }

    @Test
    void hubWriteFails_registrationIsFailedWithHubWriteFailedAndNoHub() {
        enrollIndividual(",\"iotHubHostName\":\"" + UNSERVED_HUB + "\"");

        DeviceRegistrationState state = provision(token(KEY));

        assertThat(state.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(state.errorCode()).isEqualTo(ErrorCode.HUB_WRITE_FAILED.code()).isEqualTo(503401);
        assertThat(state.errorMessage()).contains(UNSERVED_HUB).contains("no hub connector");
        assertThat(state.assignedHub()).isNull();
        assertThat(state.deviceId()).isNull();
        DeviceRegistrationState record = registrations.find(DEVICE).orElseThrow();
        assertThat(record.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(record.assignedHub()).isNull();
    }

    @Test
    void hubWriteFailed_nextRegistrationAfterTheFixSucceeds() {
        enrollIndividual(",\"iotHubHostName\":\"" + UNSERVED_HUB + "\"");
        assertThat(provision(token(KEY)).status()).isEqualTo(RegistrationStatus.FAILED);
        enrollments.putEnrollment(DEVICE, parse("{\"registrationId\":\"" + DEVICE + "\",\"attestation\":{\"type\":"
                + "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + KEY + "\"}}}", IndividualEnrollment.class),
                "*");

        DeviceRegistrationState state = provision(token(KEY));

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(hub.find(HUB, DEVICE)).isPresent();
    }

    /** The registrar stored {@code assigning} with the intended hub, then the process died before the hub write. */
    private String interruptedAssignment(String deviceId) {
        String operationId = "1.crashed." + deviceId;
        DeviceRegistrationState intended = new DeviceRegistrationState(DEVICE, clock.instant(), HUB, deviceId,
                RegistrationStatus.ASSIGNING, null, null, null, clock.instant(), Etags.newRegistrationEtag(),
                GroupReference.INDIVIDUAL, null);
        registrations.saveAttempt(intended, new RegistrationOperation(operationId, DEVICE,
                EnrollmentRef.individual(DEVICE), clock.instant(), new RegistrationOperationStatus(operationId,
                RegistrationStatus.ASSIGNING, DeviceRegistrationState.assigning(DEVICE))));
        return operationId;
    }

    @Test
    void interruptedAssignment_isFinishedByThePoll() {
        enrollIndividual(",\"initialTwin\":{\"properties\":{\"desired\":{\"interval\":30}}}");
        String operationId = interruptedAssignment("kept-id");

        RegistrationReply polled = poll(token(KEY), operationId);

        assertThat(polled.status()).isEqualTo(200);
        DeviceRegistrationState state = polled.operation().registrationState();
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.assignedHub()).isEqualTo(HUB);
        assertThat(state.deviceId()).isEqualTo("kept-id");
        assertThat(hub.find(HUB, "kept-id").orElseThrow().authentication()).isEqualTo(DeviceAuthentication.sas(KEY));
        assertThat(hub.twin(HUB, "kept-id").desired().path("interval").asInt()).isEqualTo(30);
        assertThat(registrations.find(DEVICE).orElseThrow().status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(poll(token(KEY), operationId).operation().status()).isEqualTo(RegistrationStatus.ASSIGNED);
    }

    @Test
    void interruptedAssignment_isFinishedByTheNextRegistrationWithTheSameHubAndDeviceId() {
        enrollIndividual("");
        interruptedAssignment("kept-id");

        DeviceRegistrationState state = provision(token(KEY));

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.deviceId()).isEqualTo("kept-id");
        assertThat(hub.find(HUB, "kept-id")).isPresent();
        assertThat(hub.find(HUB, DEVICE)).isEmpty();
    }

    @Test
    void reRegistration_keepsTheIdentityAndTheTwinAndTakesTheKeyNowProved() {
        enrollIndividual(",\"initialTwin\":{\"properties\":{\"desired\":{\"interval\":30}}}");
        DeviceRegistrationState first = provision(token(KEY));
        hub.updateTwin(HUB, DEVICE, null, parse("{\"interval\":5}", com.fasterxml.jackson.databind.node.ObjectNode.class));

        DeviceRegistrationState again = provision(token(SECONDARY));

        assertThat(again.deviceId()).isEqualTo(first.deviceId());
        assertThat(again.assignedHub()).isEqualTo(first.assignedHub());
        assertThat(hub.listDevices(HUB, null, 10)).hasSize(1);
        assertThat(hub.find(HUB, DEVICE).orElseThrow().authentication()).isEqualTo(DeviceAuthentication.sas(SECONDARY));
        Twin twin = hub.twin(HUB, DEVICE);
        assertThat(twin.desired().path("interval").asInt()).isEqualTo(5);
        assertThat(twin.desiredVersion()).isEqualTo(2);
    }
}
