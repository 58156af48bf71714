package io.opendps.broker.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DeviceClientTrust}: permissive only for the device trust store, the previous default (PKIX) for everything
 * else. Installs the provider in the test JVM, as a running server does.
 */
class DeviceClientTrustTest {

  private static final char[] PASSWORD = "changeit".toCharArray();

  private static Issued ca;
  private static Issued otherCa;

  private record Issued(X509Certificate certificate, KeyPair keys) {}

  @BeforeAll
  static void install() {
    DeviceClientTrust.install();
    ca = newCa("CN=Test Root");
    otherCa = newCa("CN=Unknown Device CA");
  }

  @Test
  void install_twice_keepsOneProviderAndMakesItTheDefault() throws Exception {
    DeviceClientTrust.install();

    assertThat(DeviceClientTrust.isInstalled()).isTrue();
    assertThat(TrustManagerFactory.getDefaultAlgorithm()).isEqualTo(DeviceClientTrust.ALGORITHM);
    assertThat(TrustManagerFactory.getInstance(DeviceClientTrust.ALGORITHM).getProvider().getName())
        .isEqualTo(DeviceClientTrust.PROVIDER_NAME);
    assertThat(Arrays.stream(Security.getProviders())
        .filter(p -> p.getName().equals(DeviceClientTrust.PROVIDER_NAME))).hasSize(1);
  }

  @Test
  void deviceTruststore_anyNonEmptyClientChain_passesAndNoIssuersAreAdvertised(@TempDir Path dir) throws Exception {
    X509ExtendedTrustManager tm = defaultAlgorithm(load(
        DeviceClientTrust.writeTruststore(dir.resolve("t.p12"), PASSWORD, ca.certificate())));
    X509Certificate stranger = leaf("CN=device-1", otherCa);

    tm.checkClientTrusted(new X509Certificate[] {stranger}, "EC");
    tm.checkClientTrusted(new X509Certificate[] {stranger, otherCa.certificate()}, "EC");

    assertThat(tm.getAcceptedIssuers()).isEmpty();
    assertThat(tm).isInstanceOf(DeferredClientTrustManager.class);
  }

  @Test
  void deviceTruststore_emptyClientChainOrServerCheck_isRefused(@TempDir Path dir) throws Exception {
    X509ExtendedTrustManager tm = defaultAlgorithm(load(
        DeviceClientTrust.writeTruststore(dir.resolve("t.p12"), PASSWORD, ca.certificate())));

    assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[0], "EC"))
        .isInstanceOf(CertificateException.class);
    assertThatThrownBy(() -> tm.checkServerTrusted(new X509Certificate[] {leaf("CN=server", ca)}, "ECDHE_ECDSA"))
        .isInstanceOf(CertificateException.class);
  }

  @Test
  void jdkDefaultTrustStore_behavesAsPkix() throws Exception {
    X509ExtendedTrustManager tm = defaultAlgorithm(null);
    X509Certificate[] untrusted = {leaf("CN=server", otherCa), otherCa.certificate()};

    assertThat(tm.getClass()).isEqualTo(pkix(null).getClass());
    assertThat(tm.getAcceptedIssuers()).hasSameSizeAs(pkix(null).getAcceptedIssuers()).isNotEmpty();
    assertThatThrownBy(() -> tm.checkServerTrusted(untrusted, "ECDHE_ECDSA")).isInstanceOf(CertificateException.class);
    assertThatThrownBy(() -> tm.checkClientTrusted(untrusted, "EC")).isInstanceOf(CertificateException.class);
  }

  @Test
  void otherTrustStore_behavesAsPkix() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("ca", ca.certificate());
    X509ExtendedTrustManager tm = defaultAlgorithm(store);

    tm.checkServerTrusted(new X509Certificate[] {leaf("CN=server", ca), ca.certificate()}, "ECDHE_ECDSA");
    tm.checkClientTrusted(new X509Certificate[] {leaf("CN=device-2", ca)}, "EC");
    assertThat(tm.getAcceptedIssuers()).containsExactly(ca.certificate());
    assertThatThrownBy(() -> tm.checkServerTrusted(new X509Certificate[] {leaf("CN=server", otherCa)}, "ECDHE_ECDSA"))
        .isInstanceOf(CertificateException.class);
    assertThatThrownBy(() -> tm.checkClientTrusted(new X509Certificate[] {leaf("CN=device-3", otherCa)}, "EC"))
        .isInstanceOf(CertificateException.class);
  }

  private static X509ExtendedTrustManager defaultAlgorithm(@Nullable KeyStore store) throws Exception {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    assertThat(factory.getAlgorithm()).isEqualTo(DeviceClientTrust.ALGORITHM);
    factory.init(store);
    return single(factory.getTrustManagers());
  }

  private static X509ExtendedTrustManager pkix(@Nullable KeyStore store) throws Exception {
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    factory.init(store);
    return single(factory.getTrustManagers());
  }

  private static X509ExtendedTrustManager single(TrustManager[] managers) {
    assertThat(managers).hasSize(1);
    assertThat(managers[0]).isInstanceOf(X509TrustManager.class);
    return (X509ExtendedTrustManager) managers[0];
  }

  private static KeyStore load(Path file) throws Exception {
    KeyStore store = KeyStore.getInstance("JKS"); // as HiveMQ loads it (the JDK reads PKCS#12 as "JKS")
    try (InputStream in = Files.newInputStream(file)) {
      store.load(in, PASSWORD);
    }
    return store;
  }

  private static Issued newCa(String subject) {
    KeyPair keys = Certificates.newEcKeyPair();
    Instant now = Instant.now();
    X509Certificate certificate = Certificates.template(subject, keys.getPublic()).selfSigned(keys.getPrivate())
        .validity(now.minus(Duration.ofHours(1)), Duration.ofDays(2)).ca().issue();
    return new Issued(certificate, keys);
  }

  private static X509Certificate leaf(String subject, Issued issuer) {
    KeyPair keys = Certificates.newEcKeyPair();
    return Certificates.template(subject, keys.getPublic())
        .issuedBy(issuer.certificate(), issuer.keys().getPrivate())
        .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(1))
        .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH, CertificateTemplate.Usage.SERVER_AUTH)
        .issue();
  }
}
