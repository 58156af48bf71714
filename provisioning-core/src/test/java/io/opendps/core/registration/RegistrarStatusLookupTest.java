package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.json.Json;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.X509ChainValidator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The registration status lookup of the HTTPS device API, with real JDBC stores on in-memory H2. */
class RegistrarStatusLookupTest {

    private static final String SCOPE = "0ne00000001";
    private static final String DEVICE = "my-device-01";
    private static final String API = "2019-03-31";
    private static final String HUB = "hub-a.azure-devices.net";
    /** {@code dps-device-protocol.md} §4.3 / §4.4 test keys. */
    private static final String DEVICE_KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String GROUP_KEY = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";
    private static final String OTHER_KEY = "T1RIRVItS0VZLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU=";

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private TestDatabase database;
    private JdbcRegistrationStore registrations;
    private EnrollmentService enrollments;
    private Registrar registrar;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        registrations = new JdbcRegistrationStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        DeviceAuthenticator authenticator = new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock));
        BuiltInHub hub = new BuiltInHub(List.of(HUB), new JdbcHubStore(database.db()), clock, 100);
        registrar = new Registrar(SCOPE, authenticator, registrations, allocator, hub.connectors(), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void assignedDevice_getsItsRecordUnwrapped() throws Exception {
        enroll(DEVICE);
        assertThat(registrar.register(new RegistrationRequest(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY),
                body(DEVICE), API)).status()).isEqualTo(202);
        DeviceRegistrationState stored = registrations.find(DEVICE).orElseThrow();

        RegistrationStatusReply reply = lookup(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY), body(DEVICE));

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.registration()).isEqualTo(stored);
        var json = Json.mapper().readTree(Json.toBytes(reply.body()));
        assertThat(json.has("operationId")).as("a bare DeviceRegistrationResult").isFalse();
        assertThat(json.get("registrationId").asText()).isEqualTo(DEVICE);
        assertThat(json.get("status").asText()).isEqualTo("assigned");
        assertThat(json.get("assignedHub").asText()).isEqualTo(HUB);
        assertThat(json.get("deviceId").asText()).isEqualTo(DEVICE);
        assertThat(json.has("symmetricKey")).isTrue();
    }

    @Test
    void lookup_changesNothing() {
        enroll(DEVICE);
        registrar.register(new RegistrationRequest(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY), body(DEVICE), API));
        DeviceRegistrationState before = registrations.find(DEVICE).orElseThrow();
        clock.advance(Duration.ofMinutes(1));

        lookup(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY), body(DEVICE));

        assertThat(registrations.find(DEVICE)).contains(before);
    }

    @Test
    void groupDevice_withDerivedKey_getsItsRecord() {
        enrollments.putGroup("grp-1", new EnrollmentGroup("grp-1", AttestationMechanism.symmetricKey(GROUP_KEY,
                null), null, null, null, null, ProvisioningStatus.ENABLED, null, null, null, null, null, null), null);
        String derived = DerivedKeys.deriveBase64(GROUP_KEY, DEVICE);
        registrar.register(new RegistrationRequest(SCOPE, DEVICE, token(DEVICE, derived), body(DEVICE), API));

        RegistrationStatusReply reply = lookup(SCOPE, DEVICE, token(DEVICE, derived), body(DEVICE));

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.registration().enrollmentGroupId()).isEqualTo("grp-1");
    }

    @Test
    void enrolledButNeverRegistered_is404() {
        enroll(DEVICE);

        RegistrationStatusReply reply = lookup(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY), body(DEVICE));

        ErrorBody error = assertError(reply, ErrorCode.REGISTRATION_NOT_FOUND);
        assertThat(error.message()).contains("'" + DEVICE + "' has no registration record");
    }

    @Test
    void wrongKey_is401_andDoesNotRevealTheRecord() {
        enroll(DEVICE);
        registrar.register(new RegistrationRequest(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY), body(DEVICE), API));

        RegistrationStatusReply reply = lookup(SCOPE, DEVICE, token(DEVICE, OTHER_KEY), body(DEVICE));

        assertError(reply, ErrorCode.UNAUTHORIZED);
    }

    @Test
    void noCredential_is401() {
        enroll(DEVICE);

        assertError(lookup(SCOPE, DEVICE, null, body(DEVICE)), ErrorCode.UNAUTHORIZED);
    }

    @Test
    void unknownIdScope_is401_namingTheScope() {
        enroll(DEVICE);

        ErrorBody error = assertError(lookup("0ne99999999", DEVICE, token(DEVICE, DEVICE_KEY), body(DEVICE)),
                ErrorCode.UNAUTHORIZED);

        assertThat(error.message()).contains("0ne99999999");
    }

    @Test
    void bodyIdMismatch_is400005() {
        enroll(DEVICE);

        ErrorBody error = assertError(lookup(SCOPE, DEVICE, token(DEVICE, DEVICE_KEY), body("someone-else")),
                ErrorCode.REGISTRATION_ID_MISMATCH);

        assertThat(error.message()).contains("someone-else").contains(DEVICE);
    }

    @Test
    void malformedOrEmptyBody_is400001() {
        enroll(DEVICE);
        String token = token(DEVICE, DEVICE_KEY);

        assertError(lookup(SCOPE, DEVICE, token, "{not json".getBytes(StandardCharsets.UTF_8)),
                ErrorCode.INVALID_REQUEST_BODY);
        assertError(lookup(SCOPE, DEVICE, token, new byte[0]), ErrorCode.INVALID_REQUEST_BODY);
        assertThat(assertError(lookup(SCOPE, DEVICE, token, "{}".getBytes(StandardCharsets.UTF_8)),
                ErrorCode.INVALID_REQUEST_BODY).message()).contains("no registrationId");
    }

    private RegistrationStatusReply lookup(String scope, String registrationId, @Nullable String token,
            byte[] body) {
        return registrar.registrationStatus(new RegistrationRequest(scope, registrationId, token, body, API));
    }

    private static ErrorBody assertError(RegistrationStatusReply reply, ErrorCode code) {
        assertThat(reply.status()).isEqualTo(code.httpStatus());
        assertThat(reply.registration()).isNull();
        assertThat(reply.error()).isNotNull();
        assertThat(reply.error().errorCode()).isEqualTo(code.code());
        return reply.error();
    }

    private void enroll(String registrationId) {
        enrollments.putEnrollment(registrationId, IndividualEnrollment.symmetricKey(registrationId, DEVICE_KEY,
                null), null);
    }

    private String token(String registrationId, String key) {
        return SasSigner.deviceToken(SCOPE, registrationId, Base64.getDecoder().decode(key),
                clock.instant().plus(Duration.ofHours(1)));
    }

    private static byte[] body(String registrationId) {
        return ("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8);
    }
}
