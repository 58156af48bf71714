package io.opendps.broker.tls;

import java.security.InvalidAlgorithmParameterException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.TrustManagerFactorySpi;
import org.jspecify.annotations.Nullable;

/**
 * The trust manager factory behind {@link DeviceClientTrust#ALGORITHM}. Initialised with a trust store that holds
 * the entry {@link DeviceClientTrust#MARKER_ALIAS} (the one OpenDPS writes for its device listener), it hands out a
 * {@link DeferredClientTrustManager}: any client chain passes the handshake, no issuers are advertised. Initialised
 * with anything else ({@code null} for the JDK's default trust store, any other key store, or
 * {@link ManagerFactoryParameters}), it is exactly the factory of the algorithm that was the JVM default before
 * installation (PKIX unless configured otherwise), so every other TLS user in the JVM sees no difference.
 *
 * <p>One instance per {@link TrustManagerFactory#getInstance} call, used by one thread, as the JCA expects.
 */
final class DeviceTrustManagerFactory extends TrustManagerFactorySpi {

  private final TrustManagerFactory delegate;
  private boolean deferred;

  DeviceTrustManagerFactory(TrustManagerFactory delegate) {
    this.delegate = delegate;
  }

  @Override
  protected void engineInit(@Nullable KeyStore keyStore) throws KeyStoreException {
    deferred = keyStore != null && keyStore.containsAlias(DeviceClientTrust.MARKER_ALIAS);
    if (!deferred) {
      delegate.init(keyStore);
    }
  }

  @Override
  protected void engineInit(ManagerFactoryParameters parameters) throws InvalidAlgorithmParameterException {
    deferred = false;
    delegate.init(parameters);
  }

  @Override
  protected TrustManager[] engineGetTrustManagers() {
    return deferred ? new TrustManager[] {new DeferredClientTrustManager()} : delegate.getTrustManagers();
  }
}
