package io.opendps.core.service;

import io.opendps.core.store.SettingsStore;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The identity a service instance keeps for life: its ID scope ({@code 0ne} + 8 upper-case hex digits), and the
 * administrator policy whose connection string the server hands to local tools.
 *
 * <p>The owner policy ({@link AccessPolicy#OWNER}, all rights) is created at first start, that is when no policy
 * holds {@code ServiceConfig} (the policy store never lets the last one go, so later that only happens on an empty
 * store). An owner policy deleted through the administration API therefore stays deleted across restarts.
 *
 * @param idScope the ID scope
 * @param owner the administrator policy: the owner policy while it holds {@code ServiceConfig}, otherwise the one
 *     {@link AccessPolicyService#administrator} picks
 */
public record ServiceIdentity(String idScope, AccessPolicy owner) {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Reads the identity from the store, creating it on first start. */
    public static ServiceIdentity loadOrCreate(SettingsStore settings) {
        String scope = settings.settingIfAbsent("idScope", newIdScope());
        if (AccessPolicyService.administrator(settings.policies()).isEmpty()) {
            settings.policyIfAbsent(AccessPolicy.newOwner());
        }
        AccessPolicy administrator = AccessPolicyService.administrator(settings.policies()).orElseThrow(() ->
                new IllegalStateException("no shared access policy holds ServiceConfig, and the policy '"
                        + AccessPolicy.OWNER + "' exists without it; give it ServiceConfig in the database"));
        return new ServiceIdentity(scope, administrator);
    }

    /** A fresh random ID scope. */
    static String newIdScope() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return "0ne" + HexFormat.of().formatHex(b).toUpperCase(Locale.ROOT);
    }
}
