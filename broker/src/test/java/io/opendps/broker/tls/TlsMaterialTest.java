package io.opendps.broker.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class TlsMaterialTest {

  private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String KEY_USAGE = "2.5.29.15";
  private static final String BASIC_CONSTRAINTS = "2.5.29.19";
  private static final String SUBJECT_KEY_ID = "2.5.29.14";
  private static final String AUTHORITY_KEY_ID = "2.5.29.35";
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

  @TempDir Path dataDir;

  @Test
  void loadOrCreate_firstStart_createsFourFiles() throws Exception {
    TlsMaterial material = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com"), CLOCK);

    Path tls = dataDir.resolve("tls");
    assertThat(tls.resolve("ca.pem")).exists();
    assertThat(tls.resolve("ca-key.pem")).content(StandardCharsets.US_ASCII).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(tls.resolve("server-key.pem")).content(StandardCharsets.US_ASCII)
        .startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(Certificates.readCertificates(tls.resolve("server.pem")))
        .containsExactly(material.serverCertificate(), material.caCertificate());
    assertThat(Certificates.readCertificates(tls.resolve("ca.pem"))).containsExactly(material.caCertificate());
    assertThat(material.caCertificatePath()).isEqualTo(tls.resolve("ca.pem"));
    assertThat(material.serverChain()).containsExactly(material.serverCertificate(), material.caCertificate());
  }

  @Test
  void loadOrCreate_firstStart_serverCertificateValidatesAgainstCaWithPkix() throws Exception {
    TlsMaterial material = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com"), CLOCK);

    assertValidates(material.serverCertificate(), material.caCertificate(), NOW);
  }

  @Test
  void loadOrCreate_firstStart_caHasRequiredProfile() throws Exception {
    X509Certificate ca = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK).caCertificate();

    assertThat(ca.getSubjectX500Principal().getName()).matches("CN=OpenDPS Local CA [0-9a-f]{8},O=OpenDPS");
    assertThat(ca.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
    assertThat(ca.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(((ECPublicKey) ca.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
    assertThat(ca.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
    assertThat(ca.getCriticalExtensionOIDs()).contains(KEY_USAGE, BASIC_CONSTRAINTS);
    assertThat(ca.getKeyUsage()).containsExactly(false, false, false, false, false, true, true, false, false);
    assertThat(ca.getExtensionValue(SUBJECT_KEY_ID)).isNotNull();
    assertThat(ca.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofHours(1)));
    assertThat(ca.getNotAfter().toInstant())
        .isEqualTo(NOW.minus(Duration.ofHours(1)).atOffset(ZoneOffset.UTC).plusYears(10).toInstant());
    ca.verify(ca.getPublicKey());
  }

  @Test
  void loadOrCreate_firstStart_serverHasRequiredProfile() throws Exception {
    X509Certificate server =
        TlsMaterial.loadOrCreate(dataDir, List.of("Broker.Example.com", "10.1.2.3", "fd00::7"), CLOCK)
            .serverCertificate();

    assertThat(server.getSubjectX500Principal().getName()).isEqualTo("CN=broker.example.com");
    assertThat(sans(server)).containsExactly("2:localhost", "7:127.0.0.1", "7:0:0:0:0:0:0:0:1",
        "2:broker.example.com", "7:10.1.2.3", "7:fd00:0:0:0:0:0:0:7");
    assertThat(server.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(server.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(server.getBasicConstraints()).isEqualTo(-1);
    assertThat(server.getCriticalExtensionOIDs()).contains(KEY_USAGE);
    assertThat(server.getKeyUsage()).containsExactly(true, false, false, false, false, false, false, false, false);
    assertThat(server.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
    assertThat(server.getExtensionValue(SUBJECT_KEY_ID)).isNotNull();
    assertThat(server.getExtensionValue(AUTHORITY_KEY_ID)).isNotNull();
    assertThat(server.getSerialNumber().signum()).isPositive();
    assertThat(server.getSerialNumber().toByteArray()).hasSize(16);
    assertThat(Duration.between(server.getNotBefore().toInstant(), server.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofDays(825));
  }

  @Test
  void loadOrCreate_noHostNames_commonNameIsLocalhost() {
    X509Certificate server = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK).serverCertificate();

    assertThat(server.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
  }

  @Test
  void loadOrCreate_secondStart_reusesSameCertificates() throws Exception {
    TlsMaterial first = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com"), CLOCK);
    byte[] serverPem = Files.readAllBytes(dataDir.resolve("tls/server.pem"));

    TlsMaterial second = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com"), CLOCK);

    assertThat(second.caCertificate().getSerialNumber()).isEqualTo(first.caCertificate().getSerialNumber());
    assertThat(second.serverCertificate().getSerialNumber()).isEqualTo(first.serverCertificate().getSerialNumber());
    assertThat(second.serverCertificate()).isEqualTo(first.serverCertificate());
    assertThat(second.serverPrivateKey().getEncoded()).isEqualTo(first.serverPrivateKey().getEncoded());
    assertThat(Files.readAllBytes(dataDir.resolve("tls/server.pem"))).isEqualTo(serverPem);
  }

  @Test
  void loadOrCreate_fewerHostNames_reusesServerCertificate() {
    TlsMaterial first = TlsMaterial.loadOrCreate(dataDir, List.of("a.example.com", "b.example.com"), CLOCK);

    TlsMaterial second = TlsMaterial.loadOrCreate(dataDir, List.of("b.example.com"), CLOCK);

    assertThat(second.serverCertificate()).isEqualTo(first.serverCertificate());
  }

  @Test
  void loadOrCreate_addedHostName_reissuesServerButKeepsCa() throws Exception {
    TlsMaterial first = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com"), CLOCK);
    byte[] caPem = Files.readAllBytes(dataDir.resolve("tls/ca.pem"));
    byte[] caKeyPem = Files.readAllBytes(dataDir.resolve("tls/ca-key.pem"));

    TlsMaterial second = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com", "192.168.7.9"), CLOCK);

    assertThat(second.caCertificate()).isEqualTo(first.caCertificate());
    assertThat(Files.readAllBytes(dataDir.resolve("tls/ca.pem"))).isEqualTo(caPem);
    assertThat(Files.readAllBytes(dataDir.resolve("tls/ca-key.pem"))).isEqualTo(caKeyPem);
    assertThat(second.serverCertificate().getSerialNumber())
        .isNotEqualTo(first.serverCertificate().getSerialNumber());
    assertThat(sans(second.serverCertificate())).contains("2:broker.example.com", "7:192.168.7.9");
    assertValidates(second.serverCertificate(), first.caCertificate(), NOW);
    assertThat(TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com", "192.168.7.9"), CLOCK)
        .serverCertificate()).isEqualTo(second.serverCertificate());
  }

  @Test
  void loadOrCreate_serverExpiresWithin30Days_reissuesWithSameCa() throws Exception {
    TlsMaterial first = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    Instant later = NOW.plus(Duration.ofDays(800));

    TlsMaterial second = TlsMaterial.loadOrCreate(dataDir, List.of(), Clock.fixed(later, ZoneOffset.UTC));

    assertThat(second.caCertificate()).isEqualTo(first.caCertificate());
    assertThat(second.serverCertificate()).isNotEqualTo(first.serverCertificate());
    assertValidates(second.serverCertificate(), first.caCertificate(), later);
  }

  @Test
  void loadOrCreate_serverValidForMoreThan30Days_reusesIt() {
    TlsMaterial first = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);

    TlsMaterial second =
        TlsMaterial.loadOrCreate(dataDir, List.of(), Clock.fixed(NOW.plus(Duration.ofDays(700)), ZoneOffset.UTC));

    assertThat(second.serverCertificate()).isEqualTo(first.serverCertificate());
  }

  @Test
  void loadOrCreate_serverFilesDeleted_reissuesWithSameCa() throws Exception {
    TlsMaterial first = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    Files.delete(dataDir.resolve("tls/server-key.pem"));

    TlsMaterial second = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);

    assertThat(second.caCertificate()).isEqualTo(first.caCertificate());
    assertThat(second.serverCertificate()).isNotEqualTo(first.serverCertificate());
    assertThat(dataDir.resolve("tls/server-key.pem")).exists();
  }

  @Test
  void loadOrCreate_keyFiles_areOwnerReadWriteOnly() throws Exception {
    assumeTrue(TlsFiles.isPosix(dataDir), "POSIX file system");
    TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);

    assertThat(mode(dataDir.resolve("tls/ca-key.pem"))).isEqualTo("rw-------");
    assertThat(mode(dataDir.resolve("tls/server-key.pem"))).isEqualTo("rw-------");
    assertThat(mode(dataDir.resolve("tls/ca.pem"))).isEqualTo("rw-r--r--");
    assertThat(mode(dataDir.resolve("tls"))).isEqualTo("rwx------");
  }

  @Test
  void loadOrCreate_corruptCaPem_throwsNamingTheFile() throws Exception {
    TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    Files.writeString(dataDir.resolve("tls/ca.pem"), "this is not a certificate\n");

    assertThatThrownBy(() -> TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageContaining("ca.pem")
        .hasMessageContaining("no PEM CERTIFICATE");
  }

  @Test
  void loadOrCreate_truncatedCaPem_throwsNamingTheFile() throws Exception {
    TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    Path caPem = dataDir.resolve("tls/ca.pem");
    String pem = Files.readString(caPem);
    Files.writeString(caPem, pem.substring(0, pem.length() / 2));

    assertThatThrownBy(() -> TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageContaining(caPem.toString());
  }

  @Test
  void loadOrCreate_corruptServerKey_throwsNamingTheFile() throws Exception {
    TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    Files.writeString(dataDir.resolve("tls/server-key.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

    assertThatThrownBy(() -> TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageContaining("server-key.pem");
  }

  @Test
  void loadOrCreate_caKeyMissing_throwsInsteadOfReplacingCa() throws Exception {
    TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    Files.delete(dataDir.resolve("tls/ca-key.pem"));

    assertThatThrownBy(() -> TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageContaining("ca-key.pem")
        .hasMessageContaining("missing");
    assertThat(dataDir.resolve("tls/ca-key.pem")).doesNotExist();
  }

  @Test
  void loadOrCreate_caKeyOfAnotherCa_throws(@TempDir Path otherDir) throws Exception {
    TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    TlsMaterial.loadOrCreate(otherDir, List.of(), CLOCK);
    Files.copy(otherDir.resolve("tls/ca-key.pem"), dataDir.resolve("tls/ca-key.pem"),
        StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(() -> TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK))
        .isInstanceOf(TlsMaterialException.class)
        .hasMessageContaining("ca-key.pem");
  }

  @Test
  void loadOrCreate_invalidHostName_throwsIllegalArgument() {
    assertThatThrownBy(() -> TlsMaterial.loadOrCreate(dataDir, List.of("not a host"), CLOCK))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a host");
  }

  @Test
  void writePkcs12_loadsWithJdkKeyStoreAndHoldsChain() throws Exception {
    TlsMaterial material = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK);
    char[] password = "changeit".toCharArray();

    Path file = material.writePkcs12(dataDir.resolve("hivemq/keystore.p12"), password);

    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      keyStore.load(in, password);
    }
    assertThat(keyStore.isKeyEntry("opendps")).isTrue();
    assertThat(keyStore.getCertificateChain("opendps")).containsExactly(material.serverCertificate(),
        material.caCertificate());
    assertThat(keyStore.getKey("opendps", password).getEncoded())
        .isEqualTo(material.serverPrivateKey().getEncoded());
    if (TlsFiles.isPosix(file)) {
      assertThat(mode(file)).isEqualTo("rw-------");
    }
  }

  @Test
  void sha256Thumbprint_isUpperCaseHexOfDer() throws Exception {
    X509Certificate ca = TlsMaterial.loadOrCreate(dataDir, List.of(), CLOCK).caCertificate();

    String thumbprint = TlsMaterial.sha256Thumbprint(ca);

    assertThat(thumbprint).matches("[0-9A-F]{64}");
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(ca.getEncoded());
    assertThat(thumbprint).isEqualTo(HexFormat.of().withUpperCase().formatHex(digest));
  }

  static void assertValidates(X509Certificate leaf, X509Certificate ca, Instant at) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(at));
    CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(leaf)), parameters);
  }

  static List<String> sans(X509Certificate certificate) throws Exception {
    List<String> result = new ArrayList<>();
    Collection<List<?>> names = certificate.getSubjectAlternativeNames();
    for (List<?> name : names) {
      result.add(name.get(0) + ":" + name.get(1));
    }
    return result;
  }

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }
}
