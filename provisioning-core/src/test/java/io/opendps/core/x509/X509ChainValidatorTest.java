package io.opendps.core.x509;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestCertificates;
import io.opendps.core.testing.TestCertificates.Issued;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class X509ChainValidatorTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final Issued ROOT = TestCertificates.ca("Root CA").build();
    private static final Issued INTERMEDIATE = TestCertificates.ca("Intermediate CA").issuedBy(ROOT).build();
    private static final Issued LEAF = TestCertificates.leaf("dev-1").issuedBy(INTERMEDIATE).build();
    private static final Issued DIRECT_LEAF = TestCertificates.leaf("dev-2").issuedBy(ROOT).build();

    private final MutableClock clock = new MutableClock(NOW);
    private final X509ChainValidator validator = new X509ChainValidator(clock);

    private X509ChainValidator.Result validate(List<Issued> chain, List<Issued> anchors, List<Issued> extras) {
        return validator.validate(certs(chain), certs(anchors), certs(extras));
    }

    private static List<X509Certificate> certs(List<Issued> issued) {
        return issued.stream().map(Issued::certificate).toList();
    }

    private static X509ChainValidator.Invalid invalid(X509ChainValidator.Result result) {
        assertThat(result).isInstanceOf(X509ChainValidator.Invalid.class);
        return (X509ChainValidator.Invalid) result;
    }

    @Test
    void validate_leafSignedByRootAnchor_isValid() {
        X509ChainValidator.Result r = validate(List.of(DIRECT_LEAF), List.of(ROOT), List.of());

        assertThat(r).isInstanceOf(X509ChainValidator.Valid.class);
        assertThat(((X509ChainValidator.Valid) r).anchor()).isEqualTo(ROOT.certificate());
        assertThat(((X509ChainValidator.Valid) r).distance()).isZero();
    }

    @Test
    void validate_intermediateSentByDevice_rootAnchor_isValid() {
        X509ChainValidator.Result r = validate(List.of(LEAF, INTERMEDIATE), List.of(ROOT), List.of());

        assertThat(r).isInstanceOf(X509ChainValidator.Valid.class);
        assertThat(((X509ChainValidator.Valid) r).distance()).isEqualTo(1);
    }

    @Test
    void validate_intermediateAsAnchor_isValidWithoutTheRoot() {
        X509ChainValidator.Result r = validate(List.of(LEAF), List.of(INTERMEDIATE), List.of());

        assertThat(r).isInstanceOf(X509ChainValidator.Valid.class);
        assertThat(((X509ChainValidator.Valid) r).anchor()).isEqualTo(INTERMEDIATE.certificate());
    }

    @Test
    void validate_intermediateFromTheGroup_completesThePath() {
        X509ChainValidator.Result r = validate(List.of(LEAF), List.of(ROOT), List.of(ROOT, INTERMEDIATE));

        assertThat(r).isInstanceOf(X509ChainValidator.Valid.class);
    }

    @Test
    void validate_deviceAlsoSendsTheRoot_isValid() {
        assertThat(validate(List.of(LEAF, INTERMEDIATE, ROOT), List.of(ROOT), List.of()))
                .isInstanceOf(X509ChainValidator.Valid.class);
    }

    @Test
    void validate_twoAnchors_closestToTheLeafWins() {
        X509ChainValidator.Result r = validate(List.of(LEAF, INTERMEDIATE), List.of(ROOT, INTERMEDIATE), List.of());

        assertThat(((X509ChainValidator.Valid) r).anchor()).isEqualTo(INTERMEDIATE.certificate());
    }

    @Test
    void validate_missingIntermediate_saysWhichIssuerIsMissing() {
        X509ChainValidator.Invalid r = invalid(validate(List.of(LEAF), List.of(ROOT), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.NO_PATH);
        assertThat(r.reason()).contains("CN=Intermediate CA").contains("neither presented");
    }

    @Test
    void validate_expiredLeaf_saysWhen() {
        Issued expired = TestCertificates.leaf("dev-old").issuedBy(ROOT)
                .validity(Instant.parse("2023-01-01T00:00:00Z"), Instant.parse("2024-01-01T00:00:00Z")).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(expired), List.of(ROOT), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.LEAF_EXPIRED);
        assertThat(r.reason()).contains("expired at 2024-01-01T00:00:00Z");
    }

    @Test
    void validate_notYetValidLeaf_saysFromWhen() {
        Issued future = TestCertificates.leaf("dev-new").issuedBy(ROOT)
                .validity(Instant.parse("2025-01-01T00:00:00Z"), Instant.parse("2026-01-01T00:00:00Z")).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(future), List.of(ROOT), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.LEAF_NOT_YET_VALID);
        assertThat(r.reason()).contains("not valid before 2025-01-01T00:00:00Z");
    }

    @Test
    void validate_expiredAnchor_isInvalid() {
        Issued oldRoot = TestCertificates.ca("Old Root")
                .validity(Instant.parse("2020-01-01T00:00:00Z"), Instant.parse("2024-02-01T00:00:00Z")).build();
        Issued leaf = TestCertificates.leaf("dev-3").issuedBy(oldRoot).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(leaf), List.of(oldRoot), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.EXPIRED);
        assertThat(r.reason()).contains("CN=Old Root").contains("expired at 2024-02-01T00:00:00Z");
    }

    @Test
    void validate_expiredIntermediate_namesIt() {
        Issued oldIntermediate = TestCertificates.ca("Old Intermediate").issuedBy(ROOT)
                .validity(Instant.parse("2020-01-01T00:00:00Z"), Instant.parse("2024-02-01T00:00:00Z")).build();
        Issued leaf = TestCertificates.leaf("dev-4").issuedBy(oldIntermediate).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(leaf, oldIntermediate), List.of(ROOT), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.EXPIRED);
        assertThat(r.reason()).contains("CN=Old Intermediate");
    }

    @Test
    void validate_wrongCa_hasNoPath() {
        Issued other = TestCertificates.ca("Other Root").build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(LEAF, INTERMEDIATE), List.of(other), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.NO_PATH);
    }

    @Test
    void validate_impostorCaWithTheSameName_failsOnTheSignature() {
        Issued impostor = TestCertificates.ca("Root CA").build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(DIRECT_LEAF), List.of(impostor), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.INVALID_SIGNATURE);
    }

    @Test
    void validate_anchorPathLengthExceeded_isTooLong() {
        Issued strictRoot = TestCertificates.ca("Strict Root").ca(0).build();
        Issued intermediate = TestCertificates.ca("Sub CA").issuedBy(strictRoot).build();
        Issued leaf = TestCertificates.leaf("dev-5").issuedBy(intermediate).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(leaf, intermediate), List.of(strictRoot), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.PATH_TOO_LONG);
        assertThat(r.reason()).contains("pathLenConstraint");
    }

    @Test
    void validate_intermediatePathLengthExceeded_isTooLong() {
        Issued limited = TestCertificates.ca("Limited CA").ca(0).issuedBy(ROOT).build();
        Issued sub = TestCertificates.ca("Sub Sub CA").issuedBy(limited).build();
        Issued leaf = TestCertificates.leaf("dev-6").issuedBy(sub).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(leaf, sub, limited), List.of(ROOT), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.PATH_TOO_LONG);
    }

    @Test
    void validate_nonCaIntermediate_isRejected() {
        Issued notCa = TestCertificates.leaf("Not A CA").issuedBy(ROOT).noKeyUsage().build();
        Issued leaf = TestCertificates.leaf("dev-7").issuedBy(notCa).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(leaf, notCa), List.of(ROOT), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.NOT_CA);
        assertThat(r.reason()).contains("CN=Not A CA");
    }

    @Test
    void validate_nonCaAnchor_isRejected() {
        Issued notCa = TestCertificates.leaf("Leafy Anchor").noKeyUsage().build();
        Issued leaf = TestCertificates.leaf("dev-8").issuedBy(notCa).build();

        X509ChainValidator.Invalid r = invalid(validate(List.of(leaf), List.of(notCa), List.of()));

        assertThat(r.problem()).isEqualTo(X509ChainValidator.Problem.ANCHOR_NOT_CA);
    }

    @Test
    void validate_clockMovesPastLeafExpiry_becomesInvalid() {
        clock.set(Instant.parse("2034-06-01T00:00:00Z"));

        assertThat(invalid(validate(List.of(DIRECT_LEAF), List.of(ROOT), List.of())).problem())
                .isEqualTo(X509ChainValidator.Problem.LEAF_EXPIRED);
    }
}
