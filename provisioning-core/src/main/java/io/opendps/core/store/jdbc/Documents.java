package io.opendps.core.store.jdbc;

import io.opendps.core.json.Json;
import io.opendps.core.store.StoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** JSON documents in text columns. */
final class Documents {

    private Documents() {
    }

    static String write(Object value) {
        return Json.toText(value);
    }

    static <T> T read(String text, Class<T> type) {
        try {
            return Json.parse(text.getBytes(StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new StoreException("stored " + type.getSimpleName() + " document is corrupt: " + e.getMessage(), e);
        }
    }
}
