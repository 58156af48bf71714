package io.opendps.cli;

import io.opendps.broker.tls.Certificates;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.RSAKey;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Option groups (picocli mixins) shared by the {@code opendps cert} subcommands. */
final class CertOptions {

    static final int MAX_RSA_BITS = 8192;

    private CertOptions() {
    }

    /** The subject's new key pair: EC P-256 unless {@code --rsa}; optionally protected by a passphrase. */
    static final class NewKey {

        @Option(names = "--rsa", arity = "0..1", fallbackValue = "2048", paramLabel = "BITS",
                description = "Generate an RSA key instead of EC P-256; BITS: 2048 (the default) to "
                        + MAX_RSA_BITS + ".")
        @Nullable Integer rsaBits;

        @Option(names = "--passphrase", arity = "0..1", interactive = true, paramLabel = "PASSPHRASE",
                prompt = "Passphrase for the new private key: ",
                description = "Encrypt the new private key (encrypted PKCS#8: PBKDF2-HMAC-SHA256, AES-256-CBC) with "
                        + "this passphrase; give the option without a value to be prompted. Default: unencrypted.")
        char @Nullable [] passphrase;

        KeyPair generate() {
            if (rsaBits == null) {
                return Certificates.newEcKeyPair();
            }
            if (rsaBits < 2048 || rsaBits > MAX_RSA_BITS) {
                throw new IllegalArgumentException("--rsa: BITS must be 2048 to " + MAX_RSA_BITS + " [bits: "
                        + rsaBits + "]");
            }
            return Certificates.newRsaKeyPair(rsaBits);
        }

        static String describe(KeyPair keys) {
            return keys.getPrivate() instanceof RSAKey rsa
                    ? "RSA " + rsa.getModulus().bitLength()
                    : keys.getPrivate().getAlgorithm() + " P-256";
        }
    }

    /** Where the files go and whether existing ones may be replaced. */
    static final class Output {

        @Option(names = "--out-dir", defaultValue = ".", paramLabel = "DIR",
                description = "Directory for the files, created if missing (default: the current directory).")
        Path outDir = Path.of(".");

        @Option(names = "--force", description = "Overwrite existing files (default: refuse).")
        boolean force;

        CertFiles files(PrintWriter out) {
            return new CertFiles(outDir, force, out);
        }
    }

    /** The issuing CA: its certificate and private key. */
    static final class Issuer {

        @Option(names = "--ca", required = true, paramLabel = "CA.pem",
                description = "The issuing CA's certificate (PEM). Further certificates in the file (e.g. a "
                        + "NAME-full-chain.pem) are read as the CA's own chain.")
        Path ca = Path.of("ca.pem");

        @Option(names = "--ca-key", required = true, paramLabel = "CA.key.pem",
                description = "The issuing CA's private key (PEM): PKCS#8 plain or encrypted, or traditional "
                        + "EC/RSA PRIVATE KEY as openssl writes it.")
        Path caKey = Path.of("ca.key.pem");

        @Option(names = "--ca-passphrase", arity = "0..1", interactive = true, paramLabel = "PASSPHRASE",
                prompt = "Passphrase for the CA's private key: ",
                description = "Passphrase of an encrypted CA key; give the option without a value to be prompted.")
        char @Nullable [] caPassphrase;
    }
}
