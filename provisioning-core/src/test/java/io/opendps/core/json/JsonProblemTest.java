package io.opendps.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The client-facing messages of JSON read failures: the field's path and what is wrong, no Java internals. */
class JsonProblemTest {

    private static String problem(String json, Class<?> type) {
        IOException e = catchThrowableOfType(IOException.class,
                () -> Json.parse(json.getBytes(StandardCharsets.UTF_8), type));
        assertThat(e).as("%s should not parse as %s", json, type.getSimpleName()).isNotNull();
        return JsonProblem.describe(e);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"attestation\":\"tpm\"}|at 'attestation': expected a JSON object, got a string 'tpm'",
        "{\"attestation\":{\"type\":\"tpm\",\"tpm\":\"abc\"}}|at 'attestation.tpm': expected a JSON object, got a "
            + "string 'abc'",
        "{\"attestation\":[]}|at 'attestation': expected a JSON object, got a JSON array",
        "{\"capabilities\":\"x\"}|at 'capabilities': expected a JSON object, got a string 'x'",
        "{\"customAllocationDefinition\":7}|at 'customAllocationDefinition': expected a JSON object, got a number",
        "{\"clientCertificateIssuancePolicy\":\"ca\"}|at 'clientCertificateIssuancePolicy': expected a JSON object, "
            + "got a string 'ca'",
        "{\"iotHubs\":\"hub\"}|at 'iotHubs': expected a JSON array, got a string 'hub'",
        "{\"iotHubs\":[\"a\",{}]}|at 'iotHubs[1]': expected a string, got a JSON object",
        "{\"deviceId\":{}}|at 'deviceId': expected a string, got a JSON object",
        "{\"trustBundleId\":[1]}|at 'trustBundleId': expected a string, got a JSON array",
        "{\"provisioningStatus\":\"sleeping\"}|at 'provisioningStatus': unknown provisioningStatus 'sleeping': use "
            + "enabled or disabled",
        "{\"allocationPolicy\":\"roundRobin\"}|at 'allocationPolicy': unknown allocationPolicy 'roundRobin': use one "
            + "of [hashed, geoLatency, static, custom]",
        "{\"reprovisionPolicy\":{\"updateHubAssignment\":true}}|at 'reprovisionPolicy': reprovisionPolicy."
            + "migrateDeviceData is required (true or false)",
        "{\"reprovisionPolicy\":{\"updateHubAssignment\":\"soon\",\"migrateDeviceData\":true}}|at 'reprovisionPolicy."
            + "updateHubAssignment': Cannot deserialize value of type `Boolean` from String \"soon\"",
        "{\"capabilities\":{\"iotEdge\":\"maybe\"}}|at 'capabilities.iotEdge': Cannot deserialize value of type "
            + "`boolean` from String \"maybe\"",
        "{\"attestation\":{\"type\":\"quantum\"}}|at 'attestation.type': Cannot deserialize value of type "
            + "`AttestationType` from String \"quantum\": not one of the values accepted for Enum class: [none, tpm, "
            + "x509, symmetricKey]",
        "{\"createdDateTimeUtc\":\"yesterday\"}|at 'createdDateTimeUtc': Cannot deserialize value of type `Instant` "
            + "from String \"yesterday\": not an ISO-8601 date-time"})
    void describe_mappingFailure_namesThePathAndTheProblem(String json, String expected) {
        String message = problem(json, IndividualEnrollment.class);

        assertThat(message).startsWith(expected).doesNotContain("io.opendps", "java.lang", "through reference chain",
                "line:", "column:");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"credentialPolicyName\":{}}|at 'credentialPolicyName': expected a string, got a JSON object",
        "{\"provisioningStatus\":true}|at 'provisioningStatus': "})
    void describe_groupFailure_namesThePath(String json, String expected) {
        assertThat(problem(json, EnrollmentGroup.class)).startsWith(expected).doesNotContain("io.opendps");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"registrationId\": |Unexpected end-of-input",
        "{\"a\":1} {}|Trailing token",
        "{\"a\":1,\"a\":2}|Duplicate field 'a'"})
    void describe_syntaxFailure_hasNoPathButTheParserReason(String json, String expected) {
        String message = problem(json, IndividualEnrollment.class);

        assertThat(message).contains(expected).doesNotStartWith("at '").doesNotContain("\n");
    }
}
