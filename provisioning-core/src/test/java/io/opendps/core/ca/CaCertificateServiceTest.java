package io.opendps.core.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestCertificates;
import io.opendps.core.testing.TestCertificates.Issued;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.CertificateCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CaCertificateServiceTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");
    private static final Issued ROOT = TestCertificates.ca("Contoso Root 2024").build();

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcCaCertificateStore store;
    private JdbcEnrollmentStore enrollments;
    private CaCertificateService service;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        store = new JdbcCaCertificateStore(database.db());
        enrollments = new JdbcEnrollmentStore(database.db());
        service = service(CaCertificateOptions.DEFAULTS);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private CaCertificateService service(CaCertificateOptions options) {
        return new CaCertificateService(store, enrollments, options, clock);
    }

    private static ProvisioningException rejected(ErrorCode code, ThrowingCallable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call);
        assertThat(e).as("expected a %s", code).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        return e;
    }

    private static String proof(String code, Issued signer) {
        return TestCertificates.leaf(code).issuedBy(signer).build().pem();
    }

    @Test
    void put_newCaCertificate_isCreatedUnverifiedWithComputedFields() {
        CaCertificatePut put = service.put("contoso-root-2024", ROOT.pem(), false, null);

        assertThat(put.created()).isTrue();
        CaCertificate ca = put.certificate();
        assertThat(ca.name()).isEqualTo("contoso-root-2024");
        assertThat(ca.subject()).isEqualTo("CN=Contoso Root 2024");
        assertThat(ca.thumbprint()).isEqualTo(CertificateCodec.sha1Thumbprint(ROOT.certificate()));
        assertThat(ca.expiry()).isEqualTo(TestCertificates.NOT_AFTER);
        assertThat(ca.isVerified()).isFalse();
        assertThat(ca.created()).isEqualTo(T0);
        assertThat(service.get("Contoso-Root-2024")).isEqualTo(ca);
        assertThat(service.list()).containsExactly(ca);
    }

    @Test
    void put_base64Der_isAccepted() throws Exception {
        String der = Base64.getEncoder().encodeToString(ROOT.certificate().getEncoded());

        assertThat(service.put("root", der, false, null).certificate().certificate()).isEqualTo(ROOT.pem());
    }

    @Test
    void put_existingWithoutIfMatch_is409_andWithEtagReplaces() {
        CaCertificate first = service.put("root", ROOT.pem(), false, null).certificate();

        rejected(ErrorCode.CA_CERTIFICATE_EXISTS, () -> service.put("root", ROOT.pem(), false, null));
        rejected(ErrorCode.CA_CERTIFICATE_PRECONDITION_FAILED,
                () -> service.put("root", ROOT.pem(), false, "\"stale\""));
        CaCertificatePut second = service.put("ROOT", ROOT.pem(), false, first.etag());

        assertThat(second.created()).isFalse();
        assertThat(second.certificate().etag()).isNotEqualTo(first.etag());
        assertThat(second.certificate().name()).isEqualTo("root");
    }

    @Test
    void put_nonCaCertificate_is400() {
        Issued leaf = TestCertificates.leaf("device").issuedBy(ROOT).build();

        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_INVALID,
                () -> service.put("leaf", leaf.pem(), false, null));

        assertThat(e).hasMessageContaining("not a CA certificate");
    }

    @Test
    void put_garbage_is400() {
        rejected(ErrorCode.CA_CERTIFICATE_INVALID, () -> service.put("x", "hello", false, null));
    }

    @Test
    void put_badName_is400() {
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.put("bad name!", ROOT.pem(), false, null));
    }

    @Test
    void put_isVerifiedWithoutAutoVerify_is400AskingForProofOfPossession() {
        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_INVALID,
                () -> service.put("root", ROOT.pem(), true, null));

        assertThat(e).hasMessageContaining("proof of possession");
        assertThat(store.count()).isZero();
    }

    @Test
    void put_isVerifiedWithAutoVerify_isStoredVerified() {
        CaCertificateService auto = service(CaCertificateOptions.autoVerify(true));

        assertThat(auto.put("root", ROOT.pem(), true, null).certificate().isVerified()).isTrue();
        assertThat(auto.trustedCertificate("root")).contains(ROOT.certificate());
    }

    @Test
    void put_moreThanTheLimit_is400() {
        CaCertificateService small = service(new CaCertificateOptions(false, Duration.ofHours(1), 2));
        small.put("a", ROOT.pem(), false, null);
        small.put("b", ROOT.pem(), false, null);

        rejected(ErrorCode.CA_CERTIFICATE_LIMIT_EXCEEDED, () -> small.put("c", ROOT.pem(), false, null));
    }

    @Test
    void proofOfPossession_happyPath_verifiesAndConsumesTheCode() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);

        assertThat(code.verificationCode()).matches("[0-9A-F]{48}");
        assertThat(code.expiresAt()).isEqualTo(T0.plus(Duration.ofHours(1)));
        assertThat(service.trustedCertificate("root")).isEmpty();
        CaCertificate verified = service.verify("root", code.certificate().etag(),
                proof(code.verificationCode(), ROOT));

        assertThat(verified.isVerified()).isTrue();
        assertThat(service.get("root").isVerified()).isTrue();
        assertThat(store.find("root").orElseThrow().verificationCode()).isNull();
        assertThat(service.trustedCertificate("root")).contains(ROOT.certificate());
    }

    @Test
    void verify_wrongCn_is400() {
        service.put("root", ROOT.pem(), false, null);
        service.generateVerificationCode("root", null);

        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                () -> service.verify("root", null, proof("not-the-code", ROOT)));

        assertThat(e).hasMessageContaining("CN 'not-the-code' is not the current verification code");
        assertThat(service.get("root").isVerified()).isFalse();
    }

    @Test
    void verify_signedByAnotherKey_is400() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);
        Issued other = TestCertificates.ca("Contoso Root 2024").build();

        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                () -> service.verify("root", null, proof(code.verificationCode(), other)));

        assertThat(e).hasMessageContaining("not signed by the private key");
    }

    @Test
    void verify_expiredCode_is400() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);
        clock.advance(Duration.ofMinutes(61));

        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                () -> service.verify("root", null, proof(code.verificationCode(), ROOT)));

        assertThat(e).hasMessageContaining("expired");
    }

    @Test
    void verify_consumedCodeReused_is400() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);
        String proof = proof(code.verificationCode(), ROOT);
        service.verify("root", null, proof);

        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                () -> service.verify("root", null, proof));

        assertThat(e).hasMessageContaining("no verification code is pending");
    }

    @Test
    void verify_newCodeReplacesTheOldOne() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode first = service.generateVerificationCode("root", null);
        service.generateVerificationCode("root", null);

        rejected(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                () -> service.verify("root", null, proof(first.verificationCode(), ROOT)));
    }

    @Test
    void verify_expiredVerificationCertificate_is400() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);
        String proof = TestCertificates.leaf(code.verificationCode()).issuedBy(ROOT)
                .validity(Instant.parse("2023-01-01T00:00:00Z"), Instant.parse("2024-01-01T00:00:00Z")).build()
                .pem();

        ProvisioningException e = rejected(ErrorCode.CA_CERTIFICATE_VERIFICATION_FAILED,
                () -> service.verify("root", null, proof));

        assertThat(e).hasMessageContaining("not valid now");
    }

    @Test
    void verify_staleIfMatch_is412() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);

        rejected(ErrorCode.CA_CERTIFICATE_PRECONDITION_FAILED,
                () -> service.verify("root", "\"old\"", proof(code.verificationCode(), ROOT)));
    }

    @Test
    void reupload_sameCertificate_keepsVerification_differentCertificateResetsIt() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);
        service.verify("root", null, proof(code.verificationCode(), ROOT));

        assertThat(service.put("root", ROOT.pem(), true, "*").certificate().isVerified()).isTrue();
        Issued other = TestCertificates.ca("Contoso Root 2026").build();
        assertThat(service.put("root", other.pem(), false, "*").certificate().isVerified()).isFalse();
    }

    @Test
    void unknownName_is404() {
        rejected(ErrorCode.CA_CERTIFICATE_NOT_FOUND, () -> service.get("nope"));
        rejected(ErrorCode.CA_CERTIFICATE_NOT_FOUND, () -> service.generateVerificationCode("nope", null));
        rejected(ErrorCode.CA_CERTIFICATE_NOT_FOUND, () -> service.verify("nope", null, ROOT.pem()));
        rejected(ErrorCode.CA_CERTIFICATE_NOT_FOUND, () -> service.delete("nope", null));
    }

    @Test
    void delete_withEtag_removesIt() {
        CaCertificate ca = service.put("root", ROOT.pem(), false, null).certificate();

        rejected(ErrorCode.CA_CERTIFICATE_PRECONDITION_FAILED, () -> service.delete("root", "\"old\""));
        service.delete("root", ca.etag());

        assertThat(service.list()).isEmpty();
    }

    @Test
    void referenceProblem_unverifiedOrMissing_isExplained_autoVerifyAcceptsUnverified() {
        service.put("root", ROOT.pem(), false, null);

        assertThat(service.referenceProblem("root")).contains("not verified");
        assertThat(service.referenceProblem("missing")).contains("no CA certificate named 'missing'");
        assertThat(service(CaCertificateOptions.autoVerify(true)).referenceProblem("root")).isNull();
    }

    @Test
    void verificationCode_isNotPartOfThePublicRecord() {
        service.put("root", ROOT.pem(), false, null);
        CaVerificationCode code = service.generateVerificationCode("root", null);

        assertThat(io.opendps.core.json.Json.toText(service.get("root")))
                .doesNotContain(code.verificationCode())
                .contains("\"isVerified\":false");
        assertThat(store.find("root").orElseThrow().toString()).doesNotContain(code.verificationCode());
        assertThat(new String(code.verificationCode().getBytes(StandardCharsets.US_ASCII),
                StandardCharsets.US_ASCII)).hasSize(48);
    }
}
