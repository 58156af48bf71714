package io.opendps.core.registration;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.allocation.Allocation;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.TpmAttestation;
import io.opendps.core.enrollment.ReprovisionPolicy;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.hub.DeviceAuthentication;
import io.opendps.core.hub.DeviceData;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.hub.DeviceStatus;
import io.opendps.core.hub.HubConnector;
import io.opendps.core.hub.HubConnectorException;
import io.opendps.core.hub.HubConnectors;
import io.opendps.core.hub.InitialTwin;
import io.opendps.core.json.Json;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.tpm.TpmFormatException;
import io.opendps.core.tpm.TpmPublic;
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
import java.util.Optional;
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
 * <p>Handing the device to its hub: once a hub and device id are chosen, the record and the operation are first
 * stored {@code assigning} with the intended hub and device id; then the hub's {@link HubConnector} writes the
 * device identity (the key the device proved, or its certificate thumbprint; {@code capabilities}) and the
 * enrollment's initial twin; only when that write succeeded are record and operation stored {@code assigned}. A
 * failed write stores them {@code failed} with {@link ErrorCode#HUB_WRITE_FAILED} and no hub (never half-assigned).
 * A crash between the two steps leaves the record {@code assigning}: the device's next poll of that operation, or
 * its next registration, redoes the (idempotent) hub write with the same hub and device id and finishes the
 * assignment. Re-registration of an assigned device redoes the write too (same hub and device id, the twin is
 * kept), which also repairs a hub that lost the device and hands over a key the device switched to (primary or
 * secondary).
 *
 * <p>TPM devices ({@code dps-device-protocol.md} §7): a register without credential whose body carries {@code tpm}
 * is answered 401 with a challenge body (issued by the {@link DeviceAuthenticator}); a malformed {@code tpm} object
 * is a 400. Once the device signs with the issued key, it registers like a symmetric-key device whose hub key is the
 * issued key, and its assigned record carries {@code tpm.authenticationKey} (the key wrapped again) instead of
 * {@code symmetricKey}.
 *
 * <p>Reprovisioning ({@code dps-service-api.md} §10): a device whose record has a hub registers again.
 * <ul>
 *   <li>Policy {@code never} ({@code updateHubAssignment=false}), or no {@code reprovisionPolicy} on the enrollment
 *       and a device api-version ≤ 2018-04-01 (legacy sticky hub, §10.4): it stays, {@code initialAssignment}.</li>
 *   <li>Otherwise (a policy with {@code updateHubAssignment=true}, or no policy: the default is migrate, but the
 *       enrollment is never filled in), allocation runs again on the current enrollment and linked hubs. Same hub:
 *       migrate stays ({@code reprovisionedToInitialAssignment}, twin kept), reset re-applies the enrollment's
 *       initial twin in place ({@code deviceDataReset}, the reference's [rec] for factory resets). Other hub:
 *       migrate copies tags, desired and reported properties and capabilities with the same device id
 *       ({@code deviceDataMigrated}); reset creates the device from the enrollment's initial twin with the
 *       enrollment's device id ({@code deviceDataReset}); either way the old device is deleted.</li>
 *   <li>An operator's reprovision mark ({@link RegistrationRecordService#requestReprovision}) makes the next
 *       registration run allocation again whatever the policy; under {@code never} the data then migrates.</li>
 *   <li>A move is persisted ({@link HubMove}) with the {@code assigning} record before any hub is touched, and
 *       cleared with the outcome; a crash or a failed hub write leaves it pending, and the next poll or registration
 *       finishes that move before anything else is decided.</li>
 *   <li>Allocation failing for an assigned device (e.g. its hub list names an unlinked hub) fails the registration;
 *       the device's identity in its old hub is left alone, as DPS never deletes without a move.</li>
 * </ul>
 * A first assignment to a hub that already holds the device id is {@code reprovisionedToInitialAssignment}. Every
 * substatus a device sees goes through {@link ApiVersions#substatus} for its api-version.
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
    private final HubConnectors connectors;
    private final Clock clock;
    private final String operationPrefix;

    /**
     * @param connectors the connector of each linked hub; an assigned hub without one fails the registration
     */
    public Registrar(String idScope, DeviceAuthenticator authenticator, RegistrationStore registrations,
            Allocator allocator, HubConnectors connectors, Clock clock) {
        this.idScope = Objects.requireNonNull(idScope, "idScope");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.policies = new PolicyAllocation(allocator);
        this.connectors = Objects.requireNonNull(connectors, "connectors");
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
        String tpmProblem = tpmProblem(body.tpm());
        if (tpmProblem != null) {
            return RegistrationReply.error(ErrorCode.INVALID_REQUEST_BODY, tpmProblem, trackingId, now);
        }
        DeviceAuthenticator.Result auth = authenticate(request.idScope(), request.registrationId(),
                request.sasToken(), request.clientCertificates(), body.tpm(), now);
        if (auth instanceof DeviceAuthenticator.Rejected rejected) {
            return unauthorized(request.registrationId(), rejected, trackingId, now);
        }
        if (auth instanceof DeviceAuthenticator.Challenged challenged) {
            AUDIT.info("tpm challenge issued [registration-id: {}, enrollment: {} {}, tracking-id: {}]",
                    request.registrationId(), challenged.enrollment().kind(), challenged.enrollment().id(),
                    trackingId);
            return RegistrationReply.challenge(challenged.challenge());
        }
        DeviceAuthenticator.Matched match = (DeviceAuthenticator.Matched) auth;
        String operationId = operationPrefix + UUID.randomUUID();
        Decision decision = decide(request, match, now);
        DeviceRegistrationState state = tpmView(decision.state(), match);
        String thumbprint = match.clientCertificate() == null ? null
                : CertificateCodec.sha256Thumbprint(match.clientCertificate());
        RegistrationOperation operation = new RegistrationOperation(operationId, request.registrationId(),
                match.enrollment(), now, new RegistrationOperationStatus(operationId, state.status(), state),
                thumbprint);
        HubMove move = decision.move();
        if (state.status() == RegistrationStatus.ASSIGNED) {
            DeviceRegistrationState intended = new DeviceRegistrationState(state.registrationId(),
                    state.createdDateTimeUtc(), state.assignedHub(), state.deviceId(), RegistrationStatus.ASSIGNING,
                    state.substatus(), null, null, now, state.etag(), state.symmetricKey(), state.x509(),
                    state.payload());
            registrations.saveAttempt(intended, withResult(operation, new RegistrationOperationStatus(operationId,
                    RegistrationStatus.ASSIGNING, DeviceRegistrationState.assigning(request.registrationId()))), move);
            state = tpmView(move == null ? completeAssignment(intended, match, now)
                    : completeMove(intended, move, match, now), match);
            registrations.saveOutcome(state, withResult(operation, new RegistrationOperationStatus(operationId,
                    state.status(), state)), state.status() == RegistrationStatus.FAILED ? move : null);
        } else {
            registrations.saveAttempt(state, operation, move);
        }
        if (decision.reprovisionHonoured()) {
            registrations.clearReprovisionRequest(request.registrationId());
        }
        AUDIT.info("registration {} [registration-id: {}, enrollment: {} {}, hub: {}, device-id: {}, substatus: {}{}{}]",
                state.status().name().toLowerCase(java.util.Locale.ROOT), request.registrationId(),
                match.enrollment().kind(), match.enrollment().id(), state.assignedHub(), state.deviceId(),
                state.substatus(), move == null ? "" : ", moved-from: " + move.fromHub() + "/" + move.fromDeviceId(),
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
        if (!(auth instanceof DeviceAuthenticator.Matched match)) {
            return unauthorized(request.registrationId(), auth instanceof DeviceAuthenticator.Rejected rejected
                    ? rejected : new DeviceAuthenticator.Rejected(DeviceAuthenticator.Reason.NO_CREDENTIAL,
                            "Unauthorized: poll with the SAS token or certificate of the registration"), trackingId,
                    now);
        }
        RegistrationOperationStatus result = op.result();
        if (result.status().terminal()) {
            return RegistrationReply.done(result.forApiVersion(request.apiVersion()));
        }
        DeviceRegistrationState record = registrations.find(request.registrationId()).orElse(null);
        if (record != null && record.status() == RegistrationStatus.ASSIGNING && record.assignedHub() != null
                && record.deviceId() != null) {
            HubMove move = registrations.findMove(request.registrationId()).orElse(null);
            DeviceRegistrationState outcome = tpmView(move == null ? completeAssignment(record, match, now)
                    : completeMove(record, move, match, now), match);
            RegistrationOperationStatus done = new RegistrationOperationStatus(op.operationId(), outcome.status(),
                    outcome);
            registrations.saveOutcome(outcome, withResult(op, done),
                    outcome.status() == RegistrationStatus.FAILED ? move : null);
            AUDIT.info("registration {} after an interrupted assignment [registration-id: {}, hub: {}, "
                    + "device-id: {}]", outcome.status().name().toLowerCase(java.util.Locale.ROOT),
                    request.registrationId(), record.assignedHub(), record.deviceId());
            return RegistrationReply.done(done.forApiVersion(request.apiVersion()));
        }
        return RegistrationReply.accepted(new RegistrationOperationStatus(op.operationId(),
                RegistrationStatus.ASSIGNING, DeviceRegistrationState.assigning(request.registrationId())));
    }

    private DeviceAuthenticator.Result authenticate(String scope, String registrationId, @Nullable String sas,
            List<X509Certificate> chain, @Nullable TpmAttestation tpm, Instant now) {
        if (!servesScope(scope)) {
            return unknownScope(scope);
        }
        return authenticator.authenticate(registrationId, sas, chain, tpm, now);
    }

    /** What is wrong with the body's {@code tpm} object (RSA EK and SRK as TPM2B_PUBLIC), or null. */
    private static @Nullable String tpmProblem(@Nullable TpmAttestation tpm) {
        if (tpm == null) {
            return null;
        }
        if (tpm.endorsementKey() == null || tpm.endorsementKey().isEmpty()) {
            return "the request body's tpm object has no endorsementKey (the EK's TPM2B_PUBLIC, base64)";
        }
        try {
            TpmPublic.parseBase64(tpm.endorsementKey(), "tpm.endorsementKey");
            if (tpm.storageRootKey() != null && !tpm.storageRootKey().isEmpty()) {
                TpmPublic.parseBase64(tpm.storageRootKey(), "tpm.storageRootKey");
            }
            return null;
        } catch (TpmFormatException e) {
            return "the request body's " + e.getMessage();
        }
    }

    /**
     * A TPM device's record carries {@code tpm} (the final authenticationKey, only when assigned) instead of
     * {@code symmetricKey}; other records are returned unchanged.
     */
    private static DeviceRegistrationState tpmView(DeviceRegistrationState state, DeviceAuthenticator.Matched match) {
        if (match.tpm() == null) {
            return state;
        }
        return state.withTpm(state.status() == RegistrationStatus.ASSIGNED ? match.tpm() : null);
    }

    private boolean servesScope(String scope) {
        return idScope.equalsIgnoreCase(scope);
    }

    private static DeviceAuthenticator.Rejected unknownScope(String scope) {
        return new DeviceAuthenticator.Rejected(DeviceAuthenticator.Reason.UNKNOWN_ID_SCOPE,
                "ID scope '" + scope + "' is not served here");
    }

    /** A decided registration: the record, the hub move to make (or keep pending), whether a mark was honoured. */
    private record Decision(DeviceRegistrationState state, @Nullable HubMove move, boolean reprovisionHonoured) {
    }

    /**
     * The decision table of {@code dps-service-api.md} §10.2 (see the class comment): disabled; a pending move
     * resumed; an interrupted assignment finished; an assigned device staying or re-allocated under its reprovision
     * policy; a first assignment.
     */
    private Decision decide(RegistrationRequest request, DeviceAuthenticator.Matched match, Instant now) {
        String registrationId = request.registrationId();
        DeviceRegistrationState previous = registrations.find(registrationId).orElse(null);
        HubMove pending = previous == null ? null : registrations.findMove(registrationId).orElse(null);
        Instant created = previous != null && previous.createdDateTimeUtc() != null
                ? previous.createdDateTimeUtc() : now;
        boolean group = match.enrollment().kind() == EnrollmentRef.Kind.GROUP;
        X509RegistrationResult x509 = x509Result(match);
        GroupReference symmetricKey = x509 != null ? null
                : group ? new GroupReference(match.enrollment().id()) : GroupReference.INDIVIDUAL;
        String etag = Etags.newRegistrationEtag();
        if (!match.enabled()) {
            return new Decision(new DeviceRegistrationState(registrationId, created,
                    previous == null ? null : previous.assignedHub(), previous == null ? null : previous.deviceId(),
                    RegistrationStatus.DISABLED, null, ErrorCode.UNAUTHORIZED.code(),
                    (group ? "Enrollment group" : "Enrollment") + " is disabled", now, etag, symmetricKey, x509,
                    null), pending, false);
        }
        if (pending != null) {
            return new Decision(assigned(registrationId, created, pending.toHub(), pending.toDeviceId(),
                    pending.substatus(), now, etag, symmetricKey, x509, previous.payload()), pending, false);
        }
        boolean hasHub = previous != null && previous.assignedHub() != null && previous.deviceId() != null
                && previous.status() != RegistrationStatus.FAILED;
        if (hasHub && previous.status() == RegistrationStatus.ASSIGNING) {
            Substatus intended = previous.substatus() == null ? Substatus.INITIAL_ASSIGNMENT : previous.substatus();
            return new Decision(assigned(registrationId, created, previous.assignedHub(), previous.deviceId(),
                    intended, now, etag, symmetricKey, x509, previous.payload()), null, false);
        }
        if (hasHub) {
            return reprovision(request, match, previous, created, now, etag, symmetricKey, x509);
        }
        Allocation allocation = policies.allocate(registrationId, match);
        if (allocation instanceof Allocation.Failed failed) {
            return new Decision(allocationFailed(registrationId, created, failed, now, etag, symmetricKey, x509), null,
                    false);
        }
        String hub = ((Allocation.Assigned) allocation).hub();
        String deviceId = deviceId(registrationId, match);
        Substatus substatus;
        try {
            substatus = existsInHub(hub, deviceId) ? Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT
                    : Substatus.INITIAL_ASSIGNMENT;
        } catch (HubConnectorException | ProvisioningException e) {
            // The hub cannot even be read: fail now (nothing written) rather than spend a second retry budget on
            // the write; the device's next registration tries again.
            LOG.warn("hub lookup failed [registration-id: {}, hub: {}, device-id: {}]: {}", registrationId, hub,
                    deviceId, e.getMessage());
            return new Decision(new DeviceRegistrationState(registrationId, created, null, null,
                    RegistrationStatus.FAILED, null, ErrorCode.HUB_WRITE_FAILED.code(), "the device identity could "
                    + "not be written to hub '" + hub + "': " + e.getMessage(), now, etag, symmetricKey, x509, null),
                    null, false);
        }
        return new Decision(assigned(registrationId, created, hub, deviceId, substatus, now, etag, symmetricKey, x509,
                null), null, false);
    }

    /**
     * A device with a hub registers again: it stays (policy {@code never}, or no policy and a legacy api-version),
     * or allocation runs again (the policy's {@code updateHubAssignment}, or the operator's reprovision mark) and the
     * device stays, is reset in place, or moves with its data migrated or reset.
     */
    private Decision reprovision(RegistrationRequest request, DeviceAuthenticator.Matched match,
            DeviceRegistrationState previous, Instant created, Instant now, String etag,
            @Nullable GroupReference symmetricKey, @Nullable X509RegistrationResult x509) {
        String registrationId = request.registrationId();
        String oldHub = Objects.requireNonNull(previous.assignedHub());
        String oldDevice = Objects.requireNonNull(previous.deviceId());
        ReprovisionPolicy policy = reprovisionPolicy(match);
        boolean forced = registrations.reprovisionRequested(registrationId);
        boolean update = forced || (policy != null ? policy.updateHubAssignment()
                : !ApiVersions.sticky(request.apiVersion()));
        if (!update) {
            return new Decision(assigned(registrationId, created, oldHub, oldDevice, Substatus.INITIAL_ASSIGNMENT, now,
                    etag, symmetricKey, x509, previous.payload()), null, false);
        }
        boolean migrate = policy == null || !policy.updateHubAssignment() || policy.migrateDeviceData();
        Allocation allocation = policies.allocate(registrationId, match);
        if (allocation instanceof Allocation.Failed failed) {
            return new Decision(allocationFailed(registrationId, created, failed, now, etag, symmetricKey, x509), null,
                    forced);
        }
        String hub = ((Allocation.Assigned) allocation).hub();
        if (hub.equalsIgnoreCase(oldHub) && migrate) {
            return new Decision(assigned(registrationId, created, oldHub, oldDevice,
                    Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT, now, etag, symmetricKey, x509, previous.payload()),
                    null, forced);
        }
        HubMove move = hub.equalsIgnoreCase(oldHub)
                ? new HubMove(oldHub, oldDevice, oldHub, oldDevice, HubMove.Mode.RESET)
                : new HubMove(oldHub, oldDevice, hub, migrate ? oldDevice : deviceId(registrationId, match),
                        migrate ? HubMove.Mode.MIGRATE : HubMove.Mode.RESET);
        LOG.debug("reprovisioning [registration-id: {}, from: {}/{}, to: {}/{}, mode: {}, forced: {}]",
                registrationId, oldHub, oldDevice, move.toHub(), move.toDeviceId(), move.mode(), forced);
        return new Decision(assigned(registrationId, created, move.toHub(), move.toDeviceId(), move.substatus(), now,
                etag, symmetricKey, x509, previous.payload()), move, forced);
    }

    private static DeviceRegistrationState assigned(String registrationId, Instant created, String hub,
            String deviceId, Substatus substatus, Instant now, String etag, @Nullable GroupReference symmetricKey,
            @Nullable X509RegistrationResult x509, @Nullable JsonNode payload) {
        return new DeviceRegistrationState(registrationId, created, hub, deviceId, RegistrationStatus.ASSIGNED,
                substatus, null, null, now, etag, symmetricKey, x509, payload);
    }

    private static DeviceRegistrationState allocationFailed(String registrationId, Instant created,
            Allocation.Failed failed, Instant now, String etag, @Nullable GroupReference symmetricKey,
            @Nullable X509RegistrationResult x509) {
        LOG.debug("allocation failed [registration-id: {}, reason: {}]", registrationId, failed.message());
        return new DeviceRegistrationState(registrationId, created, null, null, RegistrationStatus.FAILED, null,
                failed.code().code(), failed.message(), now, etag, symmetricKey, x509, null);
    }

    /**
     * Whether the device identity already exists in {@code hub} (a hub without connector: no).
     *
     * @throws HubConnectorException when the hub cannot be read
     */
    private boolean existsInHub(String hub, String deviceId) {
        return connectors.forHub(hub).flatMap(c -> c.find(hub, deviceId)).isPresent();
    }

    private static @Nullable ReprovisionPolicy reprovisionPolicy(DeviceAuthenticator.Matched match) {
        if (match.individual() != null) {
            return match.individual().reprovisionPolicy();
        }
        return match.group() == null ? null : match.group().reprovisionPolicy();
    }

    /**
     * Carries out a hub move ({@link HubMove}), every step idempotent: migrate reads the old device's twin and
     * capabilities and writes them with the identity to the new hub (when the old device is already gone and the new
     * one exists, an earlier attempt got that far); reset writes the enrollment's initial twin; then the old device
     * is deleted when the device changed hub or id. Returns {@code assigned} with the move's substatus, or
     * {@code failed} ({@link ErrorCode#HUB_WRITE_FAILED}, no hub) with the move still pending.
     */
    private DeviceRegistrationState completeMove(DeviceRegistrationState intended, HubMove move,
            DeviceAuthenticator.Matched match, Instant now) {
        Substatus substatus = move.substatus();
        try {
            HubConnector source = connector(move.fromHub());
            HubConnector target = connector(move.toHub());
            DeviceIdentity identity = identity(move.toHub(), move.toDeviceId(), match);
            if (move.mode() == HubMove.Mode.MIGRATE) {
                Optional<DeviceData> data = source.readData(move.fromHub(), move.fromDeviceId());
                if (data.isPresent()) {
                    DeviceCapabilities old = source.find(move.fromHub(), move.fromDeviceId())
                            .map(DeviceIdentity::capabilities).orElse(identity.capabilities());
                    target.createOrReplace(new DeviceIdentity(identity.hub(), identity.deviceId(),
                            identity.authentication(), old, identity.status()), data.get());
                } else if (target.find(move.toHub(), move.toDeviceId()).isEmpty()) {
                    LOG.warn("reprovisioning found no device to migrate; created from the initial twin "
                            + "[registration-id: {}, from: {}/{}, to: {}/{}]", intended.registrationId(),
                            move.fromHub(), move.fromDeviceId(), move.toHub(), move.toDeviceId());
                    target.createOrUpdate(identity, initialTwin(match));
                    substatus = Substatus.DEVICE_DATA_RESET;
                }
            } else {
                target.createOrReplace(identity, DeviceData.initial(initialTwin(match)));
            }
            if (move.leavesOldDevice()) {
                source.delete(move.fromHub(), move.fromDeviceId());
            }
        } catch (HubConnectorException | ProvisioningException e) {
            String message = "the device could not be moved from hub '" + move.fromHub() + "' to hub '" + move.toHub()
                    + "' (the next registration retries): " + e.getMessage();
            LOG.warn("hub move failed [registration-id: {}, from: {}/{}, to: {}/{}]: {}", intended.registrationId(),
                    move.fromHub(), move.fromDeviceId(), move.toHub(), move.toDeviceId(), e.getMessage());
            return new DeviceRegistrationState(intended.registrationId(), intended.createdDateTimeUtc(), null, null,
                    RegistrationStatus.FAILED, null, ErrorCode.HUB_WRITE_FAILED.code(), message, now,
                    Etags.newRegistrationEtag(), intended.symmetricKey(), intended.x509(), null);
        }
        AUDIT.info("device reprovisioned [registration-id: {}, from: {}/{}, to: {}/{}, substatus: {}]",
                intended.registrationId(), move.fromHub(), move.fromDeviceId(), move.toHub(), move.toDeviceId(),
                substatus);
        return assigned(intended.registrationId(), Objects.requireNonNull(intended.createdDateTimeUtc()),
                move.toHub(), move.toDeviceId(), substatus, now, Etags.newRegistrationEtag(), intended.symmetricKey(),
                intended.x509(), intended.payload());
    }

    private HubConnector connector(String hub) {
        return connectors.forHub(hub).orElseThrow(() -> new HubConnectorException(
                "no hub connector is configured for hub '" + hub + "'"));
    }

    /**
     * Writes the device to its intended hub ({@code intended}: hub and device id chosen, status {@code assigning})
     * and returns the outcome: {@code assigned}, or {@code failed} with {@link ErrorCode#HUB_WRITE_FAILED}.
     */
    private DeviceRegistrationState completeAssignment(DeviceRegistrationState intended,
            DeviceAuthenticator.Matched match, Instant now) {
        String hub = Objects.requireNonNull(intended.assignedHub());
        String deviceId = Objects.requireNonNull(intended.deviceId());
        try {
            connector(hub).createOrUpdate(identity(hub, deviceId, match), initialTwin(match));
        } catch (HubConnectorException | ProvisioningException e) {
            String message = "the device identity could not be written to hub '" + hub + "': " + e.getMessage();
            LOG.warn("hub write failed [registration-id: {}, hub: {}, device-id: {}]: {}",
                    intended.registrationId(), hub, deviceId, e.getMessage());
            return new DeviceRegistrationState(intended.registrationId(), intended.createdDateTimeUtc(), null, null,
                    RegistrationStatus.FAILED, null, ErrorCode.HUB_WRITE_FAILED.code(), message, now,
                    Etags.newRegistrationEtag(), intended.symmetricKey(), intended.x509(), null);
        }
        return new DeviceRegistrationState(intended.registrationId(), intended.createdDateTimeUtc(), hub, deviceId,
                RegistrationStatus.ASSIGNED, intended.substatus() == null ? Substatus.INITIAL_ASSIGNMENT
                        : intended.substatus(), null, null, now,
                Etags.newRegistrationEtag(), intended.symmetricKey(), intended.x509(), intended.payload());
    }

    /**
     * The hub identity: the key the device proved (SAS), or the leaf's SHA-256 thumbprint (X.509; CA-signed for
     * group devices), and the enrollment's capabilities.
     */
    private static DeviceIdentity identity(String hub, String deviceId, DeviceAuthenticator.Matched match) {
        DeviceAuthentication authentication;
        if (match.clientCertificate() != null) {
            authentication = DeviceAuthentication.x509(CertificateCodec.sha256Thumbprint(match.clientCertificate()),
                    match.enrollment().kind() == EnrollmentRef.Kind.GROUP);
        } else if (match.deviceKey() != null) {
            authentication = DeviceAuthentication.sas(match.deviceKey());
        } else {
            throw new HubConnectorException("the device proved no key or certificate that the hub could use");
        }
        IndividualEnrollment individual = match.individual();
        EnrollmentGroup group = match.group();
        DeviceCapabilities capabilities = individual != null ? individual.capabilities()
                : group != null ? group.capabilities() : null;
        return new DeviceIdentity(hub, deviceId, authentication,
                capabilities == null ? DeviceCapabilities.NONE : capabilities, DeviceStatus.ENABLED);
    }

    /** The enrollment's initial twin (individual, or group). */
    private static InitialTwin initialTwin(DeviceAuthenticator.Matched match) {
        if (match.individual() != null) {
            return InitialTwin.fromEnrollment(match.individual().initialTwin());
        }
        if (match.group() != null) {
            return InitialTwin.fromEnrollment(match.group().initialTwin());
        }
        throw new HubConnectorException("the " + match.enrollment().kind().name().toLowerCase(java.util.Locale.ROOT)
                + " enrollment '" + match.enrollment().id() + "' was deleted before the assignment completed");
    }

    private static RegistrationOperation withResult(RegistrationOperation op, RegistrationOperationStatus result) {
        return new RegistrationOperation(op.operationId(), op.registrationId(), op.enrollment(), op.createdAt(),
                result, op.clientCertificateThumbprint());
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

    /**
     * Handles a registration status lookup ({@code dps-device-protocol.md} §6.1, HTTPS only): the device proves its
     * identity as for a register (the body's {@code registrationId} must match, SAS token or client certificate)
     * and gets its registration record as it stands, whatever its status; nothing is stored or changed. Errors:
     * 400 (body), 401 (credential or ID scope), 404 when the device has no registration record yet.
     */
    public RegistrationStatusReply registrationStatus(RegistrationRequest request) {
        Instant now = clock.instant();
        String trackingId = UUID.randomUUID().toString();
        DeviceRegistration body;
        try {
            body = parseBody(request.body());
        } catch (IOException e) {
            return RegistrationStatusReply.error(ErrorCode.INVALID_REQUEST_BODY, "the request body is not a valid "
                    + "registration: " + firstLine(e.getMessage()), trackingId, now);
        }
        if (body.registrationId() == null || body.registrationId().isBlank()) {
            return RegistrationStatusReply.error(ErrorCode.INVALID_REQUEST_BODY,
                    "the request body has no registrationId", trackingId, now);
        }
        if (!body.registrationId().equalsIgnoreCase(request.registrationId())) {
            return RegistrationStatusReply.error(ErrorCode.REGISTRATION_ID_MISMATCH, "the registrationId in the "
                    + "body ('" + body.registrationId() + "') differs from the one in the path ('"
                    + request.registrationId() + "')", trackingId, now);
        }
        DeviceAuthenticator.Result auth = servesScope(request.idScope())
                ? authenticator.authenticate(request.registrationId(), request.sasToken(),
                        request.clientCertificates(), now)
                : unknownScope(request.idScope());
        if (!(auth instanceof DeviceAuthenticator.Matched)) {
            DeviceAuthenticator.Rejected rejected = auth instanceof DeviceAuthenticator.Rejected r ? r
                    : new DeviceAuthenticator.Rejected(DeviceAuthenticator.Reason.NO_CREDENTIAL,
                            "Unauthorized: look up the registration with its SAS token or certificate");
            RegistrationReply refused = unauthorized(request.registrationId(), rejected, trackingId, now);
            return RegistrationStatusReply.error(Objects.requireNonNull(refused.error()), refused.status());
        }
        return registrations.find(request.registrationId())
                .map(RegistrationStatusReply::found)
                .orElseGet(() -> RegistrationStatusReply.error(ErrorCode.REGISTRATION_NOT_FOUND, "registration '"
                        + request.registrationId() + "' has no registration record; register first", trackingId,
                        now));
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
