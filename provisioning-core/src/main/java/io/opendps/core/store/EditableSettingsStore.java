package io.opendps.core.store;

import io.opendps.core.service.StoredAccessPolicy;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Write port for shared access policies, used by the administration side ({@code AccessPolicyService}); the
 * request path reads policies through {@link SettingsStore}. Key names are case-insensitive (keyed lower-case,
 * stored as first written). Conditional writes compare the stored etag; the caller supplies the new etag inside
 * the record.
 *
 * <p>Invariant: at least one policy holds {@code ServiceConfig}. {@link #replacePolicy} and {@link #deletePolicy}
 * lock the policy rows, write, and roll back with {@link PolicyLockoutException} when no such policy would be
 * left. Thread-safe and synchronous: call it from a worker pool.
 */
public interface EditableSettingsStore extends SettingsStore {

    /** The policy with this key name (case-insensitive). */
    Optional<StoredAccessPolicy> findPolicy(String keyName);

    /** All policies with their etags, ordered by key name (case-insensitive). */
    List<StoredAccessPolicy> storedPolicies();

    /** Inserts; throws {@link DuplicateKeyException} when the key name exists. */
    void insertPolicy(StoredAccessPolicy policy);

    /**
     * Replaces the policy whose etag is {@code expectedEtag}; otherwise {@link StaleVersionException}. Throws
     * {@link PolicyLockoutException} (and changes nothing) when the replacement would leave no policy holding
     * {@code ServiceConfig}.
     */
    void replacePolicy(StoredAccessPolicy policy, String expectedEtag);

    /**
     * Deletes when present and, if {@code expectedEtag} is not null, matching. Returns false when absent; throws
     * {@link StaleVersionException} on a mismatch and {@link PolicyLockoutException} (deleting nothing) when it is
     * the last policy holding {@code ServiceConfig}.
     */
    boolean deletePolicy(String keyName, @Nullable String expectedEtag);
}
