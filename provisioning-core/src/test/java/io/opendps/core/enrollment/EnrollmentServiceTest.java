package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.EnrollmentRef;
import io.opendps.core.registration.GroupReference;
import io.opendps.core.registration.RegistrationOperation;
import io.opendps.core.registration.RegistrationOperationStatus;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class EnrollmentServiceTest {

    private static final Instant T0 = Instant.parse("2024-03-13T15:22:27.5912345Z");
    private static final String KEY_32 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String KEY_33 = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcRegistrationStore registrations;
    private EnrollmentService service;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        registrations = new JdbcRegistrationStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of("hub-a.azure-devices.net"),
                LinkedHub.of("hub-b.azure-devices.net")));
        JdbcEnrollmentStore store = new JdbcEnrollmentStore(database.db());
        service = new EnrollmentService(store, registrations, allocator, new CaCertificateService(
                new JdbcCaCertificateStore(database.db()), store, CaCertificateOptions.DEFAULTS, clock), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private static IndividualEnrollment enrollment(String json) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static EnrollmentGroup group(String json) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), EnrollmentGroup.class);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static IndividualEnrollment plain(String id) {
        return IndividualEnrollment.symmetricKey(id, null, null);
    }

    private static String keyOfBytes(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) i;
        }
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static ProvisioningException rejected(ErrorCode code, ThrowingCallable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call);
        assertThat(e).as("expected a %s", code).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        return e;
    }

    private void saveRecord(String registrationId, @Nullable String groupId) {
        DeviceRegistrationState state = new DeviceRegistrationState(registrationId, T0, "hub-a.azure-devices.net",
                registrationId, RegistrationStatus.ASSIGNED, Substatus.INITIAL_ASSIGNMENT, null, null, T0,
                Etags.newRegistrationEtag(), groupId == null ? GroupReference.INDIVIDUAL : new GroupReference(groupId),
                null);
        String op = "1.0." + registrationId;
        registrations.saveAttempt(state, new RegistrationOperation(op, registrationId, groupId == null
                ? EnrollmentRef.individual(registrationId) : EnrollmentRef.group(groupId), T0,
                new RegistrationOperationStatus(op, RegistrationStatus.ASSIGNED, state)));
    }

    // --- create, keys ---

    @Test
    void putEnrollment_createRequestExample_returnsGeneratedKeysAndServerFields() throws IOException {
        IndividualEnrollment body = EnrollmentJsonTest.parse(EnrollmentJsonTest.CREATE_REQUEST,
                IndividualEnrollment.class);

        IndividualEnrollment created = service.putEnrollment("sensor-0042", body, null);

        SymmetricKeyAttestation keys = created.attestation().symmetricKey();
        assertThat(keys.primaryKey()).hasSize(88).endsWith("==");
        assertThat(keys.secondaryKey()).hasSize(88).endsWith("==").isNotEqualTo(keys.primaryKey());
        assertThat(Base64.getDecoder().decode(keys.primaryKey())).hasSize(64);
        assertThat(Base64.getDecoder().decode(keys.secondaryKey())).hasSize(64);
        assertThat(created.etag()).matches("^\"[0-9a-f-]{36}\"$");
        assertThat(created.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(created.lastUpdatedDateTimeUtc()).isEqualTo(T0);
        assertThat(created.reprovisionPolicy()).isEqualTo(new ReprovisionPolicy(true, true));
        assertThat(created.iotHubs()).containsExactly("hub-a.azure-devices.net", "hub-b.azure-devices.net");
        assertThat(Json.toText(created)).contains("\"createdDateTimeUtc\":\"2024-03-13T15:22:27.5912345Z\"");
    }

    @Test
    void putEnrollment_minimalBody_fillsDefaultsButNoReprovisionPolicy() {
        IndividualEnrollment created = service.putEnrollment("d1",
                enrollment("{\"attestation\":{\"type\":\"symmetricKey\"}}"), null);

        assertThat(created.registrationId()).isEqualTo("d1");
        assertThat(created.capabilities()).isEqualTo(DeviceCapabilities.NONE);
        assertThat(created.provisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        assertThat(created.reprovisionPolicy()).isNull();
        assertThat(Json.toText(service.getEnrollment("d1").orElseThrow())).doesNotContain("reprovisionPolicy")
                .contains("\"capabilities\":{\"iotEdge\":false}", "\"provisioningStatus\":\"enabled\"");
    }

    @Test
    void getEnrollment_created_neverShowsKeys() {
        service.putEnrollment("d1", plain("d1"), null);

        IndividualEnrollment got = service.getEnrollment("D1").orElseThrow();

        assertThat(got.attestation()).isEqualTo(new AttestationMechanism(AttestationType.SYMMETRIC_KEY, null, null,
                null));
        assertThat(Json.toText(got)).contains("\"attestation\":{\"type\":\"symmetricKey\"}")
                .doesNotContain("primaryKey", "secondaryKey");
        assertThat(got.registrationState()).isNull();
    }

    @Test
    void listEnrollments_created_neverShowKeys() {
        service.putEnrollment("d1", plain("d1"), null);
        service.putEnrollment("d2", IndividualEnrollment.symmetricKey("d2", KEY_32, KEY_33), null);

        Page<IndividualEnrollment> page = service.listEnrollments(10, null);

        assertThat(page.items()).hasSize(2);
        assertThat(Json.toText(page.items())).doesNotContain("primaryKey", "secondaryKey", KEY_32, KEY_33);
    }

    @Test
    void enrollmentAttestation_created_returnsTheKeys() {
        IndividualEnrollment created = service.putEnrollment("d1", plain("d1"), null);

        assertThat(service.enrollmentAttestation("d1")).isEqualTo(created.attestation());
        rejected(ErrorCode.ENROLLMENT_NOT_FOUND, () -> service.enrollmentAttestation("ghost"));
    }

    @ParameterizedTest(name = "keys {0}")
    @NullAndEmptySource
    void putEnrollment_updateWithoutKeys_keepsTheStoredKeys(@Nullable String empty) {
        IndividualEnrollment created = service.putEnrollment("d1", plain("d1"), null);

        service.putEnrollment("d1", IndividualEnrollment.symmetricKey("d1", empty, empty), "*");

        assertThat(service.enrollmentAttestation("d1")).isEqualTo(created.attestation());
    }

    @Test
    void putEnrollment_roundTrippedGetWithoutSymmetricKeyObject_keepsTheStoredKeys() {
        IndividualEnrollment created = service.putEnrollment("d1", plain("d1"), null);
        IndividualEnrollment got = service.getEnrollment("d1").orElseThrow();

        IndividualEnrollment updated = service.putEnrollment("d1", got, got.etag());

        assertThat(updated.attestation()).isEqualTo(created.attestation());
        assertThat(service.enrollmentAttestation("d1")).isEqualTo(created.attestation());
    }

    @Test
    void putEnrollment_suppliedKeys_areStoredAsGiven() {
        String min = keyOfBytes(16);
        String max = keyOfBytes(64);

        IndividualEnrollment created = service.putEnrollment("d1", IndividualEnrollment.symmetricKey("d1", min, max),
                null);

        assertThat(created.attestation().symmetricKey()).isEqualTo(new SymmetricKeyAttestation(min, max));
        assertThat(service.enrollmentAttestation("d1").symmetricKey()).isEqualTo(new SymmetricKeyAttestation(min, max));
    }

    @Test
    void putEnrollment_badBase64Key_is400NamingTheField() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1",
                IndividualEnrollment.symmetricKey("d1", "not base64!", null), null));

        assertThat(e).hasMessageContaining("symmetricKey.primaryKey").hasMessageContaining("base64");
        assertThat(e.code().httpStatus()).isEqualTo(400);
        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {1, 15, 65, 128})
    void putEnrollment_keyOutside16To64Bytes_is400NamingTheField(int length) {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1",
                IndividualEnrollment.symmetricKey("d1", KEY_32, keyOfBytes(length)), null));

        assertThat(e).hasMessageContaining("symmetricKey.secondaryKey").hasMessageContaining("16-64 bytes")
                .hasMessageContaining("got " + length);
    }

    @Test
    void putGroup_badKey_is400NamingTheField() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putGroup("g1",
                EnrollmentGroup.symmetricKey("g1", keyOfBytes(8), null), null));

        assertThat(e).hasMessageContaining("symmetricKey.primaryKey");
    }

    // --- If-Match ---

    @Test
    void putEnrollment_existingWithoutIfMatch_is409() {
        service.putEnrollment("d1", plain("d1"), null);

        ProvisioningException e = rejected(ErrorCode.ENROLLMENT_EXISTS,
                () -> service.putEnrollment("D1", plain("D1"), null));

        assertThat(e.code().httpStatus()).isEqualTo(409);
        assertThat(e).hasMessageContaining("already exists").hasMessageContaining("If-Match");
    }

    @Test
    void putEnrollment_existingWithWildcard_replaces() {
        IndividualEnrollment first = service.putEnrollment("d1", plain("d1"), null);
        clock.advance(Duration.ofSeconds(5));

        IndividualEnrollment second = service.putEnrollment("d1", enrollment(
                "{\"registrationId\":\"d1\",\"attestation\":{\"type\":\"symmetricKey\"},\"deviceId\":\"dev-1\"}"), "*");

        assertThat(second.deviceId()).isEqualTo("dev-1");
        assertThat(second.etag()).isNotEqualTo(first.etag());
        assertThat(second.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(second.lastUpdatedDateTimeUtc()).isEqualTo(T0.plusSeconds(5));
        assertThat(service.getEnrollment("d1").orElseThrow().deviceId()).isEqualTo("dev-1");
    }

    @Test
    void putEnrollment_matchingEtagWithOrWithoutQuotes_replaces() {
        String etag = service.putEnrollment("d1", plain("d1"), null).etag();
        String quoted = service.putEnrollment("d1", plain("d1"), etag).etag();
        String bare = quoted.substring(1, quoted.length() - 1);

        IndividualEnrollment third = service.putEnrollment("d1", plain("d1"), bare);
        IndividualEnrollment fourth = service.putEnrollment("d1", plain("d1"), "W/" + third.etag());

        assertThat(List.of(etag, quoted, third.etag(), fourth.etag())).doesNotHaveDuplicates();
        assertThat(service.getEnrollment("d1").orElseThrow().etag()).isEqualTo(fourth.etag());
    }

    @Test
    void putEnrollment_staleEtag_is412AndKeepsTheEnrollment() {
        IndividualEnrollment first = service.putEnrollment("d1", plain("d1"), null);
        service.putEnrollment("d1", plain("d1"), first.etag());

        ProvisioningException e = rejected(ErrorCode.ENROLLMENT_PRECONDITION_FAILED,
                () -> service.putEnrollment("d1", enrollment(
                        "{\"attestation\":{\"type\":\"symmetricKey\"},\"deviceId\":\"lost\"}"), first.etag()));

        assertThat(e.code().httpStatus()).isEqualTo(412);
        assertThat(service.getEnrollment("d1").orElseThrow().deviceId()).isNull();
    }

    @Test
    void putEnrollment_ifMatchOnAbsent_is412AndCreatesNothing() {
        rejected(ErrorCode.ENROLLMENT_PRECONDITION_FAILED,
                () -> service.putEnrollment("d1", plain("d1"), "\"0c00a1b2-0000-0700-0000-65f1c2d30000\""));

        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void putEnrollment_wildcardOnAbsent_creates() {
        service.putEnrollment("d1", plain("d1"), "*");

        assertThat(service.getEnrollment("d1")).isPresent();
    }

    @Test
    void putGroup_ifMatchSemantics_matchEnrollments() {
        EnrollmentGroup first = service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), null);

        rejected(ErrorCode.ENROLLMENT_GROUP_EXISTS,
                () -> service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), null));
        EnrollmentGroup second = service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), first.etag());
        rejected(ErrorCode.ENROLLMENT_GROUP_PRECONDITION_FAILED,
                () -> service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), first.etag()));
        rejected(ErrorCode.ENROLLMENT_GROUP_PRECONDITION_FAILED,
                () -> service.putGroup("g2", EnrollmentGroup.symmetricKey("g2", null, null), second.etag()));
        service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), "*");

        assertThat(service.groupAttestation("g1")).isEqualTo(first.attestation());
        assertThat(service.getGroup("g2")).isEmpty();
    }

    // --- ids ---

    @Test
    void putEnrollment_bodyIdDiffersFromPath_is400() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT,
                () -> service.putEnrollment("d1", plain("d2"), null));

        assertThat(e).hasMessageContaining("'d2'").hasMessageContaining("'d1'");
        assertThat(service.getEnrollment("d1")).isEmpty();
        assertThat(service.getEnrollment("d2")).isEmpty();
    }

    @Test
    void putEnrollment_bodyIdOtherCaseOrAbsent_isAcceptedAndFirstCasingKept() {
        service.putEnrollment("Sensor-1", plain("SENSOR-1"), null);
        service.putEnrollment("sensor-1", enrollment("{\"attestation\":{\"type\":\"symmetricKey\"}}"), "*");

        assertThat(service.getEnrollment("SENSOR-1").orElseThrow().registrationId()).isEqualTo("Sensor-1");
    }

    @Test
    void putGroup_bodyIdDiffersFromPath_is400() {
        rejected(ErrorCode.INVALID_ARGUMENT,
                () -> service.putGroup("g1", EnrollmentGroup.symmetricKey("g2", null, null), null));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "-starts-with-dash", ".dot", "ends-with-dot.", "ends:", "has space", "slash/x",
        "ümlaut", "x#y"})
    void putEnrollment_invalidId_is400(String id) {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT,
                () -> service.putEnrollment(id, enrollment("{\"attestation\":{\"type\":\"symmetricKey\"}}"), null));

        assertThat(e).hasMessageContaining("invalid registrationId");
    }

    @Test
    void putEnrollment_idOf128And129Chars_acceptedAndRejected() {
        String max = "a".repeat(128);

        service.putEnrollment(max, plain(max), null);
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment(max + "b", plain(max + "b"), null));
        assertThat(service.getEnrollment(max)).isPresent();
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"a", "A-1", "sensor_0042.x:y-", "0ne-x"})
    void putEnrollment_validId_isAccepted(String id) {
        service.putEnrollment(id, plain(id), null);

        assertThat(service.getEnrollment(id)).isPresent();
    }

    @Test
    void putGroup_invalidId_is400() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT,
                () -> service.putGroup("bad id", EnrollmentGroup.symmetricKey("bad id", null, null), null));

        assertThat(e).hasMessageContaining("invalid enrollmentGroupId");
    }

    @Test
    void putEnrollment_invalidDeviceId_is400() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1", enrollment(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"deviceId\":\"has space\"}"), null));

        assertThat(e).hasMessageContaining("invalid deviceId 'has space'");
    }

    // --- hubs, attestation, allocation ---

    @Test
    void putEnrollment_unlinkedIotHubHostName_is400NamingTheLinkedHubs() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1", enrollment(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"iotHubHostName\":\"hub-x.azure-devices.net\"}"),
                null));

        assertThat(e).hasMessageContaining("hub-x.azure-devices.net")
                .hasMessageContaining("hub-a.azure-devices.net, hub-b.azure-devices.net");
    }

    @Test
    void putEnrollment_linkedIotHubHostNameOtherCase_isAccepted() {
        IndividualEnrollment created = service.putEnrollment("d1", enrollment(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"iotHubHostName\":\"HUB-B.azure-devices.net\"}"), null);

        assertThat(created.iotHubHostName()).isEqualTo("HUB-B.azure-devices.net");
    }

    @Test
    void putEnrollment_unlinkedHubInIotHubs_is400NamingTheLinkedHubs() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1", enrollment(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"iotHubs\":[\"hub-a.azure-devices.net\","
                        + "\"hub-x.azure-devices.net\"]}"), null));

        assertThat(e).hasMessageContaining("'hub-x.azure-devices.net'").hasMessageContaining("linked hubs: hub-a");
    }

    @Test
    void putGroup_unlinkedIotHubHostName_is400() {
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putGroup("g1", group(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"iotHubHostName\":\"hub-x.azure-devices.net\"}"),
                null));
    }

    @Test
    void putEnrollment_attestationTypeNone_is400() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1",
                enrollment("{\"attestation\":{\"type\":\"none\"}}"), null));

        assertThat(e).hasMessageContaining("attestation.type 'none'").hasMessageContaining("symmetricKey");
        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void putEnrollment_missingAttestation_is400() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT,
                () -> service.putEnrollment("d1", enrollment("{\"registrationId\":\"d1\"}"), null));

        assertThat(e).hasMessageContaining("attestation is required");
    }

    @Test
    void putGroup_tpmAttestation_is400() {
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putGroup("g1",
                group("{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AToAAQAL\"}}}"), null));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"custom\"",
        "\"static\",\"iotHubs\":[\"hub-a.azure-devices.net\",\"hub-b.azure-devices.net\"]", "\"static\""})
    void putEnrollment_incompleteAllocationPolicy_is400(String policy) {
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1", enrollment(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"allocationPolicy\":" + policy + "}"), null));
        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void putEnrollment_staticWithOneLinkedHub_isAccepted() {
        IndividualEnrollment created = service.putEnrollment("d1", enrollment("{\"attestation\":{\"type\":"
                + "\"symmetricKey\"},\"allocationPolicy\":\"static\",\"iotHubs\":[\"hub-b.azure-devices.net\"]}"), null);

        assertThat(created.allocationPolicy()).isEqualTo(AllocationPolicy.STATIC);
    }

    // --- initialTwin ---

    @Test
    void putEnrollment_initialTwin_isStoredVerbatimIncludingVersionCountAndNulls() throws IOException {
        String twin = "{\"tags\":{\"version\":\"1.2\",\"count\":7,\"metadata\":{\"x\":null},\"gone\":null},"
                + "\"properties\":{\"desired\":{\"$version\":4,\"arr\":[1,null,{\"a\":null}],\"n\":null}}}";
        JsonNode expected = Json.mapper().readTree(twin);

        service.putEnrollment("d1", enrollment("{\"attestation\":{\"type\":\"symmetricKey\"},\"initialTwin\":"
                + twin + "}"), null);
        IndividualEnrollment got = service.getEnrollment("d1").orElseThrow();

        assertThat(got.initialTwin()).isEqualTo(expected);
        assertThat(Json.toText(got)).contains("\"initialTwin\":" + twin);
    }

    @Test
    void putGroup_initialTwin_isStoredVerbatim() throws IOException {
        String twin = "{\"tags\":{\"version\":3,\"count\":null},\"properties\":{\"desired\":{\"count\":0}}}";

        service.putGroup("g1", group("{\"attestation\":{\"type\":\"symmetricKey\"},\"initialTwin\":" + twin + "}"),
                null);

        assertThat(service.getGroup("g1").orElseThrow().initialTwin()).isEqualTo(Json.mapper().readTree(twin));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"text\"", "[1,2]", "5", "true", "{\"tags\":[1]}", "{\"tags\":\"x\"}",
        "{\"properties\":[]}", "{\"properties\":{\"desired\":3}}"})
    void putEnrollment_initialTwinNotAnObjectShape_is400(String twin) {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> service.putEnrollment("d1", enrollment(
                "{\"attestation\":{\"type\":\"symmetricKey\"},\"initialTwin\":" + twin + "}"), null));

        assertThat(e).hasMessageContaining("initialTwin");
    }

    // --- read-only fields ---

    @Test
    void putEnrollment_readOnlyFieldsInBody_areIgnored() {
        IndividualEnrollment created = service.putEnrollment("d1", enrollment("""
                {"registrationId":"d1","attestation":{"type":"symmetricKey"},
                 "etag":"\\"forged\\"","createdDateTimeUtc":"2001-01-01T00:00:00.0000000Z",
                 "lastUpdatedDateTimeUtc":"2001-01-01T00:00:00.0000000Z",
                 "registrationState":{"registrationId":"d1","status":"assigned",
                   "assignedHub":"evil.azure-devices.net","deviceId":"d1"}}"""), null);
        clock.advance(Duration.ofMinutes(1));

        IndividualEnrollment updated = service.putEnrollment("d1", enrollment("""
                {"registrationId":"d1","attestation":{"type":"symmetricKey"},
                 "etag":"\\"forged\\"","createdDateTimeUtc":"2001-01-01T00:00:00.0000000Z"}"""), created.etag());

        assertThat(created.etag()).isNotEqualTo("\"forged\"");
        assertThat(created.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(created.lastUpdatedDateTimeUtc()).isEqualTo(T0);
        assertThat(created.registrationState()).isNull();
        assertThat(updated.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(updated.lastUpdatedDateTimeUtc()).isEqualTo(T0.plus(Duration.ofMinutes(1)));
        assertThat(updated.etag()).isNotIn("\"forged\"", created.etag());
        assertThat(service.getEnrollment("d1").orElseThrow().registrationState()).isNull();
        assertThat(registrations.find("d1")).isEmpty();
    }

    @Test
    void getEnrollment_registeredDevice_embedsItsRecord() {
        service.putEnrollment("d1", plain("d1"), null);
        saveRecord("d1", null);

        IndividualEnrollment got = service.getEnrollment("d1").orElseThrow();

        assertThat(got.registrationState()).isEqualTo(registrations.find("d1").orElseThrow().serviceView());
        assertThat(Json.toText(got)).contains("\"registrationState\":{\"registrationId\":\"d1\"");
    }

    @Test
    void getEnrollment_registeredDevice_showsNoDeviceSideAttestation() {
        service.putEnrollment("d1", plain("d1"), null);
        saveRecord("d1", null);
        assertThat(registrations.find("d1").orElseThrow().symmetricKey()).isNotNull();

        IndividualEnrollment got = service.getEnrollment("d1").orElseThrow();

        assertThat(got.registrationState().symmetricKey()).isNull();
        assertThat(Json.toText(got.registrationState())).doesNotContain("symmetricKey");
    }

    // --- delete ---

    @Test
    void deleteEnrollment_absent_is404() {
        ProvisioningException e = rejected(ErrorCode.ENROLLMENT_NOT_FOUND, () -> service.deleteEnrollment("d1", null));

        assertThat(e.code().code()).isEqualTo(404201);
    }

    @Test
    void deleteEnrollment_absentWithIfMatch_is404() {
        rejected(ErrorCode.ENROLLMENT_NOT_FOUND, () -> service.deleteEnrollment("d1", "\"x\""));
    }

    @Test
    void deleteEnrollment_existing_deletesItsRegistrationRecord() {
        service.putEnrollment("d1", plain("d1"), null);
        saveRecord("d1", null);
        saveRecord("d2", null);

        service.deleteEnrollment("D1", null);

        assertThat(service.getEnrollment("d1")).isEmpty();
        assertThat(registrations.find("d1")).isEmpty();
        assertThat(registrations.find("d2")).isPresent();
    }

    @Test
    void deleteEnrollment_ifMatch_staleIs412MatchingDeletes() {
        String etag = service.putEnrollment("d1", plain("d1"), null).etag();

        rejected(ErrorCode.ENROLLMENT_PRECONDITION_FAILED, () -> service.deleteEnrollment("d1", "\"stale\""));
        assertThat(service.getEnrollment("d1")).isPresent();
        service.deleteEnrollment("d1", etag.substring(1, etag.length() - 1));

        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void deleteEnrollment_wildcard_deletes() {
        service.putEnrollment("d1", plain("d1"), null);

        service.deleteEnrollment("d1", "*");

        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void deleteGroup_absent_is404() {
        ProvisioningException e = rejected(ErrorCode.ENROLLMENT_GROUP_NOT_FOUND, () -> service.deleteGroup("g1", null));

        assertThat(e.code().code()).isEqualTo(404204);
    }

    @Test
    void deleteGroup_existing_keepsMemberRecords() {
        EnrollmentGroup g = service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), null);
        saveRecord("member-1", "g1");
        saveRecord("member-2", "g1");

        rejected(ErrorCode.ENROLLMENT_GROUP_PRECONDITION_FAILED, () -> service.deleteGroup("g1", "\"stale\""));
        service.deleteGroup("g1", g.etag());

        assertThat(service.getGroup("g1")).isEmpty();
        assertThat(registrations.find("member-1")).isPresent();
        assertThat(registrations.find("member-2")).isPresent();
    }

    // --- paging ---

    @Test
    void listEnrollments_continuationTokens_walkAllPagesAndEndWithoutOne() {
        List<String> ids = List.of("e-05", "A-01", "c-03", "b-02", "D-04");
        ids.forEach(id -> service.putEnrollment(id, plain(id), null));

        List<String> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String continuation = null;
        do {
            Page<IndividualEnrollment> page = service.listEnrollments(2, continuation);
            page.items().forEach(e -> seen.add(e.registrationId()));
            sizes.add(page.items().size());
            continuation = page.continuation();
        } while (continuation != null);

        assertThat(seen).containsExactly("A-01", "b-02", "c-03", "D-04", "e-05");
        assertThat(sizes).containsExactly(2, 2, 1);
    }

    @Test
    void listEnrollments_lastPageExactlyFull_hasNoContinuation() {
        List.of("a", "b", "c", "d").forEach(id -> service.putEnrollment(id, plain(id), null));

        Page<IndividualEnrollment> first = service.listEnrollments(2, null);
        Page<IndividualEnrollment> second = service.listEnrollments(2, first.continuation());

        assertThat(first.continuation()).isNotNull();
        assertThat(second.items()).extracting(IndividualEnrollment::registrationId).containsExactly("c", "d");
        assertThat(second.continuation()).isNull();
    }

    @Test
    void listEnrollments_singlePageOrEmpty_hasNoContinuation() {
        assertThat(service.listEnrollments(10, null)).isEqualTo(new Page<IndividualEnrollment>(List.of(), null));

        service.putEnrollment("a", plain("a"), null);

        assertThat(service.listEnrollments(0, null).continuation()).isNull();
        assertThat(service.listEnrollments(0, "").items()).hasSize(1);
    }

    @Test
    void listEnrollments_foreignContinuation_is400() {
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.listEnrollments(2, "***"));
    }

    @Test
    void listGroups_continuationTokens_walkAllPagesWithoutKeys() {
        List.of("g-3", "G-1", "g-2").forEach(id -> service.putGroup(id, EnrollmentGroup.symmetricKey(id, null, null),
                null));

        Page<EnrollmentGroup> first = service.listGroups(2, null);
        Page<EnrollmentGroup> second = service.listGroups(2, first.continuation());

        assertThat(first.items()).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("G-1", "g-2");
        assertThat(second.items()).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("g-3");
        assertThat(second.continuation()).isNull();
        assertThat(Json.toText(first)).doesNotContain("primaryKey");
    }

    @Test
    void putGroup_created_returnsKeysAndGetHidesThem() {
        EnrollmentGroup created = service.putGroup("g1", EnrollmentGroup.symmetricKey("g1", null, null), null);

        assertThat(created.attestation().symmetricKey().primaryKey()).hasSize(88);
        assertThat(Json.toText(service.getGroup("g1").orElseThrow())).doesNotContain("primaryKey", "secondaryKey");
        rejected(ErrorCode.ENROLLMENT_GROUP_NOT_FOUND, () -> service.groupAttestation("g2"));
    }
}
