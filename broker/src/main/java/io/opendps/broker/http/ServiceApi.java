package io.opendps.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.BulkEnrollmentGroupOperation;
import io.opendps.core.enrollment.BulkEnrollmentOperation;
import io.opendps.core.enrollment.BulkEnrollmentService;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.Page;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationRecordService;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.json.Json;
import io.opendps.core.json.JsonProblem;
import io.opendps.core.linkedhub.LinkedHubService;
import io.opendps.core.service.AccessPolicyService;
import io.opendps.core.service.AccessRight;
import io.opendps.core.service.ServiceAuthorizer;
import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service REST API ({@code dps-service-api.md}): individual enrollments and enrollment groups (PUT/GET/DELETE,
 * attestation-mechanism read, query with paging, bulk operations), device registration records (get, delete, query per group,
 * and OpenDPS's {@code POST /registrations/{id}/reprovision}; their substatus follows the caller's api-version),
 * CA certificates with proof of possession ({@link CaCertificateApi}), and the built-in hub's devices, twins and
 * telemetry ({@link HubApi}). Paths and their segments
 * are matched case-insensitively; every request needs an {@code api-version} and a service SAS with the right
 * the operation requires, except the OpenAPI document of this API ({@link OpenApiDocument}). Request bodies are
 * JSON (another {@code Content-Type} is 415). Creates and updates answer 200, deletes 204, errors carry the Azure
 * error body.
 *
 * <p>Thread-safe. Synchronous: {@link #handle} does store work, so call it on a worker pool.
 */
public final class ServiceApi {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceApi.class);
    private static final Pattern API_VERSION = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}(-preview)?$");

    private final EnrollmentService enrollments;
    private final BulkEnrollmentService bulk;
    private final ServiceAuthorizer authorizer;
    private final Clock clock;
    private final CaCertificateApi caCertificates;
    private final RegistrationRecordService registrations;
    private final AccessPolicyApi accessPolicies;
    private final HubApi hubs;
    private final LinkedHubApi linkedHubs;

    /**
     * @param hub the built-in hub (operator API under {@code /hubs/{H}/...})
     * @param hubDeviceConnected whether a hub device ({@code hub, deviceId}) is connected right now
     * @param linkedHubs the linked hubs and the default allocation policy ({@code /linkedHubs}, {@code /settings})
     */
    public ServiceApi(EnrollmentService enrollments, RegistrationRecordService registrations,
            CaCertificateService caCertificates, ServiceAuthorizer authorizer, Clock clock,
            AccessPolicyService accessPolicies, BuiltInHub hub, BiPredicate<String, String> hubDeviceConnected,
            LinkedHubService linkedHubs) {
        this.accessPolicies = new AccessPolicyApi(accessPolicies);
        this.hubs = new HubApi(hub, hubDeviceConnected, authorizer);
        this.linkedHubs = new LinkedHubApi(linkedHubs);
        this.caCertificates = new CaCertificateApi(caCertificates);
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.enrollments = Objects.requireNonNull(enrollments, "enrollments");
        this.bulk = new BulkEnrollmentService(enrollments);
        this.authorizer = Objects.requireNonNull(authorizer, "authorizer");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Answers one request; never throws for bad input (it becomes an error response). */
    public ApiResponse handle(ApiRequest request) {
        try {
            return route(request);
        } catch (ProvisioningException e) {
            return ApiResponse.error(e.code(), e.getMessage(), clock.instant());
        } catch (RuntimeException e) {
            LOG.warn("service API request failed [method: {}, path: /{}]", request.method(),
                    String.join("/", request.segments()), e);
            return ApiResponse.error(ErrorCode.INTERNAL_ERROR, "internal error", clock.instant());
        }
    }

    private ApiResponse route(ApiRequest r) {
        if (OpenApiDocument.serves(r.segments())) {
            return OpenApiDocument.instance().answer(r); // open: no api-version, no SAS (see OpenApiDocument)
        }
        requireJsonContentType(r);
        List<String> path = CaCertificateApi.withoutArmPrefix(r.segments());
        if (!path.isEmpty() && path.get(0).equalsIgnoreCase("certificates")) {
            requireApiVersion(r);
            authorizer.authorize(r.header("Authorization"), AccessRight.SERVICE_CONFIG);
            return caCertificates.handle(r, path);
        }
        if (!path.isEmpty() && path.get(0).equalsIgnoreCase(AccessPolicyApi.COLLECTION)) {
            requireApiVersion(r);
            String actor = authorizer.authorize(r.header("Authorization"), AccessRight.SERVICE_CONFIG).keyName();
            return accessPolicies.handle(r, path, actor);
        }
        if (LinkedHubApi.serves(path)) {
            requireApiVersion(r);
            String actor = authorizer.authorize(r.header("Authorization"), AccessRight.SERVICE_CONFIG).keyName();
            return linkedHubs.handle(r, path, actor);
        }
        if (HubApi.serves(path)) {
            requireApiVersion(r);
            return hubs.handle(r, path);
        }
        String collection = r.segmentLower(0);
        if (collection.equals("registrations")) {
            requireApiVersion(r);
            return registrationResource(r);
        }
        boolean enrollment = collection.equals("enrollments");
        boolean group = collection.equals("enrollmentgroups");
        if (!enrollment && !group) {
            throw new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s",
                    String.join("/", r.segments()));
        }
        requireApiVersion(r);
        int n = r.segments().size();
        if (n == 2 && r.segmentLower(1).equals("query") && r.method().equals("POST")) {
            authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_READ);
            return enrollment ? queryEnrollments(r) : queryGroups(r);
        }
        if (n == 1) {
            return bulkOperation(r, enrollment);
        }
        if (n == 3 && r.segmentLower(2).equals("attestationmechanism")) {
            if (!r.method().equals("POST")) {
                throw notAllowed(r);
            }
            authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_READ);
            String id = r.segments().get(1);
            return ApiResponse.json(200, enrollment ? enrollments.enrollmentAttestation(id)
                    : enrollments.groupAttestation(id), Map.of());
        }
        if (n != 2) {
            throw new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s",
                    String.join("/", r.segments()));
        }
        return enrollment ? enrollmentResource(r, r.segments().get(1)) : groupResource(r, r.segments().get(1));
    }

    private ApiResponse enrollmentResource(ApiRequest r, String id) {
        switch (r.method()) {
            case "GET" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_READ);
                IndividualEnrollment e = enrollments.getEnrollment(id).orElseThrow(() -> new ProvisioningException(
                        ErrorCode.ENROLLMENT_NOT_FOUND, "enrollment '%s' not found", id));
                return withEtag(forApiVersion(e, r.query().get("api-version")), e.etag());
            }
            case "PUT" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_WRITE);
                IndividualEnrollment stored = enrollments.putEnrollment(id, parse(r, IndividualEnrollment.class),
                        r.header("If-Match"));
                return withEtag(stored, stored.etag());
            }
            case "DELETE" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_WRITE);
                enrollments.deleteEnrollment(id, r.header("If-Match"));
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r);
        }
    }

    private ApiResponse groupResource(ApiRequest r, String id) {
        switch (r.method()) {
            case "GET" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_READ);
                EnrollmentGroup g = enrollments.getGroup(id).orElseThrow(() -> new ProvisioningException(
                        ErrorCode.ENROLLMENT_GROUP_NOT_FOUND, "enrollment group '%s' not found", id));
                return withEtag(g, g.etag());
            }
            case "PUT" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_WRITE);
                EnrollmentGroup stored = enrollments.putGroup(id, parse(r, EnrollmentGroup.class),
                        r.header("If-Match"));
                return withEtag(stored, stored.etag());
            }
            case "DELETE" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_WRITE);
                enrollments.deleteGroup(id, r.header("If-Match"));
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r);
        }
    }

    /**
     * {@code POST /enrollments} and {@code POST /enrollmentGroups}: bulk create, update, updateIfMatchETag or delete
     * of up to 10 items ({@link BulkEnrollmentService}). 200 with the result even when items failed; 400 when the
     * request as a whole is invalid (then nothing was written).
     */
    private ApiResponse bulkOperation(ApiRequest r, boolean enrollment) {
        if (!r.method().equals("POST")) {
            throw notAllowed(r);
        }
        authorizer.authorize(r.header("Authorization"), AccessRight.ENROLLMENT_WRITE);
        return ApiResponse.json(200, enrollment ? bulk.enrollments(parse(r, BulkEnrollmentOperation.class))
                : bulk.groups(parse(r, BulkEnrollmentGroupOperation.class)), Map.of());
    }

    /**
     * {@code GET|DELETE /registrations/{registrationId}} and {@code POST /registrations/{groupId}/query} (the body
     * may be absent, as the Azure CLI sends it; the query text is not interpreted).
     */
    private ApiResponse registrationResource(ApiRequest r) {
        int n = r.segments().size();
        String apiVersion = r.query().get("api-version");
        if (n == 3 && r.segmentLower(2).equals("query")) {
            if (!r.method().equals("POST")) {
                throw notAllowed(r);
            }
            authorizer.authorize(r.header("Authorization"), AccessRight.REGISTRATION_STATUS_READ);
            return queryResponse(registrations.queryGroup(r.segments().get(1), maxItems(r),
                    r.header("x-ms-continuation")).map(s -> s.forApiVersion(apiVersion)), "DeviceRegistration",
                    maxItems(r));
        }
        if (n == 3 && r.segmentLower(2).equals("reprovision")) {
            if (!r.method().equals("POST")) {
                throw notAllowed(r);
            }
            authorizer.authorize(r.header("Authorization"), AccessRight.REGISTRATION_STATUS_WRITE);
            registrations.requestReprovision(r.segments().get(1));
            return ApiResponse.noContent();
        }
        if (n != 2) {
            throw new ProvisioningException(ErrorCode.NOT_FOUND, "no such resource: /%s",
                    String.join("/", r.segments()));
        }
        String id = r.segments().get(1);
        switch (r.method()) {
            case "GET" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.REGISTRATION_STATUS_READ);
                DeviceRegistrationState state = registrations.get(id).forApiVersion(apiVersion);
                return withEtag(state, state.etag());
            }
            case "DELETE" -> {
                authorizer.authorize(r.header("Authorization"), AccessRight.REGISTRATION_STATUS_WRITE);
                registrations.delete(id, r.header("If-Match"));
                return ApiResponse.noContent();
            }
            default -> throw notAllowed(r);
        }
    }

    private ApiResponse queryEnrollments(ApiRequest r) {
        String apiVersion = r.query().get("api-version");
        Page<IndividualEnrollment> page = enrollments.listEnrollments(maxItems(r), r.header("x-ms-continuation"))
                .map(e -> forApiVersion(e, apiVersion));
        return queryResponse(page, "Enrollment", maxItems(r));
    }

    /**
     * The enrollment's embedded registration record as a caller on {@code apiVersion} sees it: every answer carrying
     * a substatus maps it by the caller's api-version ({@code DeviceRegistrationState#forApiVersion}).
     */
    private static IndividualEnrollment forApiVersion(IndividualEnrollment e, String apiVersion) {
        DeviceRegistrationState state = e.registrationState();
        return state == null ? e : e.withRegistrationState(state.forApiVersion(apiVersion));
    }

    private ApiResponse queryGroups(ApiRequest r) {
        Page<EnrollmentGroup> page = enrollments.listGroups(maxItems(r), r.header("x-ms-continuation"));
        return queryResponse(page, "EnrollmentGroup", maxItems(r));
    }

    /**
     * Every query is "select all in this collection" for now (the query text is accepted, not interpreted), as
     * the reference recommends; {@code x-ms-continuation} is sent only when another page exists.
     */
    private static ApiResponse queryResponse(Page<?> page, String itemType, int requested) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ms-item-type", itemType);
        headers.put("x-ms-max-item-count", Integer.toString(Page.pageSize(requested)));
        if (page.continuation() != null) {
            headers.put("x-ms-continuation", page.continuation());
        }
        return ApiResponse.json(200, page.items(), headers);
    }

    static int maxItems(ApiRequest r) {
        String v = r.header("x-ms-max-item-count");
        if (v == null || v.isBlank()) {
            return 0;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT,
                    "x-ms-max-item-count must be a positive integer, got '%s'", v);
        }
    }

    private static ApiResponse withEtag(Object body, @Nullable String etag) {
        return ApiResponse.json(200, body, etag == null ? Map.of() : Map.of("ETag", etag));
    }

    static <T> T parse(ApiRequest r, Class<T> type) {
        if (r.body().length == 0) {
            throw new ProvisioningException(ErrorCode.INVALID_REQUEST_BODY, "the request body is empty; send the %s "
                    + "as JSON", type.getSimpleName());
        }
        try {
            JsonNode tree = Json.mapper().readTree(r.body());
            if (tree == null || !tree.isObject()) {
                throw new ProvisioningException(ErrorCode.INVALID_REQUEST_BODY, "the request body must be a JSON "
                        + "object (%s)", type.getSimpleName());
            }
            return Json.mapper().treeToValue(tree, type);
        } catch (IOException e) {
            throw new ProvisioningException(ErrorCode.INVALID_REQUEST_BODY, "the request body is not a valid %s: "
                    + "%s", type.getSimpleName(), JsonProblem.describe(e));
        }
    }

    /**
     * A body must be JSON: one sent with another {@code Content-Type} is refused with 415 before anything is read
     * or stored. A {@code charset} parameter is fine, and so is a body without any {@code Content-Type} (read as
     * JSON, for simple tools); {@code text/json} and {@code +json} types count as JSON.
     */
    private static void requireJsonContentType(ApiRequest r) {
        String type = r.header("Content-Type");
        if (r.body().length == 0 || type == null || type.isBlank()) {
            return;
        }
        String media = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (media.equals("application/json") || media.equals("text/json") || media.endsWith("+json")) {
            return;
        }
        throw new ProvisioningException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "Content-Type '%s' is not supported; send the body as application/json", type);
    }

    private static void requireApiVersion(ApiRequest r) {
        String v = r.query().get("api-version");
        if (v == null || v.isBlank()) {
            throw new ProvisioningException(ErrorCode.INVALID_API_VERSION,
                    "the api-version query parameter is required, e.g. ?api-version=2021-10-01");
        }
        if (!API_VERSION.matcher(v).matches()) {
            throw new ProvisioningException(ErrorCode.INVALID_API_VERSION,
                    "api-version '%s' is not a version like 2021-10-01 or 2021-11-01-preview", v);
        }
    }

    private static ProvisioningException notAllowed(ApiRequest r) {
        return new ProvisioningException(ErrorCode.METHOD_NOT_ALLOWED, "%s is not allowed on /%s", r.method(),
                String.join("/", r.segments()));
    }
}
