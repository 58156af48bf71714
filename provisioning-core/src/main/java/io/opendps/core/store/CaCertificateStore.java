package io.opendps.core.store;

import io.opendps.core.ca.StoredCaCertificate;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Persistence of CA certificates with their pending verification code. Names are case-insensitive. Conditional
 * writes compare the stored etag; the caller supplies the new etag inside the record. Thread-safe and
 * synchronous: call it from a worker pool.
 */
public interface CaCertificateStore {

    /** The certificate with this name. */
    Optional<StoredCaCertificate> find(String name);

    /** All certificates, ordered by name key. */
    List<StoredCaCertificate> list();

    /** How many certificates are stored. */
    int count();

    /** Inserts; throws {@link DuplicateKeyException} when the name exists. */
    void insert(StoredCaCertificate certificate);

    /** Replaces the record whose etag is {@code expectedEtag}; otherwise {@link StaleVersionException}. */
    void replace(StoredCaCertificate certificate, String expectedEtag);

    /**
     * Deletes when present and, if {@code expectedEtag} is not null, matching. Returns false when absent; throws
     * {@link StaleVersionException} on a mismatch.
     */
    boolean delete(String name, @Nullable String expectedEtag);
}
