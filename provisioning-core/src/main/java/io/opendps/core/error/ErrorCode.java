package io.opendps.core.error;

/**
 * The six-digit error codes OpenDPS sends: HTTP status × 1000 + a detail. Codes Azure is known to use keep
 * Azure's value; the rest are our own choice inside the same HTTP class (see {@code dps-service-api.md} §12).
 */
public enum ErrorCode {
    /**
     * The request body is not valid JSON or not the expected shape: a value of the wrong JSON type, an unknown enum
     * value ({@code provisioningStatus}, {@code allocationPolicy}, {@code attestation.type}), a
     * {@code reprovisionPolicy} without both flags. The message names the JSON path of the field.
     */
    INVALID_REQUEST_BODY(400, 400001),
    /**
     * An argument (id, key, field value) breaks a rule of the service, e.g. an endorsement key that is not a
     * {@code TPM2B_PUBLIC} or an initial twin over IoT Hub's limits. The message names the field by its JSON path,
     * e.g. {@code initialTwin.properties.desired}.
     */
    INVALID_ARGUMENT(400, 400004),
    /** The registration id in the body does not match the one in the username or path. */
    REGISTRATION_ID_MISMATCH(400, 400005),
    /** {@code api-version} is missing or not a version this server serves. */
    INVALID_API_VERSION(400, 400009),
    /** A bulk enrollment operation holds more than the 10 items Azure DPS accepts per call. */
    BULK_TOO_MANY_ITEMS(400, 400220),
    /** A CA certificate upload is not acceptable (unreadable, not a CA, isVerified without proof of possession). */
    CA_CERTIFICATE_INVALID(400, 400301),
    /** Proof of possession failed: no pending or an expired code, wrong CN, wrong signer, invalid dates. */
    CA_CERTIFICATE_VERIFICATION_FAILED(400, 400302),
    /** The service already holds the maximum number of CA certificates (25). */
    CA_CERTIFICATE_LIMIT_EXCEEDED(400, 400303),
    /** The service already links the maximum number of hubs (50). */
    LINKED_HUB_LIMIT_EXCEEDED(400, 400601),
    /**
     * Custom allocation failed (Azure's observed code). Until the webhook call exists it is also the code of every
     * registration through a {@code custom} enrollment, which fails without calling the webhook.
     */
    CUSTOM_ALLOCATION_FAILED(400, 400207),
    /** No hub can be assigned (no candidate, or the configured one is not linked). */
    HUB_NOT_SPECIFIED(400, 400208),
    /** The enrollment names a hub ({@code iotHubs}, {@code iotHubHostName}) that is no longer linked. */
    HUB_NOT_LINKED(400, 400209),
    /** Bad, expired or missing credentials; unknown enrollment on the device path. Azure's observed code. */
    UNAUTHORIZED(401, 401002),
    /** Individual enrollment not found (Azure's observed code). */
    ENROLLMENT_NOT_FOUND(404, 404201),
    /** Registration record or registration operation not found. */
    REGISTRATION_NOT_FOUND(404, 404202),
    /** Enrollment group not found (Azure's observed code). */
    ENROLLMENT_GROUP_NOT_FOUND(404, 404204),
    /** No CA certificate with this name is registered. */
    CA_CERTIFICATE_NOT_FOUND(404, 404301),
    /** No shared access policy with this key name exists. */
    ACCESS_POLICY_NOT_FOUND(404, 404401),
    /** No device with this id in this hub (built-in hub). */
    HUB_DEVICE_NOT_FOUND(404, 404501),
    /** The hub host name is not a hub this server serves. */
    HUB_NOT_FOUND(404, 404502),
    /** No linked hub with this host name. */
    LINKED_HUB_NOT_FOUND(404, 404601),
    /** The requested path or method does not exist. */
    NOT_FOUND(404, 404000),
    /** The method is not allowed on this resource. */
    METHOD_NOT_ALLOWED(405, 405000),
    /** An individual enrollment with this id exists and no If-Match was sent. */
    ENROLLMENT_EXISTS(409, 409201),
    /** An enrollment group with this id exists and no If-Match was sent. */
    ENROLLMENT_GROUP_EXISTS(409, 409204),
    /** A CA certificate with this name exists and no If-Match was sent. */
    CA_CERTIFICATE_EXISTS(409, 409301),
    /** The CA certificate is referenced by enrollment groups and cannot be deleted. */
    CA_CERTIFICATE_IN_USE(409, 409302),
    /** A shared access policy with this key name exists and no If-Match was sent. */
    ACCESS_POLICY_EXISTS(409, 409401),
    /** The write would leave no shared access policy holding ServiceConfig (nobody could administer the service). */
    ACCESS_POLICY_LAST_SERVICE_CONFIG(409, 409402),
    /** A linked hub with this host name exists (PUT without If-Match). */
    LINKED_HUB_EXISTS(409, 409601),
    /** If-Match does not match the stored individual enrollment. */
    ENROLLMENT_PRECONDITION_FAILED(412, 412201),
    /** If-Match does not match the stored registration record. */
    REGISTRATION_PRECONDITION_FAILED(412, 412202),
    /** If-Match does not match the stored enrollment group. */
    ENROLLMENT_GROUP_PRECONDITION_FAILED(412, 412204),
    /** If-Match does not match the stored CA certificate. */
    CA_CERTIFICATE_PRECONDITION_FAILED(412, 412301),
    /** If-Match does not match the stored shared access policy, or it changed concurrently. */
    ACCESS_POLICY_PRECONDITION_FAILED(412, 412401),
    /** If-Match does not match the current etag of a built-in hub's device twin (it changed since it was read). */
    HUB_TWIN_PRECONDITION_FAILED(412, 412501),
    /** If-Match does not name the linked hub's current etag. */
    LINKED_HUB_PRECONDITION_FAILED(412, 412601),
    /** The body is larger than the 96 KB message limit. */
    PAYLOAD_TOO_LARGE(413, 413001),
    /** The content type is not JSON. */
    UNSUPPORTED_MEDIA_TYPE(415, 415001),
    /** Too many requests in flight; retry after the given time. */
    THROTTLED(429, 429001),
    /** An unexpected server failure. */
    INTERNAL_ERROR(500, 500000),
    /** A dependency (database, executor) is unavailable; retryable. */
    SERVICE_UNAVAILABLE(503, 503000),
    /**
     * Writing the device identity and initial twin to the assigned hub failed: the registration is {@code failed}
     * with this code and the next registration redoes the (idempotent) write. Retryable.
     */
    HUB_WRITE_FAILED(503, 503401);

    private final int httpStatus;
    private final int code;

    ErrorCode(int httpStatus, int code) {
        this.httpStatus = httpStatus;
        this.code = code;
    }

    /** The HTTP status (also the MQTT response topic status). */
    public int httpStatus() {
        return httpStatus;
    }

    /** The six-digit {@code errorCode}. */
    public int code() {
        return code;
    }

    /** The {@code x-ms-error-code} header text, e.g. {@code EnrollmentNotFound}. */
    public String headerName() {
        StringBuilder sb = new StringBuilder();
        for (String part : name().split("_")) {
            sb.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
        }
        return sb.toString();
    }

    /** Whether a client may retry the same request later. */
    public boolean isRetryable() {
        return httpStatus == 429 || httpStatus >= 500;
    }
}
