package io.opendps.core.tpm;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.Locale;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

/**
 * The TPM 2.0 Part 1 primitives of {@code dps-device-protocol.md} §7.6, all with SHA-256: KDFa, names, RSA-OAEP
 * with a TPM label, AES-CFB with a zero IV, HMAC, and the EK-derived default registration id (§7.2). Stateless.
 */
public final class TpmCrypto {

    /** OAEP label for {@code TPM2_MakeCredential} secrets. */
    public static final String IDENTITY = "IDENTITY";
    /** OAEP label for duplication seeds. */
    public static final String DUPLICATE = "DUPLICATE";
    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    private TpmCrypto() {
    }

    /**
     * {@code KDFa(SHA-256, key, label, contextU, contextV, bits)}: the concatenation of
     * {@code HMAC(key, u32(i) || label || 0x00 || contextU || contextV || u32(bits))} for i = 1, 2, ... truncated to
     * {@code bits} (a multiple of 8).
     */
    public static byte[] kdfa(byte[] key, String label, byte[] contextU, byte[] contextV, int bits) {
        if (bits <= 0 || bits % 8 != 0) {
            throw new IllegalArgumentException("bits must be a positive multiple of 8: " + bits);
        }
        byte[] labelBytes = label.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 1; out.size() < bits / 8; i++) {
            ByteBuffer message = ByteBuffer.allocate(4 + labelBytes.length + 1 + contextU.length + contextV.length + 4);
            message.putInt(i).put(labelBytes).put((byte) 0).put(contextU).put(contextV).putInt(bits);
            out.writeBytes(hmac(key, message.array()));
        }
        return Arrays.copyOf(out.toByteArray(), bits / 8);
    }

    /** HMAC-SHA256. */
    public static byte[] hmac(byte[] key, byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** SHA-256 of the concatenated parts. */
    public static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                digest.update(part);
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** A SHA-256 object name: {@code 00 0B || SHA-256(TPMT_PUBLIC)}. */
    public static byte[] name(byte[] tpmtPublic) {
        return ByteBuffer.allocate(34).putShort((short) TpmPublic.TPM_ALG_SHA256).put(sha256(tpmtPublic)).array();
    }

    /** A {@code TPM2B}: {@code u16 size || bytes}. */
    public static byte[] tpm2b(byte[] bytes) {
        if (bytes.length > 0xffff) {
            throw new IllegalArgumentException("too long for a TPM2B: " + bytes.length);
        }
        return ByteBuffer.allocate(2 + bytes.length).putShort((short) bytes.length).put(bytes).array();
    }

    /**
     * RSA-OAEP (SHA-256 digest and MGF1-SHA-256) with the TPM label: the ASCII text plus a terminating zero byte,
     * as TPM 2.0 Part 1 §B.10.3 requires ({@code "IDENTITY\0"}, {@code "DUPLICATE\0"}); {@code random} seeds
     * the padding.
     */
    public static byte[] oaep(RSAPublicKey key, String label, byte[] secret, SecureRandom random) {
        byte[] labelBytes = (label + "\0").getBytes(StandardCharsets.US_ASCII);
        try {
            Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
                    new PSource.PSpecified(labelBytes)), random);
            return cipher.doFinal(secret);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA-OAEP with SHA-256 failed", e);
        }
    }

    /** AES-CFB (128-bit feedback) with an all-zero IV and no padding; {@code encrypt} false decrypts. */
    public static byte[] aesCfb(byte[] key, byte[] data, boolean encrypt) {
        try {
            Cipher cipher = Cipher.getInstance("AES/CFB/NoPadding");
            cipher.init(encrypt ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"),
                    new IvParameterSpec(new byte[16]));
            return cipher.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CFB failed", e);
        }
    }

    /**
     * The default registration id of a TPM device (§7.2, all three SDKs): lower-case RFC 4648 base32 of
     * SHA-256 of the EK's {@code TPM2B_PUBLIC} bytes, padding removed (52 characters).
     */
    public static String registrationId(byte[] endorsementKeyTpm2bPublic) {
        return base32(sha256(endorsementKeyTpm2bPublic));
    }

    /** RFC 4648 base32, lower case, without padding. */
    static String base32(byte[] data) {
        StringBuilder out = new StringBuilder((data.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8 | b & 0xff) & 0x1fff;
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[buffer >> bits - 5 & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(BASE32[buffer << 5 - bits & 31]);
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }
}
