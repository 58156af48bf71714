package io.opendps.core.enrollment;

import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"type": ..., "symmetricKey": {...} | "x509": {...} | "tpm": {...}}}. Only the sub-object that
 * matches {@code type} is meaningful. X.509 and TPM are kept as raw JSON until their issues land.
 */
public record AttestationMechanism(@Nullable AttestationType type, @Nullable SymmetricKeyAttestation symmetricKey,
        @Nullable JsonNode x509, @Nullable JsonNode tpm) {

    /** A symmetric-key attestation. */
    public static AttestationMechanism symmetricKey(@Nullable String primary, @Nullable String secondary) {
        return new AttestationMechanism(AttestationType.SYMMETRIC_KEY,
                new SymmetricKeyAttestation(primary, secondary), null, null);
    }

    /** The same mechanism without secrets (symmetric keys removed), as GET, query and webhooks show it. */
    public AttestationMechanism redacted() {
        if (type == AttestationType.SYMMETRIC_KEY) {
            return new AttestationMechanism(type, null, null, null);
        }
        return this;
    }
}
