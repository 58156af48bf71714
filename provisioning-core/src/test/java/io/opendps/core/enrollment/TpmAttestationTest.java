package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.testing.TestTpm;
import java.util.Base64;
import java.util.Locale;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** {@link TpmAttestation#endorsementKeyProblem}: the TPM2B_PUBLIC checks on endorsement keys. */
class TpmAttestationTest {

    @Test
    void endorsementKeyProblem_rsa2048EkLikeTheReferenceExample_isNone() {
        String ek = TestTpm.rsaEndorsementKey(42);

        assertThat(ek).startsWith("AToAAQAL");
        assertThat(Base64.getDecoder().decode(ek)).hasSize(316);
        assertThat(TpmAttestation.endorsementKeyProblem(ek)).isNull();
    }

    @Property
    void endorsementKeyProblem_rsaOrEccWithMatchingSize_isNone(@ForAll boolean ecc,
            @ForAll @IntRange(min = 2, max = 2000) int bodyLength) {
        byte[] key = TestTpm.tpm2bPublic(ecc ? TpmAttestation.TPM_ALG_ECC : TpmAttestation.TPM_ALG_RSA, bodyLength);

        assertThat(TpmAttestation.endorsementKeyProblem(TestTpm.base64(key))).isNull();
    }

    @Property
    void endorsementKeyProblem_anyOtherType_namesIt(@ForAll @IntRange(min = 0, max = 0xffff) int type,
            @ForAll @IntRange(min = 2, max = 600) int bodyLength) {
        Assume.that(type != TpmAttestation.TPM_ALG_RSA && type != TpmAttestation.TPM_ALG_ECC);
        byte[] key = TestTpm.tpm2bPublic(type, bodyLength);

        assertThat(TpmAttestation.endorsementKeyProblem(TestTpm.base64(key)))
                .isEqualTo(String.format(Locale.ROOT, "is not an RSA (0x0001) or ECC (0x0023) public "
                        + "key: its TPMT_PUBLIC type is 0x%04X", type));
    }

    @Property
    void endorsementKeyProblem_sizeFieldNotTheRemainingLength_saysBoth(
            @ForAll @IntRange(min = 2, max = 600) int bodyLength, @ForAll @IntRange(min = 0, max = 0xffff) int size) {
        Assume.that(size != bodyLength);
        byte[] key = TestTpm.tpm2bPublic(TpmAttestation.TPM_ALG_RSA, bodyLength);
        key[0] = (byte) (size >> 8);
        key[1] = (byte) size;

        assertThat(TpmAttestation.endorsementKeyProblem(TestTpm.base64(key))).isEqualTo("is not a TPM2B_PUBLIC: its "
                + "2-byte size field says " + size + " bytes but " + bodyLength + " follow");
    }

    @Test
    void endorsementKeyProblem_notBase64OrTooShort_saysSo() {
        assertThat(TpmAttestation.endorsementKeyProblem("AToA AQAL")).contains("not valid base64");
        assertThat(TpmAttestation.endorsementKeyProblem("-_-_")).contains("not valid base64");
        assertThat(TpmAttestation.endorsementKeyProblem("AAAA")).contains("decodes to 3 bytes, too short");
        assertThat(TpmAttestation.endorsementKeyProblem("")).contains("decodes to 0 bytes");
    }
}
