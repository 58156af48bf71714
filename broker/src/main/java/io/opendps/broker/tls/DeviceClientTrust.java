package io.opendps.broker.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client-certificate trust for the device listener that HiveMQ runs: ask for a certificate, advertise no issuers
 * (an empty {@code certificate_authorities} list) and let any chain through the handshake, which then proves only
 * that the device holds the leaf's private key; the registrar validates the chain against enrollments afterwards.
 *
 * <p>Why a JCA provider: HiveMQ CE builds the listener's {@code SslContext} itself ({@code SslContextFactory}, via
 * {@code SslUtil.getTrustManagerFactory}) and offers no hook for a trust manager. With a {@code <truststore>} it
 * calls {@code TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())} and {@code init(store)};
 * without one, Netty does the same with {@code init(null)}, i.e. the JDK's {@code cacerts}: about a hundred public
 * roots are advertised (Java devices then send no certificate) and device chains from private CAs fail the
 * handshake. So {@link #install} registers a provider with the factory {@value #ALGORITHM} and makes it the default
 * algorithm (security property {@value #DEFAULT_ALGORITHM_PROPERTY}); {@link #writeTruststore} writes the trust
 * store the listener is configured with. The factory is permissive only for a trust store holding the entry
 * {@value #MARKER_ALIAS}; initialised any other way it is the JVM's previous default factory (PKIX), so server
 * certificate checks by HTTPS clients, MQTT clients and the JDK's default {@code SSLContext}, and client checks by
 * any other server, are unchanged. HiveMQ rebuilds the context when its key or trust store file changes, so the
 * provider stays installed for the life of the JVM.
 *
 * <p>Residual global effect: {@code TrustManagerFactory.getDefaultAlgorithm()} returns {@value #ALGORITHM} after
 * installation; code that asks a named provider for it ({@code getInstance(getDefaultAlgorithm(), "SunJSSE")})
 * would not find it. Thread-safe.
 */
public final class DeviceClientTrust {

  /** The trust manager factory algorithm registered by {@link #install}. */
  public static final String ALGORITHM = "OpenDPS-DeviceClientTrust";

  /** The trust store entry that selects the permissive device trust (see {@link #writeTruststore}). */
  public static final String MARKER_ALIAS = "opendps-device-client-trust";

  /** The JCA provider name. */
  public static final String PROVIDER_NAME = "OpenDPS";

  static final String DEFAULT_ALGORITHM_PROPERTY = "ssl.TrustManagerFactory.algorithm";
  private static final String FALLBACK_ALGORITHM = "PKIX";
  private static final Logger LOG = LoggerFactory.getLogger(DeviceClientTrust.class);

  private DeviceClientTrust() {}

  /**
   * Registers the provider and makes {@value #ALGORITHM} the default trust manager factory algorithm, delegating to
   * the previous default for everything but the device trust store. Idempotent; call it before the broker builds
   * its TLS context.
   */
  public static synchronized void install() {
    String current = TrustManagerFactory.getDefaultAlgorithm();
    if (Security.getProvider(PROVIDER_NAME) == null) {
      String delegate = ALGORITHM.equals(current) ? FALLBACK_ALGORITHM : current;
      Security.addProvider(new TrustProvider(delegate));
      LOG.debug("registered the device client trust provider [algorithm: {}, delegate: {}]", ALGORITHM, delegate);
    }
    if (!ALGORITHM.equals(current)) {
      Security.setProperty(DEFAULT_ALGORITHM_PROPERTY, ALGORITHM);
    }
  }

  /** Whether {@link #install} has taken effect: the provider is present and its algorithm is the default. */
  public static boolean isInstalled() {
    return Security.getProvider(PROVIDER_NAME) != null && ALGORITHM.equals(TrustManagerFactory.getDefaultAlgorithm());
  }

  /**
   * Writes the PKCS#12 trust store for the device listener: {@code certificate} under {@value #MARKER_ALIAS}. With
   * the provider installed the entry only selects the permissive trust; without it, a listener would trust just that
   * certificate (the server's own CA), failing closed. Replaced atomically, mode {@code 0600} where POSIX.
   *
   * @return {@code file}
   * @throws TlsMaterialException if the trust store cannot be built or written
   */
  public static Path writeTruststore(Path file, char[] password, X509Certificate certificate) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(certificate, "certificate");
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry(MARKER_ALIAS, certificate);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      store.store(out, password);
      TlsFiles.write(file, out.toByteArray(), true);
      return file;
    } catch (GeneralSecurityException | IOException e) {
      throw new TlsMaterialException(file + ": cannot build the device trust store (" + e + ")", e);
    }
  }

  /** The provider: one service, {@code TrustManagerFactory.}{@value #ALGORITHM}. */
  private static final class TrustProvider extends Provider {

    private static final long serialVersionUID = 1L;

    TrustProvider(String delegateAlgorithm) {
      super(PROVIDER_NAME, "1.0", "OpenDPS device client-certificate trust (" + ALGORITHM + ")");
      putService(new FactoryService(this, delegateAlgorithm));
    }
  }

  /** Creates factories directly (no reflection), each over a fresh factory of the delegate algorithm. */
  private static final class FactoryService extends Provider.Service {

    private final String delegateAlgorithm;

    FactoryService(Provider provider, String delegateAlgorithm) {
      super(provider, "TrustManagerFactory", ALGORITHM, DeviceTrustManagerFactory.class.getName(), List.of(),
          Map.of());
      this.delegateAlgorithm = delegateAlgorithm;
    }

    @Override
    public Object newInstance(@Nullable Object constructorParameter) throws NoSuchAlgorithmException {
      return new DeviceTrustManagerFactory(TrustManagerFactory.getInstance(delegateAlgorithm));
    }
  }
}
