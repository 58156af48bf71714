package io.opendps.core.tpm;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The body of the 401 answer to a TPM device's first register ({@code dps-device-protocol.md} §7.3):
 * {@code {"authenticationKey": <base64 activation blob>, "keyName": "registration"}}. No {@code status} key: the
 * C SDK treats a 401 body as a challenge only without one; C uses {@code keyName} as the SAS {@code skn}.
 */
@JsonPropertyOrder({"authenticationKey", "keyName"})
public record TpmChallenge(String authenticationKey, String keyName) {

    @Override
    public String toString() {
        return "TpmChallenge[keyName=" + keyName + ", authenticationKey=" + authenticationKey.length() + " chars]";
    }
}
