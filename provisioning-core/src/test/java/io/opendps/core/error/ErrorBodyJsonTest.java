package io.opendps.core.error;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The error bodies of {@code dps-device-protocol.md} §3.6 and {@code dps-service-api.md} §12. */
class ErrorBodyJsonTest {

    private static final String DEVICE_ERROR = """
            {"errorCode":401002,
             "trackingId":"2cb8f317-10f5-44f4-a5a6-380a998146e9",
             "message":"Unauthorized",
             "timestampUtc":"2024-05-01T10:00:00.1234567Z"}""";

    private static final String SERVICE_ERROR = """
            { "errorCode": 404201,
              "trackingId": "7c1f0d3e9b2a4c51a0e8d4f6b2c3a1e9",
              "message": "Enrollment not found.",
              "info": { },
              "timestampUtc": "2024-03-13T15:40:11.1234567Z" }""";

    private static ErrorBody parse(String json) throws IOException {
        return Json.parse(json.getBytes(StandardCharsets.UTF_8), ErrorBody.class);
    }

    private static JsonNode tree(String json) throws IOException {
        return Json.mapper().readTree(json);
    }

    @Test
    void deviceError_example_roundTripsExactly() throws IOException {
        ErrorBody body = parse(DEVICE_ERROR);

        assertThat(body).isEqualTo(new ErrorBody(401002, "2cb8f317-10f5-44f4-a5a6-380a998146e9", "Unauthorized",
                Instant.parse("2024-05-01T10:00:00.1234567Z"), null));
        assertThat(Json.toText(body)).isEqualTo(DEVICE_ERROR.replace("\n ", ""));
    }

    @Test
    void serviceError_withEmptyInfo_roundTrips() throws IOException {
        ErrorBody body = parse(SERVICE_ERROR);

        assertThat(body.info()).isEmpty();
        assertThat(tree(Json.toText(body))).isEqualTo(tree(SERVICE_ERROR));
    }

    @Test
    void errorBody_infoNull_isAcceptedAndOmitted() throws IOException {
        ErrorBody body = parse(DEVICE_ERROR.replace("\"message\"", "\"info\":null,\"message\""));

        assertThat(body.info()).isNull();
        assertThat(Json.toText(body)).doesNotContain("info");
    }

    @Test
    void of_code_carriesNumericCodeAndFlatInfo() throws IOException {
        ErrorBody body = ErrorBody.of(ErrorCode.ENROLLMENT_NOT_FOUND, "enrollment 'x' not found", "t-1",
                Instant.parse("2024-03-13T15:40:11.1234567Z"));
        JsonNode json = tree(Json.toText(body));

        assertThat(json.get("errorCode").isInt()).isTrue();
        assertThat(json.get("errorCode").asInt()).isEqualTo(404201);
        assertThat(json.get("timestampUtc").asText()).isEqualTo("2024-03-13T15:40:11.1234567Z");
        assertThat(new ErrorBody(400004, "t", "m", Instant.EPOCH, Map.of("field", "deviceId")).info())
                .containsEntry("field", "deviceId");
    }

    @Test
    void errorCode_values_matchAzureAndHttpClass() {
        for (ErrorCode code : ErrorCode.values()) {
            assertThat(code.code() / 1000).as(code.name()).isEqualTo(code.httpStatus());
        }
        assertThat(ErrorCode.UNAUTHORIZED.code()).isEqualTo(401002);
        assertThat(ErrorCode.HUB_NOT_SPECIFIED.code()).isEqualTo(400208);
        assertThat(ErrorCode.ENROLLMENT_GROUP_NOT_FOUND.headerName()).isEqualTo("EnrollmentGroupNotFound");
        assertThat(ErrorCode.THROTTLED.isRetryable()).isTrue();
        assertThat(ErrorCode.ENROLLMENT_EXISTS.isRetryable()).isFalse();
    }
}
