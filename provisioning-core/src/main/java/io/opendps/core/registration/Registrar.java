package io.opendps.core.registration;

import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.x509.CertificateCodec;
import io.opendps.core.x509.X509RegistrationResult;
import java.io.IOException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides device registrations: authenticates the device against the enrollments ({@link DeviceAuthenticator}),
 * assigns a hub and a device id, persists the registration record and the operation, and answers polls.
 *
 * <p>A register is decided completely before its 202 is sent (the operation is stored terminal), so the first
 * poll already gets 200; the operation model keeps {@code assigning} for allocation steps that will need remote
 * calls in later issues. Re-registration of an assigned device is idempotent: same device id and hub, same
 * {@code createdDateTimeUtc}, new operation, etag and {@code lastUpdatedDateTimeUtc}.
 *
 * <p>A first assignment follows the enrollment's {@code allocationPolicy} ({@link PolicyAllocation}: static, hashed,
 * geo-latency as hashed; custom fails with {@code 400207} until webhooks exist).
 *
 * <p>Thread-safe. Synchronous (store and crypto work): call it from a bounded worker pool, never from an
 * event loop. Expected outcomes, including every refusal, are {@link RegistrationReply} values.
 */
public final class Registrar {

    private static final Logger LOG = LoggerFactory.getLogger(Registrar.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String idScope;
    private final DeviceAuthenticator authenticator;
    private final RegistrationStore registrations;
    private final PolicyAllocation policies;
    private final Clock clock;
    private final String operationPrefix;

    public Registrar(String idScope, DeviceAuthenticator authenticator, RegistrationStore registrations,
            Allocator allocator, Clock clock) {
        this.idScope = Objects.requireNonNull(idScope, "idScope");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.policies = new PolicyAllocation(allocator);
        this.clock = Objects.requireNonNull(clock, "clock");
        byte[] node = new byte[8];
        RANDOM.nextBytes(node);
        this.operationPrefix = "1." + HexFormat.of().formatHex(node) + ".";
    }

    /** Handles a register: 202 with a new operation id, or an error reply (400, 401). */
    public RegistrationReply register(RegistrationRequest request) {
        Instant now = clock.instant();
        String trackingId = UUID.randomUUID().toString();
        DeviceRegistration body;
        try {
            body = parseBody(request.body());
        } catch (IOException e) {
            return RegistrationReply.error(ErrorCode.INVALID_REQUEST_BODY, "the request body is not a valid "
                    + "registration: " + firstLine(e.getMessage()), trackingId, now);
        }
        String bodyId = body.registrationId();
        if (bodyId == null || bodyId.isBlank()) {
            return RegistrationReply.error(ErrorCode.INVALID_REQUEST_BODY,
                    "the request body has no registrationId", trackingId, now);
        }
        if (!bodyId.equalsIgnoreCase(request.registrationId())) {
            return RegistrationReply.error(ErrorCode.REGISTRATION_ID_MISMATCH, "the registrationId in the body ('"
                    + bodyId + "') differs from the one the device connected with ('" + request.registrationId()
                    + "')", trackingId, now);
        }
        DeviceAuthenticator.Result auth = authenticate(request.idScope(), request.registrationId(),
                request.sasToken(), request.clientCertificates(), now);
        if (auth instanceof DeviceAuthenticator.Rejected rejected) {
            return unauthorized(request.registrationId(), rejected, trackingId, now);
        }
        DeviceAuthenticator.Matched match = (DeviceAuthenticator.Matched) auth;
        String operationId = operationPrefix + UUID.randomUUID();
        DeviceRegistrationState state = decide(request.registrationId(), match, now);
        String thumbprint = match.clientCertificate() == null ? null
                : CertificateCodec.sha256Thumbprint(match.clientCertificate());
        registrations.saveAttempt(state, new RegistrationOperation(operationId, request.registrationId(),
                match.enrollment(), now, new RegistrationOperationStatus(operationId, state.status(), state),
                thumbprint));
        AUDIT.info("registration {} [registration-id: {}, enrollment: {} {}, hub: {}, device-id: {}{}]",
                state.status().name().toLowerCase(java.util.Locale.ROOT), request.registrationId(),
                match.enrollment().kind(), match.enrollment().id(), state.assignedHub(), state.deviceId(),
                thumbprint == null ? "" : ", certificate-sha256: " + thumbprint);
        return RegistrationReply.accepted(RegistrationOperationStatus.accepted(operationId));
    }

    /**
     * Handles a poll: 200 with the terminal status, 202 while assigning, or an error (401 for another ID scope or
     * a credential that no longer verifies, 404 for an operation this device does not own).
     */
    public RegistrationReply operationStatus(OperationStatusRequest request) {
        Instant now = clock.instant();
        String trackingId = UUID.randomUUID().toString();
        if (!servesScope(request.idScope())) {
            return unauthorized(request.registrationId(), unknownScope(request.idScope()), trackingId, now);
        }
        RegistrationOperation op = registrations.findOperation(request.operationId())
                .filter(o -> o.registrationId().equalsIgnoreCase(request.registrationId()))
                .orElse(null);
        if (op == null) {
            return RegistrationReply.error(ErrorCode.REGISTRATION_NOT_FOUND, "operation '" + request.operationId()
                    + "' not found for registration '" + request.registrationId() + "'", trackingId, now);
        }
        DeviceAuthenticator.Result auth = authenticator.authenticatePoll(op.enrollment(),
                op.clientCertificateThumbprint(), request.registrationId(), request.sasToken(),
                request.clientCertificates(), now);
        if (auth instanceof DeviceAuthenticator.Rejected rejected) {
            return unauthorized(request.registrationId(), rejected, trackingId, now);
        }
        RegistrationOperationStatus result = op.result();
        if (result.status().terminal()) {
            return RegistrationReply.done(result);
        }
        return RegistrationReply.accepted(new RegistrationOperationStatus(op.operationId(),
                RegistrationStatus.ASSIGNING, DeviceRegistrationState.assigning(request.registrationId())));
    }

    private DeviceAuthenticator.Result authenticate(String scope, String registrationId, @Nullable String sas,
            List<X509Certificate> chain, Instant now) {
        if (!servesScope(scope)) {
            return unknownScope(scope);
        }
        return authenticator.authenticate(registrationId, sas, chain, now);
    }

    private boolean servesScope(String scope) {
        return idScope.equalsIgnoreCase(scope);
    }

    private static DeviceAuthenticator.Rejected unknownScope(String scope) {
        return new DeviceAuthenticator.Rejected(DeviceAuthenticator.Reason.UNKNOWN_ID_SCOPE,
                "ID scope '" + scope + "' is not served here");
    }

    private DeviceRegistrationState decide(String registrationId, DeviceAuthenticator.Matched match, Instant now) {
        DeviceRegistrationState previous = registrations.find(registrationId).orElse(null);
        Instant created = previous != null && previous.createdDateTimeUtc() != null
                ? previous.createdDateTimeUtc() : now;
        boolean group = match.enrollment().kind() == EnrollmentRef.Kind.GROUP;
        X509RegistrationResult x509 = x509Result(match);
        GroupReference symmetricKey = x509 != null ? null
                : group ? new GroupReference(match.enrollment().id()) : GroupReference.INDIVIDUAL;
        String etag = Etags.newRegistrationEtag();
        if (!match.enabled()) {
            return new DeviceRegistrationState(registrationId, created,
                    previous == null ? null : previous.assignedHub(), previous == null ? null : previous.deviceId(),
                    RegistrationStatus.DISABLED, null, ErrorCode.UNAUTHORIZED.code(),
                    (group ? "Enrollment group" : "Enrollment") + " is disabled", now, etag, symmetricKey, x509,
                    null);
        }
        if (previous != null && previous.status() == RegistrationStatus.ASSIGNED && previous.assignedHub() != null
                && previous.deviceId() != null) {
            return new DeviceRegistrationState(registrationId, created, previous.assignedHub(), previous.deviceId(),
                    RegistrationStatus.ASSIGNED, Substatus.INITIAL_ASSIGNMENT, null, null, now, etag, symmetricKey,
                    x509, previous.payload());
        }
        Allocation allocation = policies.allocate(registrationId, match);
        if (allocation instanceof Allocation.Failed failed) {
            LOG.debug("allocation failed [registration-id: {}, reason: {}]", registrationId, failed.message());
            return new DeviceRegistrationState(registrationId, created, null, null, RegistrationStatus.FAILED, null,
                    failed.code().code(), failed.message(), now, etag, symmetricKey, x509, null);
        }
        String hub = ((Allocation.Assigned) allocation).hub();
        return new DeviceRegistrationState(registrationId, created, hub, deviceId(registrationId, match),
                RegistrationStatus.ASSIGNED, Substatus.INITIAL_ASSIGNMENT, null, null, now, etag, symmetricKey, x509,
                null);
    }

    /** The {@code x509} result of an X.509 device: its leaf's info, and the anchor and group id for groups. */
    private static @Nullable X509RegistrationResult x509Result(DeviceAuthenticator.Matched match) {
        X509Certificate leaf = match.clientCertificate();
        if (leaf == null) {
            return null;
        }
        X509Certificate anchor = match.signingCertificate();
        if (match.enrollment().kind() == EnrollmentRef.Kind.GROUP && anchor != null) {
            return X509RegistrationResult.group(leaf, anchor, match.enrollment().id());
        }
        return X509RegistrationResult.individual(leaf);
    }

    /**
     * Individual: the enrollment's deviceId, else (X.509) the leaf's CN, else the registration id. Group: the
     * leaf's CN for X.509 (equal to the registration id up to case), else the registration id.
     */
    private static String deviceId(String registrationId, DeviceAuthenticator.Matched match) {
        IndividualEnrollment individual = match.individual();
        if (individual != null && individual.deviceId() != null) {
            return individual.deviceId();
        }
        String cn = match.clientCertificate() == null ? null : CertificateCodec.commonName(match.clientCertificate());
        return cn != null ? cn : registrationId;
    }

    private RegistrationReply unauthorized(String registrationId, DeviceAuthenticator.Rejected rejected,
            String trackingId, Instant now) {
        AUDIT.info("registration refused [registration-id: {}, reason: {}, detail: {}, tracking-id: {}]",
                registrationId, rejected.reason(), rejected.detail(), trackingId);
        return RegistrationReply.error(ErrorCode.UNAUTHORIZED, rejected.deviceMessage(), trackingId, now);
    }

    private static DeviceRegistration parseBody(byte[] body) throws IOException {
        if (body.length == 0) {
            throw new IOException("the body is empty; send {\"registrationId\":\"...\"}");
        }
        return Json.parse(body, DeviceRegistration.class);
    }

    private static String firstLine(@Nullable String text) {
        if (text == null) {
            return "unreadable JSON";
        }
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}
