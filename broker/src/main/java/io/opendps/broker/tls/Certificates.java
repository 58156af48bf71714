package io.opendps.broker.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Reusable X.509 helpers built on BouncyCastle: EC key pairs, issuing CA and end-entity certificates, PEM encoding
 * and decoding, thumbprints.
 *
 * <p>Typical use, e.g. a device certificate in a test:
 *
 * <pre>{@code
 * KeyPair deviceKeys = Certificates.newEcKeyPair();
 * X509Certificate device = Certificates.issue(
 *     Certificates.template("CN=device-1", deviceKeys.getPublic())
 *         .issuedBy(caCertificate, caPrivateKey)
 *         .validity(now, Duration.ofDays(30))
 *         .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH));
 * }</pre>
 *
 * <p>Thread safety: the static methods are stateless and thread-safe; a {@link CertificateTemplate} is a mutable
 * builder for use by one thread. Null: no parameter may be null unless marked {@code @Nullable}. Failures: bad
 * arguments throw {@link IllegalArgumentException} or {@link IllegalStateException}; unparseable PEM and crypto
 * provider failures throw {@link TlsMaterialException} naming the source. Only the JDK's own providers are used; BouncyCastle is not
 * registered as a JCA provider.
 */
public final class Certificates {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int SERIAL_BYTES = 16;

  private Certificates() {}

  /** A new EC key pair on curve P-256 (secp256r1). */
  public static KeyPair newEcKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new TlsMaterialException("cannot generate an EC P-256 key pair", e);
    }
  }

  /**
   * A new RSA key pair.
   *
   * @param bits modulus length, at least 2048
   */
  public static KeyPair newRsaKeyPair(int bits) {
    if (bits < 2048) {
      throw new IllegalArgumentException("RSA keys need at least 2048 bits [bits: " + bits + "]");
    }
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(bits, RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new TlsMaterialException("cannot generate an RSA key pair", e);
    }
  }

  /**
   * Starts a certificate template.
   *
   * @param subjectDn the subject distinguished name as the JDK's {@link X500Principal} reads it, e.g.
   *     {@code "CN=device-1, O=Acme"}; {@code getSubjectX500Principal().getName()} gives it back in RFC 2253 form
   * @param subjectPublicKey the key the certificate certifies
   * @throws IllegalArgumentException if the name cannot be parsed
   */
  public static CertificateTemplate template(String subjectDn, PublicKey subjectPublicKey) {
    return new CertificateTemplate(X500Name.getInstance(new X500Principal(subjectDn).getEncoded()), subjectPublicKey);
  }

  /** Starts a certificate template with an already built subject name. */
  public static CertificateTemplate template(X500Name subject, PublicKey subjectPublicKey) {
    return new CertificateTemplate(subject, subjectPublicKey);
  }

  /** A subject name with a single common name, with no escaping pitfalls (host names may contain {@code :}). */
  public static X500Name commonName(String cn) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
  }

  /**
   * Issues (signs) the certificate described by a template.
   *
   * @throws IllegalStateException if the template has no issuer or no validity
   * @throws TlsMaterialException if signing fails
   */
  public static X509Certificate issue(CertificateTemplate template) {
    return template.issue();
  }

  /** A random positive serial number of exactly 16 bytes. */
  public static BigInteger randomSerialNumber() {
    byte[] bytes = new byte[SERIAL_BYTES];
    RANDOM.nextBytes(bytes);
    bytes[0] = (byte) ((bytes[0] & 0x7f) | 0x40);
    return new BigInteger(1, bytes);
  }

  /** {@code n} random bytes as lower-case hex, e.g. to make names unique. */
  public static String randomHex(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /**
   * The default signature algorithm for an issuer key: SHA256withECDSA for EC, SHA256withRSA for RSA.
   *
   * @throws IllegalArgumentException for any other key algorithm
   */
  public static String signatureAlgorithmFor(PrivateKey issuerKey) {
    String algorithm = issuerKey.getAlgorithm();
    return switch (algorithm) {
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> throw new IllegalArgumentException("unsupported key algorithm [algorithm: " + algorithm + "]");
    };
  }

  /** Whether {@code privateKey} is the private half of the key certified by {@code certificate}. */
  public static boolean keyMatches(PrivateKey privateKey, X509Certificate certificate) {
    try {
      byte[] challenge = randomHex(32).getBytes(StandardCharsets.US_ASCII);
      String algorithm = signatureAlgorithmFor(privateKey);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(challenge);
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signer.sign());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** The SHA-256 thumbprint of the DER encoding, upper-case hex without separators. Safe to log. */
  public static String sha256Thumbprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return HexFormat.of().withUpperCase().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new TlsMaterialException("cannot compute a SHA-256 thumbprint", e);
    }
  }

  /** Certificates as concatenated PEM {@code CERTIFICATE} blocks, in the given order. */
  public static String toPem(X509Certificate... certificates) {
    return toPem(Arrays.asList(certificates));
  }

  /** Certificates as concatenated PEM {@code CERTIFICATE} blocks, in the given order. */
  public static String toPem(List<X509Certificate> certificates) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (X509Certificate certificate : certificates) {
        writer.writeObject(certificate);
      }
    } catch (IOException e) {
      throw new TlsMaterialException("cannot PEM-encode a certificate", e);
    }
    return out.toString();
  }

  /** A private key as an unencrypted PKCS#8 PEM {@code PRIVATE KEY} block. The result is secret. */
  public static String toPem(PrivateKey privateKey) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new JcaPKCS8Generator(privateKey, null));
    } catch (IOException e) {
      throw new TlsMaterialException("cannot PEM-encode a private key", e);
    }
    return out.toString();
  }

  /**
   * Reads every {@code CERTIFICATE} block of a PEM file, in file order.
   *
   * @throws TlsMaterialException naming the file if it cannot be read, holds no certificate, or holds anything else
   */
  public static List<X509Certificate> readCertificates(Path file) {
    return parseCertificates(readFile(file), file.toString());
  }

  /**
   * Reads the single private key of a PEM file: PKCS#8 {@code PRIVATE KEY}, or a traditional {@code EC/RSA PRIVATE
   * KEY}. Encrypted keys are not supported.
   *
   * @throws TlsMaterialException naming the file if it cannot be read or holds no usable private key
   */
  public static PrivateKey readPrivateKey(Path file) {
    return parsePrivateKey(readFile(file), file.toString());
  }

  /** Like {@link #readCertificates(Path)}, for PEM text; {@code source} names it in error messages. */
  public static List<X509Certificate> parseCertificates(String pem, String source) {
    List<X509Certificate> certificates = new ArrayList<>();
    for (Object object : parsePem(pem, source)) {
      if (!(object instanceof X509CertificateHolder holder)) {
        throw new TlsMaterialException(source + ": expected only CERTIFICATE blocks, found " + describe(object));
      }
      certificates.add(toCertificate(holder, source));
    }
    if (certificates.isEmpty()) {
      throw new TlsMaterialException(source + ": contains no PEM CERTIFICATE block");
    }
    return List.copyOf(certificates);
  }

  /** Like {@link #readPrivateKey(Path)}, for PEM text; {@code source} names it in error messages. */
  public static PrivateKey parsePrivateKey(String pem, String source) {
    List<Object> objects = parsePem(pem, source);
    if (objects.size() != 1) {
      throw new TlsMaterialException(source + ": expected exactly one PEM private key block, found " + objects.size());
    }
    Object object = objects.get(0);
    try {
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
    } catch (IOException | RuntimeException e) {
      throw new TlsMaterialException(source + ": the private key cannot be decoded", e);
    }
    throw new TlsMaterialException(source + ": expected an unencrypted private key, found " + describe(object));
  }

  private static String readFile(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw new TlsMaterialException(file + ": cannot be read (" + e + ")", e);
    }
  }

  private static List<Object> parsePem(String pem, String source) {
    List<Object> objects = new ArrayList<>();
    try (Reader reader = new StringReader(pem);
        PEMParser parser = new PEMParser(reader)) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        objects.add(object);
      }
    } catch (IOException | RuntimeException e) {
      throw new TlsMaterialException(source + ": is not valid PEM (" + e.getMessage() + ")", e);
    }
    return objects;
  }

  private static X509Certificate toCertificate(X509CertificateHolder holder, String source) {
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new TlsMaterialException(source + ": a certificate cannot be decoded", e);
    }
  }

  private static String describe(Object pemObject) {
    return pemObject.getClass().getSimpleName();
  }
}
