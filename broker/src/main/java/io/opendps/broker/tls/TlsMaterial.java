package io.opendps.broker.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS identity: a private CA and a server certificate issued by it, persisted in
 * {@code <dataDir>/tls/}.
 *
 * <p>Files: {@code ca.pem} (CA certificate), {@code ca-key.pem} (its PKCS#8 key), {@code server.pem} (server
 * certificate followed by the CA certificate) and {@code server-key.pem} (its PKCS#8 key). Key files get mode
 * {@code 0600} where the file system is POSIX. The CA is created once and never replaced, because devices trust it;
 * the server certificate is reissued by that CA whenever it does not cover a requested host name, is not valid yet,
 * expires within 30 days, or does not belong to the stored CA or key.
 *
 * <p>Thread safety: immutable and thread-safe. {@link #loadOrCreate} itself must not run concurrently for the same
 * data directory (from this or another process). Null: no parameter or result is null. Failures: unreadable or
 * corrupt files, a CA key that does not match its certificate, and I/O or provider errors throw the unchecked
 * {@link TlsMaterialException}, whose message names the file and what is wrong. Logs name files and SHA-256
 * thumbprints, never keys or certificates.
 */
public final class TlsMaterial {

  /** The alias of the key entry in the keystore written by {@link #writePkcs12}. */
  public static final String PKCS12_ALIAS = "opendps";

  static final String TLS_DIRECTORY = "tls";
  static final String CA_CERTIFICATE_FILE = "ca.pem";
  static final String CA_KEY_FILE = "ca-key.pem";
  static final String SERVER_CERTIFICATE_FILE = "server.pem";
  static final String SERVER_KEY_FILE = "server-key.pem";
  static final Duration BACKDATE = Duration.ofHours(1);
  static final int CA_VALIDITY_YEARS = 10;
  static final Duration SERVER_VALIDITY = Duration.ofDays(825);
  static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private static final Logger LOG = LoggerFactory.getLogger(TlsMaterial.class);
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  /** A certificate and its private key. */
  private record Identity(X509Certificate certificate, PrivateKey privateKey) {}

  private final Path caCertificatePath;
  private final X509Certificate caCertificate;
  private final X509Certificate serverCertificate;
  private final PrivateKey serverPrivateKey;
  private final List<X509Certificate> serverChain;

  private TlsMaterial(Path caCertificatePath, Identity ca, Identity server) {
    this.caCertificatePath = caCertificatePath;
    this.caCertificate = ca.certificate();
    this.serverCertificate = server.certificate();
    this.serverPrivateKey = server.privateKey();
    this.serverChain = List.of(server.certificate(), ca.certificate());
  }

  /**
   * Loads the TLS material from {@code dataDir/tls/}, creating whatever is missing or due (see the class comment).
   *
   * @param dataDir the server's data directory; {@code tls/} is created inside it if missing
   * @param hostNames names clients use to reach the server, DNS names or IP literals; the first one becomes the
   *     server certificate's common name ({@code localhost} if empty). {@code localhost}, {@code 127.0.0.1} and
   *     {@code ::1} are always covered.
   * @param clock the source of "now" for validity periods and expiry checks
   * @throws IllegalArgumentException if a host name is neither an IP literal nor a valid DNS name
   * @throws TlsMaterialException if a file is unreadable or corrupt, exactly one of the CA files exists, the CA key
   *     does not match the CA certificate, or a file cannot be written
   */
  public static TlsMaterial loadOrCreate(Path dataDir, List<String> hostNames, Clock clock) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(clock, "clock");
    List<String> sans = HostNames.withDefaults(Objects.requireNonNull(hostNames, "hostNames"));
    String commonName = hostNames.isEmpty() ? "localhost" : HostNames.normalize(hostNames.get(0));
    Path dir = dataDir.resolve(TLS_DIRECTORY);
    TlsFiles.createDirectory(dir);
    Instant now = clock.instant();
    Identity ca = loadOrCreateCa(dir, now);
    @Nullable Identity server = loadServer(dir);
    @Nullable String reason = server == null ? "no stored server certificate" : reissueReason(server, ca, sans, now);
    if (server == null || reason != null) {
      server = issueServer(dir, ca, commonName, sans, now, reason);
    } else {
      X509Certificate reused = server.certificate();
      LOG.info("reusing TLS server certificate [file: {}, sha256: {}, not-after: {}]",
          dir.resolve(SERVER_CERTIFICATE_FILE), sha256Thumbprint(reused), reused.getNotAfter().toInstant());
    }
    return new TlsMaterial(dir.resolve(CA_CERTIFICATE_FILE), ca, server);
  }

  /** The PEM file holding the CA certificate, to hand to devices and clients. */
  public Path caCertificatePath() {
    return caCertificatePath;
  }

  /** The CA certificate that issued the server certificate. */
  public X509Certificate caCertificate() {
    return caCertificate;
  }

  /** The server's leaf certificate. */
  public X509Certificate serverCertificate() {
    return serverCertificate;
  }

  /** The server certificate's private key. Never log it. */
  public PrivateKey serverPrivateKey() {
    return serverPrivateKey;
  }

  /** The server chain, leaf first, then the CA certificate. Unmodifiable. */
  public List<X509Certificate> serverChain() {
    return serverChain;
  }

  /**
   * Writes a PKCS#12 keystore holding the server key and chain under the alias {@value #PKCS12_ALIAS}, e.g. for
   * HiveMQ's TLS listener. The keystore and the key entry share {@code password}. The file is replaced atomically
   * and gets mode {@code 0600} where POSIX; parent directories are created.
   *
   * @return {@code file}
   * @throws TlsMaterialException if the keystore cannot be built or written
   */
  public Path writePkcs12(Path file, char[] password) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(password, "password");
    try {
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(null, null);
      keyStore.setKeyEntry(PKCS12_ALIAS, serverPrivateKey, password, serverChain.toArray(X509Certificate[]::new));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      keyStore.store(out, password);
      TlsFiles.write(file, out.toByteArray(), true);
      return file;
    } catch (GeneralSecurityException | IOException e) {
      throw new TlsMaterialException(file + ": cannot build the PKCS#12 keystore (" + e + ")", e);
    }
  }

  /**
   * A Netty server context with the JDK provider, TLSv1.3 and TLSv1.2, the JDK's default cipher suites and the
   * server chain. With {@link ClientAuth#OPTIONAL} or {@link ClientAuth#REQUIRE}, any client certificate chain is let
   * through the handshake (the client only proves possession of the leaf key): the caller must validate the peer
   * chain from the {@code SSLSession} before trusting it. Each call builds a new context.
   *
   * @throws TlsMaterialException if the context cannot be built
   */
  public SslContext nettyServerContext(ClientAuth clientAuth) {
    Objects.requireNonNull(clientAuth, "clientAuth");
    SslContextBuilder builder = SslContextBuilder.forServer(serverPrivateKey, serverChain)
        .sslProvider(SslProvider.JDK)
        .protocols(PROTOCOLS)
        .clientAuth(clientAuth);
    if (clientAuth != ClientAuth.NONE) {
      builder.trustManager(new DeferredClientTrustManager());
    }
    try {
      return builder.build();
    } catch (SSLException e) {
      throw new TlsMaterialException("cannot build the Netty server TLS context (" + e + ")", e);
    }
  }

  /**
   * A client {@code SSLContext} (protocol {@code "TLS"}) that trusts only the CA certificates in a PEM file. Host
   * name verification is up to the caller ({@code SSLParameters.setEndpointIdentificationAlgorithm("HTTPS")}).
   *
   * @throws TlsMaterialException naming the file if it cannot be read or holds no certificate
   */
  public static SSLContext trustingClientContext(Path caPem) {
    return trustingClientContext(Certificates.readCertificates(caPem));
  }

  /** A client {@code SSLContext} (protocol {@code "TLS"}) that trusts only {@code ca}. */
  public static SSLContext trustingClientContext(X509Certificate ca) {
    return trustingClientContext(List.of(ca));
  }

  /** The SHA-256 thumbprint of a certificate, upper-case hex: what to log instead of the certificate. */
  public static String sha256Thumbprint(X509Certificate cert) {
    return Certificates.sha256Thumbprint(cert);
  }

  private static SSLContext trustingClientContext(Collection<X509Certificate> trusted) {
    try {
      KeyStore trustStore = KeyStore.getInstance("PKCS12");
      trustStore.load(null, null);
      int index = 0;
      for (X509Certificate ca : trusted) {
        trustStore.setCertificateEntry("ca-" + index++, ca);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
      factory.init(trustStore);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new TlsMaterialException("cannot build a client TLS context (" + e + ")", e);
    }
  }

  private static Identity loadOrCreateCa(Path dir, Instant now) {
    Path certFile = dir.resolve(CA_CERTIFICATE_FILE);
    Path keyFile = dir.resolve(CA_KEY_FILE);
    boolean hasCert = Files.exists(certFile);
    boolean hasKey = Files.exists(keyFile);
    if (!hasCert && !hasKey) {
      return createCa(certFile, keyFile, now);
    }
    if (hasCert != hasKey) {
      throw new TlsMaterialException((hasCert ? keyFile : certFile) + ": is missing but " + (hasCert ? certFile
          : keyFile) + " exists; restore it, or delete both to create a new CA (devices must then trust the new CA)");
    }
    Identity ca = new Identity(Certificates.readCertificates(certFile).get(0), Certificates.readPrivateKey(keyFile));
    checkCa(ca, certFile, keyFile, now);
    LOG.info("loaded TLS certificate authority [file: {}, sha256: {}, not-after: {}]", certFile,
        sha256Thumbprint(ca.certificate()), ca.certificate().getNotAfter().toInstant());
    return ca;
  }

  private static void checkCa(Identity ca, Path certFile, Path keyFile, Instant now) {
    if (ca.certificate().getBasicConstraints() < 0) {
      throw new TlsMaterialException(certFile + ": is not a CA certificate (basicConstraints CA:true missing)");
    }
    if (!Certificates.keyMatches(ca.privateKey(), ca.certificate())) {
      throw new TlsMaterialException(keyFile + ": is not the private key of the certificate in " + certFile);
    }
    TlsFiles.warnIfNotPrivate(keyFile);
    Instant notAfter = ca.certificate().getNotAfter().toInstant();
    if (notAfter.minus(RENEW_BEFORE).isBefore(now)) {
      LOG.warn("TLS certificate authority expires soon or has expired; it is never replaced automatically "
          + "[file: {}, not-after: {}]", certFile, notAfter);
    }
  }

  private static Identity createCa(Path certFile, Path keyFile, Instant now) {
    KeyPair keys = Certificates.newEcKeyPair();
    Instant notBefore = now.minus(BACKDATE);
    Instant notAfter = notBefore.atOffset(ZoneOffset.UTC).plusYears(CA_VALIDITY_YEARS).toInstant();
    X509Certificate certificate = Certificates
        .template("CN=OpenDPS Local CA " + Certificates.randomHex(4) + ", O=OpenDPS", keys.getPublic())
        .selfSigned(keys.getPrivate())
        .validity(notBefore, notAfter)
        .ca()
        .issue();
    TlsFiles.write(keyFile, Certificates.toPem(keys.getPrivate()), true);
    TlsFiles.write(certFile, Certificates.toPem(certificate), false);
    LOG.info("created TLS certificate authority [file: {}, subject: {}, sha256: {}, not-after: {}]", certFile,
        certificate.getSubjectX500Principal().getName(), sha256Thumbprint(certificate),
        certificate.getNotAfter().toInstant());
    return new Identity(certificate, keys.getPrivate());
  }

  private static @Nullable Identity loadServer(Path dir) {
    Path certFile = dir.resolve(SERVER_CERTIFICATE_FILE);
    Path keyFile = dir.resolve(SERVER_KEY_FILE);
    if (!Files.exists(certFile) || !Files.exists(keyFile)) {
      return null;
    }
    X509Certificate leaf = Certificates.readCertificates(certFile).get(0);
    PrivateKey key = Certificates.readPrivateKey(keyFile);
    TlsFiles.warnIfNotPrivate(keyFile);
    return new Identity(leaf, key);
  }

  /** Why the stored server certificate must be replaced, or {@code null} if it can be reused. */
  private static @Nullable String reissueReason(Identity server, Identity ca, List<String> hostNames, Instant now) {
    X509Certificate certificate = server.certificate();
    if (!isIssuedBy(certificate, ca.certificate())) {
      return "stored server certificate was not issued by the stored CA";
    }
    if (!Certificates.keyMatches(server.privateKey(), certificate)) {
      return "stored server key does not match the stored server certificate";
    }
    if (now.isBefore(certificate.getNotBefore().toInstant())) {
      return "stored server certificate is not valid yet";
    }
    if (certificate.getNotAfter().toInstant().minus(RENEW_BEFORE).isBefore(now)) {
      return "stored server certificate expires within " + RENEW_BEFORE.toDays() + " days";
    }
    List<String> missing = HostNames.notCoveredBy(certificate, hostNames);
    return missing.isEmpty() ? null : "stored server certificate does not cover " + missing;
  }

  private static boolean isIssuedBy(X509Certificate certificate, X509Certificate ca) {
    if (!certificate.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return false;
    }
    try {
      certificate.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static Identity issueServer(Path dir, Identity ca, String commonName, List<String> sans, Instant now,
      @Nullable String reason) {
    KeyPair keys = Certificates.newEcKeyPair();
    Instant caNotBefore = ca.certificate().getNotBefore().toInstant();
    Instant caNotAfter = ca.certificate().getNotAfter().toInstant();
    Instant notBefore = latest(now.minus(BACKDATE), caNotBefore);
    Instant notAfter = earliest(notBefore.plus(SERVER_VALIDITY), caNotAfter);
    X509Certificate certificate = Certificates.template(Certificates.commonName(commonName), keys.getPublic())
        .issuedBy(ca.certificate(), ca.privateKey())
        .validity(notBefore, notAfter)
        .subjectAlternativeNames(sans)
        .extendedKeyUsages(CertificateTemplate.Usage.SERVER_AUTH)
        .issue();
    TlsFiles.write(dir.resolve(SERVER_KEY_FILE), Certificates.toPem(keys.getPrivate()), true);
    TlsFiles.write(dir.resolve(SERVER_CERTIFICATE_FILE), Certificates.toPem(certificate, ca.certificate()), false);
    LOG.info("issued TLS server certificate [reason: {}, hosts: {}, sha256: {}, not-after: {}]", reason, sans,
        sha256Thumbprint(certificate), certificate.getNotAfter().toInstant());
    return new Identity(certificate, keys.getPrivate());
  }

  private static Instant latest(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant earliest(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
