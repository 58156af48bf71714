package io.opendps.broker.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PrivateKeyPemTest {

  private static final String EC_PARAMETERS =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";

  @Test
  void toEncryptedPem_rsaKey_roundTripsWithThePassphraseOnly() {
    PrivateKey key = Certificates.newRsaKeyPair(2048).getPrivate();

    String pem = PrivateKeyPem.toEncryptedPem(key, "pw".toCharArray());

    assertThat(pem).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----").doesNotContain("BEGIN PRIVATE KEY");
    assertThat(PrivateKeyPem.isEncrypted(pem)).isTrue();
    assertThat(PrivateKeyPem.parse(pem, "k.pem", "pw".toCharArray())).isEqualTo(key);
    assertThatThrownBy(() -> PrivateKeyPem.parse(pem, "k.pem", "pW".toCharArray()))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessage("k.pem: the private key cannot be decrypted; wrong passphrase?");
    assertThatThrownBy(() -> PrivateKeyPem.parse(pem, "k.pem", null))
        .hasMessage("k.pem: the private key is encrypted and no passphrase was given");
  }

  @Test
  void toEncryptedPem_emptyPassphrase_isRejected() {
    PrivateKey key = Certificates.newEcKeyPair().getPrivate();

    assertThatThrownBy(() -> PrivateKeyPem.toEncryptedPem(key, new char[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void parse_ecParametersAndCertificateBesideTheKey_areIgnored() {
    KeyPair keys = Certificates.newEcKeyPair();
    X509Certificate certificate = Certificates.template("CN=x", keys.getPublic()).selfSigned(keys.getPrivate())
        .validity(Instant.now(), Duration.ofDays(1)).issue();
    String pem = EC_PARAMETERS + Certificates.toPem(keys.getPrivate()) + Certificates.toPem(certificate);

    assertThat(PrivateKeyPem.isEncrypted(pem)).isFalse();
    assertThat(PrivateKeyPem.parse(pem, "combined.pem", "ignored".toCharArray())).isEqualTo(keys.getPrivate());
  }

  @Test
  void parse_noKeyOrTwoKeys_isRejected() {
    String one = Certificates.toPem(Certificates.newEcKeyPair().getPrivate());

    assertThatThrownBy(() -> PrivateKeyPem.parse(EC_PARAMETERS, "p.pem", null))
        .hasMessage("p.pem: expected exactly one PEM private key block, found 0");
    assertThatThrownBy(() -> PrivateKeyPem.parse(one + one, "p.pem", null))
        .hasMessage("p.pem: expected exactly one PEM private key block, found 2");
  }
}
