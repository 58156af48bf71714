package io.opendps.sim;

import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A parsed DPS response topic, {@code $dps/registrations/res/{status}/?$rid={rid}[&retry-after={seconds}]}.
 *
 * @param status the HTTP-like status of the answer (200, 202, 401, ...)
 * @param rid the request id, exactly as it appears in the topic
 * @param retryAfterSeconds the {@code retry-after} value when present and a positive integer, else {@code null}
 */
public record ResponseTopic(int status, String rid, @Nullable Integer retryAfterSeconds) {

    /** The server's requested delay before the next poll, when it sent a usable one. */
    public Optional<Duration> retryAfter() {
        return retryAfterSeconds == null ? Optional.empty() : Optional.of(Duration.ofSeconds(retryAfterSeconds));
    }

    /** Whether the status is 2xx (the body is a {@code RegistrationOperationStatus}, not an error body). */
    public boolean success() {
        return status >= 200 && status < 300;
    }
}
