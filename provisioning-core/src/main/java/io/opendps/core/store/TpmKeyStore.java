package io.opendps.core.store;

import io.opendps.core.tpm.IssuedTpmKey;
import java.util.Optional;

/**
 * The HMAC key last issued to each TPM registration id (one per id, case-insensitive). Shared by every node using
 * the same store, so a device may answer its challenge on another node, or after a restart. Thread-safe.
 */
public interface TpmKeyStore {

    /** The key issued to this registration id, if any. */
    Optional<IssuedTpmKey> find(String registrationId);

    /** Saves the key, replacing the one issued before to the same registration id. */
    void save(IssuedTpmKey key);
}
