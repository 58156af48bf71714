package io.opendps.broker.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.broker.mqtt.DpsTopics.Poll;
import io.opendps.broker.mqtt.DpsTopics.Register;
import io.opendps.broker.mqtt.DpsTopics.Request;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class DpsTopicsTest {

  private static final String REGISTER = "$dps/registrations/PUT/iotdps-register/?$rid=";
  private static final String POLL = "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=";
  private static final String OPERATION_ID = "5.a1b2c3d4e5f60718.0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";
  private static final String UUID = "2c5a1f0e-8b4d-4e3f-9a7b-6c5d4e3f2a1b";

  @ParameterizedTest(name = "rid {0}")
  @ValueSource(strings = {"1", "2", "42", "65535", UUID})
  void parseRequest_registerFromEveryClient_isRegister(String rid) {
    assertThat(DpsTopics.parseRequest(REGISTER + rid)).contains(new Register(rid));
  }

  @ParameterizedTest(name = "rid {0}")
  @ValueSource(strings = {"1", "3", "17", UUID})
  void parseRequest_pollFromEveryClient_isPoll(String rid) {
    assertThat(DpsTopics.parseRequest(POLL + rid + "&operationId=" + OPERATION_ID))
        .contains(new Poll(rid, OPERATION_ID));
  }

  @Test
  void parseRequest_operationIdBeforeRid_isPoll() {
    String topic = "$dps/registrations/GET/iotdps-get-operationstatus/?operationId=" + OPERATION_ID + "&$rid=7";

    assertThat(DpsTopics.parseRequest(topic)).contains(new Poll("7", OPERATION_ID));
  }

  @Test
  void parseRequest_pythonPercentEncoded_ridStaysRawAndOperationIdIsDecoded() {
    String topic = POLL + "req%3A1%2F2&operationId=4.d0a671905ea5b2c8%3Ae7173b7b%2D0e54";

    Request request = DpsTopics.parseRequest(topic).orElseThrow();

    assertThat(request).isEqualTo(new Poll("req%3A1%2F2", "4.d0a671905ea5b2c8:e7173b7b-0e54"));
    assertThat(request.rid()).isEqualTo("req%3A1%2F2");
    assertThat(request.decodedRid()).isEqualTo("req:1/2");
  }

  @Test
  void parseRequest_encodedRegisterRid_isEchoedByteForByte() {
    String rawRid = "r%C3%A9q%20%3D1";
    Request request = DpsTopics.parseRequest(REGISTER + rawRid).orElseThrow();

    String response = DpsTopics.responseTopic(202, request.rid(), OptionalInt.of(3));

    assertThat(request.decodedRid()).isEqualTo("r\u00e9q =1");
    assertThat(response).isEqualTo("$dps/registrations/res/202/?$rid=" + rawRid + "&retry-after=3");
    assertThat(response.getBytes(StandardCharsets.UTF_8))
        .containsSubsequence(("$rid=" + rawRid).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void parseRequest_unknownParameters_areIgnored() {
    assertThat(DpsTopics.parseRequest(REGISTER + "9&x=y&z")).contains(new Register("9"));
    assertThat(DpsTopics.parseRequest("$dps/registrations/PUT/iotdps-register/?a=b&%24rid=9"))
        .contains(new Register("9"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "$dps/registrations/res/#",
      "$dps/registrations/res/202/?$rid=1",
      "$dps/registrations/PUT/iotdps-other/?$rid=1",
      "$dps/registrations/PUT/iotdps-registerx?$rid=1",
      "$dps/registrations/PUT/iotdps-register/x?$rid=1",
      "$dps/registrations/GET/iotdps-register/?$rid=1",
      "$dps/registrations/PUT/iotdps-get-operationstatus/?$rid=1&operationId=x",
      "devices/d1/messages/events/",
      "$iothub/twin/GET/?$rid=1",
      "x"})
  void parseRequest_otherTopic_isEmpty(String topic) {
    assertThat(DpsTopics.parseRequest(topic)).isEmpty();
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @MethodSource("malformedRequests")
  void parseRequest_malformedRequest_throwsWithClearMessage(String topic, String expectedMessage) {
    assertThatThrownBy(() -> DpsTopics.parseRequest(topic))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(expectedMessage);
  }

  static Stream<Arguments> malformedRequests() {
    String registerPath = "$dps/registrations/PUT/iotdps-register/";
    String pollPath = "$dps/registrations/GET/iotdps-get-operationstatus/";
    return Stream.of(
        Arguments.of(registerPath, "register topic has no $rid"),
        Arguments.of(registerPath + "?", "register topic has no $rid"),
        Arguments.of(registerPath + "?rid=1", "register topic has no $rid"),
        Arguments.of(registerPath + "?$rid=", "register topic has an empty $rid"),
        Arguments.of(registerPath + "?$rid", "register topic has an empty $rid"),
        Arguments.of(registerPath + "?$rid=1&$rid=2", "register topic repeats $rid"),
        Arguments.of(registerPath + "?$rid=1#", "$rid contains '#'"),
        Arguments.of(pollPath + "?operationId=" + OPERATION_ID, "poll topic has no $rid"),
        Arguments.of(pollPath + "?$rid=&operationId=" + OPERATION_ID, "poll topic has an empty $rid"),
        Arguments.of(pollPath + "?$rid=2", "poll topic has no operationId"),
        Arguments.of(pollPath + "?$rid=2&operationId=", "poll topic has an empty operationId"),
        Arguments.of(pollPath + "?$rid=2&operationId=a&operationId=b", "poll topic repeats operationId"),
        Arguments.of(pollPath, "poll topic has no $rid"));
  }

  @Test
  void isDpsRequestTopic_dpsNamespace_isTrue() {
    assertThat(DpsTopics.isDpsRequestTopic(REGISTER + "1")).isTrue();
    assertThat(DpsTopics.isDpsRequestTopic("$dps/registrations/anything")).isTrue();
    assertThat(DpsTopics.isDpsRequestTopic("$dps/registrations")).isFalse();
    assertThat(DpsTopics.isDpsRequestTopic("devices/x/messages/events/")).isFalse();
  }

  @Test
  void responseTopic_terminal_hasOnlyRid() {
    assertThat(DpsTopics.responseTopic(200, "1", OptionalInt.empty())).isEqualTo("$dps/registrations/res/200/?$rid=1");
  }

  @Test
  void responseTopic_withRetryAfter_ridComesFirst() {
    String topic = DpsTopics.responseTopic(202, UUID, OptionalInt.of(3));

    assertThat(topic).isEqualTo("$dps/registrations/res/202/?$rid=" + UUID + "&retry-after=3");
    assertThat(topic.indexOf("?$rid=")).isLessThan(topic.indexOf("&retry-after="));
  }

  @Test
  void responseTopic_throttled_carriesRetryAfter() {
    assertThat(DpsTopics.responseTopic(429, "5", OptionalInt.of(10)))
        .isEqualTo("$dps/registrations/res/429/?$rid=5&retry-after=10");
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 0, 11, 3600})
  void responseTopic_retryAfterOutOfRange_throws(int retryAfter) {
    assertThatThrownBy(() -> DpsTopics.responseTopic(202, "1", OptionalInt.of(retryAfter)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retry-after must be 1-10");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a&b", "a#", "a+b", "a\u0000"})
  void responseTopic_ridThatCannotBeEchoed_throws(String rid) {
    assertThatThrownBy(() -> DpsTopics.responseTopic(200, rid, OptionalInt.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("$rid");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 99, 600})
  void responseTopic_invalidStatus_throws(int status) {
    assertThatThrownBy(() -> DpsTopics.responseTopic(status, "1", OptionalInt.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("status");
  }

  @Test
  void responseFilter_isTheDpsSubscription() {
    assertThat(DpsTopics.RESPONSE_FILTER).isEqualTo("$dps/registrations/res/#");
  }
}
