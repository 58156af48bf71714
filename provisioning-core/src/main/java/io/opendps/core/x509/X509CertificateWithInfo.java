package io.opendps.core.x509;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.security.cert.X509Certificate;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"certificate": "...", "info": {...}}}. On input {@code certificate} is PEM, base64 DER or base64 PEM and
 * {@code info} is ignored unless the certificate is absent (a round trip of a GET, see {@code
 * dps-service-api.md} §3.3). Stored: the certificate normalised to PEM plus the computed info. In every response:
 * {@code info} only.
 */
@JsonPropertyOrder({"certificate", "info"})
public record X509CertificateWithInfo(@Nullable String certificate, @Nullable X509CertificateInfo info) {

    /** The stored form of a parsed certificate: PEM text and computed info. */
    public static X509CertificateWithInfo of(X509Certificate certificate) {
        return new X509CertificateWithInfo(CertificateCodec.toPem(certificate), X509CertificateInfo.of(certificate));
    }

    /** The response form: info only. */
    public X509CertificateWithInfo withoutCertificate() {
        return new X509CertificateWithInfo(null, info);
    }

    /** Whether a certificate text was sent. */
    public boolean hasCertificate() {
        return certificate != null && !certificate.isBlank();
    }
}
