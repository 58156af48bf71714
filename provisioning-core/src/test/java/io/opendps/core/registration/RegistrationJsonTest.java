package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The response bodies of {@code dps-device-protocol.md} §3, parsed into our records and written back. */
class RegistrationJsonTest {

    private static final String OPERATION_ID = "5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";

    private static final String REGISTER_202 = """
            {"operationId":"5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9","status":"assigning"}""";

    private static final String POLL_202 = """
            {"operationId":"5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
             "status":"assigning",
             "registrationState":{"registrationId":"my-device-01","status":"assigning"}}""";

    private static final String ASSIGNED_200 = """
            {"operationId":"5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
             "status":"assigned",
             "registrationState":{
               "registrationId":"my-device-01",
               "createdDateTimeUtc":"2024-05-01T10:00:00.1234567Z",
               "assignedHub":"hub-a.azure-devices.net",
               "deviceId":"my-device-01",
               "status":"assigned",
               "substatus":"initialAssignment",
               "lastUpdatedDateTimeUtc":"2024-05-01T10:00:00.4567890Z",
               "etag":"IjQ0MDAxMjM0LTAwMDAtMDEwMC0wMDAwLTY2MzFmMmEwMDAwMCI=",
               "symmetricKey":{},
               "payload":{"fwChannel":"beta"}}}""";

    private static final String FAILED_200 = """
            {"operationId":"5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
             "status":"failed",
             "registrationState":{
               "registrationId":"my-device-01",
               "createdDateTimeUtc":"2024-05-01T10:00:00.1234567Z",
               "status":"failed",
               "errorCode":400207,
               "errorMessage":"Custom allocation failed with status code: 400",
               "lastUpdatedDateTimeUtc":"2024-05-01T10:00:01.0000000Z",
               "etag":"IjQ0MDAxMjM0LTAwMDAtMDEwMC0wMDAwLTY2MzFmMmEwMDAwMCI="}}""";

    /** {@code dps-service-api.md} §8: the service view of a record, with explicit nulls. */
    private static final String SERVICE_RECORD = """
            { "registrationId": "sensor-0042",
              "createdDateTimeUtc": "2024-03-13T15:30:02.1234567Z",
              "assignedHub": "hub-b.azure-devices.net",
              "deviceId": "sensor-0042",
              "status": "assigned",
              "substatus": "initialAssignment",
              "errorCode": null,
              "errorMessage": null,
              "lastUpdatedDateTimeUtc": "2024-03-13T15:30:02.4567890Z",
              "etag": "IjFhMDBmZmZmLTAwMDAtMDcwMC0wMDAwLTY1ZjFjNGJhMDAwMCI=",
              "payload": { "fwChannel": "beta" } }""";

    private static <T> T parse(String json, Class<T> type) throws IOException {
        return Json.parse(json.getBytes(StandardCharsets.UTF_8), type);
    }

    private static JsonNode tree(String json) throws IOException {
        return Json.mapper().readTree(json);
    }

    @Test
    void registerReply_azureExample_roundTripsExactly() throws IOException {
        RegistrationOperationStatus status = parse(REGISTER_202, RegistrationOperationStatus.class);

        assertThat(status).isEqualTo(RegistrationOperationStatus.accepted(OPERATION_ID));
        assertThat(Json.toText(status)).isEqualTo(REGISTER_202);
    }

    @Test
    void pollReply_assigning_roundTripsWithRegistrationId() throws IOException {
        RegistrationOperationStatus status = parse(POLL_202, RegistrationOperationStatus.class);

        assertThat(status.registrationState()).isEqualTo(DeviceRegistrationState.assigning("my-device-01"));
        assertThat(tree(Json.toText(status))).isEqualTo(tree(POLL_202));
    }

    @Test
    void assignedReply_example_parsesEveryField() throws IOException {
        DeviceRegistrationState state = parse(ASSIGNED_200, RegistrationOperationStatus.class).registrationState();

        assertThat(state).isNotNull();
        assertThat(state.registrationId()).isEqualTo("my-device-01");
        assertThat(state.createdDateTimeUtc()).isEqualTo(Instant.parse("2024-05-01T10:00:00.1234567Z"));
        assertThat(state.assignedHub()).isEqualTo("hub-a.azure-devices.net");
        assertThat(state.deviceId()).isEqualTo("my-device-01");
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(state.symmetricKey()).isEqualTo(GroupReference.INDIVIDUAL);
        assertThat(state.enrollmentGroupId()).isNull();
        assertThat(state.payload()).isEqualTo(tree("{\"fwChannel\":\"beta\"}"));
    }

    @Test
    void assignedReply_example_roundTripsWithOperationIdAndStatusFirst() throws IOException {
        String json = Json.toText(parse(ASSIGNED_200, RegistrationOperationStatus.class));

        assertThat(tree(json)).isEqualTo(tree(ASSIGNED_200));
        assertThat(json).startsWith("{\"operationId\":\"" + OPERATION_ID + "\",\"status\":\"assigned\","
                + "\"registrationState\":{\"registrationId\":\"my-device-01\",");
        assertThat(json).contains("\"symmetricKey\":{}", "\"lastUpdatedDateTimeUtc\":\"2024-05-01T10:00:00.4567890Z\"");
    }

    @Test
    void assignedReply_groupMember_namesTheGroup() throws IOException {
        String json = ASSIGNED_200.replace("\"symmetricKey\":{}", "\"symmetricKey\":{\"enrollmentGroupId\":\"grp-1\"}");

        RegistrationOperationStatus status = parse(json, RegistrationOperationStatus.class);

        assertThat(status.registrationState().enrollmentGroupId()).isEqualTo("grp-1");
        assertThat(Json.toText(status)).contains("\"symmetricKey\":{\"enrollmentGroupId\":\"grp-1\"}");
    }

    @Test
    void failedReply_example_roundTripsWithNumericErrorCode() throws IOException {
        RegistrationOperationStatus status = parse(FAILED_200, RegistrationOperationStatus.class);
        String json = Json.toText(status);

        assertThat(status.registrationState().errorCode()).isEqualTo(400207);
        assertThat(tree(json)).isEqualTo(tree(FAILED_200));
        assertThat(tree(json).at("/registrationState/errorCode").isInt()).isTrue();
        assertThat(json).startsWith("{\"operationId\":\"" + OPERATION_ID + "\",\"status\":\"failed\",");
        assertThat(json).doesNotContain("assignedHub", "deviceId", "payload", "substatus");
    }

    @Test
    void disabledReply_sameShapeAsFailed_roundTrips() throws IOException {
        String disabled = FAILED_200.replace("\"failed\"", "\"disabled\"")
                .replace("400207", "401002").replace("Custom allocation failed with status code: 400",
                        "Enrollment is disabled");

        RegistrationOperationStatus status = parse(disabled, RegistrationOperationStatus.class);

        assertThat(status.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(status.registrationState().status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(tree(Json.toText(status))).isEqualTo(tree(disabled));
    }

    @Test
    void serviceRecord_explicitNulls_areOmittedOnOutput() throws IOException {
        DeviceRegistrationState state = parse(SERVICE_RECORD, DeviceRegistrationState.class);
        String json = Json.toText(state);

        assertThat(state.errorCode()).isNull();
        assertThat(json).doesNotContain("errorCode", "errorMessage", "null");
        assertThat(tree(json).get("payload")).isEqualTo(tree("{\"fwChannel\":\"beta\"}"));
        assertThat(tree(json).get("etag").asText()).isEqualTo("IjFhMDBmZmZmLTAwMDAtMDcwMC0wMDAwLTY1ZjFjNGJhMDAwMCI=");
    }

    @Test
    void serviceRecord_example_roundTripsEveryKeyThatHasAValue() throws IOException {
        DeviceRegistrationState state = parse(SERVICE_RECORD, DeviceRegistrationState.class);
        ObjectNode expected = (ObjectNode) tree(SERVICE_RECORD);
        expected.remove(List.of("errorCode", "errorMessage"));

        assertThat(tree(Json.toText(state))).isEqualTo(expected);
        assertThat(tree(Json.toText(state.serviceView()))).isEqualTo(expected);
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
    }

    @Test
    void deviceRegistration_payloadOfAnyJsonType_isAccepted() throws IOException {
        assertThat(parse("{\"registrationId\":\"d\",\"payload\":{\"a\":1}}", DeviceRegistration.class).payload())
                .isEqualTo(tree("{\"a\":1}"));
        assertThat(parse("{\"registrationId\":\"d\",\"payload\":\"{\\\"a\\\":1}\"}", DeviceRegistration.class)
                .payload().isTextual()).isTrue();
        assertThat(parse("{\"registrationId\":\"d\",\"payload\":null}", DeviceRegistration.class).registrationId())
                .isEqualTo("d");
    }

    @Test
    void toAsciiBytes_assignedReplyWithNonAsciiPayload_isAsciiAndRoundTrips() throws IOException {
        String json = ASSIGNED_200.replace("{\"fwChannel\":\"beta\"}", "{\"Gerät\":\"Zürich 😀\"}");
        RegistrationOperationStatus status = parse(json, RegistrationOperationStatus.class);

        byte[] bytes = Json.toAsciiBytes(status);

        for (byte b : bytes) {
            assertThat(b & 0xFF).isLessThan(0x80);
        }
        assertThat(Json.parse(bytes, RegistrationOperationStatus.class)).isEqualTo(status);
    }

    @Test
    void registrationStatus_unassignedAndAssigning_areNotTerminal() {
        assertThat(RegistrationStatus.UNASSIGNED.terminal()).isFalse();
        assertThat(RegistrationStatus.ASSIGNING.terminal()).isFalse();
        assertThat(RegistrationStatus.ASSIGNED.terminal()).isTrue();
        assertThat(RegistrationStatus.FAILED.terminal()).isTrue();
        assertThat(RegistrationStatus.DISABLED.terminal()).isTrue();
    }
}
