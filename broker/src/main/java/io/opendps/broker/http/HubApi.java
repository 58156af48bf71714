package io.opendps.broker.http;

import io.opendps.core.enrollment.Page;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.hub.HubDeviceView;
import io.opendps.core.hub.HubMessagePage;
import io.opendps.core.hub.Twin;
import io.opendps.core.hub.TwinPatch;
import io.opendps.core.hub.TwinView;
import io.opendps.core.service.AccessRight;
import io.opendps.core.service.ServiceAuthorizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator side of the built-in hub (issue 5) on the service API, for a hub {@code H} this server serves:
 *
 * <ul>
 *   <li>{@code GET /hubs/{H}/devices} → 200 JSON array of {@link HubDeviceView}s ordered by device id; paging as the
 *       enrollment query: {@code x-ms-max-item-count} (default 100, at most 1000, echoed) and an opaque
 *       {@code x-ms-continuation} sent only when another page exists, {@code x-ms-item-type: Device}</li>
 *   <li>{@code GET /hubs/{H}/devices/{id}} → 200 {@link HubDeviceView} (authentication type and X.509 thumbprint,
 *       never keys)</li>
 *   <li>{@code DELETE /hubs/{H}/devices/{id}} → 204; the device and its twin are gone and a connected device is
 *       disconnected. Its registration record is left alone: the device's next registration re-creates it in the
 *       hub with the enrollment's initial twin (delete the record too to start afresh).</li>
 *   <li>{@code GET /hubs/{H}/twins/{id}} → 200 {@link TwinView} (IoT Hub's twin JSON) with the twin's
 *       {@code ETag}</li>
 *   <li>{@code PATCH /hubs/{H}/twins/{id}} {@code {"tags":{..},"properties":{"desired":{..}}}} ({@link TwinPatch},
 *       merge semantics: {@code null} removes a key) → 200 {@link TwinView}. {@code If-Match} (the etag, quoted or
 *       not) makes it conditional: 412 {@code 412501} when the twin changed since, {@code *} or no header applies
 *       it unconditionally. A desired change is pushed to the connected device
 *       ({@code $iothub/twin/PATCH/properties/desired/?$version=n}). Tags and desired properties follow IoT Hub's
 *       twin rules, as an enrollment's {@code initialTwin}: 400 {@code 400004} naming the field.</li>
 *   <li>{@code GET /hubs/{H}/messages?after=N&limit=M} → 200 {@link HubMessagePage}: up to {@code limit} (1..1000,
 *       default 100) messages with a sequence above {@code after} (default 0), oldest first, and the cursor to poll
 *       with next.</li>
 * </ul>
 * A hub not served here is 404 {@code 404502}, an unknown device 404 {@code 404501}.
 *
 * <p>Rights (decision): the hub's devices exist because they registered, so the operator side reuses the
 * registration rights: every read (devices, twins, telemetry) needs {@code RegistrationStatusRead}, every change
 * (twin update, device delete) {@code RegistrationStatusWrite}; a delete of a hub device is the same kind of act as
 * a delete of a registration record. The right is checked before anything about the hub is revealed.
 *
 * <p>Only paths with at least three segments under {@code /hubs} are served here; {@code /hubs} and
 * {@code /hubs/{H}} stay free for managing linked hubs. Thread-safe; synchronous (store work).
 */
final class HubApi {

    /** The collection's path segment. */
    static final String COLLECTION = "hubs";

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    private static final int DEFAULT_MESSAGES = 100;
    private static final int MAX_MESSAGES = 1000;

    private final BuiltInHub hub;
    private final BiPredicate<String, String> connected;
    private final ServiceAuthorizer authorizer;

    /**
     * @param hub the built-in hub
     * @param connected whether a device ({@code hub, deviceId}) has a live hub connection
     * @param authorizer checks the service SAS
     */
    HubApi(BuiltInHub hub, BiPredicate<String, String> connected, ServiceAuthorizer authorizer) {
        this.hub = Objects.requireNonNull(hub, "hub");
        this.connected = Objects.requireNonNull(connected, "connected");
        this.authorizer = Objects.requireNonNull(authorizer, "authorizer");
    }

    /** Whether a path ({@code /hubs/{H}/...}, three segments or more) is served here. */
    static boolean serves(List<String> path) {
        return path.size() >= 3 && path.get(0).equalsIgnoreCase(COLLECTION);
    }

    ApiResponse handle(ApiRequest r, List<String> path) {
        String hubName = path.get(1);
        String resource = path.get(2).toLowerCase(Locale.ROOT);
        switch (resource) {
            case "devices" -> {
                if (path.size() == 3) {
                    requireMethod(r, "GET");
                    authorize(r, AccessRight.REGISTRATION_STATUS_READ);
                    return devices(r, hubName);
                }
                if (path.size() == 4) {
                    return device(r, hubName, path.get(3));
                }
            }
            case "twins" -> {
                if (path.size() == 4) {
                    return twin(r, hubName, path.get(3));
                }
            }
            case "messages" -> {
                if (path.size() == 3) {
                    requireMethod(r, "GET");
                    authorize(r, AccessRight.REGISTRATION_STATUS_READ);
                    long after = longParameter(r, "after", 0, 0, Long.MAX_VALUE);
                    int limit = (int) longParameter(r, "limit", DEFAULT_MESSAGES, 1, MAX_MESSAGES);
                    return ApiResponse.json(200, HubMessagePage.of(hub.messagesAfter(hubName, after, limit), after),
                            Map.of());
                }
            }
            default -> {
                // not a hub resource: 404 below
            }
        }
        throw new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s (a hub has devices, "
                + "devices/{id}, twins/{id} and messages)", String.join("/", r.segments()));
    }

    private ApiResponse devices(ApiRequest r, String hubName) {
        int requested = ServiceApi.maxItems(r);
        Page<DeviceIdentity> page = hub.devicePage(hubName, r.header("x-ms-continuation"), requested);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ms-item-type", "Device");
        headers.put("x-ms-max-item-count", Integer.toString(Page.pageSize(requested)));
        if (page.continuation() != null) {
            headers.put("x-ms-continuation", page.continuation());
        }
        return ApiResponse.json(200, page.items().stream().map(this::view).toList(), headers);
    }

    private ApiResponse device(ApiRequest r, String hubName, String deviceId) {
        switch (r.method()) {
            case "GET" -> {
                authorize(r, AccessRight.REGISTRATION_STATUS_READ);
                return ApiResponse.json(200, view(hub.device(hubName, deviceId)), Map.of());
            }
            case "DELETE" -> {
                String actor = authorize(r, AccessRight.REGISTRATION_STATUS_WRITE);
                hub.deleteDevice(hubName, deviceId);
                AUDIT.info("hub device deleted by operator [hub: {}, device-id: {}, policy: {}]", hubName, deviceId,
                        actor);
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r, "GET, DELETE");
        }
    }

    private ApiResponse twin(ApiRequest r, String hubName, String deviceId) {
        switch (r.method()) {
            case "GET" -> {
                authorize(r, AccessRight.REGISTRATION_STATUS_READ);
                return twinResponse(hub.twin(hubName, deviceId));
            }
            case "PATCH" -> {
                String actor = authorize(r, AccessRight.REGISTRATION_STATUS_WRITE);
                TwinPatch patch = ServiceApi.parse(r, TwinPatch.class);
                patch.requireSomething();
                Twin updated = hub.updateTwin(hubName, deviceId, patch.tagsPatch(), patch.desiredPatch(),
                        r.header("If-Match"));
                AUDIT.info("hub twin updated by operator [hub: {}, device-id: {}, version: {}, policy: {}]", hubName,
                        deviceId, updated.version(), actor);
                return twinResponse(updated);
            }
            default -> throw notAllowed(r, "GET, PATCH");
        }
    }

    private static ApiResponse twinResponse(Twin twin) {
        return ApiResponse.json(200, TwinView.of(twin), Map.of("ETag", "\"" + twin.etag() + "\""));
    }

    private HubDeviceView view(DeviceIdentity identity) {
        return HubDeviceView.of(identity, connected.test(identity.hub(), identity.deviceId()));
    }

    /** Checks the SAS for {@code right}; the policy's name, for the audit log. */
    private String authorize(ApiRequest r, AccessRight right) {
        return authorizer.authorize(r.header("Authorization"), right).keyName();
    }

    private static long longParameter(ApiRequest r, String name, long fallback, long min, long max) {
        String v = r.query().get(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            n = min - 1;
        }
        if (n < min || n > max) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "query parameter %s must be an integer "
                    + "%d..%d, got '%s'", name, min, max, v);
        }
        return n;
    }

    private static void requireMethod(ApiRequest r, String method) {
        if (!r.method().equals(method)) {
            throw notAllowed(r, method);
        }
    }

    private static ProvisioningException notAllowed(ApiRequest r, String allowed) {
        return new ProvisioningException(ErrorCode.METHOD_NOT_ALLOWED, "%s is not allowed on /%s (allowed: %s)",
                r.method(), String.join("/", r.segments()), allowed);
    }
}
