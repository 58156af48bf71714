package io.opendps.core.service;

import java.time.Instant;
import java.util.Objects;

/**
 * A shared access policy as stored: the policy with its etag and timestamps. Its {@link #toString()} shows no keys
 * (it delegates to {@link AccessPolicy#toString()}).
 *
 * @param policy name, keys and rights
 * @param etag changes on every write (quoted opaque string, as enrollment etags)
 * @param created when the key name was first stored
 * @param updated last write (rights or keys)
 */
public record StoredAccessPolicy(AccessPolicy policy, String etag, Instant created, Instant updated) {

    public StoredAccessPolicy {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(etag, "etag");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(updated, "updated");
    }

    /** The policy's key name as first written. */
    public String keyName() {
        return policy.keyName();
    }

    /** Whether the policy holds {@link AccessRight#SERVICE_CONFIG}. */
    public boolean isAdministrator() {
        return policy.rights().contains(AccessRight.SERVICE_CONFIG);
    }
}
