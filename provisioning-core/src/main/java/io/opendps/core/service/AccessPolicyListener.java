package io.opendps.core.service;

/**
 * Told about every committed change to the shared access policies, after the write (e.g. to keep a connection
 * string handed to local tools up to date). Called on the thread that made the change; implementations must be
 * thread-safe and quick. An exception thrown here is logged and does not undo or fail the change.
 */
public interface AccessPolicyListener {

    /** A listener that ignores everything. */
    AccessPolicyListener NONE = new AccessPolicyListener() { };

    /** A policy was created, replaced or got a new key; {@code policy} is what is now stored. */
    default void onWritten(AccessPolicy policy) {
    }

    /** The policy with this key name was deleted. */
    default void onDeleted(String keyName) {
    }
}
