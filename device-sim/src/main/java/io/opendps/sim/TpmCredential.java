package io.opendps.sim;

import io.opendps.core.enrollment.TpmAttestation;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * A TPM device's credential for one MQTT attempt: its EK and SRK ({@code TPM2B_PUBLIC}s, sent as {@code tpm} in the
 * register body) and, on the attempt that answers the challenge, the SAS token the TPM signed with the issued key
 * (the MQTT password). Without a token the attempt asks for the challenge. The key itself stays in the TPM.
 *
 * @param endorsementKey the EK's TPM2B_PUBLIC
 * @param storageRootKey the SRK's TPM2B_PUBLIC
 * @param sasToken the TPM-signed SAS token for the endpoint this credential is used with (DPS: sr
 *     {@code {idScope}/registrations/{id}}; the hub: sr {@code {hub}/devices/{deviceId}}), or null to ask DPS for
 *     the challenge
 */
public record TpmCredential(byte[] endorsementKey, byte[] storageRootKey, @Nullable String sasToken)
        implements DeviceCredential {

    public TpmCredential {
        endorsementKey = endorsementKey.clone();
        storageRootKey = storageRootKey.clone();
    }

    /** The register body's {@code tpm} object. */
    public TpmAttestation body() {
        return new TpmAttestation(Base64.getEncoder().encodeToString(endorsementKey),
                Base64.getEncoder().encodeToString(storageRootKey));
    }

    /** The same TPM with a signed SAS token. */
    public TpmCredential withSasToken(String token) {
        return new TpmCredential(endorsementKey, storageRootKey, token);
    }

    @Override
    public byte[] endorsementKey() {
        return endorsementKey.clone();
    }

    @Override
    public byte[] storageRootKey() {
        return storageRootKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TpmCredential t && java.util.Arrays.equals(endorsementKey, t.endorsementKey)
                && java.util.Arrays.equals(storageRootKey, t.storageRootKey)
                && java.util.Objects.equals(sasToken, t.sasToken);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(endorsementKey);
    }

    @Override
    public String toString() {
        return "TpmCredential[sas=" + (sasToken == null ? "absent" : "<redacted>") + "]";
    }
}
