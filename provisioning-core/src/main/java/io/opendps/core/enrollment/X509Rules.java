package io.opendps.core.enrollment;

import static io.opendps.core.enrollment.EnrollmentRules.bad;

import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.x509.CertificateCodec;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CaReferences;
import io.opendps.core.x509.X509CertificateInfo;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The X.509 attestation rules of enrollment writes ({@code dps-service-api.md} §3.3, §5). Produces the stored
 * form: certificate texts normalised to PEM with computed info.
 *
 * <ul>
 *   <li>Exactly one of {@code clientCertificates} (individual enrollments only), {@code signingCertificates} or
 *       {@code caReferences} (groups only); {@code primary} required, {@code secondary} optional.</li>
 *   <li>Individual: each client certificate's subject CN must equal the registration id (case-insensitive),
 *       since X.509 devices register with their CN.</li>
 *   <li>Group signing certificates must be CA certificates (basicConstraints CA); a root or an intermediate.</li>
 *   <li>{@code caReferences} must name CA certificates registered and verified on the service (or merely
 *       registered with auto-verify on).</li>
 *   <li>Round trip: a slot without {@code certificate} whose {@code info.sha256Thumbprint} (or
 *       {@code sha1Thumbprint}) names a certificate stored on this enrollment (either slot, same kind) keeps
 *       that certificate; naming nothing stored is a 400. A slot that is absent or {@code null} holds
 *       nothing: PUT is a full replace, so sending no {@code secondary} removes it.</li>
 * </ul>
 */
final class X509Rules {

    private static final String FIELD = "attestation.x509";

    private final CaCertificateService cas;

    X509Rules(CaCertificateService cas) {
        this.cas = cas;
    }

    /** The stored attestation of an individual enrollment. */
    X509Attestation individual(String registrationId, @Nullable X509Attestation in,
            @Nullable X509Attestation stored) {
        X509Attestation x509 = requireOne(in);
        if (x509.clientCertificates() == null) {
            throw bad("individual enrollments use %s.clientCertificates (the device's own certificate); "
                    + "signingCertificates and caReferences are for enrollment groups", FIELD);
        }
        return X509Attestation.clientCertificates(certificates(FIELD + ".clientCertificates",
                x509.clientCertificates(), stored == null ? null : stored.clientCertificates(), registrationId));
    }

    /** The stored attestation of an enrollment group. */
    X509Attestation group(@Nullable X509Attestation in, @Nullable X509Attestation stored) {
        X509Attestation x509 = requireOne(in);
        if (x509.clientCertificates() != null) {
            throw bad("enrollment groups use %s.signingCertificates or %s.caReferences; clientCertificates are "
                    + "for individual enrollments", FIELD, FIELD);
        }
        if (x509.signingCertificates() != null) {
            return X509Attestation.signingCertificates(certificates(FIELD + ".signingCertificates",
                    x509.signingCertificates(), stored == null ? null : stored.signingCertificates(), null));
        }
        return X509Attestation.caReferences(caReferences(java.util.Objects.requireNonNull(x509.caReferences())));
    }

    private static X509Attestation requireOne(@Nullable X509Attestation in) {
        if (in == null) {
            throw bad("%s is required for type x509, e.g. {\"clientCertificates\":{\"primary\":{\"certificate\":"
                    + "\"-----BEGIN CERTIFICATE-----...\"}}}", FIELD);
        }
        if (in.kinds() != 1) {
            throw bad("%s must have exactly one of clientCertificates, signingCertificates and caReferences; it "
                    + "has %d", FIELD, in.kinds());
        }
        return in;
    }

    /** {@code registrationId} non-null: client certificates (CN check); null: signing certificates (CA check). */
    private static X509Certificates certificates(String field, X509Certificates in, @Nullable X509Certificates stored,
            @Nullable String registrationId) {
        if (in.primary() == null) {
            throw bad("%s.primary is required", field);
        }
        List<X509CertificateWithInfo> storedSlots = stored == null ? List.of() : stored.present();
        X509CertificateWithInfo primary = slot(field + ".primary", in.primary(), storedSlots, registrationId);
        X509CertificateWithInfo secondary = in.secondary() == null ? null
                : slot(field + ".secondary", in.secondary(), storedSlots, registrationId);
        return new X509Certificates(primary, secondary);
    }

    private static X509CertificateWithInfo slot(String field, X509CertificateWithInfo in,
            List<X509CertificateWithInfo> storedSlots, @Nullable String registrationId) {
        if (in.hasCertificate()) {
            X509Certificate cert = parse(field + ".certificate", java.util.Objects.requireNonNull(in.certificate()));
            check(field + ".certificate", cert, registrationId);
            return X509CertificateWithInfo.of(cert);
        }
        X509CertificateInfo info = in.info();
        if (info == null || blank(info.sha256Thumbprint()) && blank(info.sha1Thumbprint())) {
            throw bad("%s.certificate is required (PEM, base64 DER or base64 PEM)", field);
        }
        for (X509CertificateWithInfo s : storedSlots) {
            if (s.info() != null && info.sameCertificateAs(s.info())) {
                return s;
            }
        }
        throw bad("%s has no certificate and its info (%s) names no certificate stored on this enrollment; send "
                + "the certificate itself", field, blank(info.sha256Thumbprint())
                ? "sha1Thumbprint " + info.sha1Thumbprint() : "sha256Thumbprint " + info.sha256Thumbprint());
    }

    private static void check(String field, X509Certificate cert, @Nullable String registrationId) {
        if (registrationId == null) {
            if (!CertificateCodec.isCa(cert)) {
                throw bad("%s ('%s') is not a CA certificate (basicConstraints CA is not set); a group's signing "
                        + "certificate is the root or intermediate CA that issues the device certificates", field,
                        CertificateCodec.subjectName(cert));
            }
            return;
        }
        String cn = CertificateCodec.commonName(cert);
        if (cn == null || !cn.equalsIgnoreCase(registrationId)) {
            throw bad("%s has subject CN '%s' but the registration id is '%s'; an X.509 device registers with its "
                    + "certificate's CN", field, cn, registrationId);
        }
    }

    private X509CaReferences caReferences(X509CaReferences in) {
        String primary = in.primary();
        if (primary == null || primary.isBlank()) {
            throw bad("%s.caReferences.primary is required (the name of a CA certificate registered on this "
                    + "service)", FIELD);
        }
        reference(FIELD + ".caReferences.primary", primary);
        String secondary = in.secondary();
        if (secondary != null && !secondary.isBlank()) {
            reference(FIELD + ".caReferences.secondary", secondary);
            return new X509CaReferences(primary, secondary);
        }
        return new X509CaReferences(primary, null);
    }

    private void reference(String field, String name) {
        String problem = cas.referenceProblem(name);
        if (problem != null) {
            throw bad("%s: %s", field, problem);
        }
    }

    private static X509Certificate parse(String field, String text) {
        try {
            return CertificateCodec.parse(text);
        } catch (IllegalArgumentException e) {
            throw bad("%s is not a readable certificate: %s", field, e.getMessage());
        }
    }

    private static boolean blank(@Nullable String s) {
        return s == null || s.isBlank();
    }
}
