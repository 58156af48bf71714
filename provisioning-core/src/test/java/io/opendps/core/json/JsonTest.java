package io.opendps.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class JsonTest {

    record Stamped(String name, @Nullable Instant at, @Nullable String note) {
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void toText_instant_isAzureTimestamp() {
        String json = Json.toText(new Stamped("a", Instant.parse("2024-03-13T15:22:27.591234567Z"), null));

        assertThat(json).isEqualTo("{\"name\":\"a\",\"at\":\"2024-03-13T15:22:27.5912345Z\"}");
    }

    @Test
    void toText_nullFields_areOmitted() {
        assertThat(Json.toText(new Stamped("a", null, null))).isEqualTo("{\"name\":\"a\"}");
    }

    @Test
    void parse_azureTimestamp_isInstant() throws IOException {
        Stamped s = Json.parse(utf8("{\"name\":\"a\",\"at\":\"2024-05-01T10:00:00.1234567Z\"}"), Stamped.class);

        assertThat(s.at()).isEqualTo(Instant.parse("2024-05-01T10:00:00.1234567Z"));
    }

    @Test
    void parse_badTimestamp_isRejected() {
        assertThatThrownBy(() -> Json.parse(utf8("{\"name\":\"a\",\"at\":\"yesterday\"}"), Stamped.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("ISO-8601");
    }

    @Test
    void parse_unknownKeys_areIgnored() throws IOException {
        Stamped s = Json.parse(utf8("{\"name\":\"a\",\"extra\":{\"deep\":[1,2]},\"more\":null}"), Stamped.class);

        assertThat(s).isEqualTo(new Stamped("a", null, null));
    }

    @Test
    void parse_duplicateKey_isRejected() {
        assertThatThrownBy(() -> Json.parse(utf8("{\"name\":\"a\",\"name\":\"b\"}"), Stamped.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("Duplicate field 'name'");
    }

    @Test
    void parse_duplicateKeyInNestedTree_isRejected() {
        assertThatThrownBy(() -> Json.parse(utf8("{\"a\":{\"x\":1,\"x\":2}}"), JsonNode.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("Duplicate field 'x'");
    }

    @Test
    void parse_jsonNullDocument_isRejectedNotNull() {
        assertThatThrownBy(() -> Json.parse(utf8("null"), Stamped.class))
                .isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("the JSON is null where Stamped was expected");
    }

    @Test
    void parse_trailingTokens_areRejected() {
        assertThatThrownBy(() -> Json.parse(utf8("{\"name\":\"a\"} {}"), Stamped.class))
                .isInstanceOf(JsonProcessingException.class);
    }

    @Test
    void toAsciiBytes_nonAsciiValuesAndKeys_areEscaped() throws IOException {
        Map<String, String> value = Map.of("Stadt", "Zürich", "größe", "😀 ok", "plain", "abc");

        byte[] bytes = Json.toAsciiBytes(value);

        for (byte b : bytes) {
            assertThat(b & 0xFF).isLessThan(0x80);
        }
        String text = new String(bytes, StandardCharsets.US_ASCII);
        assertThat(text).contains("Z\\u00FCrich", "\\uD83D\\uDE00", "gr\\u00F6\\u00DFe");
        assertThat(Json.mapper().readValue(bytes, new TypeReference<Map<String, String>>() { })).isEqualTo(value);
    }

    @Test
    void toBytes_nonAscii_isUtf8() {
        assertThat(new String(Json.toBytes(Map.of("city", "Zürich")), StandardCharsets.UTF_8))
                .isEqualTo("{\"city\":\"Zürich\"}");
    }
}
