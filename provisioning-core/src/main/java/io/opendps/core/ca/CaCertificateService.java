package io.opendps.core.ca;

import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.CaCertificateStore;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.EnrollmentStore;
import io.opendps.core.store.StaleVersionException;
import io.opendps.core.x509.CertificateCache;
import io.opendps.core.x509.CertificateCodec;
import io.opendps.core.x509.X509Attestation;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CA certificates with proof of possession ({@code dps-service-api.md} §14). Each method maps to one operation
 * of the administration API: {@link #put} (PUT, 201 when {@code created} else 200), {@link #get}, {@link #list},
 * {@link #delete}, {@link #generateVerificationCode}, {@link #verify}. Envelopes (ARM's {@code properties},
 * {@code value}) are the HTTP layer's business; this class returns plain records.
 *
 * <p>Decisions:
 * <ul>
 *   <li>Only CA certificates (basicConstraints CA) are accepted: anything else could never anchor a chain.</li>
 *   <li>{@code If-Match}: absent on an existing name → 409 for uploads (as for enrollments); {@code *} or the
 *       current etag → proceed; mismatch → 412. Azure requires If-Match on delete, code generation and verify;
 *       here its absence means "unconditional" and the HTTP layer may insist on it.</li>
 *   <li>Re-uploading the same certificate (same thumbprint) keeps its verification and pending code; a different
 *       certificate under the name starts unverified.</li>
 *   <li>{@code isVerified: true} on upload is honoured only with {@link CaCertificateOptions#autoVerify()};
 *       otherwise 400 asking for proof of possession (unless the same, already verified certificate is being
 *       re-sent, as clients echo GET results).</li>
 *   <li>Deleting a certificate that enrollment groups reference by {@code caReferences} is refused with 409
 *       naming the groups: deleting it would silently lock their devices out. Change or delete the groups
 *       first.</li>
 *   <li>Verification codes: 24 random bytes as 48 upper-case hex characters (fits a 64-character CN), one
 *       active code per certificate (a new request replaces it), single use, valid for
 *       {@link CaCertificateOptions#verificationCodeLifetime()}; the CN is compared case-insensitively.</li>
 *   <li>At most {@link CaCertificateOptions#maxCertificates()} certificates (count checked before insert, so
 *       two concurrent uploads may overshoot by one).</li>
 * </ul>
 *
 * <p>Uploads, code issuance, verification (success and failure) and deletions go to the {@code audit} logger
 * with names and thumbprints only. Thread-safe; synchronous (run it on a worker pool). Failures are
 * {@link ProvisioningException}s with {@code CA_CERTIFICATE_*} codes or {@link ErrorCode#INVALID_ARGUMENT}.
 */
public final class CaCertificateService {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int CODE_BYTES = 24;
    /** The id rules of {@code dps-service-api.md} §11.2. */
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$");

    private final CaCertificateStore store;
    private final EnrollmentStore enrollments;
    private final CaCertificateOptions options;
    private final Clock clock;
    private final CertificateCache cache = new CertificateCache();

    public CaCertificateService(CaCertificateStore store, EnrollmentStore enrollments, CaCertificateOptions options,
            Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.enrollments = Objects.requireNonNull(enrollments, "enrollments");
        this.options = Objects.requireNonNull(options, "options");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The options this service runs with. */
    public CaCertificateOptions options() {
        return options;
    }

    /**
     * Uploads or replaces a CA certificate.
     *
     * @param certificateText PEM, base64 DER or base64 PEM
     * @param isVerifiedRequested the body's {@code isVerified}
     * @param ifMatch the If-Match header, or null
     */
    public CaCertificatePut put(String name, String certificateText, boolean isVerifiedRequested,
            @Nullable String ifMatch) {
        requireName(name);
        X509Certificate cert = parseCa(certificateText);
        Optional<StoredCaCertificate> existing = store.find(name);
        checkPrecondition(name, existing, ifMatch, true);
        String thumbprint = CertificateCodec.sha1Thumbprint(cert);
        boolean sameCert = existing.map(s -> s.certificate().thumbprint().equals(thumbprint)).orElse(false);
        boolean alreadyVerified = sameCert && existing.get().certificate().isVerified();
        if (isVerifiedRequested && !alreadyVerified && !options.autoVerify()) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_INVALID, "isVerified=true needs proof of "
                    + "possession: upload with isVerified=false, request a verification code, then verify with a "
                    + "certificate whose CN is the code, signed by this CA's private key");
        }
        if (existing.isEmpty() && store.count() >= options.maxCertificates()) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_LIMIT_EXCEEDED, "the service already holds "
                    + "%d CA certificates, the maximum; delete one first", options.maxCertificates());
        }
        Instant now = clock.instant();
        CaCertificate ca = new CaCertificate(existing.map(s -> s.certificate().name()).orElse(name),
                CertificateCodec.toPem(cert), CertificateCodec.subjectName(cert), thumbprint,
                cert.getNotAfter().toInstant(), alreadyVerified || isVerifiedRequested, newEtag(),
                existing.map(s -> s.certificate().created()).orElse(now), now);
        StoredCaCertificate toStore = new StoredCaCertificate(ca,
                sameCert ? existing.get().verificationCode() : null,
                sameCert ? existing.get().verificationCodeExpiry() : null);
        write(name, existing, toStore);
        AUDIT.info("CA certificate {} [name: {}, thumbprint: {}, verified: {}{}]",
                existing.isPresent() ? "replaced" : "uploaded", ca.name(), thumbprint, ca.isVerified(),
                isVerifiedRequested && !alreadyVerified ? ", by auto-verify" : "");
        return new CaCertificatePut(ca, existing.isEmpty());
    }

    /** The certificate; 404 when absent. */
    public CaCertificate get(String name) {
        return stored(name).certificate();
    }

    /** Every certificate, ordered by name. */
    public List<CaCertificate> list() {
        return store.list().stream().map(StoredCaCertificate::certificate).toList();
    }

    /** Deletes; 404 when absent, 412 on an etag mismatch, 409 while groups reference it. */
    public void delete(String name, @Nullable String ifMatch) {
        StoredCaCertificate existing = stored(name);
        checkPrecondition(name, Optional.of(existing), ifMatch, false);
        List<String> users = referencingGroups(name);
        if (!users.isEmpty()) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_IN_USE, "CA certificate '%s' is referenced by "
                    + "the caReferences of enrollment group(s) %s; change or delete them first", name,
                    String.join(", ", users));
        }
        try {
            if (!store.delete(name, existing.certificate().etag())) {
                throw notFound(name);
            }
        } catch (StaleVersionException e) {
            throw changedConcurrently(name);
        }
        AUDIT.info("CA certificate deleted [name: {}, thumbprint: {}]", existing.certificate().name(),
                existing.certificate().thumbprint());
    }

    /** Issues a new verification code, replacing any pending one; the etag changes. */
    public CaVerificationCode generateVerificationCode(String name, @Nullable String ifMatch) {
        StoredCaCertificate existing = stored(name);
        checkPrecondition(name, Optional.of(existing), ifMatch, false);
        byte[] bytes = new byte[CODE_BYTES];
        RANDOM.nextBytes(bytes);
        String code = HexFormat.of().withUpperCase().formatHex(bytes);
        Instant now = clock.instant();
        Instant expires = now.plus(options.verificationCodeLifetime());
        CaCertificate ca = withState(existing.certificate(), existing.certificate().isVerified(), now);
        write(name, Optional.of(existing), new StoredCaCertificate(ca, code, expires));
        AUDIT.info("CA certificate verification code issued [name: {}, thumbprint: {}, expires: {}]", ca.name(),
                ca.thumbprint(), expires);
        return new CaVerificationCode(ca, code, expires);
    }

    /**
     * Proof of possession: {@code verificationCertificateText} must be signed by the CA's key, have the pending,
     * unexpired code as subject CN and be within its validity. Then the CA is verified and the code consumed.
     */
    public CaCertificate verify(String name, @Nullable String ifMatch, String verificationCertificateText) {
        StoredCaCertificate existing = stored(name);
        checkPrecondition(name, Optional.of(existing), ifMatch, false);
        Instant now = clock.instant();
        X509Certificate proof;
        try {
            proof = CertificateCodec.parse(verificationCertificateText);
        } catch (IllegalArgumentException e) {
            throw verificationFailed(existing, "the verification certificate is unreadable: " + e.getMessage());
        }
        String problem = proofProblem(existing, proof, now);
        if (problem != null) {
            throw verificationFailed(existing, problem);
        }
        CaCertificate ca = withState(existing.certificate(), true, now);
        write(name, Optional.of(existing), new StoredCaCertificate(ca, null, null));
        AUDIT.info("CA certificate verified [name: {}, thumbprint: {}, verification-certificate: {}]", ca.name(),
                ca.thumbprint(), CertificateCodec.sha1Thumbprint(proof));
        return ca;
    }

    /**
     * The parsed certificate named {@code name} when it may anchor device chains: registered and verified (or
     * any registered one with auto-verify on).
     */
    public Optional<X509Certificate> trustedCertificate(String name) {
        return store.find(name).filter(s -> s.certificate().isVerified() || options.autoVerify())
                .map(s -> cache.parse(s.certificate().certificate()));
    }

    /**
     * Why {@code name} cannot be referenced by an enrollment group, or null when it can: it must be registered
     * and verified (unless auto-verify is on).
     */
    public @Nullable String referenceProblem(String name) {
        Optional<StoredCaCertificate> found = store.find(name);
        if (found.isEmpty()) {
            return "no CA certificate named '" + name + "' is registered on this service";
        }
        if (!found.get().certificate().isVerified() && !options.autoVerify()) {
            return "CA certificate '" + name + "' is not verified; complete proof of possession first";
        }
        return null;
    }

    private @Nullable String proofProblem(StoredCaCertificate existing, X509Certificate proof, Instant now) {
        String code = existing.verificationCode();
        Instant expiry = existing.verificationCodeExpiry();
        if (code == null || expiry == null) {
            return "no verification code is pending for this certificate (none was requested, or it was already "
                    + "used); request a new one";
        }
        if (now.isAfter(expiry)) {
            return "the verification code expired at " + expiry + "; request a new one";
        }
        String cn = CertificateCodec.commonName(proof);
        if (cn == null || !cn.strip().equalsIgnoreCase(code)) {
            return "the verification certificate's subject CN '" + cn + "' is not the current verification code";
        }
        X509Certificate ca = cache.parse(existing.certificate().certificate());
        try {
            proof.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            return "the verification certificate is not signed by the private key of this CA certificate";
        }
        if (now.isAfter(proof.getNotAfter().toInstant()) || now.isBefore(proof.getNotBefore().toInstant())) {
            return "the verification certificate is not valid now (valid " + proof.getNotBefore().toInstant()
                    + " to " + proof.getNotAfter().toInstant() + ", server time " + now + ")";
        }
        return null;
    }

    private ProvisioningException verificationFailed(StoredCaCertificate existing, String problem) {
        AUDIT.info("CA certificate verification failed [name: {}, thumbprint: {}, reason: {}]",
                existing.certificate().name(), existing.certificate().thumbprint(), problem);
        return new ProvisioningException(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                "proof of possession failed for CA certificate '%s': %s", existing.certificate().name(), problem);
    }

    private List<String> referencingGroups(String name) {
        return enrollments.groups().stream()
                .filter(g -> references(g, name))
                .map(g -> Objects.requireNonNull(g.enrollmentGroupId()))
                .toList();
    }

    private static boolean references(EnrollmentGroup group, String name) {
        X509Attestation x509 = group.attestation() == null ? null : group.attestation().x509();
        return x509 != null && x509.caReferences() != null
                && x509.caReferences().present().stream().anyMatch(n -> n.equalsIgnoreCase(name));
    }

    private X509Certificate parseCa(String text) {
        X509Certificate cert;
        try {
            cert = CertificateCodec.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_INVALID, "certificate: %s", e.getMessage());
        }
        if (!CertificateCodec.isCa(cert)) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_INVALID, "certificate '%s' is not a CA "
                    + "certificate (basicConstraints CA is not set), so it cannot sign device certificates",
                    CertificateCodec.subjectName(cert));
        }
        return cert;
    }

    private void write(String name, Optional<StoredCaCertificate> existing, StoredCaCertificate toStore) {
        try {
            if (existing.isPresent()) {
                store.replace(toStore, existing.get().certificate().etag());
            } else {
                store.insert(toStore);
            }
        } catch (DuplicateKeyException | StaleVersionException e) {
            throw changedConcurrently(name);
        }
    }

    private static void checkPrecondition(String name, Optional<StoredCaCertificate> existing,
            @Nullable String ifMatch, boolean upload) {
        if (ifMatch == null) {
            if (upload && existing.isPresent()) {
                throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_EXISTS, "CA certificate '%s' already "
                        + "exists; send If-Match with its etag (or *) to replace it", name);
            }
            return;
        }
        if (Etags.isWildcard(ifMatch)) {
            return;
        }
        if (existing.isEmpty()) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_PRECONDITION_FAILED,
                    "CA certificate '%s' does not exist, so If-Match %s cannot match", name, ifMatch);
        }
        String stored = existing.get().certificate().etag();
        if (!Etags.matches(ifMatch, stored)) {
            throw new ProvisioningException(ErrorCode.CA_CERTIFICATE_PRECONDITION_FAILED,
                    "If-Match %s does not match the current etag %s of CA certificate '%s'", ifMatch, stored, name);
        }
    }

    private StoredCaCertificate stored(String name) {
        return store.find(name).orElseThrow(() -> notFound(name));
    }

    private static CaCertificate withState(CaCertificate ca, boolean verified, Instant now) {
        return new CaCertificate(ca.name(), ca.certificate(), ca.subject(), ca.thumbprint(), ca.expiry(), verified,
                newEtag(), ca.created(), now);
    }

    private static void requireName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "invalid CA certificate name '%s': use "
                    + "1-128 characters A-Z a-z 0-9 - . _ :, starting with a letter or digit and ending with a "
                    + "letter, digit or '-'", name);
        }
    }

    private static String newEtag() {
        return Etags.newEnrollmentEtag();
    }

    private static ProvisioningException notFound(String name) {
        return new ProvisioningException(ErrorCode.CA_CERTIFICATE_NOT_FOUND, "CA certificate '%s' not found", name);
    }

    private static ProvisioningException changedConcurrently(String name) {
        return new ProvisioningException(ErrorCode.CA_CERTIFICATE_PRECONDITION_FAILED,
                "CA certificate '%s' was changed concurrently; read it again and retry", name);
    }
}
