package io.opendps.broker.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * Everything that goes into one certificate. Start with {@link Certificates#template}, set an issuer
 * ({@link #selfSigned} or {@link #issuedBy}) and a validity, then call {@link #issue()}.
 *
 * <p>Defaults: end entity ({@code basicConstraints CA:false}, key usage {@code digitalSignature}), no SANs, no
 * extended key usage, a random 16-byte serial, the signature algorithm from {@link Certificates#signatureAlgorithmFor}.
 * Always added: subject key identifier; authority key identifier when issued by a certificate. A CA gets critical
 * {@code basicConstraints CA:true} (with the optional path length) and key usage {@code keyCertSign | cRLSign}.
 *
 * <p>Not thread-safe: a builder for one thread. Can issue several certificates (each gets a fresh random serial
 * unless one was set).
 */
public final class CertificateTemplate {

  /** Extended key usages that {@link #extendedKeyUsages} can put into a certificate. */
  public enum Usage {
    /** {@code id-kp-serverAuth}: TLS server. */
    SERVER_AUTH(KeyPurposeId.id_kp_serverAuth),
    /** {@code id-kp-clientAuth}: TLS client, e.g. a device. */
    CLIENT_AUTH(KeyPurposeId.id_kp_clientAuth);

    private final KeyPurposeId purpose;

    Usage(KeyPurposeId purpose) {
      this.purpose = purpose;
    }
  }

  private final X500Name subject;
  private final PublicKey subjectPublicKey;
  private @Nullable PrivateKey issuerKey;
  private @Nullable X509Certificate issuerCertificate;
  private @Nullable Instant notBefore;
  private @Nullable Instant notAfter;
  private boolean ca;
  private @Nullable Integer pathLength;
  private @Nullable Integer keyUsage;
  private final List<GeneralName> subjectAlternativeNames = new ArrayList<>();
  private final Set<Usage> extendedKeyUsages = EnumSet.noneOf(Usage.class);
  private @Nullable BigInteger serialNumber;
  private @Nullable String signatureAlgorithm;

  CertificateTemplate(X500Name subject, PublicKey subjectPublicKey) {
    this.subject = Objects.requireNonNull(subject, "subject");
    this.subjectPublicKey = Objects.requireNonNull(subjectPublicKey, "subjectPublicKey");
  }

  /** Self-signed: the issuer is the subject, signed with the subject's own private key. */
  public CertificateTemplate selfSigned(PrivateKey subjectPrivateKey) {
    this.issuerKey = Objects.requireNonNull(subjectPrivateKey, "subjectPrivateKey");
    this.issuerCertificate = null;
    return this;
  }

  /** Issued by a CA: its subject becomes the issuer name, its key identifier the authority key identifier. */
  public CertificateTemplate issuedBy(X509Certificate issuerCertificate, PrivateKey issuerKey) {
    this.issuerCertificate = Objects.requireNonNull(issuerCertificate, "issuerCertificate");
    this.issuerKey = Objects.requireNonNull(issuerKey, "issuerKey");
    return this;
  }

  /** Valid from {@code notBefore} to {@code notAfter} (X.509 keeps whole seconds). */
  public CertificateTemplate validity(Instant notBefore, Instant notAfter) {
    if (!notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException("notAfter must be after notBefore");
    }
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    return this;
  }

  /** Valid from {@code notBefore} for {@code duration}. */
  public CertificateTemplate validity(Instant notBefore, Duration duration) {
    return validity(notBefore, notBefore.plus(duration));
  }

  /** A CA without a path length constraint. */
  public CertificateTemplate ca() {
    this.ca = true;
    this.pathLength = null;
    return this;
  }

  /** A CA that may have at most {@code pathLength} intermediate CAs below it. */
  public CertificateTemplate ca(int pathLength) {
    if (pathLength < 0) {
      throw new IllegalArgumentException("pathLength must not be negative");
    }
    this.ca = true;
    this.pathLength = pathLength;
    return this;
  }

  /** Overrides the key usage bits, e.g. {@code KeyUsage.digitalSignature | KeyUsage.keyEncipherment}. */
  public CertificateTemplate keyUsage(int keyUsageBits) {
    this.keyUsage = keyUsageBits;
    return this;
  }

  /** Adds SANs: an IP SAN for each IPv4/IPv6 literal, a DNS SAN for everything else. */
  public CertificateTemplate subjectAlternativeNames(Collection<String> hostNames) {
    for (String host : hostNames) {
      subjectAlternativeNames.add(HostNames.toGeneralName(host));
    }
    return this;
  }

  /** Adds SANs of any kind, e.g. a URI or an e-mail address. */
  public CertificateTemplate subjectAlternativeNames(GeneralName... names) {
    subjectAlternativeNames.addAll(Arrays.asList(names));
    return this;
  }

  /** Adds extended key usages. */
  public CertificateTemplate extendedKeyUsages(Usage... usages) {
    extendedKeyUsages.addAll(Arrays.asList(usages));
    return this;
  }

  /** A fixed serial number instead of a random one. */
  public CertificateTemplate serialNumber(BigInteger serialNumber) {
    if (serialNumber.signum() <= 0) {
      throw new IllegalArgumentException("serial number must be positive");
    }
    this.serialNumber = serialNumber;
    return this;
  }

  /** A JCA signature algorithm name instead of the default for the issuer key. */
  public CertificateTemplate signatureAlgorithm(String signatureAlgorithm) {
    this.signatureAlgorithm = Objects.requireNonNull(signatureAlgorithm, "signatureAlgorithm");
    return this;
  }

  /** Signs and returns the certificate; same as {@link Certificates#issue(CertificateTemplate)}. */
  public X509Certificate issue() {
    PrivateKey signingKey = required(issuerKey, "an issuer (selfSigned or issuedBy)");
    try {
      X509v3CertificateBuilder builder = newBuilder();
      addExtensions(builder, new JcaX509ExtensionUtils());
      String algorithm = signatureAlgorithm != null ? signatureAlgorithm : Certificates.signatureAlgorithmFor(signingKey);
      X509CertificateHolder holder = builder.build(new JcaContentSignerBuilder(algorithm).build(signingKey));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new TlsMaterialException("cannot issue a certificate [subject: " + subject + "]", e);
    }
  }

  private X509v3CertificateBuilder newBuilder() {
    Date from = Date.from(required(notBefore, "a validity"));
    Date to = Date.from(required(notAfter, "a validity"));
    BigInteger serial = serialNumber != null ? serialNumber : Certificates.randomSerialNumber();
    return issuerCertificate != null
        ? new JcaX509v3CertificateBuilder(issuerCertificate, serial, from, to, subject, subjectPublicKey)
        : new JcaX509v3CertificateBuilder(subject, serial, from, to, subject, subjectPublicKey);
  }

  private void addExtensions(X509v3CertificateBuilder builder, JcaX509ExtensionUtils utils) throws IOException {
    BasicConstraints constraints = !ca
        ? new BasicConstraints(false)
        : pathLength != null ? new BasicConstraints(pathLength) : new BasicConstraints(true);
    builder.addExtension(Extension.basicConstraints, true, constraints);
    int defaultUsage = ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature;
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage != null ? keyUsage : defaultUsage));
    builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectPublicKey));
    if (issuerCertificate != null) {
      builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier(issuerCertificate, utils));
    }
    if (!extendedKeyUsages.isEmpty()) {
      KeyPurposeId[] purposes = extendedKeyUsages.stream().map(u -> u.purpose).toArray(KeyPurposeId[]::new);
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
    }
    if (!subjectAlternativeNames.isEmpty()) {
      GeneralNames names = new GeneralNames(subjectAlternativeNames.toArray(GeneralName[]::new));
      builder.addExtension(Extension.subjectAlternativeName, subject.getRDNs().length == 0, names);
    }
  }

  /** The issuer's own subject key identifier if it has one (so AKI matches it exactly), else one derived. */
  private static AuthorityKeyIdentifier authorityKeyIdentifier(X509Certificate issuer, JcaX509ExtensionUtils utils)
      throws IOException {
    byte[] ski = issuer.getExtensionValue(Extension.subjectKeyIdentifier.getId());
    if (ski == null) {
      return utils.createAuthorityKeyIdentifier(issuer.getPublicKey());
    }
    ASN1OctetString value = ASN1OctetString.getInstance(JcaX509ExtensionUtils.parseExtensionValue(ski));
    return new AuthorityKeyIdentifier(SubjectKeyIdentifier.getInstance(value).getKeyIdentifier());
  }

  private static <T> T required(@Nullable T value, String what) {
    if (value == null) {
      throw new IllegalStateException("the certificate template needs " + what);
    }
    return value;
  }
}
