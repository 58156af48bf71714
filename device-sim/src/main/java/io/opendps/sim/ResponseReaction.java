package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.json.Json;
import io.opendps.core.registration.RegistrationOperationStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a device does with one answer: poll again after a delay, or stop with an outcome. Pure mapping from
 * (response topic, body) to the next step, kept apart from the MQTT plumbing so it can be tested alone. Bodies are
 * parsed with the core's records and Jackson configuration, the single source of truth for wire shapes.
 */
sealed interface ResponseReaction permits ResponseReaction.Poll, ResponseReaction.Finish {

    /** The delay before polling when a 202 carries no usable {@code retry-after} (what the Java SDK uses). */
    Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(2);

    /**
     * Poll the operation again.
     *
     * @param operationId the operation to poll
     * @param delay how long to wait first
     */
    record Poll(String operationId, Duration delay) implements ResponseReaction {
    }

    /**
     * Stop; everything but the timings of the outcome is known.
     *
     * @param kind the outcome kind
     * @param status the answer's status
     * @param operation the terminal operation status ({@code TERMINAL})
     * @param error the error body ({@code ERROR_RESPONSE}, when parseable)
     * @param failure the reason ({@code PROTOCOL_ERROR})
     * @param body the body as received
     */
    record Finish(ProvisioningOutcome.Kind kind, int status, @Nullable RegistrationOperationStatus operation,
            @Nullable ErrorBody error, @Nullable String failure, String body) implements ResponseReaction {

        /** The outcome with the device's id and the measured timings. */
        ProvisioningOutcome toOutcome(String registrationId, ProvisioningOutcome.Timings timings) {
            return new ProvisioningOutcome(kind, registrationId, status, operation, error, failure, body, timings);
        }
    }

    /**
     * Decides the next step for an answer.
     *
     * @param topic the parsed response topic
     * @param payload the answer's body
     * @return {@link Poll} for a 2xx {@code assigning}/{@code unassigned}, otherwise {@link Finish}
     */
    static ResponseReaction of(ResponseTopic topic, byte[] payload) {
        String body = new String(payload, StandardCharsets.UTF_8);
        if (!topic.success()) {
            return new Finish(ProvisioningOutcome.Kind.ERROR_RESPONSE, topic.status(), null, parseError(payload),
                    null, body);
        }
        RegistrationOperationStatus operation;
        try {
            operation = Json.parse(payload, RegistrationOperationStatus.class);
        } catch (IOException | RuntimeException e) {
            return protocolError(topic, "the body is not a RegistrationOperationStatus: " + e.getMessage(), body);
        }
        return ofOperation(topic, operation, body);
    }

    private static ResponseReaction ofOperation(ResponseTopic topic, @Nullable RegistrationOperationStatus operation,
            String body) {
        if (operation == null || operation.status() == null) {
            return protocolError(topic, "the body has no status", body);
        }
        if (operation.operationId() == null || operation.operationId().isEmpty()) {
            return protocolError(topic, "the body has no operationId", body);
        }
        if (operation.status().terminal()) {
            return new Finish(ProvisioningOutcome.Kind.TERMINAL, topic.status(), operation, null, null, body);
        }
        return new Poll(operation.operationId(), topic.retryAfter().orElse(DEFAULT_RETRY_AFTER));
    }

    private static Finish protocolError(ResponseTopic topic, String reason, String body) {
        return new Finish(ProvisioningOutcome.Kind.PROTOCOL_ERROR, topic.status(), null, null, reason, body);
    }

    /** The error body, or {@code null} when the payload is not JSON with a numeric {@code errorCode}. */
    private static @Nullable ErrorBody parseError(byte[] payload) {
        try {
            JsonNode node = Json.mapper().readTree(payload);
            return node != null && node.path("errorCode").isIntegralNumber()
                    ? Json.mapper().treeToValue(node, ErrorBody.class)
                    : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
