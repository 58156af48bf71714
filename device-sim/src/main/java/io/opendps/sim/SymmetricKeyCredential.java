package io.opendps.sim;

import java.util.Base64;
import java.util.Objects;

/**
 * A device key for symmetric-key attestation: the key of an individual enrollment, or a key derived from a group
 * key. The device signs a SAS token with it and sends the token as the MQTT password.
 *
 * @param key the device key, base64 (standard alphabet)
 * @throws IllegalArgumentException if the key is not base64 or decodes to no bytes
 */
public record SymmetricKeyCredential(String key) implements DeviceCredential {

    public SymmetricKeyCredential {
        Objects.requireNonNull(key, "key");
        decode(key);
    }

    /** The decoded device key (a fresh copy). */
    public byte[] deviceKey() {
        return decode(key);
    }

    @Override
    public String toString() {
        return "SymmetricKeyCredential[key=<redacted>]";
    }

    private static byte[] decode(String base64) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("symmetricKey is not valid base64 (standard alphabet expected)", e);
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("symmetricKey decodes to no bytes");
        }
        return bytes;
    }
}
