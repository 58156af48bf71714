package io.opendps.core.enrollment;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.EditableEnrollmentStore;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.store.StaleVersionException;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509Certificates;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enrollment administration with the cloud service's semantics: PUT creates or fully replaces (server-owned
 * fields ignored on input), {@code If-Match} decides between create (absent → 409 if the id exists), replace
 * ({@code *} or the current etag) and 412; keys are generated when omitted and returned only by writes and
 * {@link #enrollmentAttestation}; GET and listings never show keys.
 *
 * <p>Thread-safe. Synchronous: calls the stores directly, so run it on a worker pool, not an event loop.
 * Failures are {@link ProvisioningException}s carrying the status and error code.
 */
public final class EnrollmentService {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    /** The largest page a query returns, whatever {@code x-ms-max-item-count} asks for. */
    public static final int MAX_PAGE = Page.MAX_PAGE;

    private final EditableEnrollmentStore store;
    private final RegistrationStore registrations;
    private final EnrollmentRules rules;
    private final Clock clock;

    /**
     * A service over the given stores.
     *
     * @param cas the CA certificates that X.509 groups may reference ({@code caReferences} are checked at PUT)
     */
    public EnrollmentService(EditableEnrollmentStore store, RegistrationStore registrations, Allocator allocator,
            CaCertificateService cas, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.rules = new EnrollmentRules(Objects.requireNonNull(allocator, "allocator"),
                Objects.requireNonNull(cas, "cas"));
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Creates or replaces an individual enrollment; returns it with its keys. */
    public IndividualEnrollment putEnrollment(String registrationId, IndividualEnrollment body,
            @Nullable String ifMatch) {
        String id = EnrollmentRules.bodyId("registrationId", registrationId, body.registrationId());
        rules.individual(body);
        Optional<IndividualEnrollment> existing = store.findEnrollment(id);
        checkPrecondition(existing.map(IndividualEnrollment::etag), ifMatch, "enrollment", id,
                ErrorCode.ENROLLMENT_EXISTS, ErrorCode.ENROLLMENT_PRECONDITION_FAILED);
        Instant now = clock.instant();
        String storedId = existing.map(IndividualEnrollment::registrationId).orElse(id);
        IndividualEnrollment toStore = body
                .withAttestation(rules.resolveIndividual(id, Objects.requireNonNull(body.attestation()),
                        existing.map(IndividualEnrollment::attestation).orElse(null)))
                .withServerFields(storedId, Etags.newEnrollmentEtag(),
                        existing.map(IndividualEnrollment::createdDateTimeUtc).orElse(now), now);
        try {
            if (existing.isPresent()) {
                store.replaceEnrollment(toStore, Objects.requireNonNull(existing.get().etag()));
            } else {
                store.insertEnrollment(toStore);
            }
        } catch (DuplicateKeyException | StaleVersionException e) {
            throw new ProvisioningException(ErrorCode.ENROLLMENT_PRECONDITION_FAILED,
                    "enrollment '%s' was changed concurrently; read it again and retry", id);
        }
        AUDIT.info("enrollment {} [registration-id: {}, attestation: {}]", existing.isPresent() ? "replaced"
                : "created", id, describe(toStore.attestation()));
        return toStore.withAttestation(Objects.requireNonNull(toStore.attestation()).withoutCertificates());
    }

    /**
     * Creates several individual enrollments (bulk mode {@code create}): each is checked and completed exactly as
     * {@link #putEnrollment} with no If-Match would, then all valid ones are inserted in one store transaction
     * (one round trip per call instead of two per item). Returns the failure of each item that was not created,
     * by id in input order: its validation error, or {@link ErrorCode#ENROLLMENT_EXISTS} with the single call's
     * message. A store failure propagates and creates none.
     */
    public Map<String, ProvisioningException> createEnrollments(List<IndividualEnrollment> bodies) {
        Map<String, ProvisioningException> failures = new LinkedHashMap<>();
        List<IndividualEnrollment> toStore = new ArrayList<>(bodies.size());
        Instant now = clock.instant();
        for (IndividualEnrollment body : bodies) {
            String id = Objects.requireNonNull(body.registrationId(), "registrationId");
            try {
                EnrollmentRules.bodyId("registrationId", id, id);
                rules.individual(body);
                toStore.add(body.withAttestation(rules.resolveIndividual(id, Objects.requireNonNull(
                        body.attestation()), null)).withServerFields(id, Etags.newEnrollmentEtag(), now, now));
            } catch (ProvisioningException e) {
                failures.put(id, e);
            }
        }
        Set<String> existing = toStore.isEmpty() ? Set.of() : store.insertEnrollments(toStore);
        for (IndividualEnrollment created : toStore) {
            String id = Objects.requireNonNull(created.registrationId());
            if (existing.contains(id)) {
                failures.put(id, new ProvisioningException(ErrorCode.ENROLLMENT_EXISTS, "enrollment '%s' already "
                        + "exists; send If-Match with its etag (or *) to replace it", id));
            } else {
                AUDIT.info("enrollment created [registration-id: {}, attestation: {}]", id,
                        describe(created.attestation()));
            }
        }
        Map<String, ProvisioningException> ordered = new LinkedHashMap<>();
        for (IndividualEnrollment body : bodies) {
            ProvisioningException failure = failures.get(body.registrationId());
            if (failure != null) {
                ordered.put(body.registrationId(), failure);
            }
        }
        return ordered;
    }

    /** The enrollment without keys, with the device's registration record when it has one. */
    public Optional<IndividualEnrollment> getEnrollment(String registrationId) {
        return store.findEnrollment(registrationId).map(e -> e.redacted()
                .withRegistrationState(registrations.find(registrationId).map(DeviceRegistrationState::serviceView)
                .orElse(null)));
    }

    /** The enrollment's attestation with its keys (X.509 certificates as info only). */
    public AttestationMechanism enrollmentAttestation(String registrationId) {
        return store.findEnrollment(registrationId).map(IndividualEnrollment::attestation)
                .map(AttestationMechanism::withoutCertificates)
                .orElseThrow(() -> enrollmentNotFound(registrationId));
    }

    /** Deletes the enrollment and its registration record; 404 when absent, 412 on an etag mismatch. */
    public void deleteEnrollment(String registrationId, @Nullable String ifMatch) {
        try {
            if (!store.deleteEnrollment(registrationId, expectedEtag(ifMatch, store.findEnrollment(registrationId)
                    .map(IndividualEnrollment::etag)))) {
                throw enrollmentNotFound(registrationId);
            }
        } catch (StaleVersionException e) {
            throw new ProvisioningException(ErrorCode.ENROLLMENT_PRECONDITION_FAILED,
                    "If-Match does not match the current etag of enrollment '%s'", registrationId);
        }
        AUDIT.info("enrollment deleted [registration-id: {}]", registrationId);
    }

    /**
     * A page of enrollments, ordered by id, each shaped as {@link #getEnrollment} returns it: no keys, with the
     * device's registration record when it has one.
     */
    public Page<IndividualEnrollment> listEnrollments(int pageSize, @Nullable String continuation) {
        int size = Page.pageSize(pageSize);
        return Page.of(store.listEnrollments(Page.afterKey(continuation), size + 1), size,
                e -> Objects.requireNonNull(e.registrationId()), e -> e.redacted().withRegistrationState(
                        registrations.find(Objects.requireNonNull(e.registrationId()))
                                .map(DeviceRegistrationState::serviceView).orElse(null)));
    }

    /** Creates or replaces an enrollment group; returns it with its keys. */
    public EnrollmentGroup putGroup(String groupId, EnrollmentGroup body, @Nullable String ifMatch) {
        String id = EnrollmentRules.bodyId("enrollmentGroupId", groupId, body.enrollmentGroupId());
        rules.group(body);
        Optional<EnrollmentGroup> existing = store.findGroup(id);
        checkPrecondition(existing.map(EnrollmentGroup::etag), ifMatch, "enrollment group", id,
                ErrorCode.ENROLLMENT_GROUP_EXISTS, ErrorCode.ENROLLMENT_GROUP_PRECONDITION_FAILED);
        Instant now = clock.instant();
        String storedId = existing.map(EnrollmentGroup::enrollmentGroupId).orElse(id);
        EnrollmentGroup toStore = body
                .withAttestation(rules.resolveGroup(Objects.requireNonNull(body.attestation()),
                        existing.map(EnrollmentGroup::attestation).orElse(null)))
                .withServerFields(storedId, Etags.newEnrollmentEtag(),
                        existing.map(EnrollmentGroup::createdDateTimeUtc).orElse(now), now);
        try {
            if (existing.isPresent()) {
                store.replaceGroup(toStore, Objects.requireNonNull(existing.get().etag()));
            } else {
                store.insertGroup(toStore);
            }
        } catch (DuplicateKeyException | StaleVersionException e) {
            throw new ProvisioningException(ErrorCode.ENROLLMENT_GROUP_PRECONDITION_FAILED,
                    "enrollment group '%s' was changed concurrently; read it again and retry", id);
        }
        AUDIT.info("enrollment group {} [group-id: {}, attestation: {}]", existing.isPresent() ? "replaced"
                : "created", id, describe(toStore.attestation()));
        return toStore.withAttestation(Objects.requireNonNull(toStore.attestation()).withoutCertificates());
    }

    /** The group without keys. */
    public Optional<EnrollmentGroup> getGroup(String groupId) {
        return store.findGroup(groupId).map(EnrollmentGroup::redacted);
    }

    /** The group's attestation with its keys (X.509 certificates as info only). */
    public AttestationMechanism groupAttestation(String groupId) {
        return store.findGroup(groupId).map(EnrollmentGroup::attestation)
                .map(AttestationMechanism::withoutCertificates)
                .orElseThrow(() -> groupNotFound(groupId));
    }

    /** Deletes the group (its members' registration records stay); 404 when absent, 412 on a mismatch. */
    public void deleteGroup(String groupId, @Nullable String ifMatch) {
        try {
            if (!store.deleteGroup(groupId, expectedEtag(ifMatch, store.findGroup(groupId)
                    .map(EnrollmentGroup::etag)))) {
                throw groupNotFound(groupId);
            }
        } catch (StaleVersionException e) {
            throw new ProvisioningException(ErrorCode.ENROLLMENT_GROUP_PRECONDITION_FAILED,
                    "If-Match does not match the current etag of enrollment group '%s'", groupId);
        }
        AUDIT.info("enrollment group deleted [group-id: {}]", groupId);
    }

    /** A page of groups (no keys), ordered by id. */
    public Page<EnrollmentGroup> listGroups(int pageSize, @Nullable String continuation) {
        int size = Page.pageSize(pageSize);
        return Page.of(store.listGroups(Page.afterKey(continuation), size + 1), size,
                g -> Objects.requireNonNull(g.enrollmentGroupId()), EnrollmentGroup::redacted);
    }

    /**
     * The audit text of an attestation: its type, thumbprints or CA names for X.509, the SHA-256 of the endorsement
     * key for TPM (public, but long).
     */
    private static String describe(@Nullable AttestationMechanism attestation) {
        if (attestation != null && attestation.tpm() != null && attestation.tpm().endorsementKey() != null) {
            return "tpm endorsementKey-sha256 " + sha256Hex(attestation.tpm().endorsementKey());
        }
        if (attestation == null || attestation.x509() == null) {
            return attestation == null || attestation.type() != AttestationType.SYMMETRIC_KEY ? "none"
                    : "symmetricKey";
        }
        X509Attestation x509 = attestation.x509();
        if (x509.caReferences() != null) {
            return "x509 caReferences " + x509.caReferences().present();
        }
        X509Certificates certs = x509.clientCertificates() != null ? x509.clientCertificates()
                : Objects.requireNonNull(x509.signingCertificates());
        return "x509 " + (x509.clientCertificates() != null ? "clientCertificates " : "signingCertificates ")
                + certs.present().stream().map(c -> c.info() == null ? "?" : c.info().sha256Thumbprint()).toList();
    }

    private static String sha256Hex(String base64) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                    Base64.getDecoder().decode(base64)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void checkPrecondition(Optional<String> storedEtag, @Nullable String ifMatch,
            String what, String id, ErrorCode exists, ErrorCode failed) {
        if (ifMatch == null) {
            if (storedEtag.isPresent()) {
                throw new ProvisioningException(exists, "%s '%s' already exists; send If-Match with its etag "
                        + "(or *) to replace it", what, id);
            }
            return;
        }
        if (Etags.isWildcard(ifMatch)) {
            return;
        }
        String stored = storedEtag.orElse(null);
        if (stored == null) {
            throw new ProvisioningException(failed, "%s '%s' does not exist, so If-Match %s cannot match",
                    what, id, ifMatch);
        }
        if (!Etags.matches(ifMatch, stored)) {
            throw new ProvisioningException(failed, "If-Match %s does not match the current etag %s of %s '%s'",
                    ifMatch, stored, what, id);
        }
    }

    private static @Nullable String expectedEtag(@Nullable String ifMatch, Optional<String> stored) {
        if (ifMatch == null || Etags.isWildcard(ifMatch)) {
            return null;
        }
        // Compare leniently (quotes optional) here; the store then compares exactly against what it holds.
        return stored.filter(s -> Etags.matches(ifMatch, s)).orElse(ifMatch);
    }

    private static ProvisioningException enrollmentNotFound(String id) {
        return new ProvisioningException(ErrorCode.ENROLLMENT_NOT_FOUND, "enrollment '%s' not found", id);
    }

    private static ProvisioningException groupNotFound(String id) {
        return new ProvisioningException(ErrorCode.ENROLLMENT_GROUP_NOT_FOUND, "enrollment group '%s' not found", id);
    }
}
