package io.opendps.broker.http;

import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.OperationStatusRequest;
import io.opendps.core.registration.RegistrationReply;
import io.opendps.core.registration.RegistrationRequest;
import io.opendps.core.registration.RegistrationStatusReply;
import io.opendps.core.registration.Registrar;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS device API ({@code dps-device-protocol.md} §6) on the service API's listener: the same {@link Registrar}
 * and the same replies as MQTT.
 *
 * <ul>
 *   <li>{@code PUT /{idScope}/registrations/{registrationId}/register} → the registrar's register reply (202 with
 *       an operation id, or an error);
 *   <li>{@code GET /{idScope}/registrations/{registrationId}/operations/{operationId}} → 202 {@code assigning} or 200
 *       terminal; a body (Node sends {@code {}}) is ignored;
 *   <li>{@code POST /{idScope}/registrations/{registrationId}} → 200 with the bare registration record
 *       ({@code DeviceRegistrationResult}), {@link Registrar#registrationStatus}.
 * </ul>
 *
 * <p>Every reply is mapped generically: the reply's status, its body as ASCII-only JSON with
 * {@code Content-Type: application/json; charset=utf-8}, and {@code Retry-After} whenever the reply carries a
 * retry-after (202, 429). Kinds of reply the registrar may add (e.g. a TPM challenge) pass through unchanged.
 * Credentials: the {@code Authorization} header (SAS) and the client certificate chain of the TLS session (X.509);
 * the registrar decides. Path segments arrive percent-decoded (the C SDK encodes them).
 *
 * <p>Decisions: a missing or malformed {@code api-version} is 400 {@code 400009} before anything else (the
 * reference's [rec]; any {@code YYYY-MM-DD[-preview]} is served by the one model); unknown query parameters (Node's
 * {@code forceRegistration}) are ignored; an invalid registration id in the path is 400 {@code 400004}; other paths
 * under {@code /{idScope}/registrations/} are 404 and known paths with another method 405, both with the Azure error
 * body. No reply delay: every HTTPS client waits for the response of its own request, so the MQTT-only lost-wakeup
 * hazard of the Java SDK (§2.10) does not exist here. The request's content type is not checked (every SDK sends
 * JSON; a body that is not JSON is a 400 from the registrar).
 *
 * <p>Thread-safe. Synchronous (store and crypto work): call {@link #handle} on the worker pool.
 */
public final class DeviceApi {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceApi.class);
    private static final Pattern API_VERSION = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}(-preview)?$");
    /** The DPS identifier rule, as the MQTT username enforces it. */
    private static final Pattern REGISTRATION_ID =
            Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$");
    private static final String REGISTRATIONS = "registrations";

    private final Registrar registrar;
    private final Clock clock;

    public DeviceApi(Registrar registrar, Clock clock) {
        this.registrar = Objects.requireNonNull(registrar, "registrar");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Whether a path belongs to the device API: {@code /{idScope}/registrations/...}. The service API's own
     * {@code /registrations/{id}} has {@code registrations} first and stays with it.
     */
    public static boolean serves(List<String> segments) {
        return segments.size() >= 2 && segments.get(1).equalsIgnoreCase(REGISTRATIONS)
                && !segments.get(0).equalsIgnoreCase(REGISTRATIONS);
    }

    /**
     * Answers one device request; never throws (a failure of the store becomes a 503, as over MQTT).
     *
     * @param clientCertificates the TLS session's client certificate chain, leaf first; empty when none was sent
     */
    public ApiResponse handle(ApiRequest request, List<X509Certificate> clientCertificates) {
        try {
            return route(request, clientCertificates);
        } catch (RuntimeException e) {
            String trackingId = UUID.randomUUID().toString();
            LOG.warn("device request failed [method: {}, path: /{}, tracking-id: {}]", request.method(),
                    String.join("/", request.segments()), trackingId, e);
            return error(ErrorCode.SERVICE_UNAVAILABLE, "the server could not process the request; retry later "
                    + "(tracking id " + trackingId + ")", trackingId);
        }
    }

    private ApiResponse route(ApiRequest r, List<X509Certificate> certificates) {
        List<String> s = r.segments();
        int n = s.size();
        boolean register = n == 4 && s.get(3).equalsIgnoreCase("register");
        boolean poll = n == 5 && s.get(3).equalsIgnoreCase("operations");
        boolean lookup = n == 3;
        if (!register && !poll && !lookup) {
            return error(ErrorCode.NOT_FOUND, "no such device API resource: /" + String.join("/", s)
                    + " (the device API serves PUT /{idScope}/registrations/{registrationId}/register, GET "
                    + "/{idScope}/registrations/{registrationId}/operations/{operationId} and POST "
                    + "/{idScope}/registrations/{registrationId})", null);
        }
        String method = register ? "PUT" : poll ? "GET" : "POST";
        if (!r.method().equals(method)) {
            ApiResponse refused = error(ErrorCode.METHOD_NOT_ALLOWED, r.method() + " is not allowed on /"
                    + String.join("/", s) + "; use " + method, null);
            Map<String, String> headers = new LinkedHashMap<>(refused.headers());
            headers.put("Allow", method);
            return new ApiResponse(refused.status(), headers, refused.body());
        }
        String apiVersion = r.query().get("api-version");
        if (apiVersion == null || apiVersion.isBlank()) {
            return error(ErrorCode.INVALID_API_VERSION,
                    "the api-version query parameter is required, e.g. ?api-version=2019-03-31", null);
        }
        if (!API_VERSION.matcher(apiVersion).matches()) {
            return error(ErrorCode.INVALID_API_VERSION, "api-version '" + abbreviate(apiVersion)
                    + "' is not a version like 2019-03-31 or 2021-11-01-preview", null);
        }
        String idScope = s.get(0);
        String registrationId = s.get(2);
        if (!REGISTRATION_ID.matcher(registrationId).matches()) {
            return error(ErrorCode.INVALID_ARGUMENT, "invalid registration id '" + abbreviate(registrationId)
                    + "': 1-128 characters of A-Z a-z 0-9 - . _ :, starting alphanumeric, ending alphanumeric or '-'",
                    null);
        }
        String sas = r.header("Authorization");
        if (register) {
            RegistrationReply reply = registrar.register(new RegistrationRequest(idScope, registrationId, sas,
                    r.body(), apiVersion, certificates));
            return response(reply.status(), reply.body(), reply.retryAfterSeconds());
        }
        if (poll) {
            RegistrationReply reply = registrar.operationStatus(new OperationStatusRequest(idScope, registrationId,
                    sas, s.get(4), apiVersion, certificates));
            return response(reply.status(), reply.body(), reply.retryAfterSeconds());
        }
        RegistrationStatusReply reply = registrar.registrationStatus(new RegistrationRequest(idScope,
                registrationId, sas, r.body(), apiVersion, certificates));
        return response(reply.status(), reply.body(), null);
    }

    /**
     * The HTTP form of any device reply: status, ASCII-only JSON body with the JSON content type, and
     * {@code Retry-After} (integer seconds) when the reply has one.
     */
    static ApiResponse response(int status, Object body, @Nullable Integer retryAfterSeconds) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", ApiResponse.JSON);
        if (retryAfterSeconds != null) {
            headers.put("Retry-After", Integer.toString(retryAfterSeconds));
        }
        return new ApiResponse(status, headers, Json.toAsciiBytes(body));
    }

    private ApiResponse error(ErrorCode code, String message, @Nullable String trackingId) {
        return error(code, message, trackingId, clock.instant());
    }

    /** An Azure error body with the code's HTTP status (429 gets a Retry-After). */
    static ApiResponse error(ErrorCode code, String message, @Nullable String trackingId, Instant now) {
        ErrorBody body = ErrorBody.of(code, message, trackingId == null ? UUID.randomUUID().toString() : trackingId,
                now);
        return response(code.httpStatus(), body, code == ErrorCode.THROTTLED
                ? RegistrationReply.RETRY_AFTER_SECONDS : null);
    }

    private static String abbreviate(String value) {
        return value.length() <= 64 ? value : value.substring(0, 64) + "...";
    }
}
