package io.opendps.core.ca;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What the store keeps of a CA certificate: the public view plus the pending verification code, which only
 * {@link CaCertificateService} reads (it is handed out once, by {@link CaCertificateService#generateVerificationCode}).
 *
 * @param certificate the public view
 * @param verificationCode the single active code, or null when none is pending (never issued or consumed)
 * @param verificationCodeExpiry when the code stops being accepted; null with the code
 */
public record StoredCaCertificate(CaCertificate certificate, @Nullable String verificationCode,
        @Nullable Instant verificationCodeExpiry) {

    @Override
    public String toString() {
        return "StoredCaCertificate[name=" + certificate.name() + ", thumbprint=" + certificate.thumbprint()
                + ", verified=" + certificate.isVerified() + ", code=" + (verificationCode == null ? "none" : "pending")
                + "]";
    }
}
