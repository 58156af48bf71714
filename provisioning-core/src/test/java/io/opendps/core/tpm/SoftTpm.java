package io.opendps.core.tpm;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.encodings.OAEPEncoding;
import org.bouncycastle.crypto.engines.RSAEngine;
import org.bouncycastle.crypto.params.RSAKeyParameters;

/**
 * The device side of the activation blob in software, for unit tests: an EK and an SRK as RSA-2048 key pairs with
 * the SDK templates' {@code TPMT_PUBLIC}, and {@code ActivateCredential} + {@code Import} written independently
 * of the builder (OAEP through BouncyCastle's {@code OAEPEncoding}, as in the reference's recipe). The real TPM
 * check is {@code TpmProvisioningIT} (swtpm).
 */
public final class SoftTpm {

    static final int EK_ATTRIBUTES = 0x000300B2;
    static final int SRK_ATTRIBUTES = 0x00030472;

    final KeyPair ek;
    final KeyPair srk;

    public SoftTpm() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        this.ek = generator.generateKeyPair();
        this.srk = generator.generateKeyPair();
    }

    public byte[] ekPublic() {
        return tpm2bPublic((RSAPublicKey) ek.getPublic(), EK_ATTRIBUTES);
    }

    public byte[] srkPublic() {
        return tpm2bPublic((RSAPublicKey) srk.getPublic(), SRK_ATTRIBUTES);
    }

    /** A {@code TPM2B_PUBLIC} of an RSA-2048 storage key, AES-128-CFB, null scheme, exponent 0. */
    static byte[] tpm2bPublic(RSAPublicKey key, int attributes) {
        byte[] modulus = unsigned(key.getModulus(), 256);
        ByteBuffer t = ByteBuffer.allocate(2 + 2 + 4 + 2 + 6 + 2 + 2 + 4 + 2 + 256);
        t.putShort((short) 1).putShort((short) 0x0B).putInt(attributes).putShort((short) 0)
                .putShort((short) 6).putShort((short) 128).putShort((short) 0x43)
                .putShort((short) 0x10).putShort((short) 2048).putInt(0)
                .putShort((short) 256).put(modulus);
        return TpmCrypto.tpm2b(Arrays.copyOf(t.array(), t.position()));
    }

    /** {@code TPM2_ActivateCredential}: the 16-byte inner wrapping key, or an exception when not for this TPM. */
    public byte[] activateCredential(ActivationBlob.Parts parts) throws Exception {
        byte[] seed = oaepDecrypt((RSAPrivateCrtKey) ek.getPrivate(), "IDENTITY", body(parts.encSecret()));
        byte[] srkName = TpmPublic.parse(srkPublic(), "srk").name();
        ByteBuffer id = ByteBuffer.wrap(body(parts.credentialBlob()));
        byte[] hmac = new byte[id.getShort()];
        id.get(hmac);
        byte[] encIdentity = new byte[id.remaining()];
        id.get(encIdentity);
        byte[] hmacKey = TpmCrypto.kdfa(seed, "INTEGRITY", new byte[0], new byte[0], 256);
        if (!Arrays.equals(hmac, TpmCrypto.hmac(hmacKey, concat(encIdentity, srkName)))) {
            throw new IllegalStateException("TPM_RC_INTEGRITY (credential)");
        }
        byte[] plain = TpmCrypto.aesCfb(TpmCrypto.kdfa(seed, "STORAGE", srkName, new byte[0], 128), encIdentity,
                false);
        return body(plain);
    }

    /** ActivateCredential then Import of a base64 blob ({@code authenticationKey}): the HMAC key bytes. */
    public byte[] activate(String authenticationKey) throws Exception {
        ActivationBlob.Parts parts = ActivationBlob.Parts.parse(java.util.Base64.getDecoder().decode(authenticationKey));
        return importKey(parts, activateCredential(parts));
    }

    /** {@code TPM2_Import} + reading the sensitive area: the HMAC key bytes. */
    public byte[] importKey(ActivationBlob.Parts parts, byte[] innerWrapKey) throws Exception {
        byte[] seed = oaepDecrypt((RSAPrivateCrtKey) srk.getPrivate(), "DUPLICATE", body(parts.encWrapKey()));
        byte[] idPublic = body(parts.idKeyPublic());
        byte[] name = TpmCrypto.name(idPublic);
        ByteBuffer dup = ByteBuffer.wrap(body(parts.duplicate()));
        byte[] outerHmac = new byte[dup.getShort()];
        dup.get(outerHmac);
        byte[] encDuplicate = new byte[dup.remaining()];
        dup.get(encDuplicate);
        byte[] hmacKey = TpmCrypto.kdfa(seed, "INTEGRITY", new byte[0], new byte[0], 256);
        if (!Arrays.equals(outerHmac, TpmCrypto.hmac(hmacKey, concat(encDuplicate, name)))) {
            throw new IllegalStateException("TPM_RC_INTEGRITY (outer)");
        }
        byte[] encSensitive = TpmCrypto.aesCfb(TpmCrypto.kdfa(seed, "STORAGE", name, new byte[0], 128), encDuplicate,
                false);
        ByteBuffer inner = ByteBuffer.wrap(TpmCrypto.aesCfb(innerWrapKey, encSensitive, false));
        byte[] integrity = new byte[inner.getShort()];
        inner.get(integrity);
        byte[] sens2b = new byte[inner.remaining()];
        inner.get(sens2b);
        if (!Arrays.equals(integrity, TpmCrypto.sha256(sens2b, name))) {
            throw new IllegalStateException("TPM_RC_INTEGRITY (inner)");
        }
        ByteBuffer sensitive = ByteBuffer.wrap(body(sens2b));
        sensitive.getShort();
        int authSize = sensitive.getShort();
        sensitive.position(sensitive.position() + authSize);
        byte[] seedValue = new byte[sensitive.getShort()];
        sensitive.get(seedValue);
        byte[] key = new byte[sensitive.getShort()];
        sensitive.get(key);
        byte[] unique = Arrays.copyOfRange(idPublic, idPublic.length - 32, idPublic.length);
        if (!Arrays.equals(unique, TpmCrypto.sha256(seedValue, key))) {
            throw new IllegalStateException("TPM_RC_BINDING");
        }
        return key;
    }

    static byte[] oaepDecrypt(RSAPrivateCrtKey key, String label, byte[] data) throws InvalidCipherTextException {
        OAEPEncoding oaep = new OAEPEncoding(new RSAEngine(), new SHA256Digest(), new SHA256Digest(),
                (label + "\0").getBytes(StandardCharsets.US_ASCII));
        oaep.init(false, new RSAKeyParameters(true, key.getModulus(), key.getPrivateExponent()));
        return oaep.processBlock(data, 0, data.length);
    }

    /** The bytes of a TPM2B after checking its size prefix. */
    public static byte[] body(byte[] tpm2b) {
        int size = (tpm2b[0] & 0xff) << 8 | tpm2b[1] & 0xff;
        if (size != tpm2b.length - 2) {
            throw new IllegalStateException("TPM2B size " + size + " != " + (tpm2b.length - 2));
        }
        return Arrays.copyOfRange(tpm2b, 2, tpm2b.length);
    }

    static byte[] unsigned(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        return raw.length == length ? raw : Arrays.copyOfRange(raw, raw.length - length, raw.length);
    }

    static byte[] concat(byte[] a, byte[] b) {
        return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
    }
}
