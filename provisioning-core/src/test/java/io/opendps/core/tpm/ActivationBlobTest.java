package io.opendps.core.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.crypto.DataLengthException;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.junit.jupiter.api.Test;

/**
 * The activation blob (§7.4–7.6).
 *
 * <p>Known-answer vector, produced once against a software TPM (swtpm 0.7.1, tpm2-tools 5.4), resources under
 * {@code tpm/}:
 * <pre>
 * swtpm socket --tpm2 --tpmstate dir=state --server type=tcp,port=23210 --ctrl type=tcp,port=23211 \
 *     --flags not-need-init,startup-clear
 * export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=23210
 * tpm2_createprimary -C e -g sha256 -G rsa2048:null:aes128cfb -a "fixedtpm|fixedparent|sensitivedataorigin|\
 * adminwithpolicy|restricted|decrypt" -L ekpolicy.bin -c ek.ctx   (then evictcontrol 0x81010001)
 * tpm2_createprimary -C o -g sha256 -G rsa2048:null:aes128cfb -a "fixedtpm|fixedparent|sensitivedataorigin|\
 * userwithauth|noda|restricted|decrypt" -c srk.ctx                (then evictcontrol 0x81000001)
 * tpm2_readpublic -c 0x81010001 -o ek.pub -n ek.name ; tpm2_readpublic -c 0x81000001 -o srk.pub -n srk.name
 * # blob-fixed.b64 = ActivationBlob.build(ek.pub, srk.pub, keyBytes 00..1f, "opendps-test", new FixedRandom(8))
 * tpm2_startauthsession --policy-session -S s.ctx ; tpm2_policysecret -S s.ctx -c e
 * tpm2_activatecredential -c 0x81000001 -C 0x81010001 -i cred.bin -o inner.key -P session:s.ctx   # -> inner-fixed.hex
 * tpm2_import -C 0x81000001 -u part5.bin -i part3.bin -s part4.bin -k inner.key -r idkey.priv
 * tpm2_load -C 0x81000001 -u part5.bin -r idkey.priv -c idkey.ctx
 * tpm2_hmac -c idkey.ctx -g sha256 --hex tosign.txt                                                # -> hmac-fixed.hex
 * </pre>
 * ({@code cred.bin} = {@code BADCC0DE 00000001} ‖ part 1 ‖ part 2; part files are the TPM2Bs with their sizes;
 * {@code tosign.txt} = {@code 0ne00000001%2fregistrations%2fmy-device-01\n1893456000}.)
 */
class ActivationBlobTest {

    static final byte[] KEY = HexFormat.of().parseHex(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    static final byte[] URI = "opendps-test".getBytes(StandardCharsets.US_ASCII);

    @Test
    void partSizesMatchTheLayoutTheSdksParse() throws Exception {
        ActivationBlob.Parts parts = ActivationBlob.build(resourceKey("ek.pub", "ek"), resourceKey("srk.pub", "srk"),
                KEY, URI, new SecureRandom());
        assertThat(parts.credentialBlob()).hasSize(54);
        assertThat(parts.encSecret()).hasSize(258);
        assertThat(parts.duplicate()).hasSize(144);
        assertThat(parts.encWrapKey()).hasSize(258);
        assertThat(parts.idKeyPublic()).hasSize(50);
        assertThat(parts.encUriData()).hasSize(2 + URI.length);
        assertThat(parts.bytes()).hasSize(54 + 258 + 144 + 258 + 50 + 2 + URI.length);
        assertThat(HexFormat.of().formatHex(parts.idKeyPublic(), 0, 18))
                .isEqualTo("0030" + "0008" + "000b" + "00040440" + "0000" + "0005" + "000b" + "0020");
    }

    @Test
    void knownAnswerFromSwtpm() throws Exception {
        ActivationBlob.Parts parts = ActivationBlob.build(resourceKey("ek.pub", "ek"), resourceKey("srk.pub", "srk"),
                KEY, URI, new FixedRandom(8));
        assertThat(Base64.getEncoder().encodeToString(parts.bytes())).isEqualTo(resourceText("blob-fixed.b64"));
        // The HMAC the swtpm computed with the imported key is the one the server verifies SAS tokens with.
        byte[] toSign = "0ne00000001%2fregistrations%2fmy-device-01\n1893456000".getBytes(StandardCharsets.UTF_8);
        assertThat(HexFormat.of().formatHex(TpmCrypto.hmac(KEY, toSign))).isEqualTo(resourceText("hmac-fixed.hex"));
        // The TPM released the inner wrapping key of the vector; it also decrypts encUriData.
        byte[] inner = HexFormat.of().parseHex(resourceText("inner-fixed.hex"));
        assertThat(TpmCrypto.aesCfb(inner, SoftTpm.body(parts.encUriData()), false)).isEqualTo(URI);
    }

    @Test
    void theTpmHoldingEkAndSrkRecoversTheKey() throws Exception {
        SoftTpm tpm = new SoftTpm();
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        ActivationBlob.Parts parts = ActivationBlob.build(TpmPublic.parse(tpm.ekPublic(), "ek"),
                TpmPublic.parse(tpm.srkPublic(), "srk"), key, URI, new SecureRandom());
        byte[] inner = tpm.activateCredential(parts);
        assertThat(inner).hasSize(16);
        assertThat(tpm.importKey(parts, inner)).isEqualTo(key);
        assertThat(TpmCrypto.aesCfb(inner, SoftTpm.body(parts.encUriData()), false)).isEqualTo(URI);
    }

    @Test
    void anotherTpmCannotActivate() throws Exception {
        SoftTpm device = new SoftTpm();
        SoftTpm other = new SoftTpm();
        ActivationBlob.Parts parts = ActivationBlob.build(TpmPublic.parse(device.ekPublic(), "ek"),
                TpmPublic.parse(device.srkPublic(), "srk"), KEY, URI, new SecureRandom());
        // RSA-OAEP under the wrong private key: a padding failure, or a ciphertext above the other modulus
        assertThatThrownBy(() -> other.activateCredential(parts))
                .isInstanceOfAny(InvalidCipherTextException.class, DataLengthException.class);
    }

    @Test
    void aBlobBoundToAnotherSrkFailsIntegrity() throws Exception {
        SoftTpm device = new SoftTpm();
        SoftTpm other = new SoftTpm();
        ActivationBlob.Parts parts = ActivationBlob.build(TpmPublic.parse(device.ekPublic(), "ek"),
                TpmPublic.parse(other.srkPublic(), "srk"), KEY, URI, new SecureRandom());
        assertThatThrownBy(() -> device.activateCredential(parts)).hasMessageContaining("TPM_RC_INTEGRITY");
    }

    @Test
    void parseSplitsWhatBuildJoinsAndRefusesBrokenBlobs() throws Exception {
        ActivationBlob.Parts parts = ActivationBlob.build(resourceKey("ek.pub", "ek"), resourceKey("srk.pub", "srk"),
                KEY, URI, new SecureRandom());
        ActivationBlob.Parts parsed = ActivationBlob.Parts.parse(parts.bytes());
        assertThat(parsed.bytes()).isEqualTo(parts.bytes());
        assertThat(parsed.idKeyPublic()).isEqualTo(parts.idKeyPublic());
        byte[] blob = parts.bytes();
        assertThatThrownBy(() -> ActivationBlob.Parts.parse(java.util.Arrays.copyOf(blob, blob.length - 1)))
                .hasMessageContaining("part 6");
        assertThatThrownBy(() -> ActivationBlob.Parts.parse(java.util.Arrays.copyOf(blob, blob.length + 1)))
                .hasMessageContaining("after part 6");
    }

    @Test
    void freshSeedsEveryTime() throws Exception {
        TpmPublic ek = resourceKey("ek.pub", "ek");
        TpmPublic srk = resourceKey("srk.pub", "srk");
        assertThat(ActivationBlob.build(ek, srk, KEY, URI, new SecureRandom()).bytes())
                .isNotEqualTo(ActivationBlob.build(ek, srk, KEY, URI, new SecureRandom()).bytes());
    }

    @Test
    void refusesKeysOfTheWrongLength() throws Exception {
        TpmPublic ek = resourceKey("ek.pub", "ek");
        assertThatThrownBy(() -> ActivationBlob.build(ek, ek, new byte[16], URI, new SecureRandom()))
                .hasMessageContaining("32 bytes");
    }

    static TpmPublic resourceKey(String name, String what) throws IOException, TpmFormatException {
        return TpmPublic.parse(resource(name), what);
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(ActivationBlobTest.class.getResourceAsStream("/tpm/" + name),
                name)) {
            return in.readAllBytes();
        }
    }

    static String resourceText(String name) throws IOException {
        return new String(resource(name), StandardCharsets.US_ASCII).strip();
    }
}
