package io.opendps.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AzureTimestampsTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "2024-03-13T15:22:27.5912345Z,   2024-03-13T15:22:27.5912345Z",
        "2024-03-13T15:22:27.591234567Z, 2024-03-13T15:22:27.5912345Z",
        "2024-03-13T15:22:27.591Z,       2024-03-13T15:22:27.5910000Z",
        "2024-03-13T15:22:27Z,           2024-03-13T15:22:27.0000000Z",
        "1970-01-01T00:00:00Z,           1970-01-01T00:00:00.0000000Z"})
    void format_anyInstant_hasSevenFractionDigitsAndZ(String instant, String expected) {
        String text = AzureTimestamps.format(Instant.parse(instant));

        assertThat(text).isEqualTo(expected).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{7}Z");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "2024-03-13T15:22:27.5912345Z",
        "2024-03-13T15:22:27.5912345+00:00",
        "2024-03-13T16:22:27.5912345+01:00"})
    void parse_zuluOrOffset_isTheSameInstant(String text) {
        assertThat(AzureTimestamps.parse(text)).isEqualTo(Instant.parse("2024-03-13T15:22:27.5912345Z"));
    }

    @Test
    void parse_formatOutput_roundTrips() {
        Instant instant = Instant.parse("2024-05-01T10:00:00.4567890Z");

        assertThat(AzureTimestamps.parse(AzureTimestamps.format(instant))).isEqualTo(instant);
    }

    @Test
    void parse_withoutZone_isRejected() {
        assertThatThrownBy(() -> AzureTimestamps.parse("2024-03-13T15:22:27"))
                .isInstanceOf(DateTimeParseException.class);
    }
}
