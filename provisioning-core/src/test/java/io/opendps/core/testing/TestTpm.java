package io.opendps.core.testing;

import java.util.Base64;
import java.util.Random;

/** TPM endorsement keys for tests: well-formed {@code TPM2B_PUBLIC} structures and broken variants. */
public final class TestTpm {

    /**
     * The first 60 bytes of an RSA-2048 EK, as in the reference's {@code AToAAQAL…}: size {@code 0x013A}, type RSA,
     * nameAlg SHA-256, the standard EK attributes and policy, AES-128-CFB symmetric, 2048 bits, exponent 0, and the
     * 256-byte modulus size. The modulus follows.
     */
    private static final byte[] RSA_HEADER = Base64.getDecoder().decode(
            "AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA");

    private TestTpm() {
    }

    /** A well-formed RSA-2048 endorsement key (base64 TPM2B_PUBLIC) whose modulus is derived from {@code seed}. */
    public static String rsaEndorsementKey(long seed) {
        byte[] key = new byte[RSA_HEADER.length + 256];
        System.arraycopy(RSA_HEADER, 0, key, 0, RSA_HEADER.length);
        byte[] modulus = new byte[256];
        new Random(seed).nextBytes(modulus);
        System.arraycopy(modulus, 0, key, RSA_HEADER.length, modulus.length);
        return Base64.getEncoder().encodeToString(key);
    }

    /** A TPM2B_PUBLIC of {@code type} whose TPMT_PUBLIC has {@code bodyLength} bytes, with a correct size field. */
    public static byte[] tpm2bPublic(int type, int bodyLength) {
        byte[] key = new byte[2 + bodyLength];
        key[0] = (byte) (bodyLength >> 8);
        key[1] = (byte) bodyLength;
        if (bodyLength >= 2) {
            key[2] = (byte) (type >> 8);
            key[3] = (byte) type;
        }
        for (int i = 4; i < key.length; i++) {
            key[i] = (byte) (i * 31);
        }
        return key;
    }

    /** Base64 of {@code bytes}. */
    public static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
