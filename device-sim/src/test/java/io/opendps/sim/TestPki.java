package io.opendps.sim;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.util.io.pem.PemGenerationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away CA and a server certificate for {@code localhost}, generated in the test; device certificates (leaf
 * and intermediate under the same CA) and the PEM forms the Azure samples use.
 */
final class TestPki {

    /** A device identity: leaf (CN = the registration id) issued by an intermediate issued by the CA. */
    record Device(X509Certificate leaf, X509Certificate intermediate, KeyPair keys) {

        /** The credential as a device presents it: leaf and intermediate. */
        X509Credential credential() {
            return new X509Credential(List.of(leaf, intermediate), keys.getPrivate());
        }

        PrivateKey privateKey() {
            return keys.getPrivate();
        }
    }

    private static final char[] PASSWORD = "test".toCharArray();

    private final KeyPair caKeys;
    private final X509Certificate ca;
    private final KeyPair serverKeys;
    private final X509Certificate server;

    private TestPki(KeyPair caKeys, X509Certificate ca, KeyPair serverKeys, X509Certificate server) {
        this.caKeys = caKeys;
        this.ca = ca;
        this.serverKeys = serverKeys;
        this.server = server;
    }

    /** A CA named {@code cn} and a server certificate for the DNS name {@code localhost}. */
    static TestPki create(String cn) {
        try {
            KeyPair caKeys = keyPair();
            X500Name caName = new X500Name("CN=" + cn);
            X509Certificate ca = sign(new JcaX509v3CertificateBuilder(caName, serial(), notBefore(), notAfter(),
                    caName, caKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true)), caKeys.getPrivate());
            KeyPair serverKeys = keyPair();
            X509Certificate server = sign(serverBuilder(caName, serverKeys.getPublic()), caKeys.getPrivate());
            return new TestPki(caKeys, ca, serverKeys, server);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    X509Certificate ca() {
        return ca;
    }

    PrivateKey caKey() {
        return caKeys.getPrivate();
    }

    /** Writes the CA certificate as PEM. */
    Path writeCaPem(Path file) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(encoded());
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n");
        return file;
    }

    /**
     * A device certificate issued through a fresh intermediate.
     *
     * @param subject the leaf's subject, e.g. {@code CN=dev-1} or {@code O=no common name}
     * @param keyAlgorithm {@code EC} (P-256) or {@code RSA} (2048 bits)
     */
    Device device(String subject, String keyAlgorithm) {
        try {
            KeyPair intermediateKeys = keyPair();
            X500Name intermediateName = new X500Name("CN=" + X500Name.getInstance(ca.getSubjectX500Principal()
                    .getEncoded()).getRDNs()[0].getFirst().getValue() + " intermediate");
            X509Certificate intermediate = sign(new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()), serial(), notBefore(),
                    notAfter(), intermediateName, intermediateKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0)), caKeys.getPrivate());
            KeyPair leafKeys = keyAlgorithm.equals("RSA") ? rsaKeyPair() : keyPair();
            X509Certificate leaf = sign(new JcaX509v3CertificateBuilder(intermediateName, serial(), notBefore(),
                    notAfter(), new X500Name(subject), leafKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth)), intermediateKeys.getPrivate());
            return new Device(leaf, intermediate, leafKeys);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PEM text of certificates (and other objects BouncyCastle can write), in order. */
    static String pem(Object... objects) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (Object object : objects) {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return text.toString();
    }

    /** {@code -----BEGIN PRIVATE KEY-----}: unencrypted PKCS#8. */
    static String pkcs8(PrivateKey key) {
        try {
            return pem(new JcaPKCS8Generator(key, null));
        } catch (PemGenerationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code -----BEGIN ENCRYPTED PRIVATE KEY-----}: PKCS#8, PBES2 with AES-256-CBC. */
    static String encryptedPkcs8(PrivateKey key, String passphrase) {
        try {
            OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                    .setProvider(new BouncyCastleProvider())
                    .setPassword(passphrase.toCharArray())
                    .build();
            return pem(new JcaPKCS8Generator(key, encryptor));
        } catch (OperatorCreationException | PemGenerationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code -----BEGIN EC PRIVATE KEY-----} or {@code -----BEGIN RSA PRIVATE KEY-----}: OpenSSL's traditional form. */
    static String traditional(PrivateKey key) {
        return pem(opensslForm(key));
    }

    /** The traditional form encrypted OpenSSL-style ({@code Proc-Type: 4,ENCRYPTED}, AES-128-CBC). */
    static String traditionalEncrypted(PrivateKey key, String passphrase) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaMiscPEMGenerator(opensslForm(key), new JcePEMEncryptorBuilder("AES-128-CBC")
                    .setProvider(new BouncyCastleProvider()).build(passphrase.toCharArray())));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return text.toString();
    }

    /**
     * The key as OpenSSL writes it: for EC, the curve goes into the inner {@code ECPrivateKey} too (the JDK's
     * PKCS#8 encoding leaves it out there, and the traditional form has nowhere else to keep it).
     */
    private static Object opensslForm(PrivateKey key) {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        if (!info.getPrivateKeyAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            return key;
        }
        try {
            org.bouncycastle.asn1.sec.ECPrivateKey inner =
                    org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
            ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
            return new PrivateKeyInfo(info.getPrivateKeyAlgorithm(), new org.bouncycastle.asn1.sec.ECPrivateKey(
                    256, inner.getKey(), curve));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client trust factory over the CA. */
    TrustManagerFactory clientTrust() throws GeneralSecurityException {
        return TrustMaterial.fromCertificates(List.of(ca));
    }

    /** A server TLS context presenting the localhost certificate and its CA. */
    SSLContext serverContext() throws GeneralSecurityException, IOException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(serverKeyManagers(), null, null);
        return context;
    }

    private KeyManager[] serverKeyManagers() throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", serverKeys.getPrivate(), PASSWORD, new Certificate[] {server, ca});
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        return keys.getKeyManagers();
    }

    /** A server TLS context like {@link #serverContext()} that checks client certificates with {@code trust}. */
    SSLContext serverContext(TrustManager trust) throws GeneralSecurityException, IOException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(serverKeyManagers(), new TrustManager[] {trust}, null);
        return context;
    }

    /** A server TLS context that checks client certificates against the CA (PKIX) and names it as issuer. */
    SSLContext serverContextTrustingDevices() throws GeneralSecurityException, IOException {
        return serverContext(Arrays.stream(clientTrust().getTrustManagers())
                .filter(X509TrustManager.class::isInstance).findFirst().orElseThrow());
    }

    private byte[] encoded() {
        try {
            return ca.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509v3CertificateBuilder serverBuilder(X500Name issuer, PublicKey key) throws IOException {
        return new JcaX509v3CertificateBuilder(issuer, serial(), notBefore(), notAfter(), new X500Name("CN=localhost"),
                key)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }

    private static KeyPair rsaKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(System.nanoTime()).abs().add(BigInteger.ONE);
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(Duration.ofDays(1)));
    }
}
