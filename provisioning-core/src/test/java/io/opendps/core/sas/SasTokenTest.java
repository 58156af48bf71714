package io.opendps.core.sas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SasTokenTest {

  private static final String SIG = "rjO0pgKsRV2UyzVnds5FSmJifDBbpLse2MFkhe0vlCA%3D";
  private static final String SIG_BASE64 = "rjO0pgKsRV2UyzVnds5FSmJifDBbpLse2MFkhe0vlCA=";

  @Test
  void parse_javaSdkToken_keepsRawFields() {
    SasToken token = SasToken.parse(
        "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=" + SIG + "&se=1893456000&skn=");

    assertThat(token.resource()).isEqualTo("0ne00000001/registrations/my-device-01");
    assertThat(token.signature()).isEqualTo(SIG);
    assertThat(token.expiry()).isEqualTo("1893456000");
    assertThat(token.keyName()).isEmpty();
    assertThat(token.expiryEpochSeconds()).isEqualTo(1_893_456_000L);
    assertThat(token.signatureBytes()).isEqualTo(Base64.getDecoder().decode(SIG_BASE64));
  }

  @Test
  void parse_nodeParameterOrder_isAccepted() {
    SasToken token = SasToken.parse(
        "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=" + SIG + "&skn=registration&se=1893456000");

    assertThat(token.keyName()).isEqualTo("registration");
    assertThat(token.expiry()).isEqualTo("1893456000");
  }

  @Test
  void parse_anyOrder_isAccepted() {
    SasToken token = SasToken.parse("SharedAccessSignature se=1&skn=x&sig=" + SIG + "&sr=a");

    assertThat(token).isEqualTo(new SasToken("a", SIG, "1", "x"));
  }

  @Test
  void parse_noSkn_keyNameIsNull() {
    SasToken token = SasToken.parse("SharedAccessSignature sr=a&sig=" + SIG + "&se=1");

    assertThat(token.keyName()).isNull();
  }

  @Test
  void parse_unknownAndUpperCaseKeys_areIgnored() {
    SasToken token = SasToken.parse("SharedAccessSignature SR=x&sr=a&foo=bar&sig=" + SIG + "&se=1&SE=x");

    assertThat(token.resource()).isEqualTo("a");
    assertThat(token.expiry()).isEqualTo("1");
  }

  @Test
  void parse_valueContainsEquals_splitsAtFirstEquals() {
    SasToken token = SasToken.parse("SharedAccessSignature sr=a=b&sig=" + SIG_BASE64 + "&se=1");

    assertThat(token.resource()).isEqualTo("a=b");
    assertThat(token.signatureBytes()).isEqualTo(Base64.getDecoder().decode(SIG_BASE64));
  }

  @Test
  void signatureBytes_lowerCaseHexEscapes_areDecoded() {
    SasToken token = SasToken.parse(
        "SharedAccessSignature sr=a&sig=y9gFgoMKj2X8LE%2bthyYql6fZ7oq%2bMPqXAo%2flZR1mzck%3d&se=1");

    assertThat(token.signatureBytes())
        .isEqualTo(Base64.getDecoder().decode("y9gFgoMKj2X8LE+thyYql6fZ7oq+MPqXAo/lZR1mzck="));
  }

  @Test
  void signatureBytes_rawPlus_isNotTurnedIntoSpace() {
    SasToken token = SasToken.parse(
        "SharedAccessSignature sr=a&sig=y9gFgoMKj2X8LE+thyYql6fZ7oq+MPqXAo/lZR1mzck=&se=1");

    assertThat(token.signatureBytes())
        .isEqualTo(Base64.getDecoder().decode("y9gFgoMKj2X8LE+thyYql6fZ7oq+MPqXAo/lZR1mzck="));
  }

  @Test
  void decodedResource_upperAndLowerHex_decodeAlike() {
    SasToken upper = new SasToken("0ne00000001%2Fregistrations%2Fmy-device-01", SIG, "1", null);
    SasToken lower = new SasToken("0ne00000001%2fregistrations%2fmy-device-01", SIG, "1", null);

    assertThat(upper.decodedResource()).isEqualTo("0ne00000001/registrations/my-device-01");
    assertThat(lower.decodedResource()).isEqualTo("0ne00000001/registrations/my-device-01");
  }

  @Test
  void decodedResource_plusAndUtf8Escapes_plusStaysPlus() {
    SasToken token = new SasToken("a+b%20c%C3%A9", SIG, "1", null);

    assertThat(token.decodedResource()).isEqualTo("a+b c\u00e9");
  }

  @Test
  void toString_anyToken_omitsSignature() {
    SasToken token = SasToken.parse(
        "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=" + SIG + "&se=1893456000&skn=registration");

    assertThat(token.toString())
        .doesNotContain(SIG)
        .doesNotContain(SIG_BASE64)
        .doesNotContain("rjO0pgKs")
        .contains("0ne00000001/registrations/my-device-01", "1893456000", "registration");
  }

  @Test
  void parse_signatureWithoutKey_messageDoesNotLeakIt() {
    assertThatThrownBy(() -> SasToken.parse("SharedAccessSignature sr=a&" + SIG_BASE64.replace("=", "") + "&se=1"))
        .isInstanceOf(SasFormatException.class)
        .hasMessageNotContaining("rjO0pgKs");
  }

  @Test
  void constructor_malformedSignature_throwsSasFormatException() {
    assertThatThrownBy(() -> new SasToken("a", "%%", "1", null))
        .isInstanceOf(SasFormatException.class)
        .hasMessageContaining("\"sig\" is not valid percent-encoding");
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @MethodSource("malformedTokens")
  void parse_malformedToken_throwsWithPreciseMessage(String text, String expectedMessage) {
    assertThatThrownBy(() -> SasToken.parse(text))
        .isInstanceOf(SasFormatException.class)
        .hasMessageContaining(expectedMessage);
  }

  static Stream<Arguments> malformedTokens() {
    String prefix = "SharedAccessSignature ";
    return Stream.of(
        Arguments.of("sr=a&sig=" + SIG + "&se=1", "does not start with \"SharedAccessSignature \""),
        Arguments.of("sharedaccesssignature sr=a&sig=" + SIG + "&se=1", "does not start with \"SharedAccessSignature \""),
        Arguments.of("SharedAccessSignature", "does not start with \"SharedAccessSignature \""),
        Arguments.of("", "does not start with \"SharedAccessSignature \""),
        Arguments.of(prefix + "sr=a&sigX&se=1", "parameter 2 has no '='"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=1&", "parameter 4 has no '='"),
        Arguments.of(prefix, "parameter 1 has no '='"),
        Arguments.of(prefix + "sr=a&sr=b&sig=" + SIG + "&se=1", "duplicate key \"sr\""),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=1&se=2", "duplicate key \"se\""),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=1&skn=&skn=x", "duplicate key \"skn\""),
        Arguments.of(prefix + "sig=" + SIG + "&se=1", "missing \"sr\""),
        Arguments.of(prefix + "sr=a&se=1", "missing \"sig\""),
        Arguments.of(prefix + "sr=a&sig=" + SIG, "missing \"se\""),
        Arguments.of(prefix + "sr=&sig=" + SIG + "&se=1", "\"sr\" is empty"),
        Arguments.of(prefix + "sr=a%2&sig=" + SIG + "&se=1", "\"sr\" is not valid percent-encoding"),
        Arguments.of(prefix + "sr=a%zz&sig=" + SIG + "&se=1", "\"sr\" is not valid percent-encoding"),
        Arguments.of(prefix + "sr=a%ff&sig=" + SIG + "&se=1", "\"sr\" is not valid percent-encoding"),
        Arguments.of(prefix + "sr=a&sig=&se=1", "\"sig\" is empty"),
        Arguments.of(prefix + "sr=a&sig=abc%3&se=1", "\"sig\" is not valid percent-encoding"),
        Arguments.of(prefix + "sr=a&sig=abc%G1&se=1", "\"sig\" is not valid percent-encoding"),
        Arguments.of(prefix + "sr=a&sig=not*base64!&se=1", "\"sig\" is not valid base64"),
        Arguments.of(prefix + "sr=a&sig=" + SIG.replace("%3D", "%3D%3D%3D") + "&se=1", "\"sig\" is not valid base64"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=", "\"se\" is not a non-negative integer"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=-1", "\"se\" is not a non-negative integer"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=+1", "\"se\" is not a non-negative integer"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=1.5", "\"se\" is not a non-negative integer"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=abc", "\"se\" is not a non-negative integer"),
        Arguments.of(prefix + "sr=a&sig=" + SIG + "&se=99999999999999999999", "\"se\" is out of range"));
  }

  @Test
  void parse_nonAsciiSignature_isRejected() {
    String text = "SharedAccessSignature sr=a&sig=" + new String(new byte[] {(byte) 0xc3, (byte) 0xa9},
        StandardCharsets.UTF_8) + "&se=1";

    assertThatThrownBy(() -> SasToken.parse(text)).isInstanceOf(SasFormatException.class);
  }
}
