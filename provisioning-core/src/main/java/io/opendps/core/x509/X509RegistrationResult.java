package io.opendps.core.x509;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.security.cert.X509Certificate;
import org.jspecify.annotations.Nullable;

/**
 * The {@code x509} object of a device registration result ({@code dps-device-protocol.md} §3.3, §5.4):
 * {@code certificateInfo} of the device's leaf, {@code signingCertificateInfo} of the group anchor that
 * accepted the chain, and {@code enrollmentGroupId} for group members. Infos are always complete (all eight
 * fields): the Java device SDK rejects the response otherwise.
 */
@JsonPropertyOrder({"certificateInfo", "signingCertificateInfo", "enrollmentGroupId"})
public record X509RegistrationResult(@Nullable X509CertificateInfo certificateInfo,
        @Nullable X509CertificateInfo signingCertificateInfo, @Nullable String enrollmentGroupId) {

    /** The result of a device matched by an individual enrollment. */
    public static X509RegistrationResult individual(X509Certificate leaf) {
        return new X509RegistrationResult(X509CertificateInfo.of(leaf), null, null);
    }

    /** The result of a device matched by a group through {@code anchor}. */
    public static X509RegistrationResult group(X509Certificate leaf, X509Certificate anchor, String groupId) {
        return new X509RegistrationResult(X509CertificateInfo.of(leaf), X509CertificateInfo.of(anchor), groupId);
    }
}
