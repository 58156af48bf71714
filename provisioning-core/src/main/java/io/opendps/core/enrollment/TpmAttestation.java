package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * TPM attestation of an individual enrollment ({@code dps-service-api.md} §3.3):
 * {@code {"endorsementKey": base64, "storageRootKey": base64?}}.
 *
 * <p>The endorsement key is the device TPM's public EK as a base64 {@code TPM2B_PUBLIC}: a 2-byte big-endian size
 * equal to the number of bytes that follow, then a {@code TPMT_PUBLIC} whose first two bytes are the key type,
 * RSA ({@code 0x0001}) or ECC ({@code 0x0023}); the reference's {@code AToAAQAL…} is an RSA-2048 EK of this form.
 * {@link #endorsementKeyProblem} checks exactly that much (the rest of the structure is the TPM's business and is
 * read when TPM device attestation arrives, issue #8). The storage root key is optional and only checked to be
 * base64.
 *
 * <p>Both keys are <em>public</em>: unlike symmetric keys they are never redacted, so GET, query and the
 * attestation-mechanism read all return this object (the Java service SDK throws on a TPM attestation without it).
 * Components are nullable because this record is also the request body; the enrollment rules reject a missing
 * endorsement key before anything is stored, so stored enrollments always have one.
 */
@JsonPropertyOrder({"endorsementKey", "storageRootKey"})
public record TpmAttestation(@Nullable String endorsementKey, @Nullable String storageRootKey) {

    /** {@code TPM_ALG_RSA}. */
    static final int TPM_ALG_RSA = 0x0001;
    /** {@code TPM_ALG_ECC}. */
    static final int TPM_ALG_ECC = 0x0023;

    /**
     * What is wrong with a base64 {@code TPM2B_PUBLIC} endorsement key, or null when it is well-formed as far as
     * this server checks (size header, RSA or ECC type).
     */
    public static @Nullable String endorsementKeyProblem(String base64) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            return "is not valid base64 (standard alphabet, with padding)";
        }
        if (bytes.length < 4) {
            return "decodes to " + bytes.length + " bytes, too short for a TPM2B_PUBLIC (a 2-byte size followed by "
                    + "a TPMT_PUBLIC)";
        }
        int size = (bytes[0] & 0xff) << 8 | bytes[1] & 0xff;
        if (size != bytes.length - 2) {
            return "is not a TPM2B_PUBLIC: its 2-byte size field says " + size + " bytes but " + (bytes.length - 2)
                    + " follow";
        }
        int type = (bytes[2] & 0xff) << 8 | bytes[3] & 0xff;
        if (type != TPM_ALG_RSA && type != TPM_ALG_ECC) {
            return String.format(java.util.Locale.ROOT, "is not an RSA (0x0001) or ECC (0x0023) public key: its "
                    + "TPMT_PUBLIC type is 0x%04X", type);
        }
        return null;
    }
}
