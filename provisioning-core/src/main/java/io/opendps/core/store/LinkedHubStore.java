package io.opendps.core.store;

import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.linkedhub.StoredLinkedHub;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Linked hubs and the service's default allocation policy. Host names are keyed lower-case. Thread-safe and
 * synchronous: call it from a worker pool.
 */
public interface LinkedHubStore {

    /** Every linked hub, ordered by host name. */
    List<StoredLinkedHub> list();

    /** The hub with this host name (case-insensitive). */
    Optional<StoredLinkedHub> find(String hostName);

    /** Inserts; throws {@link DuplicateKeyException} when the host name exists. */
    void insert(StoredLinkedHub hub);

    /** Replaces the hub whose etag is {@code expectedEtag}; otherwise {@link StaleVersionException}. */
    void replace(StoredLinkedHub hub, String expectedEtag);

    /**
     * Deletes when present and, if {@code expectedEtag} is not null, matching. False when absent;
     * {@link StaleVersionException} on a mismatch.
     */
    boolean delete(String hostName, @Nullable String expectedEtag);

    /** The stored default policy; empty before the first start seeded the linked hubs. */
    Optional<AllocationPolicy> defaultPolicy();

    /** Stores the default policy. */
    void setDefaultPolicy(AllocationPolicy policy);

    /**
     * First start: in one transaction, stores the default policy and inserts {@code hubs}, unless a default policy
     * is already stored (then nothing is written). Returns whether it seeded.
     */
    boolean seed(AllocationPolicy policy, List<StoredLinkedHub> hubs);
}
