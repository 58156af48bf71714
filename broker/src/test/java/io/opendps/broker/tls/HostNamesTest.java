package io.opendps.broker.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HostNamesTest {

  @Test
  void withDefaults_putsDefaultsFirstAndDeduplicatesCanonically() {
    List<String> hosts = HostNames.withDefaults(List.of(" Broker.Example.COM ", "LOCALHOST", "0:0:0:0:0:0:0:1",
        "[fd00::1]", "broker.example.com"));

    assertThat(hosts).containsExactly("localhost", "127.0.0.1", "::1", "broker.example.com", "fd00::1");
  }

  @Test
  void toGeneralName_ipLiteral_isIpSan() {
    assertThat(HostNames.toGeneralName("10.0.0.1").getTagNo()).isEqualTo(GeneralName.iPAddress);
    assertThat(HostNames.toGeneralName("::1").getTagNo()).isEqualTo(GeneralName.iPAddress);
    assertThat(HostNames.toGeneralName("*.example.com").getTagNo()).isEqualTo(GeneralName.dNSName);
    assertThat(HostNames.toGeneralName("my_service").getTagNo()).isEqualTo(GeneralName.dNSName);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "not a host", "a..b", "-a.example", "a.example.", "fe80::1%eth0", "host:8443",
      "1.2.3.4/24"})
  void normalize_invalidName_throwsIllegalArgument(String host) {
    assertThatThrownBy(() -> HostNames.normalize(host)).isInstanceOf(IllegalArgumentException.class);
  }
}
