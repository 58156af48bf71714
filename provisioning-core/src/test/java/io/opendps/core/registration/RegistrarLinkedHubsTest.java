package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.json.Json;
import io.opendps.core.linkedhub.AllocationSettings;
import io.opendps.core.linkedhub.LinkedHubRequest;
import io.opendps.core.linkedhub.LinkedHubService;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcLinkedHubStore;
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
 * The registrar over managed linked hubs ({@link LinkedHubService}): hubs and the default policy changed through
 * the service count for the very next registration, with the built-in hub serving newly linked names.
 */
class RegistrarLinkedHubsTest {

    private static final String SCOPE = "0ne00000001";
    private static final String API = "2021-06-01";
    private static final String KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String HUB_A = "hub-a.example.com";
    private static final String HUB_B = "hub-b.example.com";

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private TestDatabase database;
    private EnrollmentService enrollments;
    private LinkedHubService linkedHubs;
    private BuiltInHub hub;
    private Registrar registrar;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        JdbcRegistrationStore registrations = new JdbcRegistrationStore(database.db());
        linkedHubs = new LinkedHubService(new JdbcLinkedHubStore(database.db()), s -> {
            throw new AssertionError("no webhook hubs here");
        }, clock);
        linkedHubs.initialize(List.of(HUB_A), List.of());
        Allocator allocator = new Allocator(linkedHubs);
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        hub = new BuiltInHub(linkedHubs::builtInHubs, new JdbcHubStore(database.db()), clock, 100);
        registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock)), registrations,
                allocator, linkedHubs.connectors(hub), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private void enroll(String id, String extra) throws IOException {
        enrollments.putEnrollment(id, Json.parse(("{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":"
                + "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + KEY + "\",\"secondaryKey\":\"" + KEY
                + "\"}}" + extra + "}").getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class), null);
    }

    private DeviceRegistrationState provision(String id) {
        String token = SasSigner.deviceToken(SCOPE, id, Base64.getDecoder().decode(KEY),
                clock.instant().plus(Duration.ofHours(1)));
        RegistrationReply registered = registrar.register(new RegistrationRequest(SCOPE, id, token,
                ("{\"registrationId\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8), API));
        RegistrationReply polled = registrar.operationStatus(new OperationStatusRequest(SCOPE, id, token,
                registered.operation().operationId(), API));
        return polled.operation().registrationState();
    }

    @Test
    void hubLinkedAtRunTime_takesDevicesAtOnce_andIsServedByTheBuiltInHub() throws IOException {
        linkedHubs.put(HUB_A, new LinkedHubRequest(null, 1, false, null, null), "*", "test");
        linkedHubs.put(HUB_B, new LinkedHubRequest(null, 1, true, null, null), null, "test");
        enroll("dev-1", "");

        DeviceRegistrationState state = provision("dev-1");

        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.assignedHub()).isEqualTo(HUB_B);
        assertThat(hub.find(HUB_B, "dev-1")).isPresent();
    }

    @Test
    void defaultPolicyStatic_withoutAHubOnTheEnrollment_failsClearly_andAnEnrollmentPolicyWins() throws IOException {
        linkedHubs.setAllocationSettings(new AllocationSettings(AllocationPolicy.STATIC), "test");
        enroll("dev-static", "");
        enroll("dev-hashed", ",\"allocationPolicy\":\"hashed\"");
        enroll("dev-named", ",\"iotHubs\":[\"" + HUB_A + "\"]");

        DeviceRegistrationState failed = provision("dev-static");
        assertThat(failed.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(failed.errorCode()).isEqualTo(ErrorCode.HUB_NOT_SPECIFIED.code());
        assertThat(failed.errorMessage()).contains("default allocation policy is static");
        assertThat(provision("dev-hashed").assignedHub()).isEqualTo(HUB_A);
        assertThat(provision("dev-named").assignedHub()).isEqualTo(HUB_A);
    }

    @Test
    void allHubsRemoved_registrationFailsSayingSo() throws IOException {
        enroll("dev-none", "");
        linkedHubs.delete(HUB_A, null, "test");

        DeviceRegistrationState state = provision("dev-none");

        assertThat(state.status()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(state.errorMessage()).contains("no linked hubs");
    }
}
