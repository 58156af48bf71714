package io.opendps.core.service;

import java.util.Locale;

/** Which of a policy's two keys: ARM's regenerate-key body names it {@code "primary"} or {@code "secondary"}. */
public enum PolicyKey {
    PRIMARY,
    SECONDARY;

    /** The wire name, {@code primary} or {@code secondary}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code primary} or {@code secondary}, ignoring case and surrounding blanks. */
    public static PolicyKey parse(String text) {
        for (PolicyKey key : values()) {
            if (key.wireName().equalsIgnoreCase(text.trim())) {
                return key;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not 'primary' or 'secondary'");
    }
}
