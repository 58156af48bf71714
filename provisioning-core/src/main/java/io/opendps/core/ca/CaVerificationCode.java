package io.opendps.core.ca;

import java.time.Instant;

/**
 * The answer to a verification-code request: the certificate (with its new etag) and the code the owner must
 * put as subject CN of a certificate signed with the CA's private key ({@code properties.verificationCode} of
 * ARM's VerificationCodeResponse).
 *
 * @param certificate the CA certificate after the request
 * @param verificationCode the code, single use
 * @param expiresAt after this instant the code is refused
 */
public record CaVerificationCode(CaCertificate certificate, String verificationCode, Instant expiresAt) {
}
