package io.opendps.core.tpm;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * Builds the activation blob of {@code dps-device-protocol.md} §7.4/§7.6: a keyed-hash (HMAC-SHA-256) object
 * holding {@code keyBytes}, duplicated under the device's storage root key with an inner AES-128-CFB wrapper, and
 * that inner wrapping key protected to the endorsement key by MakeCredential. Only the TPM holding the EK's
 * private key, with the SRK loaded, can import the key; the key never leaves that TPM afterwards.
 *
 * <p>The six parts, each a {@code TPM2B}: {@code credentialBlob} (TPM2B_ID_OBJECT), {@code encSecret},
 * {@code idKeyDupBlob} (TPM2B_PRIVATE), {@code encWrapKey}, {@code idKeyPub} (TPM2B_PUBLIC), {@code encUriData}
 * (TPM2B_DATA). Thread-safe; fresh seeds from the given random source on every call.
 */
public final class ActivationBlob {

    /** {@code TPMA_OBJECT} sign | noDA | userWithAuth (§7.5). */
    static final int ID_KEY_ATTRIBUTES = 0x00040440;

    private ActivationBlob() {
    }

    /**
     * The six parts of a blob, each already a marshalled {@code TPM2B}.
     *
     * @param credentialBlob part 1, {@code TPM2B_ID_OBJECT}
     * @param encSecret part 2, the credential seed encrypted to the EK
     * @param duplicate part 3, {@code TPM2B_PRIVATE}
     * @param encWrapKey part 4, the duplication seed encrypted to the SRK
     * @param idKeyPublic part 5, the HMAC key's {@code TPM2B_PUBLIC}
     * @param encUriData part 6, {@code TPM2B_DATA}
     */
    public record Parts(byte[] credentialBlob, byte[] encSecret, byte[] duplicate, byte[] encWrapKey,
            byte[] idKeyPublic, byte[] encUriData) {

        /** The blob: the six parts concatenated (base64 this for {@code authenticationKey}). */
        public byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] part : new byte[][] {credentialBlob, encSecret, duplicate, encWrapKey, idKeyPublic,
                encUriData}) {
                out.writeBytes(part);
            }
            return out.toByteArray();
        }

        /**
         * Splits a blob into its six {@code TPM2B}s, as the device SDKs parse it (the device side: simulators and
         * tests).
         *
         * @throws TpmFormatException when a part runs past the end or bytes are left over
         */
        public static Parts parse(byte[] blob) throws TpmFormatException {
            ByteBuffer in = ByteBuffer.wrap(blob);
            byte[][] parts = new byte[6][];
            for (int i = 0; i < 6; i++) {
                if (in.remaining() < 2) {
                    throw new TpmFormatException("the activation blob ends before part " + (i + 1) + " of 6");
                }
                int size = in.getShort(in.position()) & 0xffff;
                if (in.remaining() < 2 + size) {
                    throw new TpmFormatException("part " + (i + 1) + " of the activation blob needs " + size
                            + " bytes, " + (in.remaining() - 2) + " are left");
                }
                parts[i] = new byte[2 + size];
                in.get(parts[i]);
            }
            if (in.hasRemaining()) {
                throw new TpmFormatException("the activation blob has " + in.remaining() + " bytes after part 6");
            }
            return new Parts(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
        }

        @Override
        public String toString() {
            return "ActivationBlob.Parts[" + bytes().length + " bytes]";
        }
    }

    /**
     * Builds a blob carrying {@code keyBytes} (32 bytes) to the TPM with endorsement key {@code ek} and storage
     * root key {@code srk}; {@code uriData} (not interpreted by devices) is encrypted with the inner wrapping key.
     */
    public static Parts build(TpmPublic ek, TpmPublic srk, byte[] keyBytes, byte[] uriData, SecureRandom random) {
        Objects.requireNonNull(ek, "ek");
        Objects.requireNonNull(srk, "srk");
        if (keyBytes.length != 32) {
            throw new IllegalArgumentException("the HMAC key must be 32 bytes, not " + keyBytes.length);
        }
        byte[] seedValue = bytes(random, 32);
        byte[] idPublic = idKeyPublic(seedValue, keyBytes);
        byte[] idName = TpmCrypto.name(idPublic);

        // Inner wrapper (AES-128-CFB with innerWrapKey): integrity digest then the sensitive area.
        byte[] innerWrapKey = bytes(random, 16);
        byte[] sens2b = TpmCrypto.tpm2b(sensitive(seedValue, keyBytes));
        byte[] innerIntegrity = TpmCrypto.sha256(sens2b, idName);
        byte[] encSensitive = TpmCrypto.aesCfb(innerWrapKey,
                concat(TpmCrypto.tpm2b(innerIntegrity), sens2b), true);

        // Outer wrapper to the new parent (the SRK).
        byte[] dupSeed = bytes(random, 32);
        byte[] encWrapKey = TpmCrypto.oaep(srk.rsaPublicKey(), TpmCrypto.DUPLICATE, dupSeed, random);
        byte[] symKey = TpmCrypto.kdfa(dupSeed, "STORAGE", idName, new byte[0], 128);
        byte[] encDuplicate = TpmCrypto.aesCfb(symKey, encSensitive, true);
        byte[] hmacKey = TpmCrypto.kdfa(dupSeed, "INTEGRITY", new byte[0], new byte[0], 256);
        byte[] outerHmac = TpmCrypto.hmac(hmacKey, concat(encDuplicate, idName));
        byte[] duplicate = TpmCrypto.tpm2b(concat(TpmCrypto.tpm2b(outerHmac), encDuplicate));

        // MakeCredential: innerWrapKey protected to the EK, bound to the SRK's name.
        byte[] srkName = srk.name();
        byte[] credSeed = bytes(random, 32);
        byte[] encSecret = TpmCrypto.oaep(ek.rsaPublicKey(), TpmCrypto.IDENTITY, credSeed, random);
        byte[] symKey2 = TpmCrypto.kdfa(credSeed, "STORAGE", srkName, new byte[0], 128);
        byte[] encIdentity = TpmCrypto.aesCfb(symKey2, TpmCrypto.tpm2b(innerWrapKey), true);
        byte[] hmacKey2 = TpmCrypto.kdfa(credSeed, "INTEGRITY", new byte[0], new byte[0], 256);
        byte[] integrityHmac = TpmCrypto.hmac(hmacKey2, concat(encIdentity, srkName));
        byte[] credential = TpmCrypto.tpm2b(concat(TpmCrypto.tpm2b(integrityHmac), encIdentity));

        byte[] encUri = TpmCrypto.aesCfb(innerWrapKey, uriData, true);
        return new Parts(credential, TpmCrypto.tpm2b(encSecret), duplicate, TpmCrypto.tpm2b(encWrapKey),
                TpmCrypto.tpm2b(idPublic), TpmCrypto.tpm2b(encUri));
    }

    /**
     * The HMAC key's {@code TPMT_PUBLIC} (48 bytes, §7.5): keyed hash, SHA-256 name, sign | noDA | userWithAuth,
     * empty policy, HMAC-SHA-256 scheme, {@code unique = SHA-256(seedValue || keyBytes)}.
     */
    static byte[] idKeyPublic(byte[] seedValue, byte[] keyBytes) {
        return ByteBuffer.allocate(48)
                .putShort((short) TpmPublic.TPM_ALG_KEYEDHASH)
                .putShort((short) TpmPublic.TPM_ALG_SHA256)
                .putInt(ID_KEY_ATTRIBUTES)
                .putShort((short) 0)
                .putShort((short) 0x0005)
                .putShort((short) TpmPublic.TPM_ALG_SHA256)
                .put(TpmCrypto.tpm2b(TpmCrypto.sha256(seedValue, keyBytes)))
                .array();
    }

    /** The HMAC key's {@code TPMT_SENSITIVE} (72 bytes): keyed hash, empty auth, seed value, key. */
    static byte[] sensitive(byte[] seedValue, byte[] keyBytes) {
        return ByteBuffer.allocate(72)
                .putShort((short) TpmPublic.TPM_ALG_KEYEDHASH)
                .putShort((short) 0)
                .put(TpmCrypto.tpm2b(seedValue))
                .put(TpmCrypto.tpm2b(keyBytes))
                .array();
    }

    private static byte[] bytes(SecureRandom random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
    }
}
