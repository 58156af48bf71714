package io.opendps.core.store;

import io.opendps.core.service.AccessPolicy;
import java.util.List;
import java.util.Optional;

/** Service-wide settings (the ID scope) and shared access policies. Thread-safe and synchronous. */
public interface SettingsStore {

    /** A setting's value. */
    Optional<String> setting(String name);

    /** Stores the value unless the setting exists; returns the value now stored (first writer wins). */
    String settingIfAbsent(String name, String value);

    /** All shared access policies, ordered by name. */
    List<AccessPolicy> policies();

    /** Inserts a policy unless one with that name (case-insensitive) exists; returns the stored one. */
    AccessPolicy policyIfAbsent(AccessPolicy policy);
}
