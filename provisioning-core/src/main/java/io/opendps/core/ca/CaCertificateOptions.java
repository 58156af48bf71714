package io.opendps.core.ca;

import java.time.Duration;

/**
 * Per-server CA certificate settings.
 *
 * @param autoVerify when true, an upload with {@code isVerified: true} is stored verified without proof of
 *     possession, enrollment groups may reference unverified CA certificates, and device chains may be validated
 *     against them (a test/lab switch: anyone holding the public CA certificate could then claim its devices)
 * @param verificationCodeLifetime how long a verification code is accepted
 * @param maxCertificates how many CA certificates the service holds at most
 */
public record CaCertificateOptions(boolean autoVerify, Duration verificationCodeLifetime, int maxCertificates) {

    /** Azure's limit of CA certificates per service. */
    public static final int MAX_CERTIFICATES = 25;

    /** Proof of possession required, codes valid for one hour, at most 25 certificates. */
    public static final CaCertificateOptions DEFAULTS = new CaCertificateOptions(false, Duration.ofHours(1),
            MAX_CERTIFICATES);

    public CaCertificateOptions {
        if (verificationCodeLifetime.isNegative() || verificationCodeLifetime.isZero()) {
            throw new IllegalArgumentException("verificationCodeLifetime must be positive, was "
                    + verificationCodeLifetime);
        }
        if (maxCertificates < 1) {
            throw new IllegalArgumentException("maxCertificates must be at least 1, was " + maxCertificates);
        }
    }

    /** The defaults with auto-verify switched as given. */
    public static CaCertificateOptions autoVerify(boolean on) {
        return new CaCertificateOptions(on, DEFAULTS.verificationCodeLifetime(), DEFAULTS.maxCertificates());
    }
}
