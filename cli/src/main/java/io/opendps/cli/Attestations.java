package io.opendps.cli;

import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CaReferences;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** Builds attestation mechanisms from the CLI's options; certificates are sent as the PEM text of their files. */
final class Attestations {

    private Attestations() {
    }

    /** {@code clientCertificates} from a device certificate file (and an optional secondary). */
    static AttestationMechanism clientCertificates(Path primary, @Nullable Path secondary) {
        return AttestationMechanism.x509(X509Attestation.clientCertificates(certificates(primary, secondary)));
    }

    /** {@code signingCertificates} from a root or intermediate CA certificate file. */
    static AttestationMechanism signingCertificates(Path primary, @Nullable Path secondary) {
        return AttestationMechanism.x509(X509Attestation.signingCertificates(certificates(primary, secondary)));
    }

    /** {@code caReferences} to CA certificates registered with the service. */
    static AttestationMechanism caReferences(String primary, @Nullable String secondary) {
        return AttestationMechanism.x509(X509Attestation.caReferences(new X509CaReferences(primary, secondary)));
    }

    private static X509Certificates certificates(Path primary, @Nullable Path secondary) {
        return new X509Certificates(new X509CertificateWithInfo(read(primary), null),
                secondary == null ? null : new X509CertificateWithInfo(read(secondary), null));
    }

    /** The text of a certificate file, with a clear error when it cannot be read. */
    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read certificate file " + file + ": " + e.getMessage(), e);
        }
    }
}
