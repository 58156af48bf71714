package io.opendps.core.testing;

import io.opendps.core.x509.CertificateCodec;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * Certificates for tests, made with BouncyCastle: EC P-256 keys, SHA256withECDSA, valid 2024-01-01 to 2034-01-01
 * unless told otherwise. {@code TestCertificates.ca("Root").build()} is a self-signed root;
 * {@code leaf("dev-1").issuedBy(root).build()} a device certificate.
 */
public final class TestCertificates {

    public static final Instant NOT_BEFORE = Instant.parse("2024-01-01T00:00:00Z");
    public static final Instant NOT_AFTER = Instant.parse("2034-01-01T00:00:00Z");
    private static final AtomicLong SERIAL = new AtomicLong(0x1000);

    private TestCertificates() {
    }

    /** A certificate with its key pair. */
    public record Issued(X509Certificate certificate, KeyPair keyPair) {

        /** PEM text. */
        public String pem() {
            return CertificateCodec.toPem(certificate);
        }

        /** SHA-256 thumbprint. */
        public String sha256() {
            return CertificateCodec.sha256Thumbprint(certificate);
        }
    }

    /** A CA certificate builder (basicConstraints CA, no path length limit, keyCertSign). */
    public static Builder ca(String cn) {
        return new Builder("CN=" + cn).ca(-1);
    }

    /** An end-entity certificate builder (basicConstraints CA false, digitalSignature). */
    public static Builder leaf(String cn) {
        return new Builder("CN=" + cn);
    }

    /** A new EC P-256 key pair. */
    public static KeyPair keyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds one certificate. */
    public static final class Builder {
        private final String subject;
        private @Nullable Issued issuer;
        private boolean ca;
        private int pathLen = -1;
        private boolean keyUsage = true;
        private Instant notBefore = NOT_BEFORE;
        private Instant notAfter = NOT_AFTER;
        private KeyPair keyPair = keyPair();
        private @Nullable KeyPair signer;

        private Builder(String subject) {
            this.subject = subject;
        }

        /** A CA; {@code pathLen} &lt; 0 for no limit. */
        public Builder ca(int pathLen) {
            this.ca = true;
            this.pathLen = pathLen;
            return this;
        }

        /** Issued (and signed) by this certificate; default self-signed. */
        public Builder issuedBy(Issued value) {
            this.issuer = value;
            return this;
        }

        /** Signed with this key instead of the issuer's (a forged signature). */
        public Builder signedWith(KeyPair value) {
            this.signer = value;
            return this;
        }

        /** The validity window. */
        public Builder validity(Instant from, Instant to) {
            this.notBefore = from;
            this.notAfter = to;
            return this;
        }

        /** Without a keyUsage extension. */
        public Builder noKeyUsage() {
            this.keyUsage = false;
            return this;
        }

        /** Builds it. */
        public Issued build() {
            try {
                X500Principal subjectName = new X500Principal(subject);
                X500Principal issuerName = issuer == null ? subjectName
                        : issuer.certificate().getSubjectX500Principal();
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                        BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
                        subjectName, keyPair.getPublic());
                b.addExtension(Extension.basicConstraints, true,
                        ca ? (pathLen >= 0 ? new BasicConstraints(pathLen) : new BasicConstraints(true))
                                : new BasicConstraints(false));
                if (keyUsage) {
                    b.addExtension(Extension.keyUsage, true, new KeyUsage(ca
                            ? KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature
                            : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
                }
                KeyPair signing = signer != null ? signer : issuer == null ? keyPair : issuer.keyPair();
                X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signing.getPrivate())));
                return new Issued(cert, keyPair);
            } catch (GeneralSecurityException | OperatorCreationException
                    | org.bouncycastle.cert.CertIOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Builds it with the subject as a full DN instead of a CN (for DN formatting tests). */
        public static Issued selfSignedWithDn(String dn) {
            Builder b = new Builder(dn);
            return b.build();
        }
    }
}
