package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.RegistrationStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The enrollment and group bodies of {@code dps-service-api.md} §3.2 and §5. */
class EnrollmentJsonTest {

    static final String CREATE_REQUEST = """
            {
              "registrationId": "sensor-0042",
              "attestation": { "type": "symmetricKey", "symmetricKey": { "primaryKey": "", "secondaryKey": "" } },
              "capabilities": { "iotEdge": false },
              "provisioningStatus": "enabled",
              "reprovisionPolicy": { "updateHubAssignment": true, "migrateDeviceData": true },
              "allocationPolicy": "hashed",
              "iotHubs": [ "hub-a.azure-devices.net", "hub-b.azure-devices.net" ],
              "initialTwin": {
                "tags": { "site": "plant-7" },
                "properties": { "desired": { "telemetryIntervalSec": 30 } }
              },
              "optionalDeviceInformation": { "model": "TX-200" }
            }""";

    static final String CREATE_RESPONSE = """
            {
              "registrationId": "sensor-0042",
              "attestation": {
                "type": "symmetricKey",
                "symmetricKey": {
                  "primaryKey":   "<64 random bytes, base64 = 88 chars ending '=='>",
                  "secondaryKey": "<64 random bytes, base64 = 88 chars ending '=='>"
                }
              },
              "capabilities": { "iotEdge": false },
              "etag": "\\"0c00a1b2-0000-0700-0000-65f1c2d30000\\"",
              "provisioningStatus": "enabled",
              "reprovisionPolicy": { "updateHubAssignment": true, "migrateDeviceData": true },
              "createdDateTimeUtc": "2024-03-13T15:22:27.5912345Z",
              "lastUpdatedDateTimeUtc": "2024-03-13T15:22:27.5912345Z",
              "allocationPolicy": "hashed",
              "iotHubs": [ "hub-a.azure-devices.net", "hub-b.azure-devices.net" ],
              "initialTwin": { "tags": { "site": "plant-7" }, "properties": { "desired": { "telemetryIntervalSec": 30 } } },
              "optionalDeviceInformation": { "model": "TX-200" }
            }""";

    static final String GET_RESPONSE = """
            {
              "registrationId": "sensor-0042",
              "attestation": { "type": "symmetricKey" },
              "capabilities": { "iotEdge": false },
              "etag": "\\"0c00a1b2-0000-0700-0000-65f1c2d30000\\"",
              "provisioningStatus": "enabled",
              "reprovisionPolicy": { "updateHubAssignment": true, "migrateDeviceData": true },
              "createdDateTimeUtc": "2024-03-13T15:22:27.5912345Z",
              "lastUpdatedDateTimeUtc": "2024-03-13T15:22:27.5912345Z",
              "allocationPolicy": "hashed",
              "iotHubs": [ "hub-a.azure-devices.net", "hub-b.azure-devices.net" ],
              "initialTwin": { "tags": { "site": "plant-7" }, "properties": { "desired": { "telemetryIntervalSec": 30 } } },
              "optionalDeviceInformation": { "model": "TX-200" },
              "registrationState": {
                "registrationId": "sensor-0042",
                "createdDateTimeUtc": "2024-03-13T15:30:02.1234567Z",
                "assignedHub": "hub-b.azure-devices.net",
                "deviceId": "sensor-0042",
                "status": "assigned",
                "substatus": "initialAssignment",
                "lastUpdatedDateTimeUtc": "2024-03-13T15:30:02.4567890Z",
                "etag": "IjFhMDBmZmZmLTAwMDAtMDcwMC0wMDAwLTY1ZjFjNGJhMDAwMCI="
              }
            }""";

    private static final String GROUP_X509_SIGNING = """
            { "enrollmentGroupId": "line-3-sensors",
              "attestation": { "type": "x509", "x509": { "signingCertificates": { "primary": { "certificate": "-----BEGIN CERTIFICATE-----\\nMIIB…\\n-----END CERTIFICATE-----\\n" } } } },
              "provisioningStatus": "enabled" }""";

    private static final String GROUP_X509_CA = """
            { "enrollmentGroupId": "line-3-sensors-ca",
              "attestation": { "type": "x509", "x509": { "caReferences": { "primary": "contoso-root-2024", "secondary": "contoso-root-2026" } } } }""";

    private static final String GROUP_CUSTOM = """
            { "enrollmentGroupId": "toasters",
              "attestation": { "type": "symmetricKey" },
              "allocationPolicy": "custom",
              "customAllocationDefinition": { "webhookUrl": "https://alloc.example.com/api/allocate?code=…", "apiVersion": "2021-10-01" },
              "reprovisionPolicy": { "updateHubAssignment": true, "migrateDeviceData": true },
              "capabilities": { "iotEdge": false } }""";

    /** §7: the TPM item of the bulk example, its endorsement key cut short with an ellipsis as in the reference. */
    private static final String BULK_TPM_ITEM = """
            { "registrationId": "dev-1", "attestation": { "type": "tpm", "tpm": { "endorsementKey": "AToAAQAL…" } } }""";

    /** Every preview key of an individual enrollment (2021-11-01-preview). */
    private static final String PREVIEW_ENROLLMENT = """
            { "registrationId": "edge-7", "attestation": { "type": "symmetricKey" },
              "clientCertificateIssuancePolicy": { "certificateAuthorityName": "ca-client" },
              "serverCertificateIssuancePolicy": { "certificateAuthorityName": "ca-server" },
              "trustBundleId": "bundle-1", "deviceHostname": "edge-7.contoso.local", "deviceIpAddress": "10.0.0.7" }""";

    /** Every preview key of a group (2021-11-01-preview, credentialPolicyName 2025-07-01-preview). */
    private static final String PREVIEW_GROUP = """
            { "enrollmentGroupId": "line-9", "attestation": { "type": "symmetricKey" },
              "credentialPolicyName": "default",
              "clientCertificateIssuancePolicy": { "certificateAuthorityName": "ca-client" },
              "serverCertificateIssuancePolicy": { "certificateAuthorityName": "ca-server" },
              "trustBundleId": "bundle-1" }""";

    static <T> T parse(String json, Class<T> type) throws IOException {
        return Json.parse(json.getBytes(StandardCharsets.UTF_8), type);
    }

    private static JsonNode tree(String json) throws IOException {
        return Json.mapper().readTree(json);
    }

    @Test
    void reprovisionPolicy_missingOrNullFlag_isRefusedNamingIt() {
        assertThatThrownBy(() -> parse("{\"updateHubAssignment\": false}", ReprovisionPolicy.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("reprovisionPolicy.migrateDeviceData is required");
        assertThatThrownBy(() -> parse("{\"migrateDeviceData\": false, \"updateHubAssignment\": null}",
                ReprovisionPolicy.class)).hasMessageContaining("reprovisionPolicy.updateHubAssignment is required");
        assertThatThrownBy(() -> parse("{}", ReprovisionPolicy.class))
                .hasMessageContaining("reprovisionPolicy.updateHubAssignment is required");
    }

    @Test
    void createRequest_example_parsesEveryField() throws IOException {
        IndividualEnrollment e = parse(CREATE_REQUEST, IndividualEnrollment.class);

        assertThat(e.registrationId()).isEqualTo("sensor-0042");
        assertThat(e.attestation().type()).isEqualTo(AttestationType.SYMMETRIC_KEY);
        assertThat(e.attestation().symmetricKey()).isEqualTo(new SymmetricKeyAttestation("", ""));
        assertThat(e.capabilities()).isEqualTo(DeviceCapabilities.NONE);
        assertThat(e.provisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        assertThat(e.reprovisionPolicy()).isEqualTo(new ReprovisionPolicy(true, true));
        assertThat(e.allocationPolicy()).isEqualTo(AllocationPolicy.HASHED);
        assertThat(e.iotHubs()).containsExactly("hub-a.azure-devices.net", "hub-b.azure-devices.net");
        assertThat(e.initialTwin().at("/properties/desired/telemetryIntervalSec").asInt()).isEqualTo(30);
        assertThat(e.optionalDeviceInformation()).isEqualTo(tree("{\"model\":\"TX-200\"}"));
        assertThat(e.etag()).isNull();
        assertThat(e.createdDateTimeUtc()).isNull();
    }

    @Test
    void createRequest_example_roundTrips() throws IOException {
        IndividualEnrollment e = parse(CREATE_REQUEST, IndividualEnrollment.class);

        assertThat(tree(Json.toText(e))).isEqualTo(tree(CREATE_REQUEST));
    }

    @Test
    void createResponse_example_roundTripsWithQuotedEtagAndAzureTimestamps() throws IOException {
        IndividualEnrollment e = parse(CREATE_RESPONSE, IndividualEnrollment.class);
        String json = Json.toText(e);

        assertThat(e.etag()).isEqualTo("\"0c00a1b2-0000-0700-0000-65f1c2d30000\"");
        assertThat(e.createdDateTimeUtc()).isEqualTo(Instant.parse("2024-03-13T15:22:27.5912345Z"));
        assertThat(tree(json)).isEqualTo(tree(CREATE_RESPONSE));
        assertThat(json).startsWith("{\"registrationId\":\"sensor-0042\",")
                .contains("\"etag\":\"\\\"0c00a1b2-0000-0700-0000-65f1c2d30000\\\"\"",
                        "\"createdDateTimeUtc\":\"2024-03-13T15:22:27.5912345Z\"");
    }

    @Test
    void getResponse_example_roundTripsWithRegistrationStateAndNoKeys() throws IOException {
        IndividualEnrollment e = parse(GET_RESPONSE, IndividualEnrollment.class);
        String json = Json.toText(e);

        assertThat(e.attestation().symmetricKey()).isNull();
        assertThat(e.registrationState().status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(e.registrationState().assignedHub()).isEqualTo("hub-b.azure-devices.net");
        assertThat(tree(json)).isEqualTo(tree(GET_RESPONSE));
        assertThat(tree(json).get("attestation")).isEqualTo(tree("{\"type\":\"symmetricKey\"}"));
    }

    @Test
    void redacted_createResponse_equalsGetShapeWithoutKeys() throws IOException {
        IndividualEnrollment e = parse(CREATE_RESPONSE, IndividualEnrollment.class).redacted();

        assertThat(Json.toText(e)).doesNotContain("primaryKey", "secondaryKey", "symmetricKey\":{");
        ObjectNode expected = (ObjectNode) tree(GET_RESPONSE);
        expected.remove("registrationState");
        assertThat(tree(Json.toText(e))).isEqualTo(expected);
    }

    @Test
    void reprovisionPolicy_absent_staysAbsent() throws IOException {
        String body = CREATE_REQUEST.replace(
                "\"reprovisionPolicy\": { \"updateHubAssignment\": true, \"migrateDeviceData\": true },", "");

        IndividualEnrollment e = parse(body, IndividualEnrollment.class);

        assertThat(e.reprovisionPolicy()).isNull();
        assertThat(Json.toText(e)).doesNotContain("reprovisionPolicy");
        assertThat(Json.toText(IndividualEnrollment.symmetricKey("d", null, null))).doesNotContain("reprovision");
    }

    @Test
    void reprovisionPolicy_neverReprovision_isKeptAsFalseFalse() throws IOException {
        IndividualEnrollment e = parse(CREATE_REQUEST.replace("\"updateHubAssignment\": true, \"migrateDeviceData\": true",
                "\"updateHubAssignment\": false, \"migrateDeviceData\": false"), IndividualEnrollment.class);

        assertThat(e.reprovisionPolicy()).isEqualTo(new ReprovisionPolicy(false, false));
        assertThat(Json.toText(e)).contains("\"reprovisionPolicy\":{\"updateHubAssignment\":false,"
                + "\"migrateDeviceData\":false}");
    }

    @Test
    void enrollment_explicitNulls_areOmittedOnOutput() throws IOException {
        String body = """
                {"registrationId":"d1","deviceId":null,"attestation":{"type":"symmetricKey","symmetricKey":null,
                 "x509":null,"tpm":null},"iotHubHostName":null,"initialTwin":null,"reprovisionPolicy":null,
                 "iotHubs":null,"customAllocationDefinition":null,"optionalDeviceInformation":null,"etag":null}""";

        IndividualEnrollment e = parse(body, IndividualEnrollment.class);

        assertThat(Json.toText(e)).isEqualTo("{\"registrationId\":\"d1\",\"attestation\":{\"type\":\"symmetricKey\"}}");
    }

    @Test
    void enrollment_unknownKeys_areIgnored() throws IOException {
        String body = CREATE_REQUEST.replace("\"registrationId\": \"sensor-0042\",",
                "\"registrationId\": \"sensor-0042\", \"futureField\": {\"x\": [1]}, \"$schema\": \"v9\",");

        assertThat(parse(body, IndividualEnrollment.class)).isEqualTo(parse(CREATE_REQUEST, IndividualEnrollment.class));
    }

    @Test
    void enrollment_duplicateKey_isRejected() {
        String body = CREATE_REQUEST.replace("\"provisioningStatus\": \"enabled\",",
                "\"provisioningStatus\": \"enabled\", \"provisioningStatus\": \"disabled\",");

        assertThatThrownBy(() -> parse(body, IndividualEnrollment.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("Duplicate field 'provisioningStatus'");
    }

    @Test
    void group_x509SigningCertificates_roundTripsVerbatim() throws IOException {
        EnrollmentGroup g = parse(GROUP_X509_SIGNING, EnrollmentGroup.class);

        assertThat(g.attestation().type()).isEqualTo(AttestationType.X509);
        assertThat(g.attestation().x509().signingCertificates().primary().certificate())
                .startsWith("-----BEGIN CERTIFICATE-----\nMIIB…");
        assertThat(tree(Json.toText(g))).isEqualTo(tree(GROUP_X509_SIGNING));
    }

    @Test
    void group_x509CaReferences_roundTripsVerbatim() throws IOException {
        EnrollmentGroup g = parse(GROUP_X509_CA, EnrollmentGroup.class);

        assertThat(g.attestation().x509().caReferences().secondary()).isEqualTo("contoso-root-2026");
        assertThat(tree(Json.toText(g))).isEqualTo(tree(GROUP_X509_CA));
    }

    @Test
    void group_symmetricKeyWithCustomAllocation_roundTrips() throws IOException {
        EnrollmentGroup g = parse(GROUP_CUSTOM, EnrollmentGroup.class);
        String json = Json.toText(g);

        assertThat(g.attestation()).isEqualTo(new AttestationMechanism(AttestationType.SYMMETRIC_KEY, null, null,
                null));
        assertThat(g.allocationPolicy()).isEqualTo(AllocationPolicy.CUSTOM);
        assertThat(g.customAllocationDefinition()).isEqualTo(new CustomAllocationDefinition(
                "https://alloc.example.com/api/allocate?code=…", "2021-10-01"));
        assertThat(tree(json)).isEqualTo(tree(GROUP_CUSTOM));
        assertThat(json).startsWith("{\"enrollmentGroupId\":\"toasters\",");
    }

    @Test
    void group_nonAsciiWebhookUrl_isEscapedByAsciiWriter() throws IOException {
        byte[] bytes = Json.toAsciiBytes(parse(GROUP_CUSTOM, EnrollmentGroup.class));

        assertThat(new String(bytes, StandardCharsets.US_ASCII)).contains("code=\\u2026");
        assertThat(Json.parse(bytes, EnrollmentGroup.class)).isEqualTo(parse(GROUP_CUSTOM, EnrollmentGroup.class));
    }

    @Test
    void symmetricKeyFactory_minimalGroup_isEnabledWithoutServerFields() {
        EnrollmentGroup g = EnrollmentGroup.symmetricKey("grp-1", null, null);

        assertThat(g.enabled()).isTrue();
        assertThat(Json.toText(g)).isEqualTo("{\"enrollmentGroupId\":\"grp-1\",\"attestation\":{\"type\":"
                + "\"symmetricKey\",\"symmetricKey\":{}},\"provisioningStatus\":\"enabled\"}");
        assertThat(g.iotHubs()).isNull();
        assertThat(new EnrollmentGroup("g", null, null, null, null, null, null, null, null, null, null,
                List.of("h"), null).iotHubs()).containsExactly("h");
    }

    @Test
    void tpmItem_bulkExample_roundTripsAndKeepsTheTpmObjectWhenRedacted() throws IOException {
        IndividualEnrollment e = parse(BULK_TPM_ITEM, IndividualEnrollment.class);

        assertThat(e.attestation()).isEqualTo(AttestationMechanism.tpm("AToAAQAL…", null));
        assertThat(tree(Json.toText(e))).isEqualTo(tree(BULK_TPM_ITEM));
        assertThat(tree(Json.toText(e.redacted()))).as("the EK is public: GET and query keep it")
                .isEqualTo(tree(BULK_TPM_ITEM));
        assertThat(e.attestation().withoutCertificates()).isEqualTo(e.attestation());
    }

    @Test
    void tpm_withStorageRootKey_writesEndorsementKeyFirst() throws IOException {
        String json = "{\"type\":\"tpm\",\"tpm\":{\"storageRootKey\":\"AAQAIwAL\",\"endorsementKey\":\"AAQAAQAL\"}}";

        AttestationMechanism a = parse(json, AttestationMechanism.class);

        assertThat(a.tpm()).isEqualTo(new TpmAttestation("AAQAAQAL", "AAQAIwAL"));
        assertThat(Json.toText(a)).isEqualTo("{\"type\":\"tpm\",\"tpm\":{\"endorsementKey\":\"AAQAAQAL\","
                + "\"storageRootKey\":\"AAQAIwAL\"}}");
    }

    @Test
    void previewFields_individual_areReadAndWrittenVerbatim() throws IOException {
        IndividualEnrollment e = parse(PREVIEW_ENROLLMENT, IndividualEnrollment.class);

        assertThat(e.clientCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-client"));
        assertThat(e.serverCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-server"));
        assertThat(e.trustBundleId()).isEqualTo("bundle-1");
        assertThat(e.deviceHostname()).isEqualTo("edge-7.contoso.local");
        assertThat(e.deviceIpAddress()).isEqualTo("10.0.0.7");
        assertThat(tree(Json.toText(e))).isEqualTo(tree(PREVIEW_ENROLLMENT));
        assertThat(tree(Json.toText(e.redacted()))).isEqualTo(tree(PREVIEW_ENROLLMENT));
    }

    @Test
    void previewFields_group_areReadAndWrittenVerbatim() throws IOException {
        EnrollmentGroup g = parse(PREVIEW_GROUP, EnrollmentGroup.class);

        assertThat(g.credentialPolicyName()).isEqualTo("default");
        assertThat(g.clientCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-client"));
        assertThat(g.serverCertificateIssuancePolicy()).isEqualTo(new CertificateIssuancePolicy("ca-server"));
        assertThat(g.trustBundleId()).isEqualTo("bundle-1");
        assertThat(tree(Json.toText(g))).isEqualTo(tree(PREVIEW_GROUP));
    }

    @Test
    void previewFields_unknownKeyInsideIssuancePolicy_isIgnored() throws IOException {
        IndividualEnrollment e = parse("{\"clientCertificateIssuancePolicy\":{\"certificateAuthorityName\":\"ca\","
                + "\"validityDays\":30}}", IndividualEnrollment.class);

        assertThat(Json.toText(e)).isEqualTo("{\"clientCertificateIssuancePolicy\":{\"certificateAuthorityName\":"
                + "\"ca\"}}");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"hashed,hashed", "HASHED,hashed", "geoLatency,geoLatency", "GeoLatency,geoLatency",
        "geolatency,geoLatency", "Static,static", "CUSTOM,custom"})
    void allocationPolicy_anyCase_isWrittenInAzureCasing(String input, String output) throws IOException {
        IndividualEnrollment e = parse("{\"allocationPolicy\":\"" + input + "\"}", IndividualEnrollment.class);

        assertThat(Json.toText(e)).isEqualTo("{\"allocationPolicy\":\"" + output + "\"}");
        assertThat(e.allocationPolicy().wire()).isEqualTo(output);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"enabled", "Enabled", "ENABLED", "disabled", "Disabled"})
    void provisioningStatus_anyCase_isWrittenLowerCase(String input) throws IOException {
        IndividualEnrollment e = parse("{\"provisioningStatus\":\"" + input + "\"}", IndividualEnrollment.class);

        assertThat(Json.toText(e)).isEqualTo("{\"provisioningStatus\":\"" + input.toLowerCase(Locale.ROOT) + "\"}");
    }

    @Test
    void enumValues_unknown_areRefusedNamingTheAcceptedValues() {
        assertThatThrownBy(() -> parse("{\"allocationPolicy\":\"roundRobin\"}", IndividualEnrollment.class))
                .hasMessageContaining("unknown allocationPolicy 'roundRobin'")
                .hasMessageContaining("[hashed, geoLatency, static, custom]");
        assertThatThrownBy(() -> parse("{\"provisioningStatus\":\"sleeping\"}", EnrollmentGroup.class))
                .hasMessageContaining("unknown provisioningStatus 'sleeping': use enabled or disabled");
    }

    @Test
    void customAllocationDefinition_maskedWebhookUrl_hidesQueryAndUserInfo() {
        assertThat(new CustomAllocationDefinition("https://alloc.example.com/api/allocate?code=s3cret", "2021-10-01")
                .maskedWebhookUrl()).isEqualTo("https://alloc.example.com/api/allocate?****");
        assertThat(new CustomAllocationDefinition("http://user:pw@10.0.0.5:7071/alloc", null).maskedWebhookUrl())
                .isEqualTo("http://10.0.0.5:7071/alloc");
        assertThat(new CustomAllocationDefinition("not a url", null).maskedWebhookUrl()).isEqualTo("?");
        assertThat(new CustomAllocationDefinition(null, null).maskedWebhookUrl()).isEqualTo("?");
    }

    @Test
    void compatibilityConstructors_leaveThePreviewFieldsAbsent() {
        IndividualEnrollment e = IndividualEnrollment.symmetricKey("d", null, null);
        EnrollmentGroup g = EnrollmentGroup.symmetricKey("g", null, null);

        assertThat(e.trustBundleId()).isNull();
        assertThat(e.clientCertificateIssuancePolicy()).isNull();
        assertThat(g.credentialPolicyName()).isNull();
        assertThat(Json.toText(e)).doesNotContain("trustBundleId", "IssuancePolicy", "deviceHostname");
    }
}
