package io.opendps.core.enrollment;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * ETags as Azure writes them: enrollments carry a quoted opaque string ({@code "\"uuid\""}), registration
 * records base64 of that quoted string. Comparison strips one layer of quotes and a {@code W/} prefix on both
 * sides, so clients may send the value with or without its quotes.
 */
public final class Etags {

    private Etags() {
    }

    /** A new enrollment etag, quotes included. */
    public static String newEnrollmentEtag() {
        return "\"" + UUID.randomUUID() + "\"";
    }

    /** A new registration-record etag: base64 of a quoted uuid. */
    public static String newRegistrationEtag() {
        return Base64.getEncoder().encodeToString(newEnrollmentEtag().getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether {@code ifMatch} is the wildcard {@code *}. */
    public static boolean isWildcard(@Nullable String ifMatch) {
        return ifMatch != null && ifMatch.trim().equals("*");
    }

    /** Whether an If-Match value names the stored etag. */
    public static boolean matches(String ifMatch, String stored) {
        return normalize(ifMatch).equals(normalize(stored));
    }

    private static String normalize(String etag) {
        String e = etag.trim();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }
}
