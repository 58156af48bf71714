package io.opendps.core.ca;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;

/**
 * A CA certificate registered on the service, as the administration API shows it (the {@code properties} of
 * ARM's CertificateResponse, {@code dps-service-api.md} §14). The pending verification code is not part of it.
 *
 * @param name the certificate's name (id rules, case-insensitive; stored as first written)
 * @param certificate the certificate, PEM
 * @param subject subject DN, .NET style
 * @param thumbprint SHA-1 of the DER, upper-case hex (ARM's {@code thumbprint})
 * @param expiry the certificate's notAfter
 * @param isVerified whether proof of possession was given (or accepted by the server's auto-verify option)
 * @param etag changes on every write, including code generation and verification
 * @param created when the name was first registered
 * @param updated last write
 */
@JsonPropertyOrder({"name", "subject", "expiry", "thumbprint", "isVerified", "certificate", "created", "updated",
    "etag"})
public record CaCertificate(String name, String certificate, String subject, String thumbprint, Instant expiry,
        @JsonProperty("isVerified") boolean isVerified, String etag, Instant created, Instant updated) {
}
