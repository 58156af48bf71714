package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ResponseReactionTest {

    static final String ASSIGNED = """
            {"operationId":"op-1","status":"assigned","registrationState":{"registrationId":"dev-1",
            "createdDateTimeUtc":"2024-05-01T10:00:00.1234567Z","assignedHub":"hub-1.opendps.local",
            "deviceId":"dev-1","status":"assigned","substatus":"initialAssignment",
            "lastUpdatedDateTimeUtc":"2024-05-01T10:00:00.4567890Z","etag":"IjEi","symmetricKey":{},
            "payload":{"fwChannel":"beta"}}}""";

    static final String FAILED = """
            {"operationId":"op-1","status":"failed","registrationState":{"registrationId":"dev-1",
            "status":"failed","errorCode":400207,"errorMessage":"Custom allocation failed with status code: 400"}}""";

    static final String UNAUTHORIZED = """
            {"errorCode":401002,"trackingId":"2cb8f317","message":"Unauthorized",
            "timestampUtc":"2024-05-01T10:00:00.1234567Z"}""";

    private static ResponseReaction react(String topic, String body) {
        return ResponseReaction.of(DpsMqtt.parseResponseTopic(topic).orElseThrow(),
                body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void of_202AssigningWithRetryAfter_pollsAfterThatDelay() {
        ResponseReaction reaction = react("$dps/registrations/res/202/?$rid=1&retry-after=3",
                "{\"operationId\":\"op-1\",\"status\":\"assigning\"}");

        assertThat(reaction).isEqualTo(new ResponseReaction.Poll("op-1", Duration.ofSeconds(3)));
    }

    @Test
    void of_202WithoutRetryAfter_pollsAfterTwoSeconds() {
        ResponseReaction reaction = react("$dps/registrations/res/202/?$rid=2",
                "{\"operationId\":\"op-1\",\"status\":\"assigning\","
                        + "\"registrationState\":{\"registrationId\":\"dev-1\",\"status\":\"assigning\"}}");

        assertThat(reaction).isEqualTo(new ResponseReaction.Poll("op-1", Duration.ofSeconds(2)));
    }

    @Test
    void of_200Assigned_finishesTerminalWithTheParsedRecord() {
        ResponseReaction.Finish finish = (ResponseReaction.Finish) react("$dps/registrations/res/200/?$rid=2",
                ASSIGNED);
        ProvisioningOutcome outcome = finish.toOutcome("dev-1", timings());

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.status()).isEqualTo(200);
        assertThat(outcome.assigned()).isTrue();
        assertThat(outcome.registrationState().assignedHub()).isEqualTo("hub-1.opendps.local");
        assertThat(outcome.registrationState().deviceId()).isEqualTo("dev-1");
        assertThat(outcome.registrationState().substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(outcome.registrationState().payload().path("fwChannel").asText()).isEqualTo("beta");
        assertThat(outcome.responseBody()).isEqualTo(ASSIGNED);
        assertThat(outcome.errorCode()).isNull();
    }

    @Test
    void of_200Failed_finishesTerminalWithTheRecordsErrorCode() {
        ProvisioningOutcome outcome = ((ResponseReaction.Finish) react("$dps/registrations/res/200/?$rid=2",
                FAILED)).toOutcome("dev-1", timings());

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.registrationStatus()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(outcome.assigned()).isFalse();
        assertThat(outcome.errorCode()).isEqualTo(400207);
    }

    @Test
    void of_401ErrorBody_finishesWithTheParsedError() {
        ProvisioningOutcome outcome = ((ResponseReaction.Finish) react("$dps/registrations/res/401/?$rid=1",
                UNAUTHORIZED)).toOutcome("dev-1", timings());

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.status()).isEqualTo(401);
        assertThat(outcome.error().errorCode()).isEqualTo(401002);
        assertThat(outcome.error().message()).isEqualTo("Unauthorized");
        assertThat(outcome.errorCode()).isEqualTo(401002);
        assertThat(outcome.operation()).isNull();
    }

    @Test
    void of_errorStatusWithUnreadableBody_keepsTheStatusAndRawBody() {
        ProvisioningOutcome outcome = ((ResponseReaction.Finish) react("$dps/registrations/res/500/?$rid=1",
                "oops")).toOutcome("dev-1", timings());

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.error()).isNull();
        assertThat(outcome.responseBody()).isEqualTo("oops");
        assertThat(outcome.describe()).isEqualTo("Registration failed: status 500: oops");
    }

    @Test
    void of_errorStatusWithoutErrorCode_hasNoErrorBody() {
        ResponseReaction.Finish finish = (ResponseReaction.Finish) react("$dps/registrations/res/401/?$rid=1",
                "{\"authenticationKey\":\"abc\",\"keyName\":\"registration\"}");

        assertThat(finish.error()).isNull();
    }

    @Test
    void of_2xxWithInvalidJson_isAProtocolError() {
        ResponseReaction.Finish finish = (ResponseReaction.Finish) react("$dps/registrations/res/200/?$rid=1",
                "{not json");

        assertThat(finish.kind()).isEqualTo(ProvisioningOutcome.Kind.PROTOCOL_ERROR);
        assertThat(finish.failure()).contains("not a RegistrationOperationStatus");
    }

    @Test
    void of_2xxWithoutOperationId_isAProtocolError() {
        ResponseReaction.Finish finish = (ResponseReaction.Finish) react("$dps/registrations/res/202/?$rid=1",
                "{\"status\":\"assigning\"}");

        assertThat(finish.kind()).isEqualTo(ProvisioningOutcome.Kind.PROTOCOL_ERROR);
        assertThat(finish.failure()).isEqualTo("the body has no operationId");
    }

    @Test
    void of_2xxWithoutStatus_isAProtocolError() {
        ResponseReaction.Finish finish = (ResponseReaction.Finish) react("$dps/registrations/res/200/?$rid=1",
                "{\"operationId\":\"op-1\"}");

        assertThat(finish.kind()).isEqualTo(ProvisioningOutcome.Kind.PROTOCOL_ERROR);
        assertThat(finish.failure()).isEqualTo("the body has no status");
    }

    @Test
    void of_2xxWithUnknownStatus_isAProtocolError() {
        ResponseReaction.Finish finish = (ResponseReaction.Finish) react("$dps/registrations/res/200/?$rid=1",
                "{\"operationId\":\"op-1\",\"status\":\"blacklisted\"}");

        assertThat(finish.kind()).isEqualTo(ProvisioningOutcome.Kind.PROTOCOL_ERROR);
    }

    private static ProvisioningOutcome.Timings timings() {
        return new ProvisioningOutcome.Timings(Duration.ofMillis(1), Duration.ofMillis(2), null, Duration.ofMillis(3));
    }
}
