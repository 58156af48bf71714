package io.opendps.cli;

import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterialException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code opendps cert root-ca|intermediate|device|verification}: the X.509 material for DPS X.509 attestation, in place
 * of the openssl scripts of the Azure quickstarts.
 *
 * <p>Every certificate is valid from five minutes ago (tolerating clock skew) for {@code --days}, cut back to the
 * issuing CA's expiry. Files are written only after all checks passed, and never over existing files without
 * {@code --force}.
 */
@Command(name = "cert", mixinStandardHelpOptions = true,
        description = "Create X.509 test certificates for DPS: a root CA, intermediate CAs, device certificates "
                + "(CN = registration id) and proof-of-possession verification certificates.",
        subcommands = {CertCommand.RootCa.class, CertCommand.Intermediate.class, CertCommand.Device.class,
            CertCommand.Verification.class})
final class CertCommand {

    static final Duration BACKDATE = Duration.ofMinutes(5);
    static final int MAX_DAYS = 36_500;

    private CertCommand() {
    }

    /** Shared run logic: one-line errors for unusable material, validity arithmetic. */
    abstract static class Subcommand implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Override
        public final Integer call() {
            try {
                run(spec.commandLine().getOut(), Instant.now());
                return 0;
            } catch (TlsMaterialException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        abstract void run(PrintWriter out, Instant now);

        /** Sets the validity: from shortly before now for {@code days}, never beyond the issuer's expiry. */
        static CertificateTemplate validity(CertificateTemplate template, Instant now, int days,
                @Nullable IssuingCa issuer, CertFiles files) {
            if (days < 1 || days > MAX_DAYS) {
                throw new IllegalArgumentException("--days must be 1 to " + MAX_DAYS + " [days: " + days + "]");
            }
            Instant notAfter = now.plus(Duration.ofDays(days));
            if (issuer != null && issuer.clampToCa(notAfter).isBefore(notAfter)) {
                notAfter = issuer.clampToCa(notAfter);
                files.note("validity shortened to the issuing CA's expiry (" + notAfter + ")");
            }
            return template.validity(now.minus(BACKDATE), notAfter);
        }
    }

    @Command(name = "root-ca", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create a self-signed root CA: NAME.pem and NAME.key.pem.",
                "Upload NAME.pem to the service as a CA certificate, then prove possession with "
                        + "'cert verification'."})
    static final class RootCa extends Subcommand {

        @Option(names = "--name", required = true, paramLabel = "NAME",
                description = "File name stem: writes NAME.pem and NAME.key.pem.")
        String name = "";

        @Option(names = "--cn", paramLabel = "CN", description = "Subject common name (default: NAME).")
        @Nullable String cn;

        @Option(names = "--days", defaultValue = "3650", paramLabel = "DAYS",
                description = "Validity in days (default: ${DEFAULT-VALUE}).")
        int days;

        @Option(names = "--path-length", paramLabel = "N",
                description = "Allow at most N intermediate CAs below this CA (default: no limit).")
        @Nullable Integer pathLength;

        @Mixin CertOptions.NewKey key;
        @Mixin CertOptions.Output output;

        @Override
        void run(PrintWriter out, Instant now) {
            CertFiles files = output.files(out);
            Path certFile = files.path(CertNames.fileName(name), ".pem");
            Path keyFile = files.path(name, ".key.pem");
            String subject = CertNames.commonName(cn != null ? cn : name);
            files.refuseExisting(certFile, keyFile);
            KeyPair keys = key.generate();
            CertificateTemplate template = asCa(Certificates.template(Certificates.commonName(subject),
                    keys.getPublic()).selfSigned(keys.getPrivate()), pathLength);
            X509Certificate certificate = validity(template, now, days, null, files).issue();
            files.writeKey(keyFile, keys, key.passphrase);
            files.writeCertificate(certFile, "root CA certificate", certificate);
        }
    }

    @Command(name = "intermediate", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create an intermediate CA signed by another CA: NAME.pem, NAME.key.pem and "
                    + "NAME-full-chain.pem (NAME.pem plus the issuer's chain, without the root).",
                "Use NAME-full-chain.pem as --ca-chain when issuing below this CA."})
    static final class Intermediate extends Subcommand {

        @Option(names = "--name", required = true, paramLabel = "NAME",
                description = "File name stem: writes NAME.pem, NAME.key.pem and NAME-full-chain.pem.")
        String name = "";

        @Option(names = "--cn", paramLabel = "CN", description = "Subject common name (default: NAME).")
        @Nullable String cn;

        @Option(names = "--days", defaultValue = "1825", paramLabel = "DAYS",
                description = "Validity in days (default: ${DEFAULT-VALUE}).")
        int days;

        @Option(names = "--path-length", paramLabel = "N",
                description = "Allow at most N intermediate CAs below this one (default: as many as the issuing "
                        + "CA's own constraints leave, or no limit).")
        @Nullable Integer pathLength;

        @Mixin CertOptions.Issuer issuer;

        @Option(names = "--ca-chain", paramLabel = "CHAIN.pem",
                description = "Certificates above the issuing CA (any order, the root may be included); needed for "
                        + "NAME-full-chain.pem when the issuing CA is itself an intermediate.")
        @Nullable Path caChain;

        @Mixin CertOptions.NewKey key;
        @Mixin CertOptions.Output output;

        @Override
        void run(PrintWriter out, Instant now) {
            CertFiles files = output.files(out);
            Path certFile = files.path(CertNames.fileName(name), ".pem");
            Path keyFile = files.path(name, ".key.pem");
            Path chainFile = files.path(name, "-full-chain.pem");
            String subject = CertNames.commonName(cn != null ? cn : name);
            files.refuseExisting(certFile, keyFile, chainFile);
            IssuingCa ca = IssuingCa.load(issuer, caChain, now);
            @Nullable Integer effectivePathLength = effectivePathLength(ca);
            KeyPair keys = key.generate();
            CertificateTemplate template = asCa(Certificates.template(Certificates.commonName(subject),
                    keys.getPublic()).issuedBy(ca.certificate(), ca.privateKey()), effectivePathLength);
            X509Certificate certificate = validity(template, now, days, ca, files).issue();
            files.writeKey(keyFile, keys, key.passphrase);
            files.writeCertificate(certFile, "intermediate CA certificate", certificate);
            files.writeChain(chainFile, withChain(certificate, ca));
        }

        /** {@code --path-length} if the CAs above allow it, else what they allow; null for no constraint. */
        private @Nullable Integer effectivePathLength(IssuingCa ca) {
            int max = ca.maxPathLengthBelow();
            if (max < 0 || (pathLength != null && pathLength > max)) {
                throw new IllegalArgumentException("the path length constraints of "
                        + IssuingCa.subject(ca.certificate())
                        + (max < 0 ? " allow no further intermediate CA" : " allow --path-length " + max + " at most"));
            }
            if (pathLength != null) {
                return pathLength;
            }
            return max == Integer.MAX_VALUE ? null : max;
        }
    }

    @Command(name = "device", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create a device (end-entity, TLS client) certificate whose CN is the registration id: "
                    + "NAME.pem, NAME.key.pem and NAME-full-chain.pem.",
                "NAME-full-chain.pem is the device certificate followed by its CA chain up to, but not including, "
                        + "the self-signed root: what a device sends in the TLS handshake (DPS holds the root as a "
                        + "verified CA)."})
    static final class Device extends Subcommand {

        @Option(names = "--cn", required = true, paramLabel = "REGISTRATION_ID",
                description = "Subject common name = the device's registration id: 1-64 characters of A-Z a-z 0-9 "
                        + "- . _ :, starting with a letter or digit, ending with a letter, digit or -.")
        String cn = "";

        @Option(names = "--name", paramLabel = "NAME", description = "File name stem (default: the CN).")
        @Nullable String name;

        @Option(names = "--days", defaultValue = "365", paramLabel = "DAYS",
                description = "Validity in days (default: ${DEFAULT-VALUE}).")
        int days;

        @Mixin CertOptions.Issuer issuer;

        @Option(names = "--ca-chain", paramLabel = "CHAIN.pem",
                description = "Certificates above the issuing CA (any order, the root may be included), e.g. the "
                        + "issuing intermediate's NAME-full-chain.pem; they go into NAME-full-chain.pem.")
        @Nullable Path caChain;

        @Mixin CertOptions.NewKey key;
        @Mixin CertOptions.Output output;

        @Override
        void run(PrintWriter out, Instant now) {
            String registrationId = CertNames.registrationId(cn);
            String stem = CertNames.fileName(name != null ? name : registrationId);
            CertFiles files = output.files(out);
            Path certFile = files.path(stem, ".pem");
            Path keyFile = files.path(stem, ".key.pem");
            Path chainFile = files.path(stem, "-full-chain.pem");
            files.refuseExisting(certFile, keyFile, chainFile);
            IssuingCa ca = IssuingCa.load(issuer, caChain, now);
            KeyPair keys = key.generate();
            CertificateTemplate template = Certificates.template(Certificates.commonName(registrationId),
                            keys.getPublic())
                    .issuedBy(ca.certificate(), ca.privateKey())
                    .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH);
            X509Certificate certificate = validity(template, now, days, ca, files).issue();
            files.writeKey(keyFile, keys, key.passphrase);
            files.writeCertificate(certFile, "device certificate", certificate);
            files.writeChain(chainFile, withChain(certificate, ca));
        }
    }

    @Command(name = "verification", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create a proof-of-possession certificate: CN = the verification code the service issued "
                    + "for a CA certificate, signed by that CA's private key. Writes NAME.pem only; its own key is "
                    + "not needed and is discarded.",
                "Upload NAME.pem to the service's verify operation for the CA certificate."})
    static final class Verification extends Subcommand {

        @Option(names = "--code", required = true, paramLabel = "CODE",
                description = "The verification code issued by the service (becomes the subject CN).")
        String code = "";

        @Option(names = "--name", paramLabel = "NAME", description = "File name stem (default: verification-CODE).")
        @Nullable String name;

        @Option(names = "--days", defaultValue = "1", paramLabel = "DAYS",
                description = "Validity in days (default: ${DEFAULT-VALUE}; it is needed only for the upload).")
        int days;

        @Mixin CertOptions.Issuer issuer;
        @Mixin CertOptions.Output output;

        @Override
        void run(PrintWriter out, Instant now) {
            String verificationCode = CertNames.verificationCode(code);
            CertFiles files = output.files(out);
            Path certFile = files.path(CertNames.fileName(name != null ? name : "verification-" + verificationCode),
                    ".pem");
            files.refuseExisting(certFile);
            IssuingCa ca = IssuingCa.load(issuer, null, now);
            KeyPair keys = Certificates.newEcKeyPair();
            CertificateTemplate template = Certificates.template(Certificates.commonName(verificationCode),
                            keys.getPublic())
                    .issuedBy(ca.certificate(), ca.privateKey());
            X509Certificate certificate = validity(template, now, days, ca, files).issue();
            files.writeCertificate(certFile, "verification certificate", certificate);
        }
    }

    /** Marks the template as a CA, with a path length constraint unless {@code pathLength} is null. */
    static CertificateTemplate asCa(CertificateTemplate template, @Nullable Integer pathLength) {
        return pathLength != null ? template.ca(pathLength) : template.ca();
    }

    /** The new certificate followed by what its holder sends of the issuer's chain (no self-signed root). */
    static List<X509Certificate> withChain(X509Certificate certificate, IssuingCa ca) {
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(certificate);
        chain.addAll(ca.chainToSend());
        return chain;
    }
}
