package io.opendps.sim;

import com.microsoft.azure.sdk.iot.provisioning.security.SecurityProviderTpm;
import com.microsoft.azure.sdk.iot.provisioning.security.exceptions.SecurityProviderException;
import java.util.Base64;
import javax.net.ssl.SSLContext;

/**
 * Test-side adapter: the official Azure SDK's {@link SecurityProviderTpm} backed by device-sim's {@link Tpm2Tools}
 * (tpm2-tools against a swtpm), so the unmodified {@code ProvisioningDeviceClient} runs its own TPM flow against
 * OpenDPS. The byte formats are the SDK's (provisioning-device-client 2.1.3, security-provider 2.0.1):
 * {@link #getEndorsementKey()} and {@link #getStorageRootKey()} return the TPM2B_PUBLICs, which the SDK base64-encodes
 * into the register body's {@code tpm}; {@link #activateIdentityKey(byte[])} receives the base64-decoded
 * {@code authenticationKey} of the 401 challenge (the activation blob of §7); {@link #signWithIdentity(byte[])}
 * receives {@code {scope}/registrations/{id}\n{expiry}} and returns the raw HMAC-SHA256, which the SDK base64- and
 * URL-encodes into the SAS {@code sig}. The registration id is the SDK's own default (base32 of SHA-256 of the EK).
 * A real deployment uses the SDK's {@code tpm-provider} on a real TPM instead; this class exists only for tests.
 */
final class SwtpmSecurityProvider extends SecurityProviderTpm {

    private final Tpm2Tools tpm;
    private final SSLContext sslContext;

    SwtpmSecurityProvider(Tpm2Tools tpm, SSLContext sslContext) {
        this.tpm = tpm;
        this.sslContext = sslContext;
    }

    @Override
    public byte[] getEndorsementKey() throws SecurityProviderException {
        try {
            return tpm.endorsementKey();
        } catch (Tpm2Tools.TpmException e) {
            throw new SecurityProviderException(e);
        }
    }

    @Override
    public byte[] getStorageRootKey() throws SecurityProviderException {
        try {
            return tpm.storageRootKey();
        } catch (Tpm2Tools.TpmException e) {
            throw new SecurityProviderException(e);
        }
    }

    @Override
    public byte[] activateIdentityKey(byte[] key) throws SecurityProviderException {
        try {
            return tpm.importActivationBlob(Base64.getEncoder().encodeToString(key));
        } catch (Tpm2Tools.TpmException e) {
            throw new SecurityProviderException(e);
        }
    }

    @Override
    public byte[] signWithIdentity(byte[] data) throws SecurityProviderException {
        try {
            return tpm.hmac(data);
        } catch (Tpm2Tools.TpmException e) {
            throw new SecurityProviderException(e);
        }
    }

    @Override
    public SSLContext getSSLContext() {
        return sslContext;
    }
}
