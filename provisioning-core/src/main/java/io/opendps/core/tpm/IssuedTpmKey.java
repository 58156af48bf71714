package io.opendps.core.tpm;

import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * An HMAC key issued to a TPM device in an activation blob.
 *
 * @param registrationId the registration id it was issued to
 * @param endorsementKeySha256 hex SHA-256 of the EK's {@code TPM2B_PUBLIC} it was issued for
 * @param storageRootKey the SRK's {@code TPM2B_PUBLIC} the key was duplicated under
 * @param key the 32 key bytes (secret: the device's SAS and hub key)
 * @param issuedAt when it was issued
 */
public record IssuedTpmKey(String registrationId, String endorsementKeySha256, byte[] storageRootKey, byte[] key,
        Instant issuedAt) {

    public IssuedTpmKey {
        Objects.requireNonNull(registrationId, "registrationId");
        Objects.requireNonNull(endorsementKeySha256, "endorsementKeySha256");
        storageRootKey = storageRootKey.clone();
        key = key.clone();
        Objects.requireNonNull(issuedAt, "issuedAt");
    }

    @Override
    public byte[] storageRootKey() {
        return storageRootKey.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IssuedTpmKey k && registrationId.equals(k.registrationId)
                && endorsementKeySha256.equals(k.endorsementKeySha256)
                && Arrays.equals(storageRootKey, k.storageRootKey) && Arrays.equals(key, k.key)
                && issuedAt.equals(k.issuedAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(registrationId, endorsementKeySha256, issuedAt);
    }

    /** Without the key. */
    @Override
    public String toString() {
        return "IssuedTpmKey[registrationId=" + registrationId + ", ekSha256=" + endorsementKeySha256
                + ", issuedAt=" + issuedAt + "]";
    }
}
