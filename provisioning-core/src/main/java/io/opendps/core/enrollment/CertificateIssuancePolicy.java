package io.opendps.core.enrollment;

import org.jspecify.annotations.Nullable;

/**
 * {@code {"certificateAuthorityName": string}}: the 2021-11-01-preview certificate issuance policy of an enrollment
 * or group ({@code clientCertificateIssuancePolicy}, {@code serverCertificateIssuancePolicy}). OpenDPS accepts and
 * stores it and returns it on reads, as the reference allows for preview-only fields; it issues no certificates,
 * so the value has no effect. Keys other than {@code certificateAuthorityName} are ignored, like unknown keys
 * anywhere in an enrollment.
 */
public record CertificateIssuancePolicy(@Nullable String certificateAuthorityName) {
}
