package io.opendps.core.service;

import io.opendps.core.store.SettingsStore;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The identity a service instance keeps for life: its ID scope ({@code 0ne} + 8 upper-case hex digits) and
 * the owner access policy, created at first start and shared by every node using the same store.
 */
public record ServiceIdentity(String idScope, AccessPolicy owner) {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Reads the identity from the store, creating it on first start. */
    public static ServiceIdentity loadOrCreate(SettingsStore settings) {
        String scope = settings.settingIfAbsent("idScope", newIdScope());
        AccessPolicy owner = settings.policyIfAbsent(AccessPolicy.newOwner());
        return new ServiceIdentity(scope, owner);
    }

    /** A fresh random ID scope. */
    static String newIdScope() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return "0ne" + HexFormat.of().formatHex(b).toUpperCase(Locale.ROOT);
    }
}
