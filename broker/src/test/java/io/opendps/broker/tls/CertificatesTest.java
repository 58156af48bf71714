package io.opendps.broker.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificatesTest {

  private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

  @Test
  void issue_caWithPathLengthAndDeviceCertificate_chainValidatesWithPkix() throws Exception {
    KeyPair rootKeys = Certificates.newEcKeyPair();
    X509Certificate root = Certificates.template("CN=Test Root, O=Test", rootKeys.getPublic())
        .selfSigned(rootKeys.getPrivate()).validity(NOW, Duration.ofDays(10)).ca(1).issue();
    KeyPair intermediateKeys = Certificates.newEcKeyPair();
    X509Certificate intermediate = Certificates.template("CN=Test Intermediate", intermediateKeys.getPublic())
        .issuedBy(root, rootKeys.getPrivate()).validity(NOW, Duration.ofDays(10)).ca(0).issue();
    KeyPair deviceKeys = Certificates.newEcKeyPair();
    X509Certificate device = Certificates.issue(Certificates.template("CN=device-1", deviceKeys.getPublic())
        .issuedBy(intermediate, intermediateKeys.getPrivate()).validity(NOW, Duration.ofDays(1))
        .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH));

    assertThat(root.getBasicConstraints()).isEqualTo(1);
    assertThat(intermediate.getBasicConstraints()).isZero();
    assertThat(device.getBasicConstraints()).isEqualTo(-1);
    assertThat(device.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
    assertThat(device.getIssuerX500Principal()).isEqualTo(intermediate.getSubjectX500Principal());
    assertThat(root.getSubjectX500Principal().getName()).isEqualTo("CN=Test Root,O=Test");
    CertPathValidator.getInstance("PKIX").validate(
        CertificateFactory.getInstance("X.509").generateCertPath(List.of(device, intermediate)),
        pkix(root));
  }

  @Test
  void issue_rsaKeysAndKeyUsageOverride_areSupported() {
    KeyPair keys = Certificates.newRsaKeyPair(2048);

    X509Certificate certificate = Certificates.template("CN=rsa", keys.getPublic())
        .selfSigned(keys.getPrivate()).validity(NOW, Duration.ofDays(1))
        .keyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
        .subjectAlternativeNames(List.of("rsa.example.com"))
        .serialNumber(BigInteger.valueOf(42)).issue();

    assertThat(certificate.getSigAlgName()).isEqualTo("SHA256withRSA");
    assertThat(certificate.getSerialNumber()).isEqualTo(BigInteger.valueOf(42));
    assertThat(certificate.getKeyUsage()[0]).isTrue();
    assertThat(certificate.getKeyUsage()[2]).isTrue();
  }

  @Test
  void issue_withoutIssuer_throwsIllegalState() {
    KeyPair keys = Certificates.newEcKeyPair();

    assertThatThrownBy(() -> Certificates.template("CN=x", keys.getPublic()).validity(NOW, Duration.ofDays(1))
        .issue()).isInstanceOf(IllegalStateException.class).hasMessageContaining("issuer");
  }

  @Test
  void issue_withoutValidity_throwsIllegalState() {
    KeyPair keys = Certificates.newEcKeyPair();

    assertThatThrownBy(() -> Certificates.template("CN=x", keys.getPublic()).selfSigned(keys.getPrivate()).issue())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("validity");
  }

  @Test
  void toPem_thenRead_roundTripsCertificatesAndKeys(@TempDir Path dir) throws Exception {
    KeyPair keys = Certificates.newEcKeyPair();
    X509Certificate first = selfSigned(keys, "CN=first");
    X509Certificate second = selfSigned(keys, "CN=second");
    Path certs = Files.writeString(dir.resolve("certs.pem"), Certificates.toPem(first, second));
    Path key = Files.writeString(dir.resolve("key.pem"), Certificates.toPem(keys.getPrivate()));

    assertThat(Certificates.readCertificates(certs)).containsExactly(first, second);
    assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(Certificates.readPrivateKey(key).getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
  }

  @Test
  void parsePrivateKey_traditionalEcFormat_isAccepted() throws Exception {
    KeyPair keys = Certificates.newEcKeyPair();
    PrivateKeyInfo pkcs8 = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
    ECPrivateKey sec1 = new ECPrivateKey(256, ((java.security.interfaces.ECPrivateKey) keys.getPrivate()).getS(),
        pkcs8.getPrivateKeyAlgorithm().getParameters());
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
    }

    PrivateKey parsed = Certificates.parsePrivateKey(out.toString(), "test");

    assertThat(out.toString()).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertThat(Certificates.keyMatches(parsed, selfSigned(keys, "CN=x"))).isTrue();
  }

  @Test
  void parseCertificates_privateKeyBlock_throwsNamingSource() {
    String pem = Certificates.toPem(Certificates.newEcKeyPair().getPrivate());

    assertThatThrownBy(() -> Certificates.parseCertificates(pem, "some.pem"))
        .isInstanceOf(TlsMaterialException.class).hasMessageContaining("some.pem");
  }

  @Test
  void readCertificates_missingFile_throwsNamingFile(@TempDir Path dir) {
    Path missing = dir.resolve("missing.pem");

    assertThatThrownBy(() -> Certificates.readCertificates(missing))
        .isInstanceOf(TlsMaterialException.class).hasMessageContaining(missing.toString());
  }

  @Test
  void keyMatches_otherKey_isFalse() {
    KeyPair keys = Certificates.newEcKeyPair();
    X509Certificate certificate = selfSigned(keys, "CN=x");

    assertThat(Certificates.keyMatches(keys.getPrivate(), certificate)).isTrue();
    assertThat(Certificates.keyMatches(Certificates.newEcKeyPair().getPrivate(), certificate)).isFalse();
  }

  @Test
  void randomSerialNumber_isPositiveAndSixteenBytes() {
    for (int i = 0; i < 100; i++) {
      BigInteger serial = Certificates.randomSerialNumber();
      assertThat(serial.signum()).isPositive();
      assertThat(serial.toByteArray()).hasSize(16);
    }
  }

  private static X509Certificate selfSigned(KeyPair keys, String subject) {
    return Certificates.template(subject, keys.getPublic()).selfSigned(keys.getPrivate())
        .validity(NOW, Duration.ofDays(1)).issue();
  }

  private static PKIXParameters pkix(X509Certificate root) throws Exception {
    PKIXParameters parameters = new PKIXParameters(
        Set.of(new TrustAnchor(root, null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(NOW.plusSeconds(1)));
    return parameters;
  }
}
