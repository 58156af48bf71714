package io.opendps.core.sas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SasSignerTest {

  private static final byte[] KEY = Base64.getDecoder().decode("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=");

  @Test
  void deviceToken_protocolVector_matchesJavaSdkForm() {
    String token = SasSigner.deviceToken("0ne00000001", "my-device-01", KEY, Instant.ofEpochSecond(1_893_456_000L));

    assertThat(token).isEqualTo("SharedAccessSignature sr=0ne00000001/registrations/my-device-01"
        + "&sig=rjO0pgKsRV2UyzVnds5FSmJifDBbpLse2MFkhe0vlCA%3D&se=1893456000&skn=registration");
  }

  @Test
  void deviceToken_fractionalExpiry_isTruncatedToSeconds() {
    String token = SasSigner.deviceToken("0ne00000001", "my-device-01", KEY,
        Instant.ofEpochSecond(1_893_456_000L, 999_000_000L));

    assertThat(SasToken.parse(token).expiry()).isEqualTo("1893456000");
  }

  @Test
  void sign_encodedResource_isWrittenAsGivenAndSignatureIsPercentEncoded() {
    String token = SasSigner.sign("0ne00000001%2Fregistrations%2Fmy-device-01", 1_893_456_000L, KEY, null);

    assertThat(token).isEqualTo("SharedAccessSignature sr=0ne00000001%2Fregistrations%2Fmy-device-01"
        + "&sig=y9gFgoMKj2X8LE%2BthyYql6fZ7oq%2BMPqXAo%2FlZR1mzck%3D&se=1893456000");
  }

  @Test
  void sign_emptyKeyName_writesEmptySkn() {
    String token = SasSigner.sign("a", 1, KEY, "");

    assertThat(token).endsWith("&se=1&skn=");
    assertThat(SasToken.parse(token).keyName()).isEmpty();
  }

  @Test
  void sign_invalidArguments_throwIllegalArgumentException() {
    assertThatThrownBy(() -> SasSigner.sign("", 1, KEY, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SasSigner.sign("a&b", 1, KEY, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SasSigner.sign("a", 1, KEY, "x&y")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SasSigner.sign("a", -1, KEY, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SasSigner.sign("a", 1, new byte[0], null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key is empty");
  }

  @Test
  void serviceToken_hostAsConfigured_isKeptAsGiven() {
    String token = SasSigner.serviceToken("Contoso.Example", "owner", "k".getBytes(StandardCharsets.US_ASCII),
        Instant.ofEpochSecond(10));

    SasToken parsed = SasToken.parse(token);
    assertThat(parsed.resource()).isEqualTo("Contoso.Example");
    assertThat(parsed.keyName()).isEqualTo("owner");
    assertThat(parsed.expiryEpochSeconds()).isEqualTo(10);
  }
}
