package io.opendps.cli;

import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.PemFiles;
import io.opendps.broker.tls.PrivateKeyPem;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Writes the files of {@code opendps cert} into one directory and reports each on the command's output: paths,
 * subjects, thumbprints and expiry, never key material. Keys are {@code 0600}, certificates {@code 0644}; every file
 * is written atomically.
 */
final class CertFiles {

    private final Path dir;
    private final boolean force;
    private final PrintWriter out;

    CertFiles(Path dir, boolean force, PrintWriter out) {
        this.dir = dir;
        this.force = force;
        this.out = out;
    }

    /** {@code DIR/NAME + suffix}. */
    Path path(String name, String suffix) {
        return dir.resolve(name + suffix);
    }

    /**
     * Refuses to go on if any of the files exists, unless {@code --force}; call before generating anything.
     *
     * @throws IllegalStateException naming the first existing file
     */
    void refuseExisting(Path... files) {
        if (force) {
            return;
        }
        for (Path file : files) {
            if (Files.exists(file)) {
                throw new IllegalStateException(file + " exists; use --force to overwrite it");
            }
        }
    }

    void writeCertificate(Path file, String what, X509Certificate certificate) {
        PemFiles.writePublic(file, Certificates.toPem(certificate));
        out.println("wrote " + what + ": " + file);
        out.println("  subject:    " + IssuingCa.subject(certificate));
        out.println("  issuer:     " + certificate.getIssuerX500Principal().getName()
                + (IssuingCa.isSelfSigned(certificate) ? " (self-signed)" : ""));
        out.println("  serial:     " + certificate.getSerialNumber().toString(16));
        out.println("  sha256:     " + Certificates.sha256Thumbprint(certificate));
        out.println("  not before: " + certificate.getNotBefore().toInstant());
        out.println("  expires:    " + certificate.getNotAfter().toInstant());
    }

    void writeKey(Path file, KeyPair keys, char @Nullable [] passphrase) {
        boolean encrypted = passphrase != null;
        String pem = encrypted
                ? PrivateKeyPem.toEncryptedPem(keys.getPrivate(), passphrase)
                : Certificates.toPem(keys.getPrivate());
        PemFiles.writePrivate(file, pem);
        out.println("wrote private key: " + file + " (" + CertOptions.NewKey.describe(keys) + ", "
                + (encrypted ? "encrypted PKCS#8 AES-256-CBC" : "unencrypted PKCS#8") + ", mode 0600)");
    }

    void writeChain(Path file, List<X509Certificate> certificates) {
        PemFiles.writePublic(file, Certificates.toPem(certificates));
        out.println("wrote full chain: " + file + " (" + certificates.size() + " certificate"
                + (certificates.size() == 1 ? "" : "s") + ": the certificate and its CAs up to, not including, "
                + "the root)");
    }

    void note(String text) {
        out.println("note: " + text);
    }
}
