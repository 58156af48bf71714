package io.opendps.broker.http;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.linkedhub.AllocationSettings;
import io.opendps.core.linkedhub.LinkedHubRequest;
import io.opendps.core.linkedhub.LinkedHubService;
import io.opendps.core.linkedhub.LinkedHubView;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Linked hubs and the service-wide allocation settings ({@code dps-service-api.md} §9.1). Azure keeps both in the
 * ARM resource ({@code iotHubs}, {@code allocationPolicy}); OpenDPS serves them on its own API, each hub a resource
 * with an etag. Every operation needs {@code ServiceConfig} ({@link ServiceApi} checks it).
 *
 * <ul>
 *   <li>{@code GET /linkedHubs} → 200 {@code {"value":[view...]}} ordered by host name</li>
 *   <li>{@code GET /linkedHubs/{hostName}} → 200 view</li>
 *   <li>{@code PUT /linkedHubs/{hostName}} {@link LinkedHubRequest} → 200 view (create and replace, If-Match as
 *       for enrollments)</li>
 *   <li>{@code DELETE /linkedHubs/{hostName}} → 204</li>
 *   <li>{@code GET|PUT /settings/allocation} {@code {"allocationPolicy":"hashed"}} → 200</li>
 * </ul>
 * Webhook secrets are never returned (see {@link io.opendps.core.linkedhub.ConnectorDocument}). Single-hub replies
 * carry the etag as an {@code ETag} header. Thread-safe; synchronous.
 */
final class LinkedHubApi {

    /** The hubs' path segment. */
    static final String COLLECTION = "linkedHubs";
    /** The settings' path segment. */
    static final String SETTINGS = "settings";

    private final LinkedHubService service;

    LinkedHubApi(LinkedHubService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    /** Whether this API serves {@code path}. */
    static boolean serves(List<String> path) {
        return !path.isEmpty() && (path.get(0).equalsIgnoreCase(COLLECTION) || path.get(0).equalsIgnoreCase(SETTINGS));
    }

    /** Handles a request {@link #serves} accepted; {@code actor} names the authorising policy (audit). */
    ApiResponse handle(ApiRequest r, List<String> path, String actor) {
        if (path.get(0).equalsIgnoreCase(SETTINGS)) {
            if (path.size() != 2 || !path.get(1).equalsIgnoreCase("allocation")) {
                throw notFound(path);
            }
            return switch (r.method()) {
                case "GET" -> ApiResponse.json(200, service.allocationSettings(), Map.of());
                case "PUT" -> ApiResponse.json(200, service.setAllocationSettings(
                        ServiceApi.parse(r, AllocationSettings.class), actor), Map.of());
                default -> throw notAllowed(r);
            };
        }
        if (path.size() == 1) {
            if (!r.method().equals("GET")) {
                throw notAllowed(r);
            }
            return ApiResponse.json(200, Map.of("value", service.list()), Map.of());
        }
        if (path.size() != 2) {
            throw notFound(path);
        }
        String hostName = path.get(1);
        switch (r.method()) {
            case "GET" -> {
                return view(service.get(hostName));
            }
            case "PUT" -> {
                return view(service.put(hostName, ServiceApi.parse(r, LinkedHubRequest.class), r.header("If-Match"),
                        actor));
            }
            case "DELETE" -> {
                service.delete(hostName, r.header("If-Match"), actor);
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r);
        }
    }

    private static ApiResponse view(LinkedHubView view) {
        return ApiResponse.json(200, view, Map.of("ETag", view.etag()));
    }

    private static ProvisioningException notFound(List<String> path) {
        return new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s", String.join("/", path));
    }

    private static ProvisioningException notAllowed(ApiRequest r) {
        return new ProvisioningException(ErrorCode.METHOD_NOT_ALLOWED, "%s is not allowed on /%s", r.method(),
                String.join("/", r.segments()));
    }
}
