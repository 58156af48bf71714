package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.broker.tls.CertificateTemplate.Usage;
import io.opendps.broker.tls.Certificates;
import io.opendps.core.ca.CaCertificate;
import io.opendps.core.ca.CaVerificationCode;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CaReferences;
import io.opendps.core.x509.X509CertificateInfo;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import io.opendps.core.x509.X509RegistrationResult;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * X.509 attestation end to end: the simulated device presents a certificate chain generated in the test over real
 * MQTT/TLS to one real OpenDPS server (embedded HiveMQ on ephemeral ports), which matches it against individual
 * enrollments, enrollment groups with signing certificates (root or intermediate) and groups referencing a CA
 * certificate verified by proof of possession ({@code dps-device-protocol.md} §5).
 *
 * <p>Every group test uses its own PKI (fresh root and intermediate), so groups of different tests never accept
 * each other's devices and the tests are independent of order.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SimulatedDeviceX509IT {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String HUB = "hub-1.opendps.local";
    private static final String NO_MATCH = "no enrollment accepts this certificate chain";

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static ServiceInfo info;
    static TrustManagerFactory trust;
    static SimulatorRuntime runtime;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        info = server.info();
        trust = TrustMaterial.fromPem(info.caCertificate());
        runtime = SimulatorRuntime.create(2, 1);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (server != null) {
            server.close();
        }
    }

    // ---------------------------------------------------------------- individual enrollments

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void individualEnrollment_withTheDeviceCertificate_isAssigned_deviceIdIsTheCnOrTheEnrollmentsDeviceId() {
        Ca root = Ca.root("IT individual root");
        Device plain = root.leaf("x509-ind-1");
        Device named = root.leaf("x509-ind-2");
        putIndividual("x509-ind-1", plain, null, ProvisioningStatus.ENABLED);
        putIndividual("x509-ind-2", named, "device-two", ProvisioningStatus.ENABLED);

        List<ProvisioningOutcome> outcomes = provisionAll(options(plain), options(named));

        ProvisioningOutcome first = outcomes.get(0);
        assertAssigned(first, "x509-ind-1");
        assertThat(first.registrationState().x509())
                .isEqualTo(new X509RegistrationResult(X509CertificateInfo.of(plain.leaf()), null, null));
        DeviceRegistrationState stored = stored("x509-ind-1");
        assertThat(stored.deviceId()).isEqualTo("x509-ind-1");
        assertThat(stored.x509().certificateInfo()).isEqualTo(X509CertificateInfo.of(plain.leaf()));
        assertThat(stored.x509().enrollmentGroupId()).isNull();
        assertThat(stored.x509().signingCertificateInfo()).isNull();
        assertThat(stored.symmetricKey()).isNull();

        assertAssigned(outcomes.get(1), "device-two");
        assertThat(stored("x509-ind-2").deviceId()).isEqualTo("device-two");
        assertThat(stored("x509-ind-2").x509().certificateInfo().sha256Thumbprint())
                .isEqualTo(named.credential().thumbprint());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void reRegistration_ofAnAssignedDevice_isIdempotent() {
        Ca root = Ca.root("IT re-registration root");
        Device device = root.leaf("x509-again");
        putIndividual("x509-again", device, null, ProvisioningStatus.ENABLED);

        ProvisioningOutcome first = provision(options(device));
        DeviceRegistrationState afterFirst = stored("x509-again");
        ProvisioningOutcome second = provision(options(device));

        assertAssigned(first, "x509-again");
        assertAssigned(second, "x509-again");
        assertThat(second.operation().operationId()).isNotEqualTo(first.operation().operationId());
        DeviceRegistrationState afterSecond = stored("x509-again");
        assertThat(afterSecond.assignedHub()).isEqualTo(afterFirst.assignedHub()).isEqualTo(HUB);
        assertThat(afterSecond.deviceId()).isEqualTo(afterFirst.deviceId()).isEqualTo("x509-again");
        assertThat(afterSecond.createdDateTimeUtc()).isEqualTo(afterFirst.createdDateTimeUtc());
        assertThat(afterSecond.etag()).isNotEqualTo(afterFirst.etag());
        assertThat(afterSecond.x509()).isEqualTo(afterFirst.x509());
    }

    // ---------------------------------------------------------------- groups

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void group_withTheRootAsSigningCertificate_assignsADeviceTheRootSigned() {
        Ca root = Ca.root("IT group root");
        Device device = root.leaf("x509-grp-root-1");
        putGroup("grp-x509-root", signing(root.certificate()), ProvisioningStatus.ENABLED);

        ProvisioningOutcome outcome = provision(options(device));

        assertAssigned(outcome, "x509-grp-root-1");
        assertThat(outcome.registrationState().enrollmentGroupId()).isEqualTo("grp-x509-root");
        assertStoredGroupMember("x509-grp-root-1", device, "grp-x509-root", root.certificate());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void group_withTheIntermediateUploaded_assignsADeviceSendingOnlyItsLeaf() {
        Ca root = Ca.root("IT intermediate-group root");
        Ca intermediate = root.intermediate("IT intermediate-group intermediate");
        Device device = intermediate.leaf("x509-grp-int-1").leafOnly();
        putGroup("grp-x509-intermediate", signing(intermediate.certificate()), ProvisioningStatus.ENABLED);

        ProvisioningOutcome outcome = provision(options(device));

        assertAssigned(outcome, "x509-grp-int-1");
        assertStoredGroupMember("x509-grp-int-1", device, "grp-x509-intermediate", intermediate.certificate());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void group_withTheRoot_assignsDevicesThatSendTheirIntermediate_withOrWithoutTheRoot() {
        Ca root = Ca.root("IT sent-chain root");
        Ca intermediate = root.intermediate("IT sent-chain intermediate");
        Device device = intermediate.leaf("x509-grp-chain-1");
        assertThat(device.chain()).containsExactly(device.leaf(), intermediate.certificate());
        Device withRoot = intermediate.leaf("x509-grp-chain-2").plus(root.certificate());
        putGroup("grp-x509-chain", signing(root.certificate()), ProvisioningStatus.ENABLED);

        List<ProvisioningOutcome> outcomes = provisionAll(options(device), options(withRoot));

        assertAssigned(outcomes.get(0), "x509-grp-chain-1");
        assertStoredGroupMember("x509-grp-chain-1", device, "grp-x509-chain", root.certificate());
        assertAssigned(outcomes.get(1), "x509-grp-chain-2");
        assertStoredGroupMember("x509-grp-chain-2", withRoot, "grp-x509-chain", root.certificate());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void group_withTheRoot_refusesADeviceThatLeavesOutItsIntermediate() {
        Ca root = Ca.root("IT missing-intermediate root");
        Ca intermediate = root.intermediate("IT missing-intermediate intermediate");
        Device device = intermediate.leaf("x509-grp-missing-1").leafOnly();
        putGroup("grp-x509-missing", signing(root.certificate()), ProvisioningStatus.ENABLED);

        ProvisioningOutcome outcome = provision(options(device));

        assertUnauthorized(outcome, NO_MATCH, "'x509-grp-missing-1'");
        assertThat(server.registrations().find("x509-grp-missing-1")).isEmpty();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void group_referencingACaVerifiedByProofOfPossession_assignsItsDevice() {
        Ca ca = Ca.root("IT verified CA");
        CaCertificate uploaded = server.caCertificates().put("it-verified-ca", Certificates.toPem(ca.certificate()),
                false, null).certificate();
        assertThat(uploaded.isVerified()).isFalse();
        CaVerificationCode code = server.caCertificates().generateVerificationCode("it-verified-ca",
                uploaded.etag());
        X509Certificate proof = ca.issueLeaf(code.verificationCode(), Instant.now().minusSeconds(60),
                Instant.now().plus(Duration.ofHours(1)));
        CaCertificate verified = server.caCertificates().verify("it-verified-ca", code.certificate().etag(),
                Certificates.toPem(proof));
        assertThat(verified.isVerified()).isTrue();
        putGroup("grp-x509-ca-ref", X509Attestation.caReferences(new X509CaReferences("it-verified-ca", null)),
                ProvisioningStatus.ENABLED);
        Device device = ca.leaf("x509-grp-ca-1");

        ProvisioningOutcome outcome = provision(options(device));

        assertAssigned(outcome, "x509-grp-ca-1");
        assertStoredGroupMember("x509-grp-ca-1", device, "grp-x509-ca-ref", ca.certificate());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void group_disabled_endsDisabled() {
        Ca root = Ca.root("IT disabled-group root");
        Device device = root.leaf("x509-grp-off-1");
        putGroup("grp-x509-disabled", signing(root.certificate()), ProvisioningStatus.DISABLED);

        ProvisioningOutcome outcome = provision(options(device));

        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.registrationStatus()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(outcome.errorCode()).isEqualTo(401002);
        assertThat(outcome.registrationState().errorMessage()).isEqualTo("Enrollment group is disabled");
        DeviceRegistrationState stored = stored("x509-grp-off-1");
        assertThat(stored.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(stored.assignedHub()).isNull();
        assertThat(stored.deviceId()).isNull();
        assertThat(stored.x509().enrollmentGroupId()).isEqualTo("grp-x509-disabled");
        assertThat(stored.x509().certificateInfo()).isEqualTo(X509CertificateInfo.of(device.leaf()));
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void disabledIndividualEnrollment_revokesOneCertificateOfAnActiveGroup_whileItsSiblingIsAssigned() {
        Ca root = Ca.root("IT revocation root");
        Device revoked = root.leaf("x509-grp-revoked");
        Device sibling = root.leaf("x509-grp-sibling");
        putGroup("grp-x509-revocation", signing(root.certificate()), ProvisioningStatus.ENABLED);
        putIndividual("x509-grp-revoked", revoked, null, ProvisioningStatus.DISABLED);

        List<ProvisioningOutcome> outcomes = provisionAll(options(revoked), options(sibling));

        ProvisioningOutcome refused = outcomes.get(0);
        assertThat(refused.kind()).as(refused.describe()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(refused.registrationStatus()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(refused.errorCode()).isEqualTo(401002);
        assertThat(refused.registrationState().errorMessage()).isEqualTo("Enrollment is disabled");
        DeviceRegistrationState revokedRecord = stored("x509-grp-revoked");
        assertThat(revokedRecord.status()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(revokedRecord.assignedHub()).isNull();
        assertThat(revokedRecord.x509().enrollmentGroupId()).isNull();
        assertThat(revokedRecord.x509().certificateInfo()).isEqualTo(X509CertificateInfo.of(revoked.leaf()));

        assertAssigned(outcomes.get(1), "x509-grp-sibling");
        assertStoredGroupMember("x509-grp-sibling", sibling, "grp-x509-revocation", root.certificate());
    }

    // ---------------------------------------------------------------- refusals

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void certificateFromAnUnknownCa_isUnauthorized() {
        Ca known = Ca.root("IT known root");
        putGroup("grp-x509-known", signing(known.certificate()), ProvisioningStatus.ENABLED);
        Device stranger = Ca.root("IT unknown root").leaf("x509-stranger");

        ProvisioningOutcome outcome = provision(options(stranger));

        assertUnauthorized(outcome, NO_MATCH, "'x509-stranger'");
        assertThat(server.registrations().find("x509-stranger")).isEmpty();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void expiredAndNotYetValidLeaves_areUnauthorized_sayingSo() {
        Ca root = Ca.root("IT validity root");
        putGroup("grp-x509-validity", signing(root.certificate()), ProvisioningStatus.ENABLED);
        Instant now = Instant.now();
        Device expired = root.leaf("x509-expired", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
        Device future = root.leaf("x509-future", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)));

        List<ProvisioningOutcome> outcomes = provisionAll(options(expired), options(future));

        assertUnauthorized(outcomes.get(0), "the device certificate 'CN=x509-expired' expired at "
                + expired.leaf().getNotAfter().toInstant());
        assertUnauthorized(outcomes.get(1), "the device certificate 'CN=x509-future' is not valid before "
                + future.leaf().getNotBefore().toInstant());
        assertThat(server.registrations().find("x509-expired")).isEmpty();
        assertThat(server.registrations().find("x509-future")).isEmpty();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void commonNameOtherThanTheRegistrationId_isUnauthorized_namingBoth() {
        Ca root = Ca.root("IT cn root");
        Device device = root.leaf("x509-cn-a");
        putGroup("grp-x509-cn", signing(root.certificate()), ProvisioningStatus.ENABLED);

        ProvisioningOutcome outcome = provision(options(device).withRegistrationId("x509-cn-b"));

        assertUnauthorized(outcome, "subject CN is 'x509-cn-a' but the registration id is 'x509-cn-b'");
        assertThat(server.registrations().find("x509-cn-a")).isEmpty();
        assertThat(server.registrations().find("x509-cn-b")).isEmpty();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void sasDevice_whoseIndividualEnrollmentIsX509_isUnauthorized() {
        Device device = Ca.root("IT sas-vs-x509 root").leaf("x509-wants-cert");
        putIndividual("x509-wants-cert", device, null, ProvisioningStatus.ENABLED);
        String someKey = Base64.getEncoder().encodeToString(new byte[32]);

        ProvisioningOutcome outcome = provision(SimulatedDeviceOptions.of(info.mqttHost(), info.mqttPort(),
                info.idScope(), "x509-wants-cert", someKey).withTrust(trust).withTimeout(TIMEOUT));

        assertUnauthorized(outcome, "the enrollment of 'x509-wants-cert' uses X.509 attestation");
        assertThat(server.registrations().find("x509-wants-cert")).isEmpty();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void x509Device_whoseIndividualEnrollmentIsSymmetricKey_isUnauthorized() {
        server.enrollments().putEnrollment("x509-wants-sas", IndividualEnrollment.symmetricKey("x509-wants-sas", null,
                null), null);
        Device device = Ca.root("IT x509-vs-sas root").leaf("x509-wants-sas");

        ProvisioningOutcome outcome = provision(options(device));

        assertUnauthorized(outcome, "the enrollment of 'x509-wants-sas' uses symmetric-key attestation");
        assertThat(server.registrations().find("x509-wants-sas")).isEmpty();
    }

    // ---------------------------------------------------------------- helpers

    private static void assertAssigned(ProvisioningOutcome outcome, String deviceId) {
        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.status()).isEqualTo(200);
        assertThat(outcome.registrationStatus()).as(outcome.describe()).isEqualTo(RegistrationStatus.ASSIGNED);
        DeviceRegistrationState state = outcome.registrationState();
        assertThat(state.registrationId()).isEqualTo(outcome.registrationId());
        assertThat(state.deviceId()).isEqualTo(deviceId);
        assertThat(state.assignedHub()).isEqualTo(HUB);
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(state.x509()).isNotNull();
        assertThat(state.symmetricKey()).isNull();
        DeviceRegistrationState stored = stored(outcome.registrationId());
        assertThat(stored.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(stored.deviceId()).isEqualTo(deviceId);
        assertThat(stored.assignedHub()).isEqualTo(HUB);
        assertThat(stored.x509()).isEqualTo(state.x509());
    }

    private static void assertStoredGroupMember(String registrationId, Device device, String groupId,
            X509Certificate anchor) {
        DeviceRegistrationState stored = stored(registrationId);
        assertThat(stored.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(stored.deviceId()).isEqualTo(registrationId);
        assertThat(stored.assignedHub()).isEqualTo(HUB);
        assertThat(stored.enrollmentGroupId()).isEqualTo(groupId);
        assertThat(stored.x509()).isEqualTo(new X509RegistrationResult(X509CertificateInfo.of(device.leaf()),
                X509CertificateInfo.of(anchor), groupId));
    }

    private static void assertUnauthorized(ProvisioningOutcome outcome, String... messageParts) {
        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.status()).isEqualTo(401);
        assertThat(outcome.error()).isNotNull();
        assertThat(outcome.error().errorCode()).isEqualTo(401002);
        assertThat(outcome.error().message()).startsWith("Unauthorized: ").contains(messageParts);
    }

    private static DeviceRegistrationState stored(String registrationId) {
        return server.registrations().find(registrationId).orElseThrow(() -> new AssertionError(
                "no registration record for " + registrationId));
    }

    private static void putIndividual(String registrationId, Device device, @Nullable String deviceId,
            ProvisioningStatus status) {
        X509Attestation x509 = X509Attestation.clientCertificates(new X509Certificates(
                new X509CertificateWithInfo(Certificates.toPem(device.leaf()), null), null));
        server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(registrationId, deviceId, null,
                AttestationMechanism.x509(x509), null, null, null, null, status, null, null, null, null, null, null,
                null), null);
    }

    private static void putGroup(String groupId, X509Attestation x509, ProvisioningStatus status) {
        server.enrollments().putGroup(groupId, new EnrollmentGroup(groupId, AttestationMechanism.x509(x509), null,
                null, null, null, status, null, null, null, null, null, null), null);
    }

    private static X509Attestation signing(X509Certificate certificate) {
        return X509Attestation.signingCertificates(new X509Certificates(
                new X509CertificateWithInfo(Certificates.toPem(certificate), null), null));
    }

    private static SimulatedDeviceOptions options(Device device) {
        return SimulatedDeviceOptions.ofX509(info.mqttHost(), info.mqttPort(), info.idScope(), device.credential())
                .withTrust(trust).withTimeout(TIMEOUT);
    }

    private static ProvisioningOutcome provision(SimulatedDeviceOptions options) {
        return provisionAll(options).get(0);
    }

    /** Provisions distinct devices concurrently (each waits out its own retry-after), outcomes in order. */
    private static List<ProvisioningOutcome> provisionAll(SimulatedDeviceOptions... options) {
        List<CompletableFuture<ProvisioningOutcome>> futures = new ArrayList<>();
        for (SimulatedDeviceOptions o : options) {
            futures.add(new SimulatedDevice(o, runtime).provision());
        }
        CompletableFuture<?> all = CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]));
        await().atMost(TIMEOUT.plusSeconds(10)).until(all::isDone);
        return futures.stream().map(CompletableFuture::join).toList();
    }

    /** A device identity: its chain as it sends it (leaf first) and its key. */
    private record Device(List<X509Certificate> chain, KeyPair keys) {

        X509Certificate leaf() {
            return chain.get(0);
        }

        X509Credential credential() {
            return new X509Credential(chain, keys.getPrivate());
        }

        /** The same device sending only its own certificate. */
        Device leafOnly() {
            return new Device(List.of(leaf()), keys);
        }

        /** The same device sending {@code more} after its chain. */
        Device plus(X509Certificate more) {
            List<X509Certificate> longer = new ArrayList<>(chain);
            longer.add(more);
            return new Device(List.copyOf(longer), keys);
        }
    }

    /**
     * A CA of the test PKI, with the chain above it (excluding the self-signed root) that its devices send after
     * their leaf.
     */
    private record Ca(X509Certificate certificate, KeyPair keys, List<X509Certificate> chainAbove) {

        static Ca root(String name) {
            KeyPair keys = Certificates.newEcKeyPair();
            X509Certificate cert = Certificates.template(Certificates.commonName(name), keys.getPublic())
                    .selfSigned(keys.getPrivate())
                    .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(2))
                    .ca()
                    .issue();
            return new Ca(cert, keys, List.of());
        }

        Ca intermediate(String name) {
            KeyPair intermediateKeys = Certificates.newEcKeyPair();
            X509Certificate cert = Certificates.template(Certificates.commonName(name), intermediateKeys.getPublic())
                    .issuedBy(certificate, keys.getPrivate())
                    .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(1))
                    .ca(0)
                    .issue();
            List<X509Certificate> above = new ArrayList<>();
            above.add(cert);
            above.addAll(chainAbove);
            return new Ca(cert, intermediateKeys, List.copyOf(above));
        }

        /** A device certificate valid from an hour ago for a day; the chain includes this CA unless it is a root. */
        Device leaf(String cn) {
            return leaf(cn, Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(1)));
        }

        Device leaf(String cn, Instant notBefore, Instant notAfter) {
            KeyPair leafKeys = Certificates.newEcKeyPair();
            X509Certificate leaf = Certificates.template(Certificates.commonName(cn), leafKeys.getPublic())
                    .issuedBy(certificate, keys.getPrivate())
                    .validity(notBefore, notAfter)
                    .extendedKeyUsages(Usage.CLIENT_AUTH)
                    .issue();
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(leaf);
            chain.addAll(chainAbove);
            return new Device(List.copyOf(chain), leafKeys);
        }

        /** An end-entity certificate with subject CN {@code cn} signed by this CA (e.g. a verification cert). */
        X509Certificate issueLeaf(String cn, Instant notBefore, Instant notAfter) {
            return Certificates.template(Certificates.commonName(cn), Certificates.newEcKeyPair().getPublic())
                    .issuedBy(certificate, keys.getPrivate())
                    .validity(notBefore, notAfter)
                    .issue();
        }
    }
}
