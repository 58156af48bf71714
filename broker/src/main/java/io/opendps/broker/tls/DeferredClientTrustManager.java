package io.opendps.broker.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A server-side trust manager that lets any non-empty client certificate chain through the TLS handshake, so that
 * the application can decide afterwards: devices present certificates from whatever CAs their enrollment groups name,
 * which the TLS layer cannot know. The handshake only proves that the client holds the leaf's private key; whoever
 * reads the peer chain from the session must validate it. It advertises no acceptable issuers (an empty
 * {@code certificate_authorities} list, so JDK clients offer their certificate whatever its CA), and refuses to be used
 * for checking servers. Used by {@link TlsMaterial#nettyServerContext} and, for HiveMQ's device listener, by
 * {@link DeviceClientTrust}. Stateless and thread-safe.
 */
final class DeferredClientTrustManager extends X509ExtendedTrustManager {

  private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("client sent an empty certificate chain");
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("this trust manager only accepts client certificates");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return NO_ISSUERS; // empty, so sharing it is safe
  }
}
