package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationOperationStatus;
import io.opendps.core.registration.RegistrationStatus;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How one provisioning attempt ended, with the time each step took. Expected failures (error answers, refused
 * connections, TLS failures, timeouts) are outcomes, never exceptions.
 *
 * @param kind which of the four endings this is; decides which other components are set
 * @param registrationId the device's registration id
 * @param status the HTTP-like status of the last answer (from the response topic), or 0 when none arrived
 * @param operation the terminal {@code RegistrationOperationStatus} ({@link Kind#TERMINAL} only)
 * @param error the parsed error body ({@link Kind#ERROR_RESPONSE}, when the body could be parsed)
 * @param failure a human-readable reason ({@link Kind#PROTOCOL_ERROR} and {@link Kind#TRANSPORT_FAILURE})
 * @param responseBody the last answer's body exactly as received (UTF-8), or {@code null} when none arrived
 * @param timings per-step durations
 */
public record ProvisioningOutcome(
        Kind kind,
        String registrationId,
        int status,
        @Nullable RegistrationOperationStatus operation,
        @Nullable ErrorBody error,
        @Nullable String failure,
        @Nullable String responseBody,
        Timings timings) {

    /** The four ways an attempt ends. */
    public enum Kind {
        /** A 2xx answer with a terminal status ({@code assigned}, {@code failed} or {@code disabled}). */
        TERMINAL,
        /** A non-2xx answer (401, 404, 429, 5xx, ...); {@code error} holds the parsed body when it parsed. */
        ERROR_RESPONSE,
        /** A 2xx answer the device cannot act on (unparseable body, missing {@code operationId} or status). */
        PROTOCOL_ERROR,
        /** No usable answer: connection refused, TLS failure, CONNACK or SUBACK refusal, lost connection, timeout. */
        TRANSPORT_FAILURE
    }

    /**
     * Step durations; a step that was not reached is {@code null}.
     *
     * @param connectAndSubscribe from the start to the SUBACK (TCP, TLS, CONNECT/CONNACK, SUBSCRIBE/SUBACK)
     * @param register from publishing the register to its answer (normally the 202)
     * @param poll from the register's answer to the terminal answer, including the {@code retry-after} waits
     * @param total from the start to the decision (before DISCONNECT)
     * @param lastPoll from publishing the last status poll to its terminal answer ({@code null} when none)
     * @param waited the time spent in {@code retry-after} waits before polls (zero when none)
     */
    public record Timings(@Nullable Duration connectAndSubscribe, @Nullable Duration register,
            @Nullable Duration poll, Duration total, @Nullable Duration lastPoll, Duration waited) {

        public Timings {
            Objects.requireNonNull(total, "total");
            Objects.requireNonNull(waited, "waited");
        }

        /** Timings without the poll details (no last poll, no wait). */
        public Timings(@Nullable Duration connectAndSubscribe, @Nullable Duration register,
                @Nullable Duration poll, Duration total) {
            this(connectAndSubscribe, register, poll, total, null, Duration.ZERO);
        }

        /** The time from the start to the decision without the {@code retry-after} waits. */
        public Duration activeTotal() {
            return total.minus(waited);
        }
    }

    public ProvisioningOutcome {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(registrationId, "registrationId");
        Objects.requireNonNull(timings, "timings");
    }

    /** A terminal 2xx answer. */
    public static ProvisioningOutcome terminal(String registrationId, int status,
            RegistrationOperationStatus operation, String responseBody, Timings timings) {
        return new ProvisioningOutcome(Kind.TERMINAL, registrationId, status, operation, null, null, responseBody,
                timings);
    }

    /** A non-2xx answer; {@code error} is {@code null} when the body was not a readable error body. */
    public static ProvisioningOutcome errorResponse(String registrationId, int status, @Nullable ErrorBody error,
            String responseBody, Timings timings) {
        return new ProvisioningOutcome(Kind.ERROR_RESPONSE, registrationId, status, null, error, null,
                responseBody, timings);
    }

    /** A 2xx answer that breaks the protocol. */
    public static ProvisioningOutcome protocolError(String registrationId, int status, String failure,
            String responseBody, Timings timings) {
        return new ProvisioningOutcome(Kind.PROTOCOL_ERROR, registrationId, status, null, null, failure,
                responseBody, timings);
    }

    /** No usable answer at all. */
    public static ProvisioningOutcome transportFailure(String registrationId, String failure, Timings timings) {
        return new ProvisioningOutcome(Kind.TRANSPORT_FAILURE, registrationId, 0, null, null, failure, null,
                timings);
    }

    /** The terminal registration status, or {@code null} unless {@link Kind#TERMINAL}. */
    public @Nullable RegistrationStatus registrationStatus() {
        return operation == null ? null : operation.status();
    }

    /** The terminal registration record, or {@code null} when there is none. */
    public @Nullable DeviceRegistrationState registrationState() {
        return operation == null ? null : operation.registrationState();
    }

    /** Whether the device was assigned to a hub. */
    public boolean assigned() {
        return registrationStatus() == RegistrationStatus.ASSIGNED;
    }

    /** The six-digit error code of an error answer or of a {@code failed}/{@code disabled} record, if any. */
    public @Nullable Integer errorCode() {
        if (error != null) {
            return error.errorCode();
        }
        DeviceRegistrationState state = registrationState();
        return state == null ? null : state.errorCode();
    }

    /**
     * One line for people: {@code Registration failed: status 401, error 401002: Unauthorized},
     * {@code Registration disabled: error 401002: Enrollment is disabled}, {@code Registration failed: <reason>},
     * or {@code Registration status: assigned}.
     */
    public String describe() {
        return switch (kind) {
            case TERMINAL -> describeTerminal();
            case ERROR_RESPONSE -> describeErrorResponse();
            case PROTOCOL_ERROR -> "Registration failed: status " + status + ": " + failure;
            case TRANSPORT_FAILURE -> "Registration failed: " + failure;
        };
    }

    private String describeTerminal() {
        String statusText = statusText(registrationStatus());
        DeviceRegistrationState state = registrationState();
        if (assigned() || state == null) {
            return "Registration status: " + statusText;
        }
        return "Registration " + statusText + ": error " + state.errorCode() + ": " + state.errorMessage();
    }

    private String describeErrorResponse() {
        if (error == null) {
            return "Registration failed: status " + status + ": " + responseBody;
        }
        return "Registration failed: status " + status + ", error " + error.errorCode() + ": " + error.message();
    }

    /** The wire spelling of a status ({@code assigned}, {@code failed}, ...). */
    static String statusText(@Nullable RegistrationStatus value) {
        return value == null ? "unknown" : wireText(value);
    }

    /** The JSON text of an enum or value without quotes, as the core's Jackson configuration writes it. */
    static String wireText(Object value) {
        JsonNode node = Json.mapper().valueToTree(value);
        return node.isTextual() ? node.asText() : node.toString();
    }
}
