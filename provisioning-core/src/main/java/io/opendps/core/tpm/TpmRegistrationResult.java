package io.opendps.core.tpm;

/**
 * {@code registrationState.tpm} of an assigned TPM device (§7.8): {@code {"authenticationKey": <base64 blob>}}, the
 * same HMAC key wrapped again for the same TPM (fresh seeds); every SDK imports it and uses it as its hub key.
 */
public record TpmRegistrationResult(String authenticationKey) {

    @Override
    public String toString() {
        return "TpmRegistrationResult[" + authenticationKey.length() + " chars]";
    }
}
