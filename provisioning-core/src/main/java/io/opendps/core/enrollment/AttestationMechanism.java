package io.opendps.core.enrollment;

import io.opendps.core.x509.X509Attestation;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"type": ..., "symmetricKey": {...} | "x509": {...} | "tpm": {...}}}. Only the sub-object that
 * matches {@code type} is meaningful; the enrollment rules store only that one.
 *
 * <p>Stored form: symmetric keys, X.509 certificate texts (PEM) with computed info, TPM endorsement and storage
 * root keys. Response forms: {@link #withoutCertificates()} for PUT responses and the attestation-mechanism read
 * (keys kept, certificate texts replaced by their info), {@link #redacted()} for GET, query and webhooks (no
 * symmetric keys either). TPM keys are public and appear in every form.
 */
public record AttestationMechanism(@Nullable AttestationType type, @Nullable SymmetricKeyAttestation symmetricKey,
        @Nullable X509Attestation x509, @Nullable TpmAttestation tpm) {

    /** A symmetric-key attestation. */
    public static AttestationMechanism symmetricKey(@Nullable String primary, @Nullable String secondary) {
        return new AttestationMechanism(AttestationType.SYMMETRIC_KEY,
                new SymmetricKeyAttestation(primary, secondary), null, null);
    }

    /** An X.509 attestation. */
    public static AttestationMechanism x509(X509Attestation x509) {
        return new AttestationMechanism(AttestationType.X509, null, x509, null);
    }

    /** A TPM attestation (individual enrollments only). */
    public static AttestationMechanism tpm(String endorsementKey, @Nullable String storageRootKey) {
        return new AttestationMechanism(AttestationType.TPM, null, null,
                new TpmAttestation(endorsementKey, storageRootKey));
    }

    /** The same mechanism without secrets (symmetric keys removed, certificates as info only), as GET shows it. */
    public AttestationMechanism redacted() {
        if (type == AttestationType.SYMMETRIC_KEY) {
            return new AttestationMechanism(type, null, null, null);
        }
        return withoutCertificates();
    }

    /** The same mechanism with X.509 certificate texts replaced by their info; symmetric and TPM keys are kept. */
    public AttestationMechanism withoutCertificates() {
        if (x509 == null) {
            return this;
        }
        return new AttestationMechanism(type, symmetricKey, x509.withoutCertificates(), tpm);
    }
}
