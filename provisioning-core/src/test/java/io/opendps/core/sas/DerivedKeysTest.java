package io.opendps.core.sas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class DerivedKeysTest {

  @Test
  void deriveBase64_protocolVector_matches() {
    assertThat(DerivedKeys.deriveBase64("Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm", "my-device-01"))
        .isEqualTo("pVwrrnsS3LMMG0J+YLiW+6Ewipb33TvgohNoecRqnGA=");
  }

  @Test
  void derive_serviceApiExample_matches() {
    byte[] derived = DerivedKeys.derive(SasVerifierTest.bytes0To31(), "sensor-0042");

    assertThat(Base64.getEncoder().encodeToString(derived)).isEqualTo("uRjTJ5ZkeYXfDyfZuhPgHhbqSDx4m4T3B7VVZRK8SI0=");
  }

  @Test
  void derive_registrationIdCase_changesKey() {
    byte[] groupKey = SasVerifierTest.bytes0To31();

    assertThat(DerivedKeys.derive(groupKey, "Sensor-0042")).isNotEqualTo(DerivedKeys.derive(groupKey, "sensor-0042"));
  }

  @Test
  void deriveBase64_invalidBase64_throwsClearMessage() {
    assertThatThrownBy(() -> DerivedKeys.deriveBase64("not base64!", "my-device-01"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("group key is not valid base64")
        .hasMessageNotContaining("not base64!");
  }

  @Test
  void deriveBase64_emptyKey_throws() {
    assertThatThrownBy(() -> DerivedKeys.deriveBase64("", "my-device-01"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("group key is empty");
  }
}
