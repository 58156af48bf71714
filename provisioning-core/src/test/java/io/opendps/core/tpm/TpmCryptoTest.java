package io.opendps.core.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.HexFormat;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.KDFCounterBytesGenerator;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KDFCounterParameters;
import org.junit.jupiter.api.Test;

class TpmCryptoTest {

    @Test
    void registrationIdVectorFromTheReference() {
        byte[] bytes = new byte[64];
        for (int i = 0; i < 64; i++) {
            bytes[i] = (byte) i;
        }
        assertThat(TpmCrypto.registrationId(bytes)).isEqualTo("7xvltlhtoebwfpjgldg4tiu6r6ohk76ptaiwaoumir6ndwivceea");
    }

    @Test
    void base32Rfc4648Vectors() {
        assertThat(TpmCrypto.base32("".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(TpmCrypto.base32("f".getBytes(StandardCharsets.US_ASCII))).isEqualTo("my");
        assertThat(TpmCrypto.base32("foob".getBytes(StandardCharsets.US_ASCII))).isEqualTo("mzxw6yq");
        assertThat(TpmCrypto.base32("foobar".getBytes(StandardCharsets.US_ASCII))).isEqualTo("mzxw6ytboi");
    }

    @Test
    void kdfaEqualsSp800108CounterModeFromBouncyCastle() {
        byte[] key = HexFormat.of().parseHex("6b6579206b6579206b6579206b6579206b6579206b6579206b6579206b657920");
        byte[] context = HexFormat.of().parseHex("000b" + "11".repeat(32));
        for (int bits : new int[] {128, 256, 384, 520}) {
            byte[] fixed = concat("STORAGE\0".getBytes(StandardCharsets.US_ASCII), context,
                    new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits});
            KDFCounterBytesGenerator bc = new KDFCounterBytesGenerator(new HMac(new SHA256Digest()));
            bc.init(new KDFCounterParameters(key, new byte[0], fixed, 32));
            byte[] expected = new byte[bits / 8];
            bc.generateBytes(expected, 0, expected.length);
            assertThat(TpmCrypto.kdfa(key, "STORAGE", context, new byte[0], bits)).isEqualTo(expected);
        }
        assertThatThrownBy(() -> TpmCrypto.kdfa(key, "X", new byte[0], new byte[0], 12))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void oaepCarriesTheTerminatedLabel() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        var pair = generator.generateKeyPair();
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        byte[] encrypted = TpmCrypto.oaep((RSAPublicKey) pair.getPublic(), TpmCrypto.IDENTITY, secret,
                new SecureRandom());
        assertThat(encrypted).hasSize(256);
        assertThat(SoftTpm.oaepDecrypt((RSAPrivateCrtKey) pair.getPrivate(), "IDENTITY", encrypted))
                .isEqualTo(secret);
        assertThatThrownBy(() -> SoftTpm.oaepDecrypt((RSAPrivateCrtKey) pair.getPrivate(), "DUPLICATE", encrypted))
                .isInstanceOf(InvalidCipherTextException.class);
    }

    @Test
    void aesCfbRoundTripsOddLengths() {
        byte[] key = new byte[16];
        byte[] data = "thirteen byte".getBytes(StandardCharsets.US_ASCII);
        byte[] encrypted = TpmCrypto.aesCfb(key, data, true);
        assertThat(encrypted).hasSize(13).isNotEqualTo(data);
        assertThat(TpmCrypto.aesCfb(key, encrypted, false)).isEqualTo(data);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
