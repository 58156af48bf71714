package io.opendps.core.service;

import java.security.SecureRandom;
import java.util.Base64;

/** Generates symmetric keys the way the cloud service does: 64 random bytes, standard base64 (88 chars). */
public final class Keys {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Keys() {
    }

    /** A new 64-byte key, base64. */
    public static String generate() {
        byte[] key = new byte[64];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }
}
