package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** The boundaries of {@link TwinRules}: depth, size, key and string lengths, forbidden key characters. */
class TwinRulesPropertiesTest {

    private static final String PATH = "initialTwin.properties.desired";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Characters allowed in keys, spanning 1-, 2-, 3- and 4-byte UTF-8. */
    private static final List<String> KEY_CHARS = List.of("a", "Z", "7", "-", "_", ":", "é", "ß", "€", "键", "😀");

    private static ProvisioningException refused(JsonNode collection) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class,
                () -> TwinRules.collection(PATH, collection));
        assertThat(e).as("refused: %s", collection).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(e).hasMessageStartingWith(PATH);
        return e;
    }

    private static void accepted(JsonNode collection) {
        assertThatCode(() -> TwinRules.collection(PATH, collection)).doesNotThrowAnyException();
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    @Property
    void depth_acceptedUpToTenLevelsOfObjectsOrArrays(@ForAll @IntRange(min = 0, max = 16) int levels,
            @ForAll("wrapperKinds") List<Boolean> arrays) {
        JsonNode value = NODES.numberNode(1);
        for (int i = 0; i < levels; i++) {
            if (arrays.get(i % arrays.size())) {
                value = NODES.arrayNode().add(value);
            } else {
                value = NODES.objectNode().set("k" + i, value);
            }
        }
        ObjectNode collection = NODES.objectNode().set("root", value);
        // "root" holds the outermost wrapper at depth 1 (or a scalar when levels == 0).
        if (levels <= TwinRules.MAX_DEPTH) {
            accepted(collection);
        } else {
            assertThat(refused(collection)).hasMessageContaining("is nested 11 levels deep")
                    .hasMessageContaining("at most 10 levels");
        }
    }

    @Provide
    Arbitrary<List<Boolean>> wrapperKinds() {
        return Arbitraries.of(true, false).list().ofMinSize(1).ofMaxSize(16);
    }

    @Property(tries = 200)
    void size_acceptedUpTo32KBSerialised(@ForAll @IntRange(min = 32_000, max = 33_500) int bytes,
            @ForAll("keyChars") String filler) {
        ObjectNode collection = sized(bytes, filler);

        assertThat(Json.toBytes(collection)).hasSize(bytes);
        if (bytes <= TwinRules.MAX_BYTES) {
            accepted(collection);
        } else {
            assertThat(refused(collection)).hasMessageContaining("is " + bytes + " bytes serialised");
        }
    }

    /**
     * An object of exactly {@code bytes} bytes of serialised JSON whose string values are made of {@code filler}
     * (which may serialise longer than its UTF-8, e.g. an emoji written as two escaped surrogates).
     */
    private static ObjectNode sized(int bytes, String filler) {
        int fillerBytes = Json.toBytes(NODES.textNode(filler)).length - 2;
        ObjectNode node = NODES.objectNode();
        for (int i = 0; Json.toBytes(node).length < bytes; i++) {
            String key = "k" + i;
            node.put(key, "");
            int need = bytes - Json.toBytes(node).length;
            int target = need <= 4000 ? need : Math.min(4000, need - 16);
            int fillers = target / fillerBytes;
            node.put(key, filler.repeat(fillers) + "x".repeat(target - fillers * fillerBytes));
        }
        return node;
    }

    @Property
    void keys_acceptedUpTo1KBOfUtf8(@ForAll("keys") String key) {
        ObjectNode collection = NODES.objectNode().put(key, 1);

        if (utf8(key) <= TwinRules.MAX_KEY_BYTES) {
            accepted(collection);
        } else {
            assertThat(refused(collection)).hasMessageContaining("has a key of " + utf8(key) + " bytes");
        }
    }

    @Property
    void stringValues_acceptedUpTo4KBOfUtf8AlsoInArrays(@ForAll("values") String value, @ForAll boolean inArray) {
        ObjectNode collection = NODES.objectNode();
        if (inArray) {
            ArrayNode array = collection.putArray("list");
            array.add("ok").add(value);
        } else {
            collection.putObject("nested").put("s", value);
        }

        if (utf8(value) <= TwinRules.MAX_STRING_BYTES) {
            accepted(collection);
        } else {
            assertThat(refused(collection)).hasMessageStartingWith(PATH + (inArray ? ".list[1]" : ".nested.s"))
                    .hasMessageContaining("is a string of " + utf8(value) + " bytes");
        }
    }

    @Property
    void keys_withAForbiddenCharacterAnywhere_areRefusedNamingTheParent(@ForAll("shortKeys") String key,
            @ForAll("forbidden") char bad, @ForAll @IntRange(min = 0, max = 1000) int at) {
        int position = key.offsetByCodePoints(0, at % (key.codePointCount(0, key.length()) + 1));
        String badKey = key.substring(0, position) + bad + key.substring(position);
        ObjectNode collection = NODES.objectNode();
        collection.putObject("parent").put(badKey, true);

        assertThat(refused(collection)).hasMessageStartingWith(PATH + ".parent has an invalid key");
    }

    @Provide
    Arbitrary<String> keyChars() {
        return Arbitraries.of(KEY_CHARS);
    }

    @Provide
    Arbitrary<String> keys() {
        return Arbitraries.of(KEY_CHARS).list().ofMinSize(200).ofMaxSize(1100).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<String> shortKeys() {
        return Arbitraries.of(KEY_CHARS).list().ofMinSize(1).ofMaxSize(20).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.of(List.of("a", " ", ".", "$", "é", "€", "😀", "\n")).list().ofMinSize(900)
                .ofMaxSize(4200).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<Character> forbidden() {
        return Arbitraries.oneOf(Arbitraries.of('.', '$', ' '), Arbitraries.chars().range('\u0000', '\u001f'),
                Arbitraries.chars().range('\u007f', '\u009f'));
    }
}
