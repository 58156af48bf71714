package io.opendps.core.linkedhub;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import org.jspecify.annotations.Nullable;

/**
 * A linked hub's {@code connector} in requests and responses: {@code {"type":"builtIn"}} or
 * {@code {"type":"webhook","url":"https://...","secret":"..."}}. On reads the secret is always {@code "****"} and
 * the URL's query string is masked as {@code ?****} (it may hold a function key); sending either masked value back
 * keeps the stored one, so a read can be modified and written back.
 *
 * @param type {@code builtIn} (default when the connector is absent) or {@code webhook}
 * @param url the webhook URL (http or https)
 * @param secret the webhook's shared signing secret (16–512 characters), write-only
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"type", "url", "secret"})
public record ConnectorDocument(@Nullable String type, @Nullable String url, @Nullable String secret) {

    /** What reads show instead of a secret. */
    public static final String MASK = "****";
}
