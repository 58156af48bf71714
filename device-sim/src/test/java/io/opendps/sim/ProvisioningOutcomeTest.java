package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.json.Json;
import io.opendps.core.registration.RegistrationOperationStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProvisioningOutcomeTest {

    private static final ProvisioningOutcome.Timings TIMINGS =
            new ProvisioningOutcome.Timings(Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(30),
                    Duration.ofMillis(60));

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void describe_assigned_namesTheStatus() throws IOException {
        assertThat(terminal(ResponseReactionTest.ASSIGNED).describe()).isEqualTo("Registration status: assigned");
    }

    @Test
    void describe_failedRecord_namesStatusErrorCodeAndMessage() throws IOException {
        assertThat(terminal(ResponseReactionTest.FAILED).describe())
                .isEqualTo("Registration failed: error 400207: Custom allocation failed with status code: 400");
    }

    @Test
    void describe_disabledRecord_namesDisabled() throws IOException {
        String body = "{\"operationId\":\"op\",\"status\":\"disabled\",\"registrationState\":{\"registrationId\":"
                + "\"dev-1\",\"status\":\"disabled\",\"errorCode\":401002,\"errorMessage\":\"Enrollment is disabled\"}}";

        assertThat(terminal(body).describe()).isEqualTo("Registration disabled: error 401002: Enrollment is disabled");
    }

    @Test
    void describe_errorResponse_namesStatusErrorCodeAndMessage() {
        assertThat(errorResponse().describe()).isEqualTo("Registration failed: status 401, error 401002: Unauthorized");
    }

    @Test
    void describe_transportFailure_isTheReason() {
        ProvisioningOutcome outcome = ProvisioningOutcome.transportFailure("dev-1", "could not connect", TIMINGS);

        assertThat(outcome.describe()).isEqualTo("Registration failed: could not connect");
        assertThat(outcome.status()).isZero();
        assertThat(outcome.assigned()).isFalse();
        assertThat(outcome.registrationStatus()).isNull();
    }

    @Test
    void print_assigned_printsTheQuickstartLinesAndReturnsZero() throws IOException {
        int code = OutcomePrinter.print(terminal(ResponseReactionTest.ASSIGNED), writer(out), writer(err), false);

        assertThat(code).isZero();
        assertThat(out.toString().lines()).containsExactly(
                "Registration status: assigned",
                "IoT Hub: hub-1.opendps.local",
                "Device ID: dev-1",
                "Substatus: initialAssignment",
                "Payload: {\"fwChannel\":\"beta\"}");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void print_errorResponse_printsTheErrorLineAndReturnsOne() {
        int code = OutcomePrinter.print(errorResponse(), writer(out), writer(err), false);

        assertThat(code).isEqualTo(1);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString().lines()).containsExactly(
                "Registration failed: status 401, error 401002: Unauthorized");
    }

    @Test
    void print_json_printsTheBodyAsReceived() throws IOException {
        assertThat(OutcomePrinter.print(terminal(ResponseReactionTest.ASSIGNED), writer(out), writer(err), true))
                .isZero();
        assertThat(OutcomePrinter.print(errorResponse(), writer(out), writer(err), true)).isEqualTo(1);

        assertThat(out.toString()).isEqualTo(ResponseReactionTest.ASSIGNED + System.lineSeparator()
                + ResponseReactionTest.UNAUTHORIZED + System.lineSeparator());
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void print_jsonWithoutAnswer_printsTheReasonToErr() {
        int code = OutcomePrinter.print(ProvisioningOutcome.transportFailure("dev-1", "timed out", TIMINGS),
                writer(out), writer(err), true);

        assertThat(code).isEqualTo(1);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("Registration failed: timed out");
    }

    private static ProvisioningOutcome terminal(String body) throws IOException {
        RegistrationOperationStatus operation = Json.parse(body.getBytes(StandardCharsets.UTF_8),
                RegistrationOperationStatus.class);
        return ProvisioningOutcome.terminal("dev-1", 200, operation, body, TIMINGS);
    }

    private static ProvisioningOutcome errorResponse() {
        return ((ResponseReaction.Finish) ResponseReaction.of(
                DpsMqtt.parseResponseTopic("$dps/registrations/res/401/?$rid=1").orElseThrow(),
                ResponseReactionTest.UNAUTHORIZED.getBytes(StandardCharsets.UTF_8))).toOutcome("dev-1", TIMINGS);
    }

    private static PrintWriter writer(StringWriter target) {
        return new PrintWriter(target, true);
    }
}
