package io.opendps.core.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class TpmPublicTest {

    @Test
    void parsesTheSwtpmEkAndSrkAndComputesTheNamesTheTpmReports() throws Exception {
        TpmPublic ek = ActivationBlobTest.resourceKey("ek.pub", "endorsementKey");
        TpmPublic srk = ActivationBlobTest.resourceKey("srk.pub", "storageRootKey");
        assertThat(ek.type()).isEqualTo(TpmPublic.TPM_ALG_RSA);
        assertThat(ek.attributes()).isEqualTo(SoftTpm.EK_ATTRIBUTES);
        assertThat(srk.attributes()).isEqualTo(SoftTpm.SRK_ATTRIBUTES);
        assertThat(ek.rsaKeyBits()).isEqualTo(2048);
        assertThat(ek.rsaExponent()).isEqualTo(65537);
        assertThat(ek.symmetricKeyBits()).isEqualTo(128);
        assertThat(ek.name()).isEqualTo(ActivationBlobTest.resource("ek.name"));
        assertThat(srk.name()).isEqualTo(ActivationBlobTest.resource("srk.name"));
        assertThat(ek.tpm2b()).isEqualTo(ActivationBlobTest.resource("ek.pub"));
        assertThat(ek.rsaPublicKey().getModulus().bitLength()).isEqualTo(2048);
        assertThat(TpmPublic.parseBase64(Base64.getEncoder().encodeToString(ActivationBlobTest.resource("ek.pub")),
                "endorsementKey")).isEqualTo(ek);
    }

    @Test
    void refusesWhatCannotBeAStorageKeyWithAClearMessage() throws Exception {
        byte[] ek = ActivationBlobTest.resource("ek.pub");
        assertThatThrownBy(() -> TpmPublic.parseBase64("%%%", "endorsementKey"))
                .hasMessage("endorsementKey is not valid base64");
        assertThatThrownBy(() -> TpmPublic.parse(new byte[] {0, 1}, "endorsementKey"))
                .hasMessageContaining("too short");
        assertThatThrownBy(() -> TpmPublic.parse(Arrays.copyOf(ek, ek.length - 10), "endorsementKey"))
                .hasMessageContaining("size field says");
        byte[] ecc = ek.clone();
        ecc[3] = 0x23;
        assertThatThrownBy(() -> TpmPublic.parse(ecc, "endorsementKey")).hasMessageContaining("ECC")
                .hasMessageContaining("RSA");
        byte[] truncated = Arrays.copyOf(ek, 40);
        truncated[0] = 0;
        truncated[1] = 38;
        assertThatThrownBy(() -> TpmPublic.parse(truncated, "storageRootKey")).hasMessageContaining("truncated");
        byte[] signing = ek.clone();
        signing[7] = (byte) 0x00; // drop restricted|decrypt (0x00030000 -> 0x00000000 in byte 6..7)
        signing[6] = 0;
        assertThatThrownBy(() -> TpmPublic.parse(signing, "storageRootKey"))
                .hasMessageContaining("restricted decryption");
    }
}
