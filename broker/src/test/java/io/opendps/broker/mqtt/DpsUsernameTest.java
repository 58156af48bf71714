package io.opendps.broker.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class DpsUsernameTest {

  private static final String BASE = "0ne00000001/registrations/my-device-01/";

  @Test
  void parse_javaSdk_clientVersionIsApiVersion() {
    DpsUsername username = DpsUsername.parse(BASE + "api-version=2019-03-31&ClientVersion=2019-03-31");

    assertThat(username).isEqualTo(new DpsUsername("0ne00000001", "my-device-01", "2019-03-31", "2019-03-31",
        Map.of("api-version", "2019-03-31", "ClientVersion", "2019-03-31")));
  }

  @Test
  void parse_nodeSdk_clientVersionIsDecoded() {
    DpsUsername username =
        DpsUsername.parse(BASE + "api-version=2019-03-31&ClientVersion=azure-iot-provisioning-device%2F1.9.2");

    assertThat(username.clientVersion()).isEqualTo("azure-iot-provisioning-device/1.9.2");
    assertThat(username.apiVersion()).isEqualTo("2019-03-31");
  }

  @Test
  void parse_pythonSdk_everyEscapeIsDecoded() {
    DpsUsername username = DpsUsername.parse(BASE + "api-version=2019-03-31&ClientVersion="
        + "azure-iot-device-provisioning-py%2F2.14.0%283.11.2%3BLinux%206.1.0%3Bx86_64%29");

    assertThat(username.clientVersion()).isEqualTo("azure-iot-device-provisioning-py/2.14.0(3.11.2;Linux 6.1.0;x86_64)");
  }

  @Test
  void parse_cSdk_rawClientVersion() {
    DpsUsername username = DpsUsername.parse(BASE + "api-version=2021-06-01&ClientVersion=1.15.0");

    assertThat(username.apiVersion()).isEqualTo("2021-06-01");
    assertThat(username.clientVersion()).isEqualTo("1.15.0");
  }

  @Test
  void parse_embeddedCWithoutClientVersion_clientVersionIsNull() {
    DpsUsername username = DpsUsername.parse(BASE + "api-version=2019-03-31");

    assertThat(username.clientVersion()).isNull();
    assertThat(username.parameters()).containsExactly(Map.entry("api-version", "2019-03-31"));
  }

  @Test
  void parse_embeddedCRawUserAgent_keepsSlashesAndLiteralPercent() {
    DpsUsername username =
        DpsUsername.parse(BASE + "api-version=2019-03-31&ClientVersion=azsdk-c/1.5.0 (paho; 100%)");

    assertThat(username.registrationId()).isEqualTo("my-device-01");
    assertThat(username.clientVersion()).isEqualTo("azsdk-c/1.5.0 (paho; 100%)");
  }

  @Test
  void parse_dotNetEscapeDataString_isDecoded() {
    DpsUsername username = DpsUsername.parse(BASE + "api-version=2019-03-31&ClientVersion="
        + "Microsoft.Azure.Devices.Provisioning.Client%2F1.19.0%20%28.NET%206.0.0%3B%20Linux%29");

    assertThat(username.clientVersion())
        .isEqualTo("Microsoft.Azure.Devices.Provisioning.Client/1.19.0 (.NET 6.0.0; Linux)");
  }

  @Test
  void parse_docsForm_isAccepted() {
    DpsUsername username = DpsUsername.parse("0ne000A1B2C/registrations/Sensor_7:a.b-/api-version=2019-03-31");

    assertThat(username.idScope()).isEqualTo("0ne000A1B2C");
    assertThat(username.registrationId()).isEqualTo("Sensor_7:a.b-");
  }

  @Test
  void parse_plusInValue_staysPlus() {
    DpsUsername username = DpsUsername.parse(BASE + "api-version=2019-03-31&ClientVersion=a+b%2Bc");

    assertThat(username.clientVersion()).isEqualTo("a+b+c");
  }

  @Test
  void parse_unknownKeysAndEmptyPieces_areKeptAndIgnored() {
    DpsUsername username = DpsUsername.parse(BASE + "&x%2Dy=1&api-version=2019-03-31&&flag");

    assertThat(username.apiVersion()).isEqualTo("2019-03-31");
    assertThat(username.parameters()).containsEntry("x-y", "1").containsEntry("flag", "");
  }

  @Test
  void parse_maximalRegistrationId_isAccepted() {
    String id = "a".repeat(128);

    assertThat(DpsUsername.parse("s/registrations/" + id + "/api-version=1").registrationId()).isEqualTo(id);
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @MethodSource("invalidUsernames")
  void parse_invalidUsername_throwsWithPreciseMessage(String username, String expectedMessage) {
    assertThatThrownBy(() -> DpsUsername.parse(username))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(expectedMessage);
  }

  static Stream<Arguments> invalidUsernames() {
    return Stream.of(
        Arguments.of(BASE, "missing api-version"),
        Arguments.of(BASE + "ClientVersion=1.15.0", "missing api-version"),
        Arguments.of(BASE + "?api-version=2019-03-31", "missing api-version"),
        Arguments.of(BASE + "api-version=", "empty api-version"),
        Arguments.of(BASE + "api-version=1&api-version=2", "repeats parameter \"api-version\""),
        Arguments.of("0ne00000001/registrations/my-device-01", "lacks \"/api-version=...\""),
        Arguments.of("0ne00000001/my-device-01/api-version=2019-03-31", "lacks \"registrations/\""),
        Arguments.of("0ne00000001/Registrations/my-device-01/api-version=2019-03-31", "lacks \"registrations/\""),
        Arguments.of("0ne00000001", "has no '/'"),
        Arguments.of("", "has no '/'"),
        Arguments.of("/registrations/my-device-01/api-version=2019-03-31", "empty ID scope"),
        Arguments.of("0ne00000001/registrations//api-version=2019-03-31", "empty registration id"),
        Arguments.of("0ne00000001/registrations/-device/api-version=2019-03-31", "invalid registration id"),
        Arguments.of("0ne00000001/registrations/device./api-version=2019-03-31", "invalid registration id"),
        Arguments.of("0ne00000001/registrations/my%2Ddevice/api-version=2019-03-31", "invalid registration id"),
        Arguments.of("0ne00000001/registrations/my device/api-version=2019-03-31", "invalid registration id"),
        Arguments.of("s/registrations/" + "a".repeat(129) + "/api-version=1", "invalid registration id"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a/b"})
  void constructor_invalidIdScope_throws(String idScope) {
    assertThatThrownBy(() -> new DpsUsername(idScope, "id", "1", null, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ID scope");
  }
}
