package io.opendps.broker.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real TLS handshakes over loopback against a Netty server built from {@link TlsMaterial#nettyServerContext}. */
@Timeout(60)
class TlsHandshakeTest {

  private static final int TIMEOUT_MILLIS = 5_000;

  @TempDir Path dataDir;

  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private @Nullable Channel server;
  private final CompletableFuture<SSLSession> serverSession = new CompletableFuture<>();
  private TlsMaterial material;

  @BeforeEach
  void createMaterial() {
    material = TlsMaterial.loadOrCreate(dataDir, List.of("broker.example.com"), Clock.systemUTC());
  }

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.close().awaitUninterruptibly(TIMEOUT_MILLIS);
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(TIMEOUT_MILLIS);
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost", "127.0.0.1", "::1", "broker.example.com"})
  void handshake_coveredHostWithHostnameVerification_succeeds(String host) throws Exception {
    int port = startServer(ClientAuth.NONE);
    SSLContext client = TlsMaterial.trustingClientContext(material.caCertificatePath());

    try (SSLSocket socket = connect(client, host, port)) {
      assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
      assertThat(socket.getSession().getPeerCertificates()[0]).isEqualTo(material.serverCertificate());
    }
  }

  @Test
  void handshake_hostNotCoveredByCertificate_fails() throws Exception {
    int port = startServer(ClientAuth.NONE);
    SSLContext client = TlsMaterial.trustingClientContext(material.caCertificate());

    assertThatThrownBy(() -> connect(client, "other.example.com", port).close()).isInstanceOf(SSLException.class);
  }

  @Test
  void handshake_clientTrustingAnotherCa_fails(@TempDir Path otherDataDir) throws Exception {
    int port = startServer(ClientAuth.NONE);
    TlsMaterial other = TlsMaterial.loadOrCreate(otherDataDir, List.of(), Clock.systemUTC());
    SSLContext client = TlsMaterial.trustingClientContext(other.caCertificatePath());

    assertThatThrownBy(() -> connect(client, "localhost", port).close()).isInstanceOf(SSLException.class);
  }

  @Test
  void handshake_tls12OnlyClient_succeeds() throws Exception {
    int port = startServer(ClientAuth.NONE);
    SSLContext client = TlsMaterial.trustingClientContext(material.caCertificate());

    try (SSLSocket socket = connect(client, "localhost", port, "TLSv1.2")) {
      assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
    }
    assertThat(serverSession.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).getProtocol()).isEqualTo("TLSv1.2");
  }

  @Test
  void handshake_tls11OnlyClient_fails() throws Exception {
    int port = startServer(ClientAuth.NONE);
    SSLContext client = TlsMaterial.trustingClientContext(material.caCertificate());

    assertThatThrownBy(() -> connect(client, "localhost", port, "TLSv1.1").close()).isInstanceOf(SSLException.class);
  }

  @Test
  void handshake_requiredClientCertificateFromUnknownCa_reachesServerForLaterValidation() throws Exception {
    int port = startServer(ClientAuth.REQUIRE);
    KeyPair deviceCaKeys = Certificates.newEcKeyPair();
    Instant now = Instant.now();
    X509Certificate deviceCa = Certificates.template("CN=Device CA", deviceCaKeys.getPublic())
        .selfSigned(deviceCaKeys.getPrivate()).validity(now.minusSeconds(60), Duration.ofDays(1)).ca(0).issue();
    KeyPair deviceKeys = Certificates.newEcKeyPair();
    X509Certificate device = Certificates.template("CN=device-1", deviceKeys.getPublic())
        .issuedBy(deviceCa, deviceCaKeys.getPrivate()).validity(now.minusSeconds(60), Duration.ofDays(1))
        .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH).issue();
    SSLContext client = clientWithKey(deviceKeys, device, deviceCa);

    try (SSLSocket socket = connect(client, "localhost", port)) {
      assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
      Certificate[] peerChain = serverSession.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).getPeerCertificates();
      assertThat(peerChain).containsExactly(device, deviceCa);
    }
  }

  @Test
  void handshake_requiredClientCertificateMissing_failsOnServer() throws Exception {
    int port = startServer(ClientAuth.REQUIRE);
    SSLContext client = TlsMaterial.trustingClientContext(material.caCertificate());

    try (SSLSocket socket = connect(client, "localhost", port)) {
      socket.getInputStream().read(); // TLS 1.3: the server's alert arrives after the client's handshake is done
    } catch (IOException expected) {
      // the client sees the alert or a closed connection; the server-side outcome is what matters
    }
    assertThatThrownBy(() -> serverSession.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS))
        .isInstanceOf(ExecutionException.class);
  }

  private int startServer(ClientAuth clientAuth) {
    SslContext context = material.nettyServerContext(clientAuth);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            SslHandler ssl = context.newHandler(channel.alloc());
            ssl.handshakeFuture().addListener(done -> {
              if (done.isSuccess()) {
                serverSession.complete(ssl.engine().getSession());
              } else {
                serverSession.completeExceptionally(done.cause());
              }
            });
            channel.pipeline().addLast(ssl);
          }
        });
    ChannelFuture bind = bootstrap.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    assertThat(bind.awaitUninterruptibly(TIMEOUT_MILLIS)).as("bind within timeout").isTrue();
    assertThat(bind.isSuccess()).as("bind succeeded").isTrue();
    server = bind.channel();
    return ((InetSocketAddress) bind.channel().localAddress()).getPort();
  }

  /** Connects over loopback but verifies the server against {@code host}, as a client that dialled it would. */
  private static SSLSocket connect(SSLContext context, String host, int port, String... protocols)
      throws IOException {
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
    plain.setSoTimeout(TIMEOUT_MILLIS);
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
    try {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      if (protocols.length > 0) {
        parameters.setProtocols(protocols);
      }
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private SSLContext clientWithKey(KeyPair keys, X509Certificate... chain) throws Exception {
    char[] password = "device".toCharArray();
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    keyStore.setKeyEntry("device", keys.getPrivate(), password, chain);
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keyStore, password);
    KeyStore trustStore = KeyStore.getInstance("PKCS12");
    trustStore.load(null, null);
    trustStore.setCertificateEntry("ca", material.caCertificate());
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
    trustManagers.init(trustStore);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    return context;
  }
}
