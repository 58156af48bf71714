package io.opendps.core.x509;

import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Validates a device's certificate chain against candidate trust anchors ({@code dps-device-protocol.md} §5.3):
 * an enrollment group's signing certificate (a root <em>or</em> an intermediate: whatever the group names is
 * trusted as the anchor) or a verified CA certificate.
 *
 * <p>How: the path from the leaf up to an anchor is assembled by issuer name and signature from the
 * certificates the device presented (leaf first, any order after it) plus extra intermediates registered on
 * the enrollment, so intermediates may come from either side. The path is then validated by the JDK's PKIX
 * {@link CertPathValidator} with the anchor as {@link TrustAnchor}, revocation off (disabling enrollments is the
 * DPS revocation mechanism) and the clock's instant as validation date: signatures, validity of every path
 * certificate, basic constraints with path lengths, key usage where present, unknown critical extensions.
 * What PKIX leaves out for a trust anchor is checked here: the anchor's own validity dates, that it is a CA
 * (basicConstraints CA, keyCertSign when it has a key usage) and its pathLenConstraint. Assembling the path
 * ourselves rather than with {@code CertPathBuilder} keeps the failure reasons precise (which certificate expired,
 * which issuer is missing) instead of the builder's generic "unable to find valid certification path".
 *
 * <p>Among several anchors that validate, the most specific wins: the one closest to the leaf. Stateless apart
 * from the clock; thread-safe. Expected failures are {@link Invalid} values with a human reason naming the
 * certificates by subject; exceptions only for a JDK without PKIX.
 */
public final class X509ChainValidator {

    /** The longest path assembled (leaf plus intermediates) before giving up. */
    private static final int MAX_DEPTH = 16;
    private static final int KEY_CERT_SIGN = 5;

    /** What went wrong, for callers that react differently to local problems of the device certificate. */
    public enum Problem { NO_CERTIFICATE, LEAF_EXPIRED, LEAF_NOT_YET_VALID, NO_PATH, INVALID_SIGNATURE, EXPIRED,
        NOT_YET_VALID, ANCHOR_NOT_CA, NOT_CA, PATH_TOO_LONG, KEY_USAGE, OTHER }

    /** The outcome of a validation. */
    public sealed interface Result permits Valid, Invalid {
    }

    /**
     * The chain is valid up to {@code anchor}.
     *
     * @param anchor the trust anchor that accepted the chain
     * @param path the validated path, leaf first, anchor excluded
     */
    public record Valid(X509Certificate anchor, List<X509Certificate> path) implements Result {
        public Valid {
            path = List.copyOf(path);
        }

        /** How many certificates lie between the leaf and the anchor (0: the anchor signed the leaf). */
        public int distance() {
            return path.size() - 1;
        }
    }

    /** The chain is not valid; {@code reason} is a sentence for logs and, for local problems, for the device. */
    public record Invalid(Problem problem, String reason) implements Result {
    }

    private final Clock clock;

    public X509ChainValidator(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Checks only the leaf's validity dates at the clock's instant.
     *
     * @return null when valid now, else the problem
     */
    public @Nullable Invalid checkValidity(X509Certificate leaf) {
        Instant now = clock.instant();
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            return new Invalid(Problem.LEAF_EXPIRED, "the device certificate '" + CertificateCodec.subjectName(leaf)
                    + "' expired at " + leaf.getNotAfter().toInstant() + " (server time " + now + ")");
        }
        if (now.isBefore(leaf.getNotBefore().toInstant())) {
            return new Invalid(Problem.LEAF_NOT_YET_VALID, "the device certificate '"
                    + CertificateCodec.subjectName(leaf) + "' is not valid before "
                    + leaf.getNotBefore().toInstant() + " (server time " + now + ")");
        }
        return null;
    }

    /**
     * Validates {@code chain} (leaf first) against each anchor and returns the valid result with the anchor
     * closest to the leaf, or, when none validates, the most informative failure (a path that was found but
     * failed validation beats a missing path).
     *
     * @param chain the certificates the device presented, leaf first
     * @param anchors the candidate trust anchors
     * @param intermediates further certificates that may complete the path (e.g. all of the group's
     *     certificates); anchors may be among them
     */
    public Result validate(List<X509Certificate> chain, Collection<X509Certificate> anchors,
            Collection<X509Certificate> intermediates) {
        if (chain.isEmpty()) {
            return new Invalid(Problem.NO_CERTIFICATE, "the device presented no certificate");
        }
        X509Certificate leaf = chain.get(0);
        Invalid leafProblem = checkValidity(leaf);
        if (leafProblem != null) {
            return leafProblem;
        }
        if (anchors.isEmpty()) {
            return new Invalid(Problem.NO_PATH, "there is no trusted certificate to validate against");
        }
        List<X509Certificate> pool = pool(chain, intermediates);
        Valid best = null;
        Invalid failure = null;
        for (X509Certificate anchor : anchors) {
            Result r = validateAgainst(leaf, anchor, pool);
            if (r instanceof Valid v && (best == null || v.distance() < best.distance())) {
                best = v;
            } else if (r instanceof Invalid i && (failure == null || failure.problem() == Problem.NO_PATH)) {
                failure = i;
            }
        }
        return best != null ? best : Objects.requireNonNull(failure);
    }

    private Result validateAgainst(X509Certificate leaf, X509Certificate anchor, List<X509Certificate> pool) {
        Invalid anchorProblem = checkAnchor(anchor);
        if (anchorProblem != null) {
            return anchorProblem;
        }
        if (leaf.equals(anchor)) {
            return new Invalid(Problem.NO_PATH, "the device certificate is the signing certificate '"
                    + CertificateCodec.subjectName(anchor) + "' itself, not one issued by it");
        }
        Object assembled = assemble(leaf, anchor, pool);
        if (assembled instanceof Invalid invalid) {
            return invalid;
        }
        @SuppressWarnings("unchecked")
        List<X509Certificate> path = (List<X509Certificate>) assembled;
        int allowed = anchor.getBasicConstraints();
        if (allowed != Integer.MAX_VALUE && path.size() - 1 > allowed) {
            return new Invalid(Problem.PATH_TOO_LONG, "the path is too long: '" + name(anchor)
                    + "' allows " + allowed + " intermediate CA certificate(s) below it (pathLenConstraint) but "
                    + (path.size() - 1) + " lie between it and the device certificate");
        }
        return pkix(path, anchor);
    }

    private @Nullable Invalid checkAnchor(X509Certificate anchor) {
        Instant now = clock.instant();
        if (now.isAfter(anchor.getNotAfter().toInstant())) {
            return new Invalid(Problem.EXPIRED, "the signing certificate '" + name(anchor) + "' expired at "
                    + anchor.getNotAfter().toInstant() + " (server time " + now + ")");
        }
        if (now.isBefore(anchor.getNotBefore().toInstant())) {
            return new Invalid(Problem.NOT_YET_VALID, "the signing certificate '" + name(anchor)
                    + "' is not valid before " + anchor.getNotBefore().toInstant() + " (server time " + now + ")");
        }
        if (!CertificateCodec.isCa(anchor)) {
            return new Invalid(Problem.ANCHOR_NOT_CA, "the signing certificate '" + name(anchor)
                    + "' is not a CA certificate (basicConstraints CA is not set)");
        }
        boolean[] usage = anchor.getKeyUsage();
        if (usage != null && (usage.length <= KEY_CERT_SIGN || !usage[KEY_CERT_SIGN])) {
            return new Invalid(Problem.KEY_USAGE, "the signing certificate '" + name(anchor)
                    + "' has a key usage without keyCertSign");
        }
        return null;
    }

    /** The path leaf first up to (excluding) the anchor, or an {@link Invalid} saying where it breaks. */
    private static Object assemble(X509Certificate leaf, X509Certificate anchor, List<X509Certificate> pool) {
        List<X509Certificate> path = new ArrayList<>();
        X509Certificate current = leaf;
        path.add(leaf);
        while (!issuedBy(current, anchor)) {
            if (path.size() >= MAX_DEPTH) {
                return new Invalid(Problem.PATH_TOO_LONG, "no path to '" + name(anchor) + "' within " + MAX_DEPTH
                        + " certificates");
            }
            X509Certificate next = null;
            boolean nameMatched = false;
            for (X509Certificate candidate : pool) {
                if (candidate.equals(anchor) || path.contains(candidate)
                        || !current.getIssuerX500Principal().equals(candidate.getSubjectX500Principal())) {
                    continue;
                }
                nameMatched = true;
                if (signedBy(current, candidate)) {
                    next = candidate;
                    break;
                }
            }
            if (next == null) {
                return noPath(current, anchor, nameMatched);
            }
            path.add(next);
            current = next;
        }
        return path;
    }

    private static Invalid noPath(X509Certificate current, X509Certificate anchor, boolean nameMatched) {
        if (nameMatched || current.getIssuerX500Principal().equals(anchor.getSubjectX500Principal())) {
            return new Invalid(Problem.INVALID_SIGNATURE, "'" + name(current) + "' names '"
                    + CertificateCodec.issuerName(current) + "' as its issuer but its signature does not verify "
                    + "with that certificate's key (a different CA with the same name?)");
        }
        return new Invalid(Problem.NO_PATH, "no path from '" + name(current) + "' to the signing certificate '"
                + name(anchor) + "': its issuer '" + CertificateCodec.issuerName(current) + "' was neither "
                + "presented by the device nor registered on the enrollment");
    }

    private Result pkix(List<X509Certificate> path, X509Certificate anchor) {
        try {
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
            params.setRevocationEnabled(false);
            params.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
            return new Valid(anchor, path);
        } catch (CertPathValidatorException e) {
            return explain(e, path);
        } catch (CertificateException | InvalidAlgorithmParameterException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK's PKIX validation is unavailable: " + e.getMessage(), e);
        }
    }

    private Invalid explain(CertPathValidatorException e, List<X509Certificate> path) {
        int index = e.getIndex();
        X509Certificate cert = index >= 0 && index < path.size() ? path.get(index) : null;
        String who = cert == null ? "a certificate of the path" : "'" + name(cert) + "'";
        Instant now = clock.instant();
        CertPathValidatorException.Reason reason = e.getReason();
        if (reason == CertPathValidatorException.BasicReason.EXPIRED && cert != null) {
            return new Invalid(Problem.EXPIRED, who + " expired at " + cert.getNotAfter().toInstant()
                    + " (server time " + now + ")");
        }
        if (reason == CertPathValidatorException.BasicReason.NOT_YET_VALID && cert != null) {
            return new Invalid(Problem.NOT_YET_VALID, who + " is not valid before "
                    + cert.getNotBefore().toInstant() + " (server time " + now + ")");
        }
        if (reason == CertPathValidatorException.BasicReason.INVALID_SIGNATURE) {
            return new Invalid(Problem.INVALID_SIGNATURE, "the signature of " + who + " does not verify");
        }
        if (reason == PKIXReason.PATH_TOO_LONG) {
            return new Invalid(Problem.PATH_TOO_LONG, "the path is too long: " + who
                    + " exceeds the pathLenConstraint of a CA above it");
        }
        if (reason == PKIXReason.NOT_CA_CERT) {
            return new Invalid(Problem.NOT_CA, who + " issues certificates but is not a CA certificate "
                    + "(basicConstraints CA is not set)");
        }
        if (reason == PKIXReason.INVALID_KEY_USAGE) {
            return new Invalid(Problem.KEY_USAGE, who + " has a key usage that does not allow this use");
        }
        return new Invalid(Problem.OTHER, who + " failed validation: " + e.getMessage());
    }

    private static List<X509Certificate> pool(List<X509Certificate> chain, Collection<X509Certificate> more) {
        List<X509Certificate> pool = new ArrayList<>();
        for (X509Certificate c : chain.subList(1, chain.size())) {
            if (!pool.contains(c)) {
                pool.add(c);
            }
        }
        for (X509Certificate c : more) {
            if (!pool.contains(c)) {
                pool.add(c);
            }
        }
        return pool;
    }

    private static boolean issuedBy(X509Certificate cert, X509Certificate issuer) {
        return cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal()) && signedBy(cert, issuer);
    }

    private static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String name(X509Certificate cert) {
        return CertificateCodec.subjectName(cert);
    }
}
