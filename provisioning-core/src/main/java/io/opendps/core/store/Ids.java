package io.opendps.core.store;

import java.util.Locale;

/** Registration ids and enrollment group ids are case-insensitive: stores key them by this form. */
public final class Ids {

    private Ids() {
    }

    /** The normalised key of an id. */
    public static String key(String id) {
        return id.toLowerCase(Locale.ROOT);
    }
}
