package io.opendps.core.tpm;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

/**
 * A parsed {@code TPM2B_PUBLIC} (TPM 2.0 Part 2 §12.2.5): the 2-byte size and the marshalled {@code TPMT_PUBLIC}
 * that follows it. Only what the server needs is decoded: type, name algorithm, attributes and, for RSA keys, the
 * parameters and the modulus. The marshalled bytes are kept verbatim, because the object's name is a hash over
 * them.
 *
 * @param tpmtPublic the marshalled {@code TPMT_PUBLIC} (the {@code TPM2B_PUBLIC} without its size prefix)
 * @param type {@code TPMI_ALG_PUBLIC}: {@link #TPM_ALG_RSA}, {@link #TPM_ALG_ECC}, {@link #TPM_ALG_KEYEDHASH}, ...
 * @param nameAlg the name algorithm; only {@link #TPM_ALG_SHA256} is accepted by {@link #parse}
 * @param attributes {@code TPMA_OBJECT}
 * @param symmetricAlg for RSA storage keys: the symmetric algorithm of the parameters ({@code TPM_ALG_AES} or
 *     {@code TPM_ALG_NULL}); 0 for other types
 * @param symmetricKeyBits the symmetric key size, 0 when none
 * @param rsaKeyBits RSA: the modulus size in bits; 0 for other types
 * @param rsaExponent RSA: the public exponent (0 in the structure means 65537, already substituted); 0 otherwise
 * @param unique the {@code unique} field (RSA: the modulus)
 */
public record TpmPublic(byte[] tpmtPublic, int type, int nameAlg, int attributes, int symmetricAlg,
        int symmetricKeyBits, int rsaKeyBits, long rsaExponent, byte[] unique) {

    /** {@code TPM_ALG_RSA}. */
    public static final int TPM_ALG_RSA = 0x0001;
    /** {@code TPM_ALG_KEYEDHASH}. */
    public static final int TPM_ALG_KEYEDHASH = 0x0008;
    /** {@code TPM_ALG_SHA256}. */
    public static final int TPM_ALG_SHA256 = 0x000B;
    /** {@code TPM_ALG_NULL}. */
    public static final int TPM_ALG_NULL = 0x0010;
    /** {@code TPM_ALG_ECC}. */
    public static final int TPM_ALG_ECC = 0x0023;
    /** {@code TPM_ALG_AES}. */
    public static final int TPM_ALG_AES = 0x0006;
    /** {@code TPMA_OBJECT} restricted | decrypt: a storage (parent) or endorsement key. */
    public static final int STORAGE_KEY_ATTRIBUTES = 0x00010000 | 0x00020000;

    public TpmPublic {
        tpmtPublic = tpmtPublic.clone();
        unique = unique.clone();
    }

    /** Parses a base64 {@code TPM2B_PUBLIC}; {@code what} names it in error messages ("endorsementKey"). */
    public static TpmPublic parseBase64(String base64, String what) throws TpmFormatException {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new TpmFormatException(what + " is not valid base64");
        }
        return parse(bytes, what);
    }

    /**
     * Parses a marshalled {@code TPM2B_PUBLIC} of an RSA storage key (an EK or SRK made from the standard
     * templates, §7.2): RSA, name algorithm SHA-256, restricted decryption key with a symmetric algorithm.
     */
    public static TpmPublic parse(byte[] tpm2bPublic, String what) throws TpmFormatException {
        if (tpm2bPublic.length < 4) {
            throw new TpmFormatException(what + " is " + tpm2bPublic.length + " bytes, too short for a TPM2B_PUBLIC");
        }
        ByteBuffer in = ByteBuffer.wrap(tpm2bPublic);
        int size = in.getShort() & 0xffff;
        if (size != in.remaining()) {
            throw new TpmFormatException(what + " is not a TPM2B_PUBLIC: its size field says " + size
                    + " bytes but " + in.remaining() + " follow");
        }
        byte[] tpmt = Arrays.copyOfRange(tpm2bPublic, 2, tpm2bPublic.length);
        try {
            int type = in.getShort() & 0xffff;
            if (type == TPM_ALG_ECC) {
                throw new TpmFormatException(what + " is an ECC key; this server builds TPM challenges for RSA "
                        + "endorsement and storage root keys only (the RSA-2048 templates of the Azure SDKs)");
            }
            if (type != TPM_ALG_RSA) {
                throw new TpmFormatException(what + String.format(Locale.ROOT,
                        " is not an RSA key: its TPMT_PUBLIC type is 0x%04X", type));
            }
            int nameAlg = in.getShort() & 0xffff;
            if (nameAlg != TPM_ALG_SHA256) {
                throw new TpmFormatException(what + String.format(Locale.ROOT,
                        " has name algorithm 0x%04X; only SHA-256 (0x000B) is supported", nameAlg));
            }
            int attributes = in.getInt();
            skip2b(in, what);
            int symAlg = in.getShort() & 0xffff;
            int symBits = 0;
            if (symAlg != TPM_ALG_NULL) {
                symBits = in.getShort() & 0xffff;
                in.getShort();
            }
            int scheme = in.getShort() & 0xffff;
            if (scheme != TPM_ALG_NULL) {
                in.getShort();
            }
            int keyBits = in.getShort() & 0xffff;
            long exponent = in.getInt() & 0xffffffffL;
            int uniqueSize = in.getShort() & 0xffff;
            if (uniqueSize > in.remaining()) {
                throw new TpmFormatException(what + " is truncated: its modulus needs " + uniqueSize + " bytes");
            }
            byte[] unique = new byte[uniqueSize];
            in.get(unique);
            if (in.hasRemaining()) {
                throw new TpmFormatException(what + " has " + in.remaining() + " bytes after its TPMT_PUBLIC");
            }
            if (uniqueSize * 8 != keyBits || keyBits < 2048) {
                throw new TpmFormatException(what + " has a " + uniqueSize * 8 + "-bit modulus for a " + keyBits
                        + "-bit key; an RSA key of at least 2048 bits is required");
            }
            if ((attributes & STORAGE_KEY_ATTRIBUTES) != STORAGE_KEY_ATTRIBUTES || symAlg != TPM_ALG_AES) {
                throw new TpmFormatException(what + " is not a restricted decryption (storage) key with an AES "
                        + "symmetric algorithm, as endorsement and storage root keys are");
            }
            return new TpmPublic(tpmt, type, nameAlg, attributes, symAlg, symBits, keyBits,
                    exponent == 0 ? 65537 : exponent, unique);
        } catch (java.nio.BufferUnderflowException e) {
            throw new TpmFormatException(what + " is truncated: the TPMT_PUBLIC ends early");
        }
    }

    private static void skip2b(ByteBuffer in, String what) throws TpmFormatException {
        int n = in.getShort() & 0xffff;
        if (n > in.remaining()) {
            throw new TpmFormatException(what + " is truncated: a TPM2B field of " + n + " bytes runs past the end");
        }
        in.position(in.position() + n);
    }

    /** The object's name: {@code nameAlg || SHA-256(TPMT_PUBLIC)} (34 bytes). */
    public byte[] name() {
        return TpmCrypto.name(tpmtPublic);
    }

    /** The marshalled {@code TPM2B_PUBLIC} (size prefix and {@code TPMT_PUBLIC}). */
    public byte[] tpm2b() {
        return TpmCrypto.tpm2b(tpmtPublic);
    }

    /** The RSA public key (modulus from {@code unique}). */
    public RSAPublicKey rsaPublicKey() {
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(
                    new RSAPublicKeySpec(new BigInteger(1, unique), BigInteger.valueOf(rsaExponent)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA key factory unavailable", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TpmPublic p && Arrays.equals(tpmtPublic, p.tpmtPublic);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tpmtPublic);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TpmPublic[type=0x%04X, rsaBits=%d, attributes=0x%08X]", type, rsaKeyBits,
                attributes);
    }
}
