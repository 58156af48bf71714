package io.opendps.core.x509;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"primary": X509CertificateWithInfo, "secondary": X509CertificateWithInfo}}: an individual enrollment's
 * client certificates or a group's signing certificates. {@code primary} is required on writes. Absent and
 * {@code null} mean the same (the JSON mapper reads explicit nulls as absent): no certificate in that slot, so
 * a PUT without {@code secondary} removes a stored one.
 */
@JsonPropertyOrder({"primary", "secondary"})
public record X509Certificates(@Nullable X509CertificateWithInfo primary,
        @Nullable X509CertificateWithInfo secondary) {

    /** The response form: info only. */
    public X509Certificates withoutCertificates() {
        return new X509Certificates(primary == null ? null : primary.withoutCertificate(),
                secondary == null ? null : secondary.withoutCertificate());
    }

    /** The present slots, primary first. */
    public List<X509CertificateWithInfo> present() {
        List<X509CertificateWithInfo> out = new ArrayList<>(2);
        if (primary != null) {
            out.add(primary);
        }
        if (secondary != null) {
            out.add(secondary);
        }
        return out;
    }
}
