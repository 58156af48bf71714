package io.opendps.core.x509;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import org.jspecify.annotations.Nullable;

/**
 * The {@code x509} attestation of an enrollment ({@code dps-service-api.md} §3.3): exactly one of
 * {@code clientCertificates} (individual enrollments), {@code signingCertificates} or {@code caReferences}
 * (groups). The enrollment rules enforce "exactly one" and the kind per enrollment type.
 */
@JsonPropertyOrder({"clientCertificates", "signingCertificates", "caReferences"})
public record X509Attestation(@Nullable X509Certificates clientCertificates,
        @Nullable X509Certificates signingCertificates, @Nullable X509CaReferences caReferences) {

    /** An individual enrollment's attestation. */
    public static X509Attestation clientCertificates(X509Certificates certificates) {
        return new X509Attestation(certificates, null, null);
    }

    /** A group's attestation with inline signing certificates. */
    public static X509Attestation signingCertificates(X509Certificates certificates) {
        return new X509Attestation(null, certificates, null);
    }

    /** A group's attestation by reference to CA certificates registered on the service. */
    public static X509Attestation caReferences(X509CaReferences references) {
        return new X509Attestation(null, null, references);
    }

    /** The response form: certificates replaced by their info. */
    public X509Attestation withoutCertificates() {
        return new X509Attestation(clientCertificates == null ? null : clientCertificates.withoutCertificates(),
                signingCertificates == null ? null : signingCertificates.withoutCertificates(), caReferences);
    }

    /** How many of the three kinds are present (valid attestations have exactly one). */
    public int kinds() {
        return (clientCertificates != null ? 1 : 0) + (signingCertificates != null ? 1 : 0)
                + (caReferences != null ? 1 : 0);
    }
}
