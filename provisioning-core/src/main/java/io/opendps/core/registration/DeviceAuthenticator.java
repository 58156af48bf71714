package io.opendps.core.registration;

import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.AttestationType;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasFormatException;
import io.opendps.core.sas.SasOutcome;
import io.opendps.core.sas.SasToken;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.EnrollmentStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Matches a device's SAS token to an enrollment ({@code dps-device-protocol.md} §4.2): an individual
 * enrollment with this registration id decides alone (its primary or secondary key; even a disabled one, which
 * is how one device is revoked from a group); otherwise the first symmetric-key group, in id order, whose
 * derived key ({@code HMAC-SHA256(groupKey, registrationId)}) verifies. The group key itself never
 * authenticates a device.
 *
 * <p>Refusals for a wrong key and for an unknown registration id carry the same message, so a device cannot
 * probe which enrollments exist; the audit log records the precise reason. Thread-safe; synchronous.
 */
public final class DeviceAuthenticator {

    /** Why a device was refused. */
    public enum Reason { UNKNOWN_ID_SCOPE, NO_CREDENTIAL, MALFORMED_TOKEN, EXPIRED, WRONG_AUDIENCE,
        WRONG_ATTESTATION, NO_MATCH }

    /** The outcome of authentication. */
    public sealed interface Result permits Matched, Rejected {
    }

    /** The device proved a key of this enrollment (which may be disabled). */
    public record Matched(EnrollmentRef enrollment, boolean enabled, @Nullable IndividualEnrollment individual,
            @Nullable EnrollmentGroup group) implements Result {
    }

    /** The device is refused; {@code deviceMessage} is safe to send to it. */
    public record Rejected(Reason reason, String deviceMessage) implements Result {
    }

    private final String idScope;
    private final EnrollmentStore enrollments;
    private final SasVerifier verifier;

    public DeviceAuthenticator(String idScope, EnrollmentStore enrollments, SasVerifier verifier) {
        this.idScope = Objects.requireNonNull(idScope, "idScope");
        this.enrollments = Objects.requireNonNull(enrollments, "enrollments");
        this.verifier = Objects.requireNonNull(verifier, "verifier");
    }

    /** Finds the enrollment whose key signed {@code sas} for {@code registrationId}. */
    public Result authenticate(String registrationId, @Nullable String sas, Instant now) {
        Object parsed = parse(registrationId, sas, now);
        if (parsed instanceof Rejected rejected) {
            return rejected;
        }
        SasToken token = (SasToken) parsed;
        String audience = audience(registrationId);
        IndividualEnrollment individual = enrollments.findEnrollment(registrationId).orElse(null);
        if (individual != null) {
            return matchIndividual(individual, token, audience, registrationId);
        }
        for (EnrollmentGroup group : enrollments.groups()) {
            List<byte[]> keys = groupKeys(group.attestation(), registrationId);
            if (!keys.isEmpty() && verifier.verifyDevice(token, audience, keys) == SasOutcome.VALID) {
                return new Matched(EnrollmentRef.group(Objects.requireNonNull(group.enrollmentGroupId())),
                        group.enabled(), null, group);
            }
        }
        return noMatch(registrationId);
    }

    /** Re-checks a device's token against the enrollment that authenticated its register (polls). */
    public Result authenticateFor(EnrollmentRef ref, String registrationId, @Nullable String sas, Instant now) {
        Object parsed = parse(registrationId, sas, now);
        if (parsed instanceof Rejected rejected) {
            return rejected;
        }
        SasToken token = (SasToken) parsed;
        String audience = audience(registrationId);
        if (ref.kind() == EnrollmentRef.Kind.INDIVIDUAL) {
            return enrollments.findEnrollment(ref.id())
                    .map(e -> matchIndividual(e, token, audience, registrationId))
                    .orElseGet(() -> noMatch(registrationId));
        }
        EnrollmentGroup group = enrollments.findGroup(ref.id()).orElse(null);
        if (group != null && verifier.verifyDevice(token, audience, groupKeys(group.attestation(), registrationId))
                == SasOutcome.VALID) {
            return new Matched(ref, group.enabled(), null, group);
        }
        return noMatch(registrationId);
    }

    private Object parse(String registrationId, @Nullable String sas, Instant now) {
        if (sas == null || sas.isEmpty()) {
            return new Rejected(Reason.NO_CREDENTIAL, "Unauthorized: no SAS token was sent; a symmetric-key device "
                    + "sends 'SharedAccessSignature sr=...&sig=...&se=...' as its MQTT password or Authorization "
                    + "header");
        }
        SasToken token;
        try {
            token = SasToken.parse(sas);
        } catch (SasFormatException e) {
            return new Rejected(Reason.MALFORMED_TOKEN, "Unauthorized: malformed SAS token: " + e.getMessage());
        }
        SasOutcome outcome = verifier.verifyDevice(token, audience(registrationId), List.of());
        if (outcome == SasOutcome.EXPIRED) {
            return new Rejected(Reason.EXPIRED, "Unauthorized: the SAS token expired at "
                    + Instant.ofEpochSecond(token.expiryEpochSeconds()) + " (server time " + now + ")");
        }
        if (outcome == SasOutcome.WRONG_AUDIENCE) {
            return new Rejected(Reason.WRONG_AUDIENCE, "Unauthorized: the SAS token's sr '" + token.decodedResource()
                    + "' does not name " + audience(registrationId));
        }
        return token;
    }

    private Result matchIndividual(IndividualEnrollment e, SasToken token, String audience, String registrationId) {
        AttestationMechanism attestation = e.attestation();
        if (attestation == null || attestation.type() != AttestationType.SYMMETRIC_KEY
                || attestation.symmetricKey() == null) {
            return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: the enrollment of '" + registrationId
                    + "' does not use symmetric-key attestation");
        }
        List<byte[]> keys = decode(attestation.symmetricKey().primaryKey(), attestation.symmetricKey().secondaryKey());
        if (verifier.verifyDevice(token, audience, keys) != SasOutcome.VALID) {
            return noMatch(registrationId);
        }
        return new Matched(EnrollmentRef.individual(Objects.requireNonNull(e.registrationId())), e.enabled(), e,
                null);
    }

    private static List<byte[]> groupKeys(@Nullable AttestationMechanism attestation, String registrationId) {
        if (attestation == null || attestation.type() != AttestationType.SYMMETRIC_KEY
                || attestation.symmetricKey() == null) {
            return List.of();
        }
        List<byte[]> keys = new ArrayList<>(2);
        for (byte[] groupKey : decode(attestation.symmetricKey().primaryKey(),
                attestation.symmetricKey().secondaryKey())) {
            keys.add(DerivedKeys.derive(groupKey, registrationId));
        }
        return keys;
    }

    private static List<byte[]> decode(@Nullable String primary, @Nullable String secondary) {
        List<byte[]> keys = new ArrayList<>(2);
        for (String k : new String[] {primary, secondary}) {
            if (k != null && !k.isEmpty()) {
                keys.add(Base64.getDecoder().decode(k));
            }
        }
        return keys;
    }

    private String audience(String registrationId) {
        return idScope + "/registrations/" + registrationId;
    }

    private static Rejected noMatch(String registrationId) {
        return new Rejected(Reason.NO_MATCH, "Unauthorized: no enrollment for registration id '" + registrationId
                + "' accepts this SAS token");
    }
}
