package io.opendps.sim;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * A device identity for X.509 attestation: the certificate chain the device presents in the TLS handshake (the
 * device's own certificate first, then the intermediates it sends) and the private key of that first certificate.
 * DPS takes the registration id from the leaf's subject CN ({@code dps-device-protocol.md} §5.1); the device sends
 * no MQTT password.
 *
 * <p>Immutable and thread-safe. {@link #toString()} names the leaf and its thumbprint, never the key.
 *
 * @param chain the chain to send, leaf first (at least one certificate); copied
 * @param privateKey the private key of the leaf
 * @throws IllegalArgumentException if the chain is empty or the key does not belong to the leaf certificate
 */
public record X509Credential(List<X509Certificate> chain, PrivateKey privateKey) implements DeviceCredential {

    public X509Credential {
        chain = List.copyOf(Objects.requireNonNull(chain, "chain"));
        Objects.requireNonNull(privateKey, "privateKey");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("the certificate chain is empty");
        }
        if (!keyMatches(privateKey, chain.get(0).getPublicKey())) {
            throw new IllegalArgumentException("the private key does not belong to the certificate "
                    + chain.get(0).getSubjectX500Principal().getName() + " (thumbprint " + thumbprint(chain.get(0))
                    + ")");
        }
    }

    /** The device's own certificate, the first of the chain. */
    public X509Certificate leaf() {
        return chain.get(0);
    }

    /**
     * The first common name (CN) of the leaf's subject: the registration id DPS expects.
     *
     * @return the CN, or empty if the subject has none
     */
    public Optional<String> commonName() {
        X500Name subject = X500Name.getInstance(leaf().getSubjectX500Principal().getEncoded());
        RDN[] names = subject.getRDNs(BCStyle.CN);
        if (names.length == 0) {
            return Optional.empty();
        }
        ASN1Encodable value = names[0].getFirst().getValue();
        return Optional.of(value instanceof ASN1String text ? text.getString() : IETFUtils.valueToString(value));
    }

    /** The SHA-256 thumbprint of the leaf (DER), upper-case hex without separators, as the Azure portal shows it. */
    public String thumbprint() {
        return thumbprint(leaf());
    }

    /**
     * A key manager factory that always offers this chain and key to the server, whatever certificate authorities
     * the server names in its CertificateRequest (OpenSSL-based devices behave this way; the JDK's own key managers
     * would send no certificate when the server names other issuers, {@code dps-device-protocol.md} §1.2).
     *
     * @return a new factory; cheap, no key store is involved
     */
    public KeyManagerFactory keyManagerFactory() {
        return FixedKeyManager.factory(chain, privateKey);
    }

    @Override
    public String toString() {
        return "X509Credential[subject=" + leaf().getSubjectX500Principal().getName() + ", thumbprint=" + thumbprint()
                + ", chainLength=" + chain.size() + ", privateKey=<redacted>]";
    }

    /**
     * Whether a private key belongs to a public key: same RSA modulus, or for other algorithms a signature made with
     * the private key verifies with the public key.
     */
    static boolean keyMatches(PrivateKey privateKey, PublicKey publicKey) {
        if (privateKey instanceof RSAKey rsaPrivate) {
            return publicKey instanceof RSAKey rsaPublic && rsaPrivate.getModulus().equals(rsaPublic.getModulus());
        }
        String algorithm = signatureAlgorithm(privateKey.getAlgorithm());
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("unsupported private key algorithm " + privateKey.getAlgorithm(), e);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String signatureAlgorithm(String keyAlgorithm) {
        return switch (keyAlgorithm.toUpperCase(Locale.ROOT)) {
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "DSA" -> "SHA256withDSA";
            default -> keyAlgorithm;
        };
    }

    static String thumbprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.of().withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot compute the SHA-256 thumbprint", e);
        }
    }
}
