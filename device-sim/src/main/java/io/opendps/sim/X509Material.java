package io.opendps.sim;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.jspecify.annotations.Nullable;

/**
 * Reads a device's X.509 identity from PEM files as the Azure samples keep them: a certificate file (the device
 * certificate first, possibly followed by intermediates), an optional file of further intermediates, and a private
 * key as PKCS#8 ({@code PRIVATE KEY}), encrypted PKCS#8 ({@code ENCRYPTED PRIVATE KEY}) or the traditional OpenSSL
 * forms ({@code EC PRIVATE KEY}, {@code RSA PRIVATE KEY}, optionally encrypted). Parsing is BouncyCastle's.
 *
 * <p>Stateless and thread-safe. BouncyCastle is used as a provider instance for decryption only and is never
 * installed in the JVM.
 */
public final class X509Material {

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private X509Material() {
    }

    /**
     * Loads a device identity.
     *
     * @param certificateFile PEM certificates, the device certificate first
     * @param keyFile the PEM private key of the device certificate, or {@code null} to look for it in
     *     {@code certificateFile}
     * @param chainFile further PEM certificates to send after those of {@code certificateFile}, or {@code null}
     * @param passphrase the passphrase of an encrypted key, or {@code null}
     * @return the identity; the chain is the certificates of both files in order, without duplicates
     * @throws IOException if a file cannot be read
     * @throws UnrecoverableKeyException if the key is encrypted and the passphrase is missing or wrong
     * @throws GeneralSecurityException if a file holds no certificate or no key, cannot be parsed, or the key does
     *     not belong to the first certificate
     */
    public static X509Credential fromPem(Path certificateFile, @Nullable Path keyFile, @Nullable Path chainFile,
            char @Nullable [] passphrase) throws IOException, GeneralSecurityException {
        LinkedHashSet<X509Certificate> chain = new LinkedHashSet<>(readCertificates(certificateFile));
        if (chainFile != null) {
            chain.addAll(readCertificates(chainFile));
        }
        Path keySource = keyFile != null ? keyFile : certificateFile;
        PrivateKey key = readPrivateKey(keySource, passphrase);
        List<X509Certificate> certificates = List.copyOf(chain);
        requireLeafFirst(certificates, key, certificateFile, keySource);
        return new X509Credential(certificates, key);
    }

    /**
     * Reads every certificate of a PEM file, in file order; other PEM objects (keys) are skipped.
     *
     * @throws IOException if the file cannot be read
     * @throws GeneralSecurityException if it is not PEM or holds no certificate
     */
    public static List<X509Certificate> readCertificates(Path file) throws IOException, GeneralSecurityException {
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object object : pemObjects(file)) {
            if (object instanceof X509CertificateHolder holder) {
                certificates.add(converter.getCertificate(holder));
            }
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("no certificate (-----BEGIN CERTIFICATE-----) in " + file);
        }
        return certificates;
    }

    /**
     * Reads the first private key of a PEM file; certificates and EC parameters before it are skipped.
     *
     * @param passphrase the passphrase for an encrypted key; ignored for an unencrypted one
     * @throws IOException if the file cannot be read
     * @throws UnrecoverableKeyException if the key is encrypted and the passphrase is missing or wrong
     * @throws GeneralSecurityException if the file is not PEM or holds no private key
     */
    public static PrivateKey readPrivateKey(Path file, char @Nullable [] passphrase)
            throws IOException, GeneralSecurityException {
        for (Object object : pemObjects(file)) {
            PrivateKeyInfo info = privateKeyInfo(object, file, passphrase);
            if (info != null) {
                return new JcaPEMKeyConverter().getPrivateKey(info);
            }
        }
        throw new GeneralSecurityException("no private key in " + file + " (expected PEM 'PRIVATE KEY', "
                + "'ENCRYPTED PRIVATE KEY', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY')");
    }

    private static @Nullable PrivateKeyInfo privateKeyInfo(Object object, Path file, char @Nullable [] passphrase)
            throws IOException, GeneralSecurityException {
        if (object instanceof PrivateKeyInfo info) {
            return info;
        }
        if (object instanceof PEMKeyPair pair) {
            return pair.getPrivateKeyInfo();
        }
        if (object instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
            return decrypt(encrypted, file, requirePassphrase(passphrase, file));
        }
        if (object instanceof PEMEncryptedKeyPair encrypted) {
            return decrypt(encrypted, file, requirePassphrase(passphrase, file));
        }
        return null;
    }

    private static PrivateKeyInfo decrypt(PKCS8EncryptedPrivateKeyInfo encrypted, Path file, char[] passphrase)
            throws GeneralSecurityException {
        try {
            return encrypted.decryptPrivateKeyInfo(
                    new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(passphrase));
        } catch (PKCSException | RuntimeException e) {
            throw wrongPassphrase(file, e);
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("unsupported encryption of the private key in " + file + ": "
                    + e.getMessage(), e);
        }
    }

    private static PrivateKeyInfo decrypt(PEMEncryptedKeyPair encrypted, Path file, char[] passphrase)
            throws GeneralSecurityException {
        try {
            return encrypted.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BC).build(passphrase))
                    .getPrivateKeyInfo();
        } catch (IOException | RuntimeException e) {
            throw wrongPassphrase(file, e);
        }
    }

    private static char[] requirePassphrase(char @Nullable [] passphrase, Path file)
            throws UnrecoverableKeyException {
        if (passphrase == null || passphrase.length == 0) {
            throw new UnrecoverableKeyException("the private key in " + file + " is encrypted and no passphrase "
                    + "was given");
        }
        return passphrase;
    }

    private static UnrecoverableKeyException wrongPassphrase(Path file, Exception cause) {
        UnrecoverableKeyException e = new UnrecoverableKeyException("cannot decrypt the private key in " + file
                + ": wrong passphrase (or unsupported encryption)");
        e.initCause(cause);
        return e;
    }

    /** The key must belong to the first certificate; says so clearly when it belongs to a later one. */
    private static void requireLeafFirst(List<X509Certificate> chain, PrivateKey key, Path certificateFile,
            Path keyFile) throws GeneralSecurityException {
        if (X509Credential.keyMatches(key, chain.get(0).getPublicKey())) {
            return;
        }
        for (int i = 1; i < chain.size(); i++) {
            if (X509Credential.keyMatches(key, chain.get(i).getPublicKey())) {
                throw new GeneralSecurityException("the private key in " + keyFile + " belongs to certificate #"
                        + (i + 1) + " (" + chain.get(i).getSubjectX500Principal().getName() + "); the device "
                        + "certificate must come first in " + certificateFile);
            }
        }
        throw new GeneralSecurityException("the private key in " + keyFile + " does not match the certificate "
                + chain.get(0).getSubjectX500Principal().getName() + " in " + certificateFile);
    }

    private static List<Object> pemObjects(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.ISO_8859_1);
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                objects.add(object);
            }
        } catch (IOException | RuntimeException e) {
            throw new GeneralSecurityException("not a valid PEM file: " + file + " (" + e.getMessage() + ")", e);
        }
        return objects;
    }
}
