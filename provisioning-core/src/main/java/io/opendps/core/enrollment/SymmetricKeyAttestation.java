package io.opendps.core.enrollment;

import org.jspecify.annotations.Nullable;

/**
 * Symmetric-key attestation: base64 keys of 16–64 bytes. On input, {@code null} or {@code ""} means "generate"
 * (create) or "keep the stored key" (update); on output the keys appear only in write responses and in the
 * attestation-mechanism read, never in GET or query results.
 */
public record SymmetricKeyAttestation(@Nullable String primaryKey, @Nullable String secondaryKey) {

    /** The attestation with no key material, as GET returns it. */
    public static final SymmetricKeyAttestation REDACTED = new SymmetricKeyAttestation(null, null);
}
