package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DpsMqttTest {

    @Test
    void username_scopeAndId_followsTheDpsGrammarWithEncodedClientVersion() {
        assertThat(DpsMqtt.username("0ne00000001", "my-device-01"))
                .isEqualTo("0ne00000001/registrations/my-device-01/api-version=2019-03-31"
                        + "&ClientVersion=opendps-device-sim%2F0.1");
    }

    @Test
    void registerTopic_rid_putsRidAfterQuestionMark() {
        assertThat(DpsMqtt.registerTopic("1")).isEqualTo("$dps/registrations/PUT/iotdps-register/?$rid=1");
    }

    @Test
    void pollTopic_ridAndOperationId_ridFirstThenOperationId() {
        assertThat(DpsMqtt.pollTopic("2", "5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978"))
                .isEqualTo("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2"
                        + "&operationId=5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978");
    }

    @Test
    void pollTopic_reservedCharactersInOperationId_arePercentEncoded() {
        assertThat(DpsMqtt.pollTopic("3", "a&b=c/d é")).endsWith("&operationId=a%26b%3Dc%2Fd%20%C3%A9");
    }

    @Test
    void parseResponseTopic_withRetryAfter_readsStatusRidAndDelay() {
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/202/?$rid=1&retry-after=3"))
                .contains(new ResponseTopic(202, "1", 3));
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/202/?$rid=1&retry-after=3")
                .orElseThrow().retryAfter()).contains(Duration.ofSeconds(3));
    }

    @Test
    void parseResponseTopic_terminal_hasNoRetryAfter() {
        ResponseTopic topic = DpsMqtt.parseResponseTopic("$dps/registrations/res/200/?$rid=abc-1").orElseThrow();

        assertThat(topic).isEqualTo(new ResponseTopic(200, "abc-1", null));
        assertThat(topic.success()).isTrue();
        assertThat(topic.retryAfter()).isEmpty();
    }

    @Test
    void parseResponseTopic_errorStatus_isNotSuccess() {
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/401/?$rid=1").orElseThrow().success())
                .isFalse();
    }

    @Test
    void parseResponseTopic_unknownParametersAndOrder_areTolerated() {
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/202/?retry-after=2&x=y&$rid=7"))
                .contains(new ResponseTopic(202, "7", 2));
    }

    @Test
    void parseResponseTopic_badRetryAfter_isTreatedAsAbsent() {
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/202/?$rid=1&retry-after=2.5"))
                .contains(new ResponseTopic(202, "1", null));
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/202/?$rid=1&retry-after=0"))
                .contains(new ResponseTopic(202, "1", null));
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/202/?$rid=1&retry-after=-3"))
                .contains(new ResponseTopic(202, "1", null));
    }

    @Test
    void parseResponseTopic_notAResponseTopic_isEmpty() {
        assertThat(DpsMqtt.parseResponseTopic("$iothub/twin/res/200/?$rid=1")).isEmpty();
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/abc/?$rid=1")).isEmpty();
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res//?$rid=1")).isEmpty();
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/200?$rid=1")).isEmpty();
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/200/?retry-after=2")).isEmpty();
        assertThat(DpsMqtt.parseResponseTopic("$dps/registrations/res/200/?$rid=")).isEmpty();
    }

    @Test
    void parseResponseTopic_registerTopicRoundTrip_ridMatches() {
        String rid = "42";
        String answer = "$dps/registrations/res/202/?$rid=" + rid + "&retry-after=2";

        assertThat(DpsMqtt.registerTopic(rid)).endsWith("$rid=" + rid);
        assertThat(DpsMqtt.parseResponseTopic(answer).orElseThrow().rid()).isEqualTo(rid);
    }
}
