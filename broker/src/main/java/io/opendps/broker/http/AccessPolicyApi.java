package io.opendps.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.service.AccessPolicyRequest;
import io.opendps.core.service.AccessPolicyService;
import io.opendps.core.service.AccessPolicyView;
import io.opendps.core.service.PolicyKey;
import io.opendps.core.service.StoredAccessPolicy;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Shared access policies ({@code dps-service-api.md} §2.3, §14 "self-hosted server needs"). Azure manages them on
 * the ARM plane as part of the service resource; OpenDPS serves them on its own API, each policy a resource, in
 * ARM's flat {@code SharedAccessSignatureAuthorizationRuleAccessRightsDescription} shape plus etag and timestamps
 * ({@link AccessPolicyView}). Every operation needs the {@code ServiceConfig} right ({@link ServiceApi} checks it).
 *
 * <ul>
 *   <li>{@code GET /authorizationPolicies} → 200 {@code {"value":[view...]}} ordered by name, without keys</li>
 *   <li>{@code GET /authorizationPolicies/{keyName}} → 200 view without keys</li>
 *   <li>{@code PUT /authorizationPolicies/{keyName}} {@code {"keyName"?, "rights", "primaryKey"?,
 *       "secondaryKey"?}} → 200 view with keys (create and replace, as for enrollments)</li>
 *   <li>{@code DELETE /authorizationPolicies/{keyName}} → 204</li>
 *   <li>{@code POST /authorizationPolicies/{keyName}/listkeys} → 200 view with keys</li>
 *   <li>{@code POST /authorizationPolicies/{keyName}/regenerateKey} {@code {"keyName":"primary"|"secondary"}}
 *       (ARM's body; {@code "key"} is accepted too, values in any case) → 200 view with keys</li>
 * </ul>
 * Single-policy replies also carry the etag as an {@code ETag} header. Path segments are case-insensitive.
 * Thread-safe; synchronous.
 */
final class AccessPolicyApi {

    /** The collection's path segment. */
    static final String COLLECTION = "authorizationPolicies";

    private final AccessPolicyService service;

    AccessPolicyApi(AccessPolicyService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    /**
     * Handles a request whose path starts with {@link #COLLECTION}.
     *
     * @param actor the name of the policy that authorised the request, for the audit log
     */
    ApiResponse handle(ApiRequest r, List<String> path, String actor) {
        String ifMatch = r.header("If-Match");
        if (path.size() == 1) {
            if (!r.method().equals("GET")) {
                throw notAllowed(r);
            }
            return ApiResponse.json(200, Map.of("value", service.list().stream()
                    .map(p -> AccessPolicyView.of(p, false)).toList()), Map.of());
        }
        String keyName = path.get(1);
        if (path.size() == 3) {
            return action(r, keyName, path.get(2).toLowerCase(Locale.ROOT), ifMatch, actor);
        }
        if (path.size() != 2) {
            throw notFound(path);
        }
        switch (r.method()) {
            case "GET" -> {
                return view(service.get(keyName), false);
            }
            case "PUT" -> {
                return view(service.put(keyName, ServiceApi.parse(r, AccessPolicyRequest.class), ifMatch, actor),
                        true);
            }
            case "DELETE" -> {
                service.delete(keyName, ifMatch, actor);
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r);
        }
    }

    private ApiResponse action(ApiRequest r, String keyName, String action, @Nullable String ifMatch, String actor) {
        if (!action.equals("listkeys") && !action.equals("regeneratekey")) {
            throw notFound(r.segments());
        }
        if (!r.method().equals("POST")) {
            throw notAllowed(r);
        }
        if (action.equals("listkeys")) {
            return view(service.listKeys(keyName, actor), true);
        }
        return view(service.regenerateKey(keyName, whichKey(r), ifMatch, actor), true);
    }

    /** The regenerate body: ARM's {@code {"keyName":"primary"}}, or {@code {"key":"secondary"}}. */
    private static PolicyKey whichKey(ApiRequest r) {
        JsonNode body = ServiceApi.parse(r, JsonNode.class);
        JsonNode keyName = body.path("keyName");
        JsonNode key = body.path("key");
        if (!keyName.isMissingNode() && !keyName.isNull() && !key.isMissingNode() && !key.isNull()
                && !keyName.asText().equalsIgnoreCase(key.asText())) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "keyName '%s' and key '%s' disagree; send "
                    + "one of them, \"primary\" or \"secondary\"", keyName.asText(), key.asText());
        }
        JsonNode which = keyName.isMissingNode() || keyName.isNull() ? key : keyName;
        if (!which.isTextual()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "keyName is required and must be "
                    + "\"primary\" or \"secondary\", e.g. {\"keyName\":\"primary\"}");
        }
        try {
            return PolicyKey.parse(which.asText());
        } catch (IllegalArgumentException e) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "keyName: %s", e.getMessage());
        }
    }

    private static ApiResponse view(StoredAccessPolicy stored, boolean withKeys) {
        return ApiResponse.json(200, AccessPolicyView.of(stored, withKeys), Map.of("ETag", stored.etag()));
    }

    private static ProvisioningException notFound(List<String> path) {
        return new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s", String.join("/", path));
    }

    private static ProvisioningException notAllowed(ApiRequest r) {
        return new ProvisioningException(ErrorCode.METHOD_NOT_ALLOWED, "%s is not allowed on /%s", r.method(),
                String.join("/", r.segments()));
    }
}
