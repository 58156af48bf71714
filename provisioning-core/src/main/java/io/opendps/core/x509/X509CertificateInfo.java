package io.opendps.core.x509;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.security.cert.X509Certificate;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * {@code X509CertificateInfo}: what the service computes from a certificate ({@code dps-service-api.md} §3.3).
 * Built by {@link #of} with all eight fields, which the Java SDKs require whenever the object is present
 * (service and device side). Fields are nullable only because clients echo it back on updates, possibly partial;
 * such input is only used for its thumbprints.
 *
 * @param subjectName subject DN, .NET style ({@link CertificateCodec#subjectName})
 * @param sha1Thumbprint SHA-1 of the DER, upper-case hex
 * @param sha256Thumbprint SHA-256 of the DER, upper-case hex
 * @param issuerName issuer DN, .NET style
 * @param notBeforeUtc start of validity
 * @param notAfterUtc end of validity
 * @param serialNumber serial number, big-endian upper-case hex
 * @param version X.509 version (3 for v3)
 */
@JsonPropertyOrder({"subjectName", "sha1Thumbprint", "sha256Thumbprint", "issuerName", "notBeforeUtc",
    "notAfterUtc", "serialNumber", "version"})
public record X509CertificateInfo(@Nullable String subjectName, @Nullable String sha1Thumbprint,
        @Nullable String sha256Thumbprint, @Nullable String issuerName, @Nullable Instant notBeforeUtc,
        @Nullable Instant notAfterUtc, @Nullable String serialNumber, @Nullable Integer version) {

    /** The complete info of a certificate. */
    public static X509CertificateInfo of(X509Certificate certificate) {
        return new X509CertificateInfo(CertificateCodec.subjectName(certificate),
                CertificateCodec.sha1Thumbprint(certificate), CertificateCodec.sha256Thumbprint(certificate),
                CertificateCodec.issuerName(certificate), certificate.getNotBefore().toInstant(),
                certificate.getNotAfter().toInstant(), CertificateCodec.serialNumber(certificate),
                certificate.getVersion());
    }

    /**
     * Whether this info names the certificate {@code other} describes: equal SHA-256 thumbprints, or, when this
     * one has none, equal SHA-1 thumbprints (case-insensitive hex).
     */
    public boolean sameCertificateAs(X509CertificateInfo other) {
        if (sha256Thumbprint != null && !sha256Thumbprint.isBlank()) {
            return sha256Thumbprint.strip().equalsIgnoreCase(other.sha256Thumbprint);
        }
        return sha1Thumbprint != null && !sha1Thumbprint.isBlank()
                && sha1Thumbprint.strip().equalsIgnoreCase(other.sha1Thumbprint);
    }
}
