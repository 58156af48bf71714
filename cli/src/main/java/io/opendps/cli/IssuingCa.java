package io.opendps.cli;

import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.PrivateKeyPem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A CA loaded from files to issue certificates: its certificate, its private key (checked to match), and its own chain
 * towards the root as far as it was given.
 *
 * @param certificate the CA certificate that signs
 * @param privateKey its private key
 * @param chain the certificates above it, nearest first; may end with the self-signed root or be incomplete
 */
record IssuingCa(X509Certificate certificate, PrivateKey privateKey, List<X509Certificate> chain) {

    /** Index of {@code keyCertSign} in {@link X509Certificate#getKeyUsage()}. */
    private static final int KEY_CERT_SIGN = 5;

    IssuingCa {
        chain = List.copyOf(chain);
    }

    /**
     * Loads and checks a CA.
     *
     * @param chainFile more certificates above the CA, in any order; the CA file may hold some too
     * @throws IllegalArgumentException if a file is unusable, the certificate is no CA or not valid now, the key does
     *     not match, the passphrase is missing or wrong, or a chain certificate is not on the CA's path to its root
     */
    static IssuingCa load(CertOptions.Issuer issuer, @Nullable Path chainFile, Instant now) {
        List<X509Certificate> caFile = Certificates.readCertificates(issuer.ca);
        X509Certificate ca = caFile.get(0);
        requireUsableCa(ca, issuer.ca, now);
        PrivateKey key = readKey(issuer.caKey, issuer.caPassphrase);
        if (!Certificates.keyMatches(key, ca)) {
            throw new IllegalArgumentException(issuer.caKey + ": the private key does not match the CA certificate "
                    + issuer.ca + " [subject: " + subject(ca) + "]");
        }
        List<X509Certificate> candidates = new ArrayList<>(caFile.subList(1, caFile.size()));
        if (chainFile != null) {
            candidates.addAll(Certificates.readCertificates(chainFile));
        }
        return new IssuingCa(ca, key, pathAbove(ca, candidates));
    }

    /** The CA and its chain without self-signed roots: what a device sends after its own certificate. */
    List<X509Certificate> chainToSend() {
        return Stream.concat(Stream.of(certificate), chain.stream()).filter(c -> !isSelfSigned(c)).toList();
    }

    /**
     * The largest path length a new intermediate below this CA may have, given every known CA's path length
     * constraint above it: {@link Integer#MAX_VALUE} if unconstrained, negative if no intermediate is allowed.
     */
    int maxPathLengthBelow() {
        List<X509Certificate> path = Stream.concat(Stream.of(certificate), chain.stream()).toList();
        long max = Integer.MAX_VALUE;
        for (int i = 0; i < path.size(); i++) {
            int constraint = path.get(i).getBasicConstraints();
            if (constraint != Integer.MAX_VALUE) {
                max = Math.min(max, (long) constraint - i - 1);
            }
        }
        return (int) max;
    }

    /** {@code notAfter}, or the CA's own expiry if that comes earlier. */
    Instant clampToCa(Instant notAfter) {
        Instant caExpiry = certificate.getNotAfter().toInstant();
        return notAfter.isAfter(caExpiry) ? caExpiry : notAfter;
    }

    static boolean isSelfSigned(X509Certificate certificate) {
        return issued(certificate, certificate);
    }

    static String subject(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }

    private static void requireUsableCa(X509Certificate ca, Path file, Instant now) {
        boolean[] usage = ca.getKeyUsage();
        if (ca.getBasicConstraints() < 0 || (usage != null && !usage[KEY_CERT_SIGN])) {
            throw new IllegalArgumentException(file + ": not a CA certificate (needs basicConstraints CA:true and "
                    + "keyCertSign) [subject: " + subject(ca) + "]");
        }
        try {
            ca.checkValidity(Date.from(now));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw new IllegalArgumentException(file + ": the CA certificate is not valid now [subject: " + subject(ca)
                    + ", notBefore: " + ca.getNotBefore().toInstant() + ", notAfter: " + ca.getNotAfter().toInstant()
                    + "]", e);
        }
    }

    private static PrivateKey readKey(Path file, char @Nullable [] passphrase) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot be read (" + e + ")", e);
        }
        if (passphrase == null && PrivateKeyPem.isEncrypted(pem)) {
            throw new IllegalArgumentException(file + ": the private key is encrypted; give its passphrase with "
                    + "--ca-passphrase");
        }
        return PrivateKeyPem.parse(pem, file.toString(), passphrase);
    }

    /** Orders the candidates into the issuer path above {@code ca}; every candidate must be on it. */
    private static List<X509Certificate> pathAbove(X509Certificate ca, List<X509Certificate> candidates) {
        List<X509Certificate> remaining = new ArrayList<>(candidates);
        remaining.removeIf(ca::equals);
        List<X509Certificate> path = new ArrayList<>();
        X509Certificate current = ca;
        while (!isSelfSigned(current)) {
            X509Certificate child = current;
            Optional<X509Certificate> parent = remaining.stream().filter(c -> issued(child, c)).findFirst();
            if (parent.isEmpty()) {
                break;
            }
            current = parent.get();
            path.add(current);
            remaining.removeIf(current::equals);
        }
        if (!remaining.isEmpty()) {
            throw new IllegalArgumentException("the CA chain holds a certificate that is not on the path from "
                    + subject(ca) + " to its root [subject: " + subject(remaining.get(0)) + "]");
        }
        return path;
    }

    private static boolean issued(X509Certificate child, X509Certificate parent) {
        if (!child.getIssuerX500Principal().equals(parent.getSubjectX500Principal())) {
            return false;
        }
        try {
            child.verify(parent.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
