package io.opendps.core.json;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;

/**
 * Azure's date-time text: ISO-8601 UTC with seven fractional digits and {@code Z}, e.g.
 * {@code 2024-03-13T15:22:27.5912345Z}. Parsing accepts any ISO-8601 instant or offset form.
 *
 * <p>Stateless and thread-safe.
 */
public final class AzureTimestamps {

    private static final DateTimeFormatter FORMAT = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss")
            .appendFraction(ChronoField.NANO_OF_SECOND, 7, 7, true)
            .appendLiteral('Z')
            .toFormatter()
            .withZone(ZoneOffset.UTC);

    private AzureTimestamps() {
    }

    /** Formats an instant the way Azure does (seven fractional digits, truncating below 100 ns). */
    public static String format(Instant instant) {
        return FORMAT.format(instant);
    }

    /** Parses an ISO-8601 instant ({@code Z} or an offset); throws {@link java.time.format.DateTimeParseException}. */
    public static Instant parse(String text) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(text, Instant::from);
    }
}
