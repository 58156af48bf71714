package io.opendps.core.registration;

import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.AttestationType;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.TpmAttestation;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasFormatException;
import io.opendps.core.sas.SasOutcome;
import io.opendps.core.sas.SasToken;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.EnrollmentStore;
import io.opendps.core.tpm.IssuedTpmKey;
import io.opendps.core.tpm.TpmAttestor;
import io.opendps.core.tpm.TpmChallenge;
import io.opendps.core.tpm.TpmFormatException;
import io.opendps.core.tpm.TpmPublic;
import io.opendps.core.tpm.TpmRegistrationResult;
import io.opendps.core.x509.CertificateCache;
import io.opendps.core.x509.CertificateCodec;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509ChainValidator;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Matches a device's credential to an enrollment.
 *
 * <p>Which credential: a SAS token and no client certificate → symmetric key; a client certificate chain and no
 * SAS token → X.509; <em>both</em> → refused (401): the identity must never depend on which of two credentials
 * the server happened to check first, and no Azure SDK sends both.
 *
 * <p>SAS ({@code dps-device-protocol.md} §4.2): an individual enrollment with this registration id decides alone
 * (its primary or secondary key; even a disabled one, which is how one device is revoked from a group; an
 * X.509 individual enrollment refuses SAS tokens); otherwise the first symmetric-key group, in id order, whose
 * derived key ({@code HMAC-SHA256(groupKey, registrationId)}) verifies. The group key itself never
 * authenticates a device.
 *
 * <p>X.509 (§5): the leaf's subject CN must equal the registration id (case-insensitive) and the leaf must be
 * within its validity. Then an individual enrollment with this registration id whose primary or secondary
 * client certificate is the leaf (SHA-256 thumbprint) decides, enabled or disabled (a disabled one revokes the
 * device even from a group that would accept it); a symmetric-key individual enrollment refuses certificates;
 * an X.509 one holding other certificates does not decide, as in Azure. Otherwise every X.509 group whose
 * anchor (a signing certificate, or a referenced CA certificate that is verified) validates the chain is a
 * candidate ({@link X509ChainValidator}) and the most specific wins: the anchor closest to the leaf, then group
 * id order. The winner decides, disabled included.
 *
 * <p>TPM ({@code dps-device-protocol.md} §7): an individual enrollment with TPM attestation decides alone like any
 * other; groups cannot use TPM. A register without SAS token and certificate whose body carries {@code tpm} with the
 * enrollment's endorsement key (same bytes) and a storage root key is answered with a challenge ({@link Challenged}:
 * a fresh HMAC key issued by the {@link TpmAttestor} in an activation blob for that EK and SRK). A SAS token then
 * authenticates the device only if it was signed with the key last issued to this registration id for the
 * enrollment's current EK ({@link Reason#TPM_NOT_PROVEN} otherwise, with the generic wrong-key message); the match
 * carries the final {@code authenticationKey} (the same key wrapped again) and the key as the device's hub key.
 * Another TPM's EK gets the generic refusal (it cannot learn whether the enrollment exists); certificates are
 * refused.
 *
 * <p>Refusals for a wrong key, an unknown registration id or a chain no group accepts carry generic device
 * messages, so a device cannot probe which enrollments exist; {@link Rejected#detail()} has the precise reason
 * for the audit log. Problems local to the device's own certificate (CN, dates) are told to the device.
 * Thread-safe; synchronous (certificate-path validation included: call it from a worker pool).
 */
public final class DeviceAuthenticator {

    private static final Base64.Encoder BASE64 = Base64.getEncoder();

    /** Why a device was refused. */
    public enum Reason { UNKNOWN_ID_SCOPE, NO_CREDENTIAL, BOTH_CREDENTIALS, MALFORMED_TOKEN, EXPIRED,
        WRONG_AUDIENCE, WRONG_ATTESTATION, CERTIFICATE_CN_MISMATCH, CERTIFICATE_NOT_VALID, CERTIFICATE_CHANGED,
        NO_MATCH, TPM_NOT_PROVEN }

    /** The outcome of authentication. */
    public sealed interface Result permits Matched, Rejected, Challenged {
    }

    /** A TPM device asked for a challenge and gets one (a 401 with this body): only its TPM can answer it. */
    public record Challenged(EnrollmentRef enrollment, TpmChallenge challenge) implements Result {
    }

    /**
     * The device proved a key or certificate of this enrollment (which may be disabled).
     *
     * @param clientCertificate the leaf of an X.509 device, null for SAS
     * @param signingCertificate the group anchor that accepted an X.509 device's chain, null otherwise (also on
     *     polls, which do not validate the chain again)
     * @param deviceKey for SAS, the key (base64) that verified the token: the individual enrollment's primary or
     *     secondary key, or the group-derived key, or the key issued to a TPM; the device's hub key. Null for X.509
     * @param tpm for a TPM device, its {@code registrationState.tpm} (the final authenticationKey); null otherwise
     */
    public record Matched(EnrollmentRef enrollment, boolean enabled, @Nullable IndividualEnrollment individual,
            @Nullable EnrollmentGroup group, @Nullable X509Certificate clientCertificate,
            @Nullable X509Certificate signingCertificate, @Nullable String deviceKey,
            @Nullable TpmRegistrationResult tpm) implements Result {

        /** A match without TPM result. */
        public Matched(EnrollmentRef enrollment, boolean enabled, @Nullable IndividualEnrollment individual,
                @Nullable EnrollmentGroup group, @Nullable X509Certificate clientCertificate,
                @Nullable X509Certificate signingCertificate, @Nullable String deviceKey) {
            this(enrollment, enabled, individual, group, clientCertificate, signingCertificate, deviceKey, null);
        }

        /** An X.509 match. */
        public Matched(EnrollmentRef enrollment, boolean enabled, @Nullable IndividualEnrollment individual,
                @Nullable EnrollmentGroup group, @Nullable X509Certificate clientCertificate,
                @Nullable X509Certificate signingCertificate) {
            this(enrollment, enabled, individual, group, clientCertificate, signingCertificate, null);
        }

        /** A SAS match proved with {@code deviceKey}. */
        public Matched(EnrollmentRef enrollment, boolean enabled, @Nullable IndividualEnrollment individual,
                @Nullable EnrollmentGroup group, String deviceKey) {
            this(enrollment, enabled, individual, group, null, null, deviceKey);
        }
    }

    /**
     * The device is refused; {@code deviceMessage} is safe to send to it, {@code detail} is the precise reason
     * for the audit log (no secrets, certificates by subject and thumbprint).
     */
    public record Rejected(Reason reason, String deviceMessage, String detail) implements Result {

        /** A refusal whose device message says everything. */
        public Rejected(Reason reason, String deviceMessage) {
            this(reason, deviceMessage, deviceMessage);
        }
    }

    private final String idScope;
    private final EnrollmentStore enrollments;
    private final SasVerifier verifier;
    private final CaCertificateService cas;
    private final X509ChainValidator validator;
    private final @Nullable TpmAttestor tpm;
    private final CertificateCache certificates = new CertificateCache();

    /** An authenticator that refuses TPM devices (no key store to issue challenges from). */
    public DeviceAuthenticator(String idScope, EnrollmentStore enrollments, SasVerifier verifier,
            CaCertificateService cas, X509ChainValidator validator) {
        this(idScope, enrollments, verifier, cas, validator, null);
    }

    /** @param tpm issues and finds TPM keys; null refuses TPM devices */
    public DeviceAuthenticator(String idScope, EnrollmentStore enrollments, SasVerifier verifier,
            CaCertificateService cas, X509ChainValidator validator, @Nullable TpmAttestor tpm) {
        this.tpm = tpm;
        this.idScope = Objects.requireNonNull(idScope, "idScope");
        this.enrollments = Objects.requireNonNull(enrollments, "enrollments");
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.cas = Objects.requireNonNull(cas, "cas");
        this.validator = Objects.requireNonNull(validator, "validator");
    }

    /**
     * Finds the enrollment that accepts the device's credential: the SAS token or the client certificate chain
     * (leaf first), never both.
     */
    public Result authenticate(String registrationId, @Nullable String sas, List<X509Certificate> chain,
            Instant now) {
        return authenticate(registrationId, sas, chain, null, now);
    }

    /**
     * As {@link #authenticate(String, String, List, Instant)}; a request with neither SAS token nor certificate
     * but with {@code tpmBody} (the register body's {@code tpm}) asks for a TPM challenge.
     */
    public Result authenticate(String registrationId, @Nullable String sas, List<X509Certificate> chain,
            @Nullable TpmAttestation tpmBody, Instant now) {
        if (chain.isEmpty() && (sas == null || sas.isEmpty()) && tpmBody != null) {
            return challenge(registrationId, tpmBody);
        }
        if (!chain.isEmpty()) {
            if (sas != null && !sas.isEmpty()) {
                return bothCredentials();
            }
            return authenticateX509(registrationId, chain);
        }
        return authenticate(registrationId, sas, now);
    }

    /**
     * Re-checks a poll. X.509 operations ({@code thumbprint} non-null) need the same leaf, by SHA-256 thumbprint,
     * and no SAS token; the chain is not validated again, the enrollment is only read (one lookup) so that the
     * registrar can finish an assignment left {@code assigning} (initial twin, capabilities); a deleted enrollment
     * gives a match without one. SAS operations re-verify the token against the enrollment that authenticated the
     * register, as {@link #authenticateFor} does.
     */
    public Result authenticatePoll(EnrollmentRef ref, @Nullable String thumbprint, String registrationId,
            @Nullable String sas, List<X509Certificate> chain, Instant now) {
        boolean hasSas = sas != null && !sas.isEmpty();
        if (!chain.isEmpty() && hasSas) {
            return bothCredentials();
        }
        if (thumbprint == null) {
            if (!chain.isEmpty()) {
                return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: this registration was started with a "
                        + "SAS token; poll with a SAS token, not a client certificate");
            }
            return authenticateFor(ref, registrationId, sas, now);
        }
        if (chain.isEmpty()) {
            return new Rejected(Reason.NO_CREDENTIAL, "Unauthorized: this registration was started with a client "
                    + "certificate; poll over a connection that presents the same certificate");
        }
        String presented = CertificateCodec.sha256Thumbprint(chain.get(0));
        if (!presented.equalsIgnoreCase(thumbprint)) {
            return new Rejected(Reason.CERTIFICATE_CHANGED, "Unauthorized: the client certificate differs from the "
                    + "one this registration was started with", "poll with another certificate [registered: "
                    + thumbprint + ", presented: " + presented + "]");
        }
        if (ref.kind() == EnrollmentRef.Kind.INDIVIDUAL) {
            IndividualEnrollment individual = enrollments.findEnrollment(ref.id()).orElse(null);
            return new Matched(ref, individual == null || individual.enabled(), individual, null, chain.get(0), null);
        }
        EnrollmentGroup group = enrollments.findGroup(ref.id()).orElse(null);
        return new Matched(ref, group == null || group.enabled(), null, group, chain.get(0), null);
    }

    /** Finds the enrollment whose key signed {@code sas} for {@code registrationId} (SAS devices). */
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
            byte[] key = provenKey(token, audience, groupKeys(group.attestation(), registrationId));
            if (key != null) {
                return new Matched(EnrollmentRef.group(Objects.requireNonNull(group.enrollmentGroupId())),
                        group.enabled(), null, group, BASE64.encodeToString(key));
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
        byte[] key = group == null ? null
                : provenKey(token, audience, groupKeys(group.attestation(), registrationId));
        if (group != null && key != null) {
            return new Matched(ref, group.enabled(), null, group, BASE64.encodeToString(key));
        }
        return noMatch(registrationId);
    }

    private Result authenticateX509(String registrationId, List<X509Certificate> chain) {
        X509Certificate leaf = chain.get(0);
        String cn = CertificateCodec.commonName(leaf);
        if (cn == null || !cn.equalsIgnoreCase(registrationId)) {
            return new Rejected(Reason.CERTIFICATE_CN_MISMATCH, "Unauthorized: the client certificate's subject CN "
                    + (cn == null ? "is missing" : "is '" + cn + "'") + " but the registration id is '" + registrationId
                    + "'; an X.509 device registers with its certificate's CN as registration id");
        }
        X509ChainValidator.Invalid dates = validator.checkValidity(leaf);
        if (dates != null) {
            return new Rejected(Reason.CERTIFICATE_NOT_VALID, "Unauthorized: " + dates.reason());
        }
        String thumbprint = CertificateCodec.sha256Thumbprint(leaf);
        List<String> notes = new ArrayList<>();
        IndividualEnrollment individual = enrollments.findEnrollment(registrationId).orElse(null);
        if (individual != null) {
            AttestationMechanism attestation = individual.attestation();
            if (attestation != null && attestation.type() == AttestationType.TPM) {
                return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: no enrollment for registration id '"
                        + registrationId + "' accepts this certificate chain", "individual enrollment '"
                        + registrationId + "' uses TPM attestation, which a client certificate [sha256: " + thumbprint
                        + "] cannot satisfy");
            }
            if (attestation == null || attestation.type() != AttestationType.X509 || attestation.x509() == null) {
                return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: the enrollment of '" + registrationId
                        + "' uses symmetric-key attestation; sign a SAS token with its key instead of presenting a "
                        + "client certificate");
            }
            if (holds(attestation.x509(), thumbprint)) {
                return new Matched(EnrollmentRef.individual(Objects.requireNonNull(individual.registrationId())),
                        individual.enabled(), individual, null, leaf, null);
            }
            notes.add("individual enrollment '" + individual.registrationId() + "' holds other certificates");
        }
        return matchGroup(registrationId, chain, thumbprint, notes);
    }

    private Result matchGroup(String registrationId, List<X509Certificate> chain, String thumbprint,
            List<String> notes) {
        EnrollmentGroup best = null;
        X509ChainValidator.Valid bestPath = null;
        for (EnrollmentGroup group : enrollments.groups()) {
            AttestationMechanism attestation = group.attestation();
            if (attestation == null || attestation.type() != AttestationType.X509 || attestation.x509() == null) {
                continue;
            }
            List<X509Certificate> anchors = anchors(group, attestation.x509(), notes);
            if (anchors.isEmpty()) {
                continue;
            }
            X509ChainValidator.Result result = validator.validate(chain, anchors, anchors);
            if (result instanceof X509ChainValidator.Valid valid) {
                if (bestPath == null || valid.distance() < bestPath.distance()) {
                    best = group;
                    bestPath = valid;
                }
            } else if (result instanceof X509ChainValidator.Invalid invalid) {
                notes.add("group '" + group.enrollmentGroupId() + "': " + invalid.reason());
            }
        }
        if (best != null) {
            return new Matched(EnrollmentRef.group(Objects.requireNonNull(best.enrollmentGroupId())), best.enabled(),
                    null, best, chain.get(0), bestPath.anchor());
        }
        return new Rejected(Reason.NO_MATCH, "Unauthorized: no enrollment accepts this certificate chain for "
                + "registration id '" + registrationId + "'", "no enrollment accepts the chain of '"
                + CertificateCodec.subjectName(chain.get(0)) + "' [sha256: " + thumbprint + ", chain length: "
                + chain.size() + "]" + (notes.isEmpty() ? "; no X.509 enrollment group exists" : "; " + String.join(
                "; ", notes)));
    }

    /** The group's trusted anchors: its signing certificates, or its referenced CA certificates if verified. */
    private List<X509Certificate> anchors(EnrollmentGroup group, X509Attestation x509, List<String> notes) {
        List<X509Certificate> anchors = new ArrayList<>(2);
        if (x509.signingCertificates() != null) {
            for (X509CertificateWithInfo slot : x509.signingCertificates().present()) {
                try {
                    anchors.add(certificates.parse(slot.certificate() == null ? "" : slot.certificate()));
                } catch (IllegalArgumentException e) {
                    notes.add("group '" + group.enrollmentGroupId() + "': stored signing certificate unreadable");
                }
            }
        }
        if (x509.caReferences() != null) {
            for (String name : x509.caReferences().present()) {
                Optional<X509Certificate> ca = cas.trustedCertificate(name);
                if (ca.isPresent()) {
                    anchors.add(ca.get());
                } else {
                    notes.add("group '" + group.enrollmentGroupId() + "': CA certificate '" + name
                            + "' is not registered or not verified");
                }
            }
        }
        return anchors;
    }

    private static boolean holds(X509Attestation x509, String thumbprint) {
        if (x509.clientCertificates() == null) {
            return false;
        }
        for (X509CertificateWithInfo slot : x509.clientCertificates().present()) {
            if (slot.info() != null && thumbprint.equalsIgnoreCase(slot.info().sha256Thumbprint())) {
                return true;
            }
        }
        return false;
    }

    private static Rejected bothCredentials() {
        return new Rejected(Reason.BOTH_CREDENTIALS, "Unauthorized: present either a client certificate or a SAS "
                + "token, not both");
    }

    private Object parse(String registrationId, @Nullable String sas, Instant now) {
        if (sas == null || sas.isEmpty()) {
            return new Rejected(Reason.NO_CREDENTIAL, "Unauthorized: no SAS token and no client certificate was "
                    + "sent; a symmetric-key device sends 'SharedAccessSignature sr=...&sig=...&se=...' as its MQTT "
                    + "password or Authorization header, an X.509 device presents its client certificate in the TLS "
                    + "handshake, a TPM device sends \"tpm\":{\"endorsementKey\":...,\"storageRootKey\":...} in its register "
                    + "body to receive its challenge");
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
        if (attestation != null && attestation.type() == AttestationType.TPM) {
            return matchTpm(e, token, audience, registrationId);
        }
        if (attestation != null && attestation.type() == AttestationType.X509) {
            return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: the enrollment of '" + registrationId
                    + "' uses X.509 attestation; it expects its client certificate in the TLS handshake, not a SAS "
                    + "token");
        }
        if (attestation == null || attestation.type() != AttestationType.SYMMETRIC_KEY
                || attestation.symmetricKey() == null) {
            return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: the enrollment of '" + registrationId
                    + "' does not use symmetric-key attestation");
        }
        List<byte[]> keys = decode(attestation.symmetricKey().primaryKey(), attestation.symmetricKey().secondaryKey());
        byte[] key = provenKey(token, audience, keys);
        if (key == null) {
            return noMatch(registrationId);
        }
        return new Matched(EnrollmentRef.individual(Objects.requireNonNull(e.registrationId())), e.enabled(), e,
                null, BASE64.encodeToString(key));
    }

    /**
     * The candidate key that signed the token, or null. The whole set is verified first (constant time over all
     * keys, as before); only a valid token is then attributed to its key.
     */
    private byte @Nullable [] provenKey(SasToken token, String audience, List<byte[]> keys) {
        if (keys.isEmpty() || verifier.verifyDevice(token, audience, keys) != SasOutcome.VALID) {
            return null;
        }
        for (byte[] key : keys) {
            if (verifier.verifyDevice(token, audience, List.of(key)) == SasOutcome.VALID) {
                return key;
            }
        }
        return null;
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

    /** A TPM device without SAS token asks for a challenge (§7.3 step 1). */
    private Result challenge(String registrationId, TpmAttestation body) {
        String presented = body.endorsementKey();
        IndividualEnrollment individual = enrollments.findEnrollment(registrationId).orElse(null);
        AttestationMechanism attestation = individual == null ? null : individual.attestation();
        TpmAttestation enrolled = attestation != null && attestation.type() == AttestationType.TPM
                ? attestation.tpm() : null;
        String refused = "Unauthorized: no enrollment for registration id '" + registrationId
                + "' accepts this endorsement key";
        if (tpm == null || individual == null || enrolled == null || enrolled.endorsementKey() == null
                || presented == null) {
            return new Rejected(Reason.NO_MATCH, refused, tpm == null
                    ? "TPM attestation is not configured on this server"
                    : "no TPM individual enrollment for '" + registrationId + "'");
        }
        try {
            TpmPublic ek = TpmPublic.parseBase64(presented, "tpm.endorsementKey");
            TpmPublic enrolledEk = TpmPublic.parseBase64(enrolled.endorsementKey(), "the enrolled endorsementKey");
            if (!ek.equals(enrolledEk)) {
                return new Rejected(Reason.NO_MATCH, refused, "endorsement key differs from the enrollment's "
                        + "[presented sha256: " + TpmAttestor.ekSha256(ek.tpm2b()) + ", enrolled sha256: "
                        + TpmAttestor.ekSha256(enrolledEk.tpm2b()) + "]");
            }
            if (body.storageRootKey() == null || body.storageRootKey().isEmpty()) {
                return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: a TPM device without SAS token must send "
                        + "tpm.storageRootKey (its SRK's TPM2B_PUBLIC, base64) with its endorsementKey to receive a "
                        + "challenge");
            }
            TpmPublic srk = TpmPublic.parseBase64(body.storageRootKey(), "tpm.storageRootKey");
            TpmChallenge challenge = tpm.challenge(registrationId, ek, srk, idScope + "/registrations/"
                    + registrationId);
            return new Challenged(EnrollmentRef.individual(Objects.requireNonNull(individual.registrationId())),
                    challenge);
        } catch (TpmFormatException e) {
            return new Rejected(Reason.WRONG_ATTESTATION, "Unauthorized: " + e.getMessage());
        }
    }

    /** A SAS token for a TPM enrollment: it must be signed with the key issued for the enrollment's EK. */
    private Result matchTpm(IndividualEnrollment e, SasToken token, String audience, String registrationId) {
        Rejected refused = noMatch(registrationId);
        TpmAttestation enrolled = Objects.requireNonNull(e.attestation()).tpm();
        if (tpm == null || enrolled == null || enrolled.endorsementKey() == null) {
            return new Rejected(Reason.TPM_NOT_PROVEN, refused.deviceMessage(), "individual enrollment '"
                    + registrationId + "' uses TPM attestation, which is not configured on this server");
        }
        try {
            TpmPublic ek = TpmPublic.parseBase64(enrolled.endorsementKey(), "the enrolled endorsementKey");
            IssuedTpmKey issued = tpm.issuedFor(registrationId, ek.tpm2b()).orElse(null);
            if (issued == null) {
                return new Rejected(Reason.TPM_NOT_PROVEN, refused.deviceMessage(), "individual enrollment '"
                        + registrationId + "' uses TPM attestation and no key was issued for its endorsement key "
                        + "[sha256: " + TpmAttestor.ekSha256(ek.tpm2b()) + "]; the device must first register "
                        + "without a SAS token to get its challenge");
            }
            if (verifier.verifyDevice(token, audience, List.of(issued.key())) != SasOutcome.VALID) {
                return new Rejected(Reason.TPM_NOT_PROVEN, refused.deviceMessage(), "the SAS token of TPM "
                        + "registration '" + registrationId + "' is not signed with the key issued at "
                        + issued.issuedAt());
            }
            return new Matched(EnrollmentRef.individual(Objects.requireNonNull(e.registrationId())), e.enabled(), e,
                    null, null, null, BASE64.encodeToString(issued.key()),
                    tpm.finalAuthenticationKey(issued, ek, audience));
        } catch (TpmFormatException ex) {
            return new Rejected(Reason.TPM_NOT_PROVEN, refused.deviceMessage(), "TPM registration '" + registrationId
                    + "': " + ex.getMessage());
        }
    }

    private static Rejected noMatch(String registrationId) {
        return new Rejected(Reason.NO_MATCH, "Unauthorized: no enrollment for registration id '" + registrationId
                + "' accepts this SAS token");
    }
}
