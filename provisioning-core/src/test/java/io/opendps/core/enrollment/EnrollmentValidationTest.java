package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import io.opendps.core.testing.TestTpm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every field of the individual-enrollment and group schema through {@link EnrollmentService} on real H2 stores:
 * stored, returned, and validated with a 400 naming the field, nothing written on error.
 */
class EnrollmentValidationTest {

    private static final Instant T0 = Instant.parse("2024-03-13T15:22:27.5912345Z");
    private static final String HUB_A = "hub-a.azure-devices.net";
    private static final String HUB_B = "hub-b.azure-devices.net";
    private static final String EK_1 = TestTpm.rsaEndorsementKey(1);
    private static final String EK_2 = TestTpm.rsaEndorsementKey(2);
    private static final String SRK = TestTpm.base64(TestTpm.tpm2bPublic(0x0001, 40));
    private static final String WEBHOOK = "{\"webhookUrl\":\"https://alloc.example.com/api/allocate?code=s3cret\","
            + "\"apiVersion\":\"2021-10-01\"}";

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcRegistrationStore registrations;
    private EnrollmentService service;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        registrations = new JdbcRegistrationStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB_A), LinkedHub.of(HUB_B)));
        JdbcEnrollmentStore store = new JdbcEnrollmentStore(database.db());
        service = new EnrollmentService(store, registrations, allocator, new CaCertificateService(
                new JdbcCaCertificateStore(database.db()), store, CaCertificateOptions.DEFAULTS, clock), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    // --- DSL ---

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

    /** A symmetric-key enrollment body with extra top-level fields. */
    private static IndividualEnrollment symmetric(String extraFields) {
        return enrollment("{\"attestation\":{\"type\":\"symmetricKey\"}" + (extraFields.isEmpty() ? "" : ",")
                + extraFields + "}");
    }

    private static IndividualEnrollment tpm(String tpmObject) {
        return enrollment("{\"attestation\":{\"type\":\"tpm\",\"tpm\":" + tpmObject + "}}");
    }

    private static String tpmObject(String ek) {
        return "{\"endorsementKey\":\"" + ek + "\"}";
    }

    private static JsonNode tree(String json) {
        try {
            return Json.mapper().readTree(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The 400 of a refused write, whose message must name {@code field}. */
    private static ProvisioningException invalid(String field, ThrowingCallable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call);
        assertThat(e).as("expected a 400 naming %s", field).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(e.code().httpStatus()).isEqualTo(400);
        assertThat(e).hasMessageContaining(field);
        return e;
    }

    /** Creates {@code id} as a plain symmetric-key enrollment and returns what GET shows. */
    private IndividualEnrollment existing(String id) {
        service.putEnrollment(id, symmetric(""), null);
        return service.getEnrollment(id).orElseThrow();
    }

    // --- TPM ---

    @Test
    void putEnrollment_tpm_isStoredAndEveryReadReturnsTheTpmObject() {
        IndividualEnrollment created = service.putEnrollment("tpm-1",
                tpm("{\"endorsementKey\":\"" + EK_1 + "\",\"storageRootKey\":\"" + SRK + "\"}"), null);
        TpmAttestation expected = new TpmAttestation(EK_1, SRK);

        assertThat(created.attestation()).isEqualTo(new AttestationMechanism(AttestationType.TPM, null, null,
                expected));
        assertThat(service.getEnrollment("tpm-1").orElseThrow().attestation().tpm()).isEqualTo(expected);
        assertThat(service.listEnrollments(10, null).items().get(0).attestation().tpm()).isEqualTo(expected);
        assertThat(service.enrollmentAttestation("tpm-1").tpm()).isEqualTo(expected);
        assertThat(tree(Json.toText(service.getEnrollment("tpm-1").orElseThrow())).get("attestation"))
                .isEqualTo(tree("{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"" + EK_1 + "\",\"storageRootKey\":\""
                        + SRK + "\"}}"));
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"", "null"})
    void putEnrollment_tpmWithoutStorageRootKey_storesNone(String srk) {
        String body = srk.isEmpty() ? "{\"endorsementKey\":\"" + EK_1 + "\",\"storageRootKey\":\"\"}"
                : "{\"endorsementKey\":\"" + EK_1 + "\",\"storageRootKey\":null}";

        service.putEnrollment("tpm-1", tpm(body), null);

        assertThat(service.getEnrollment("tpm-1").orElseThrow().attestation().tpm())
                .isEqualTo(new TpmAttestation(EK_1, null));
    }

    @Test
    void putEnrollment_eccEndorsementKey_isAccepted() {
        String ecc = TestTpm.base64(TestTpm.tpm2bPublic(0x0023, 120));

        service.putEnrollment("tpm-ecc", tpm(tpmObject(ecc)), null);

        assertThat(service.getEnrollment("tpm-ecc").orElseThrow().attestation().tpm().endorsementKey()).isEqualTo(ecc);
    }

    @Test
    void putEnrollment_updateWithAnotherEndorsementKey_replacesIt() {
        IndividualEnrollment first = service.putEnrollment("tpm-1", tpm(tpmObject(EK_1)), null);

        IndividualEnrollment second = service.putEnrollment("tpm-1", tpm(tpmObject(EK_2)), first.etag());

        assertThat(second.attestation().tpm().endorsementKey()).isEqualTo(EK_2);
        assertThat(service.getEnrollment("tpm-1").orElseThrow().attestation().tpm().endorsementKey()).isEqualTo(EK_2);
        assertThat(second.etag()).isNotEqualTo(first.etag());
    }

    @Test
    void putEnrollment_fromTpmToSymmetricKey_generatesKeysAndDropsTheTpmObject() {
        service.putEnrollment("tpm-1", tpm(tpmObject(EK_1)), null);

        IndividualEnrollment replaced = service.putEnrollment("tpm-1", symmetric(""), "*");

        assertThat(replaced.attestation().tpm()).isNull();
        assertThat(replaced.attestation().symmetricKey().primaryKey()).hasSize(88);
    }

    @Test
    void putEnrollment_otherSubObjectsBesideTheType_areNotStored() {
        service.putEnrollment("tpm-1", enrollment("{\"attestation\":{\"type\":\"tpm\",\"tpm\":" + tpmObject(EK_1)
                + ",\"symmetricKey\":{\"primaryKey\":\"\"}}}"), null);
        service.putEnrollment("sym-1", enrollment("{\"attestation\":{\"type\":\"symmetricKey\",\"tpm\":"
                + tpmObject(EK_1) + "}}"), null);

        assertThat(service.enrollmentAttestation("tpm-1").symmetricKey()).isNull();
        assertThat(service.enrollmentAttestation("sym-1").tpm()).isNull();
    }

    static List<String[]> tpmProblems() {
        String shortKey = TestTpm.base64(new byte[] {0, 1, 0});
        byte[] wrongSize = TestTpm.tpm2bPublic(0x0001, 100);
        wrongSize[1] = 99;
        return List.of(
                new String[] {"{\"attestation\":{\"type\":\"tpm\"}}", "attestation.tpm is required"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":{}}}", "attestation.tpm.endorsementKey is "
                        + "required"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"\"}}}",
                    "attestation.tpm.endorsementKey is required"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"not*base64!\"}}}",
                    "attestation.tpm.endorsementKey is not valid base64"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":" + tpmObject(shortKey) + "}}",
                    "attestation.tpm.endorsementKey decodes to 3 bytes, too short"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":" + tpmObject(TestTpm.base64(wrongSize))
                        + "}}", "attestation.tpm.endorsementKey is not a TPM2B_PUBLIC: its 2-byte size field says 99 "
                        + "bytes but 100 follow"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":" + tpmObject(TestTpm.base64(
                        TestTpm.tpm2bPublic(0x0008, 50))) + "}}", "attestation.tpm.endorsementKey is not an RSA "
                        + "(0x0001) or ECC (0x0023) public key: its TPMT_PUBLIC type is 0x0008"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AToAAQAL\"}}}",
                    "attestation.tpm.endorsementKey is not a TPM2B_PUBLIC: its 2-byte size field says 314 bytes but 4 "
                        + "follow"},
                new String[] {"{\"attestation\":{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"" + EK_1
                        + "\",\"storageRootKey\":\"%%%\"}}}", "attestation.tpm.storageRootKey is not valid base64"});
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("tpmProblems")
    void putEnrollment_badTpm_is400SayingWhatIsWrongAndStoresNothing(String body, String message) {
        invalid(message, () -> service.putEnrollment("tpm-bad", enrollment(body), null));

        assertThat(service.getEnrollment("tpm-bad")).isEmpty();
    }

    @Test
    void putEnrollment_badTpmOnUpdate_keepsTheStoredVersion() {
        IndividualEnrollment before = existing("keep-1");

        invalid("attestation.tpm.endorsementKey", () -> service.putEnrollment("keep-1", tpm(tpmObject("AAAA")), "*"));

        assertThat(service.getEnrollment("keep-1")).contains(before);
    }

    @Test
    void putGroup_tpm_is400SayingGroupsCannotUseTpmAndStoresNothing() {
        ProvisioningException e = invalid("TPM is not supported for enrollment groups", () -> service.putGroup("g-tpm",
                group("{\"attestation\":{\"type\":\"tpm\",\"tpm\":" + tpmObject(EK_1) + "}}"), null));

        assertThat(e).hasMessageContaining("x509 or symmetricKey");
        assertThat(service.getGroup("g-tpm")).isEmpty();
    }

    @Test
    void putEnrollment_attestationWithoutType_is400NamingIt() {
        invalid("attestation.type is required", () -> service.putEnrollment("d1",
                enrollment("{\"attestation\":{\"tpm\":" + tpmObject(EK_1) + "}}"), null));
    }

    // --- allocationPolicy and customAllocationDefinition ---

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "\"hashed\"|hashed",
        "\"HASHED\"|hashed",
        "\"geolatency\"|geoLatency",
        "\"GeoLatency\"|geoLatency",
        "\"static\",\"iotHubs\":[\"hub-b.azure-devices.net\"]|static",
        "\"Custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/x\",\"apiVersion\":\"2021-10-01\"}"
            + "|custom"})
    void putEnrollment_everyPolicy_isAcceptedAndReturnedInAzureCasing(String policy, String canonical) {
        service.putEnrollment("d1", symmetric("\"allocationPolicy\":" + policy), null);

        IndividualEnrollment got = service.getEnrollment("d1").orElseThrow();
        assertThat(got.allocationPolicy().wire()).isEqualTo(canonical);
        assertThat(Json.toText(got)).contains("\"allocationPolicy\":\"" + canonical + "\"");
    }

    @Test
    void putGroup_customPolicy_storesTheTypedDefinition() {
        service.putGroup("toasters", group("{\"attestation\":{\"type\":\"symmetricKey\"},\"allocationPolicy\":"
                + "\"custom\",\"customAllocationDefinition\":" + WEBHOOK + "}"), null);

        EnrollmentGroup got = service.getGroup("toasters").orElseThrow();
        assertThat(got.allocationPolicy()).isEqualTo(AllocationPolicy.CUSTOM);
        assertThat(got.customAllocationDefinition()).isEqualTo(new CustomAllocationDefinition(
                "https://alloc.example.com/api/allocate?code=s3cret", "2021-10-01"));
    }

    @Test
    void putEnrollment_noPolicy_staysAbsent() {
        service.putEnrollment("d1", symmetric(""), null);

        assertThat(service.getEnrollment("d1").orElseThrow().allocationPolicy()).isNull();
        assertThat(Json.toText(service.getEnrollment("d1").orElseThrow())).doesNotContain("allocationPolicy");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "\"allocationPolicy\":\"static\",\"iotHubHostName\":\"hub-a.azure-devices.net\"",
        "\"allocationPolicy\":\"static\",\"iotHubHostName\":\"HUB-A.azure-devices.net\","
            + "\"iotHubs\":[\"hub-a.azure-devices.net\"]"})
    void putEnrollment_staticWithTheLegacyHostName_isAccepted(String fields) {
        service.putEnrollment("d1", symmetric(fields), null);

        assertThat(service.getEnrollment("d1").orElseThrow().allocationPolicy()).isEqualTo(AllocationPolicy.STATIC);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"allocationPolicy\":\"static\"|allocationPolicy static needs exactly one hub",
        "\"allocationPolicy\":\"static\",\"iotHubs\":[]|allocationPolicy static needs exactly one hub",
        "\"allocationPolicy\":\"static\",\"iotHubs\":[\"hub-a.azure-devices.net\",\"hub-b.azure-devices.net\"]"
            + "|allocationPolicy static needs exactly one hub in iotHubs; it has 2",
        "\"allocationPolicy\":\"static\",\"iotHubHostName\":\"hub-a.azure-devices.net\","
            + "\"iotHubs\":[\"hub-b.azure-devices.net\"]|name different hubs",
        "\"iotHubs\":[null]|iotHubs[0] is empty",
        "\"iotHubs\":[\"hub-a.azure-devices.net\",\" \"]|iotHubs[1] is empty",
        "\"iotHubs\":[\"hub-a.azure-devices.net\",\"gone.azure-devices.net\"]|iotHubs[1] 'gone.azure-devices.net' is "
            + "not a linked hub",
        "\"allocationPolicy\":\"custom\"|customAllocationDefinition is required when allocationPolicy is custom",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl is required",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/x\"}"
            + "|customAllocationDefinition.apiVersion is required",
        "\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{\"webhookUrl\":\"\",\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl is required",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"ftp://a.example/x\",\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl must be an absolute https:// (or http://) URL; its scheme is 'ftp'",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"/api/allocate\",\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl must be an absolute https:// (or http://) URL; it has no scheme",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"https:///api\",\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl has no host name",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"https://a b.example/\",\"apiVersion\":\"2021-10-01\"}"
            + "|customAllocationDefinition.webhookUrl is not a valid URL",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/\",\"apiVersion\":\"latest\"}"
            + "|customAllocationDefinition.apiVersion 'latest' is not a version like 2021-10-01",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/\",\"apiVersion\":\"2021-13-01\"}"
            + "|customAllocationDefinition.apiVersion '2021-13-01' is not a version",
        "\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/\",\"apiVersion\":\"2018-08-30\"}"
            + "|customAllocationDefinition.apiVersion '2018-08-30' is older than 2018-09-01-preview",
        "\"allocationPolicy\":\"hashed\",\"customAllocationDefinition\":{\"webhookUrl\":\"https://a.example/\","
            + "\"apiVersion\":\"2017-11-15\"}|customAllocationDefinition.apiVersion '2017-11-15' is older"})
    void putEnrollment_badAllocation_is400NamingTheFieldAndStoresNothing(String fields, String message) {
        invalid(message, () -> service.putEnrollment("alloc-bad", symmetric(fields), null));

        assertThat(service.getEnrollment("alloc-bad")).isEmpty();
    }

    @Test
    void putEnrollment_badWebhookUrl_messageDoesNotEchoTheUrlOrItsKey() {
        ProvisioningException e = invalid("customAllocationDefinition.webhookUrl", () -> service.putEnrollment("d1",
                symmetric("\"customAllocationDefinition\":{\"webhookUrl\":\"ftp://a.example/x?code=s3cret\","
                        + "\"apiVersion\":\"2021-10-01\"}"), null));

        assertThat(e.getMessage()).doesNotContain("s3cret");
    }

    @Test
    void putGroup_customWithoutDefinition_is400AndStoresNothing() {
        invalid("customAllocationDefinition is required", () -> service.putGroup("g1",
                group("{\"attestation\":{\"type\":\"symmetricKey\"},\"allocationPolicy\":\"custom\"}"), null));

        assertThat(service.getGroup("g1")).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"2018-09-01-preview", "2018-09-01", "2019-03-31", "2021-10-01", "2025-07-01-preview"})
    void putEnrollment_webhookApiVersionFromTheMinimumOn_isAccepted(String version) {
        service.putEnrollment("d1", symmetric("\"allocationPolicy\":\"custom\",\"customAllocationDefinition\":{"
                + "\"webhookUrl\":\"http://10.0.0.5:7071/api/alloc\",\"apiVersion\":\"" + version + "\"}"), null);

        assertThat(service.getEnrollment("d1").orElseThrow().customAllocationDefinition().apiVersion())
                .isEqualTo(version);
    }

    @Test
    void compareVersions_ordersByDateThenPreviewBeforeRelease() {
        assertThat(AllocationRules.compareVersions("2018-09-01-preview", "2018-09-01")).isNegative();
        assertThat(AllocationRules.compareVersions("2018-09-01", "2018-09-01-preview")).isPositive();
        assertThat(AllocationRules.compareVersions("2018-08-31", "2018-09-01-preview")).isNegative();
        assertThat(AllocationRules.compareVersions("2021-10-01", "2021-10-01")).isZero();
    }

    @Test
    void putEnrollment_definitionWithAnotherPolicy_isStoredAndReturnedButInert() {
        service.putEnrollment("d1", symmetric("\"allocationPolicy\":\"hashed\",\"customAllocationDefinition\":"
                + WEBHOOK), null);
        service.putEnrollment("d2", symmetric("\"customAllocationDefinition\":" + WEBHOOK), null);

        assertThat(service.getEnrollment("d1").orElseThrow().customAllocationDefinition().webhookUrl())
                .isEqualTo("https://alloc.example.com/api/allocate?code=s3cret");
        assertThat(service.getEnrollment("d2").orElseThrow().customAllocationDefinition()).isNotNull();
    }

    @Test
    void putEnrollment_badAllocationOnUpdate_keepsTheStoredVersion() {
        IndividualEnrollment before = existing("keep-2");

        invalid("customAllocationDefinition", () -> service.putEnrollment("keep-2",
                symmetric("\"allocationPolicy\":\"custom\""), before.etag()));

        assertThat(service.getEnrollment("keep-2")).contains(before);
    }

    // --- reprovisionPolicy ---

    @Test
    void reprovisionPolicy_absentAndSet_areDifferentAndBothKept() {
        service.putEnrollment("absent", symmetric(""), null);
        service.putEnrollment("never", symmetric("\"reprovisionPolicy\":{\"updateHubAssignment\":false,"
                + "\"migrateDeviceData\":false}"), null);
        service.putEnrollment("reset", symmetric("\"reprovisionPolicy\":{\"updateHubAssignment\":true,"
                + "\"migrateDeviceData\":false}"), null);

        assertThat(service.getEnrollment("absent").orElseThrow().reprovisionPolicy()).isNull();
        assertThat(Json.toText(service.getEnrollment("absent").orElseThrow())).doesNotContain("reprovisionPolicy");
        assertThat(service.getEnrollment("never").orElseThrow().reprovisionPolicy())
                .isEqualTo(new ReprovisionPolicy(false, false));
        assertThat(service.getEnrollment("reset").orElseThrow().reprovisionPolicy())
                .isEqualTo(new ReprovisionPolicy(true, false));
        assertThat(Json.toText(service.getEnrollment("never").orElseThrow()))
                .contains("\"reprovisionPolicy\":{\"updateHubAssignment\":false,\"migrateDeviceData\":false}");
    }

    @Test
    void reprovisionPolicy_updateWithoutIt_removesIt() {
        service.putEnrollment("d1", symmetric("\"reprovisionPolicy\":{\"updateHubAssignment\":true,"
                + "\"migrateDeviceData\":true}"), null);
        service.putGroup("g1", group("{\"attestation\":{\"type\":\"symmetricKey\"},\"reprovisionPolicy\":{"
                + "\"updateHubAssignment\":true,\"migrateDeviceData\":true}}"), null);

        service.putEnrollment("d1", symmetric(""), "*");
        service.putGroup("g1", group("{\"attestation\":{\"type\":\"symmetricKey\"}}"), "*");

        assertThat(service.getEnrollment("d1").orElseThrow().reprovisionPolicy()).isNull();
        assertThat(service.getGroup("g1").orElseThrow().reprovisionPolicy()).isNull();
    }

    // --- initialTwin ---

    @Test
    void initialTwin_roundTrippedTwinWithVersionAndMetadata_isStoredExactlyAsSent() {
        String twin = "{\"tags\":{\"$version\":1,\"site\":\"plant-7\"},\"properties\":{\"desired\":{\"$version\":4,"
                + "\"$metadata\":{\"$lastUpdated\":\"2024-03-13T15:22:27.5912345Z\",\"rate\":{\"$lastUpdated\":"
                + "\"2024-03-13T15:22:27Z\",\"$lastUpdatedVersion\":4}},\"rate\":30,\"modes\":[\"a\",null,{\"x\":1}]}}}";

        service.putEnrollment("d1", symmetric("\"initialTwin\":" + twin), null);

        assertThat(service.getEnrollment("d1").orElseThrow().initialTwin()).isEqualTo(tree(twin));
        assertThat(Json.toText(service.getEnrollment("d1").orElseThrow())).contains("\"initialTwin\":" + twin);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"{}", "{\"tags\":null,\"properties\":null}", "{\"properties\":{}}",
        "{\"properties\":{\"desired\":null}}", "{\"tags\":{\"count\":1,\"version\":\"2\",\"metadata\":{}}}",
        "{\"tags\":{\"größe\":\"m\",\"键\":[1,2,3],\"with-dash_and:colon\":true}}"})
    void initialTwin_validShapes_areAccepted(String twin) {
        service.putEnrollment("d1", symmetric("\"initialTwin\":" + twin), null);

        assertThat(service.getEnrollment("d1").orElseThrow().initialTwin()).isEqualTo(tree(twin));
    }

    static List<String[]> twinProblems() {
        String longString = "x".repeat(TwinRules.MAX_STRING_BYTES + 1);
        String longKey = "k".repeat(TwinRules.MAX_KEY_BYTES + 1);
        return List.of(
                new String[] {"{\"tags\":{},\"reported\":{}}", "initialTwin.reported is not allowed"},
                new String[] {"{\"deviceId\":\"x\"}", "initialTwin.deviceId is not allowed"},
                new String[] {"{\"properties\":{\"reported\":{\"a\":1}}}", "initialTwin.properties.reported cannot "
                        + "be set: reported properties belong to the device"},
                new String[] {"{\"properties\":{\"desired\":{},\"foo\":{}}}", "initialTwin.properties.foo is not "
                        + "allowed"},
                new String[] {"{\"tags\":[1]}", "initialTwin.tags must be an object"},
                new String[] {"{\"properties\":{\"desired\":\"x\"}}", "initialTwin.properties.desired must be an "
                        + "object"},
                new String[] {"{\"properties\":[]}", "initialTwin.properties must be an object"},
                new String[] {"\"twin\"", "initialTwin must be an object"},
                new String[] {"{\"tags\":{\"a.b\":1}}", "initialTwin.tags has an invalid key \"a.b\""},
                new String[] {"{\"tags\":{\"a\":{\"b c\":1}}}", "initialTwin.tags.a has an invalid key \"b c\""},
                new String[] {"{\"properties\":{\"desired\":{\"$x\":1}}}", "initialTwin.properties.desired has an "
                        + "invalid key \"$x\""},
                new String[] {"{\"tags\":{\"ctl\\u0001\":1}}", "initialTwin.tags has an invalid key \"ctl\\u0001\""},
                new String[] {"{\"tags\":{\"c1\\u0085\":1}}", "initialTwin.tags has an invalid key"},
                new String[] {"{\"properties\":{\"desired\":{\"a\":{\"$version\":1}}}}", "initialTwin.properties."
                        + "desired.a has an invalid key \"$version\""},
                new String[] {"{\"tags\":{\"$version\":\"7\"}}", "initialTwin.tags.$version must be a number"},
                new String[] {"{\"properties\":{\"desired\":{\"$metadata\":1}}}", "initialTwin.properties.desired."
                        + "$metadata must be an object"},
                new String[] {"{\"properties\":{\"desired\":{\"s\":\"" + longString + "\"}}}", "initialTwin."
                        + "properties.desired.s is a string of 4097 bytes"},
                new String[] {"{\"tags\":{\"arr\":[\"ok\",\"" + longString + "\"]}}", "initialTwin.tags.arr[1] is a "
                        + "string of 4097 bytes"},
                new String[] {"{\"tags\":{\"" + longKey + "\":1}}", "initialTwin.tags has a key of 1025 bytes"},
                new String[] {"{\"tags\":" + nested(11) + "}", "initialTwin.tags.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11 "
                        + "is nested 11 levels deep"},
                new String[] {"{\"tags\":{\"a\":[[[[[[[[[[[1]]]]]]]]]]]}}", "initialTwin.tags.a[0][0][0][0][0][0][0]"
                        + "[0][0][0] is nested 11 levels deep"},
                new String[] {"{\"properties\":{\"desired\":" + sized(TwinRules.MAX_BYTES + 1) + "}}",
                    "initialTwin.properties.desired is 32769 bytes serialised as UTF-8 JSON; the limit is 32768"});
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("twinProblems")
    void initialTwin_breakingIotHubRules_is400NamingThePathAndStoresNothing(String twin, String message) {
        invalid(message, () -> service.putEnrollment("twin-bad", symmetric("\"initialTwin\":" + twin), null));
        invalid(message, () -> service.putGroup("twin-bad", group("{\"attestation\":{\"type\":\"symmetricKey\"},"
                + "\"initialTwin\":" + twin + "}"), null));

        assertThat(service.getEnrollment("twin-bad")).isEmpty();
        assertThat(service.getGroup("twin-bad")).isEmpty();
    }

    @Test
    void initialTwin_exactlyAtTheLimits_isAccepted() {
        String twin = "{\"tags\":" + nested(10) + ",\"properties\":{\"desired\":" + sized(TwinRules.MAX_BYTES)
                + "}}";

        service.putEnrollment("d1", symmetric("\"initialTwin\":" + twin), null);

        assertThat(service.getEnrollment("d1").orElseThrow().initialTwin()).isEqualTo(tree(twin));
    }

    @Test
    void initialTwin_badOnUpdate_keepsTheStoredVersion() {
        IndividualEnrollment before = existing("keep-3");

        invalid("initialTwin.properties.reported", () -> service.putEnrollment("keep-3",
                symmetric("\"initialTwin\":{\"properties\":{\"reported\":{}}}"), "*"));

        assertThat(service.getEnrollment("keep-3")).contains(before);
    }

    /** {@code {"l1":{"l2":...{"lN":{"v":1}}}}}: N nested objects below the collection. */
    static String nested(int levels) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 1; i <= levels; i++) {
            sb.append("\"l").append(i).append("\":{");
        }
        sb.append("\"v\":1");
        sb.append("}".repeat(levels + 1));
        return sb.toString();
    }

    /** A JSON object of exactly {@code bytes} bytes serialised, made of string values within the 4 KB limit. */
    static String sized(int bytes) {
        ObjectNode node = Json.mapper().createObjectNode();
        for (int i = 0; Json.toBytes(node).length < bytes; i++) {
            String key = String.format(Locale.ROOT, "k%03d", i);
            node.put(key, "");
            int need = bytes - Json.toBytes(node).length;
            // Leave room for one more whole entry rather than a remainder too small to hold one.
            node.put(key, "y".repeat(need <= 4000 ? need : Math.min(4000, need - 16)));
        }
        String text = Json.toText(node);
        assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
        return text;
    }

    // --- optionalDeviceInformation ---

    @Test
    void optionalDeviceInformation_anyObject_isStoredVerbatimWithoutTwinKeyRules() {
        String info = "{\"model\":\"TX-200\",\"a.b\":{\"$c\":[1,{\"d e\":null}]}}";

        service.putEnrollment("d1", symmetric("\"optionalDeviceInformation\":" + info), null);

        assertThat(service.getEnrollment("d1").orElseThrow().optionalDeviceInformation()).isEqualTo(tree(info));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"TX-200\"", "[1]", "5", "true"})
    void optionalDeviceInformation_notAnObject_is400(String info) {
        invalid("optionalDeviceInformation must be a JSON object", () -> service.putEnrollment("d1",
                symmetric("\"optionalDeviceInformation\":" + info), null));

        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void optionalDeviceInformation_over32KB_is400AndExactly32KBIsAccepted() {
        invalid("optionalDeviceInformation is 32769 bytes", () -> service.putEnrollment("d1",
                symmetric("\"optionalDeviceInformation\":" + sized(TwinRules.MAX_BYTES + 1)), null));
        assertThat(service.getEnrollment("d1")).isEmpty();

        service.putEnrollment("d1", symmetric("\"optionalDeviceInformation\":" + sized(TwinRules.MAX_BYTES)), null);
        assertThat(service.getEnrollment("d1")).isPresent();
    }

    // --- capabilities, provisioningStatus, deviceId, preview fields, read-only fields ---

    @Test
    void capabilities_iotEdge_isStoredAndDefaultsToFalse() {
        service.putEnrollment("edge", symmetric("\"capabilities\":{\"iotEdge\":true}"), null);
        service.putEnrollment("plain", symmetric("\"capabilities\":{}"), null);
        service.putGroup("edges", group("{\"attestation\":{\"type\":\"symmetricKey\"},\"capabilities\":{\"iotEdge\":"
                + "true}}"), null);

        assertThat(service.getEnrollment("edge").orElseThrow().capabilities()).isEqualTo(new DeviceCapabilities(true));
        assertThat(service.getEnrollment("plain").orElseThrow().capabilities()).isEqualTo(DeviceCapabilities.NONE);
        assertThat(service.getGroup("edges").orElseThrow().capabilities()).isEqualTo(new DeviceCapabilities(true));
    }

    @Test
    void provisioningStatus_anyCase_isStoredCanonical() {
        service.putEnrollment("d1", symmetric("\"provisioningStatus\":\"DISABLED\""), null);

        assertThat(service.getEnrollment("d1").orElseThrow().provisioningStatus()).isEqualTo(
                ProvisioningStatus.DISABLED);
        assertThat(Json.toText(service.getEnrollment("d1").orElseThrow())).contains("\"provisioningStatus\":"
                + "\"disabled\"");
    }

    @Test
    void deviceId_invalid_is400NamingItAndStoresNothing() {
        invalid("invalid deviceId 'bad device'", () -> service.putEnrollment("d1",
                symmetric("\"deviceId\":\"bad device\""), null));

        assertThat(service.getEnrollment("d1")).isEmpty();
    }

    @Test
    void previewFields_individual_areStoredReturnedAndReplaced() {
        service.putEnrollment("edge-7", symmetric("\"clientCertificateIssuancePolicy\":{\"certificateAuthorityName\":"
                + "\"ca-client\"},\"serverCertificateIssuancePolicy\":{\"certificateAuthorityName\":\"ca-server\"},"
                + "\"trustBundleId\":\"bundle-1\",\"deviceHostname\":\"edge-7.contoso.local\",\"deviceIpAddress\":"
                + "\"10.0.0.7\""), null);

        IndividualEnrollment got = service.getEnrollment("edge-7").orElseThrow();
        assertThat(got.clientCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-client"));
        assertThat(got.serverCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-server"));
        assertThat(got.trustBundleId()).isEqualTo("bundle-1");
        assertThat(got.deviceHostname()).isEqualTo("edge-7.contoso.local");
        assertThat(got.deviceIpAddress()).isEqualTo("10.0.0.7");
        assertThat(service.listEnrollments(10, null).items().get(0).trustBundleId()).isEqualTo("bundle-1");

        service.putEnrollment("edge-7", symmetric(""), "*");
        assertThat(Json.toText(service.getEnrollment("edge-7").orElseThrow()))
                .doesNotContain("trustBundleId", "IssuancePolicy", "deviceHostname", "deviceIpAddress");
    }

    @Test
    void previewFields_group_areStoredAndReturned() {
        service.putGroup("line-9", group("{\"attestation\":{\"type\":\"symmetricKey\"},\"credentialPolicyName\":"
                + "\"default\",\"clientCertificateIssuancePolicy\":{\"certificateAuthorityName\":\"ca-client\"},"
                + "\"serverCertificateIssuancePolicy\":{\"certificateAuthorityName\":\"ca-server\"},\"trustBundleId\":"
                + "\"bundle-1\"}"), null);

        EnrollmentGroup got = service.getGroup("line-9").orElseThrow();
        assertThat(got.credentialPolicyName()).isEqualTo("default");
        assertThat(got.clientCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-client"));
        assertThat(got.serverCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-server"));
        assertThat(got.trustBundleId()).isEqualTo("bundle-1");
        assertThat(service.listGroups(10, null).items().get(0).credentialPolicyName()).isEqualTo("default");
    }

    @Test
    void putGroup_readOnlyFieldsInBody_areIgnored() {
        EnrollmentGroup created = service.putGroup("g1", group("""
                {"enrollmentGroupId":"g1","attestation":{"type":"symmetricKey"},
                 "etag":"\\"forged\\"","createdDateTimeUtc":"2001-01-01T00:00:00.0000000Z",
                 "lastUpdatedDateTimeUtc":"2001-01-01T00:00:00.0000000Z"}"""), null);

        assertThat(created.etag()).isNotEqualTo("\"forged\"");
        assertThat(created.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(created.lastUpdatedDateTimeUtc()).isEqualTo(T0);
        assertThat(service.getGroup("g1").orElseThrow().etag()).isEqualTo(created.etag());
    }

    // --- the reference's examples (§3.2) through the service ---

    @Test
    void createRequestExample_responseHasTheReferenceResponseShape() throws IOException {
        IndividualEnrollment created = service.putEnrollment("sensor-0042",
                EnrollmentJsonTest.parse(EnrollmentJsonTest.CREATE_REQUEST, IndividualEnrollment.class), null);
        JsonNode expected = tree(EnrollmentJsonTest.CREATE_RESPONSE);
        JsonNode actual = tree(Json.toText(created));

        assertThat(names(actual)).containsExactlyInAnyOrderElementsOf(names(expected));
        for (String key : names(expected)) {
            if (!List.of("attestation", "etag", "createdDateTimeUtc", "lastUpdatedDateTimeUtc").contains(key)) {
                assertThat(actual.get(key)).as(key).isEqualTo(expected.get(key));
            }
        }
        assertThat(names(actual.at("/attestation/symmetricKey"))).containsExactly("primaryKey", "secondaryKey");
    }

    @Test
    void getExample_afterTheDeviceRegistered_hasTheReferenceGetShape() throws IOException {
        service.putEnrollment("sensor-0042",
                EnrollmentJsonTest.parse(EnrollmentJsonTest.CREATE_REQUEST, IndividualEnrollment.class), null);
        DeviceRegistrationState state = new DeviceRegistrationState("sensor-0042", T0, HUB_B, "sensor-0042",
                RegistrationStatus.ASSIGNED, Substatus.INITIAL_ASSIGNMENT, null, null, T0,
                Etags.newRegistrationEtag(), GroupReference.INDIVIDUAL, null);
        registrations.saveAttempt(state, new RegistrationOperation("1.0.x", "sensor-0042",
                EnrollmentRef.individual("sensor-0042"), T0,
                new RegistrationOperationStatus("1.0.x", RegistrationStatus.ASSIGNED, state)));
        JsonNode expected = tree(EnrollmentJsonTest.GET_RESPONSE);

        JsonNode actual = tree(Json.toText(service.getEnrollment("sensor-0042").orElseThrow()));

        assertThat(names(actual)).containsExactlyInAnyOrderElementsOf(names(expected));
        assertThat(names(actual.get("registrationState")))
                .containsExactlyInAnyOrderElementsOf(names(expected.get("registrationState")));
        assertThat(actual.get("attestation")).isEqualTo(expected.get("attestation"));
        assertThat(actual.get("initialTwin")).isEqualTo(expected.get("initialTwin"));
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.properties().forEach(e -> names.add(e.getKey()));
        return names;
    }
}
