package io.opendps.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClient;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientRegistrationResult;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientStatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientTransportProtocol;
import com.microsoft.azure.sdk.iot.provisioning.device.internal.exceptions.ProvisioningDeviceHubException;
import com.microsoft.azure.sdk.iot.provisioning.security.hsm.SecurityProviderX509Cert;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Azure IoT Java device SDK with its X.509 security provider ({@code SecurityProviderX509Cert} from
 * {@code x509-provider}, unmodified) provisions against the real server on port 8883. The SDK builds its own
 * SSLContext: a JDK key manager over the device's certificate and the JVM's default trust store, which this test
 * points at the server's CA with {@code javax.net.ssl.trustStore}, exactly as the README tells Java users to do.
 * It works only because the server's certificate request lists no issuers (the JDK key manager sends no
 * certificate when its issuer is not listed).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AzureDeviceSdkX509IT {

    private static final String[] TRUST_PROPERTIES = {"javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword",
        "javax.net.ssl.trustStoreType"};

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static final Map<String, String> savedProperties = new HashMap<>();

    record Issued(X509Certificate certificate, KeyPair keys) {
    }

    static Issued root;
    static Issued intermediate;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withPorts(ServerOptions.DPS_MQTT_PORT, 0));
        trustServerCaThroughTheJvmTrustStore();
        root = ca("SDK Test Root", null);
        intermediate = ca("SDK Test Intermediate", root);
    }

    @AfterAll
    static void stop() {
        for (String p : TRUST_PROPERTIES) {
            if (savedProperties.get(p) == null) {
                System.clearProperty(p);
            } else {
                System.setProperty(p, savedProperties.get(p));
            }
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void individualEnrollment_deviceCertificate_isAssigned() throws Exception {
        Issued device = device("sdk-x509-single", root, Duration.ofDays(30));
        server.enrollments().putEnrollment("sdk-x509-single", IndividualEnrollment.symmetricKey("sdk-x509-single",
                null, null).withAttestation(clientCertificate(device.certificate())), null);

        ProvisioningDeviceClientRegistrationResult result = register(device, List.of());

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(result.getDeviceId()).isEqualTo("sdk-x509-single");
        assertThat(result.getIothubUri()).isEqualTo("hub-1.opendps.local");
        DeviceRegistrationState record = server.registrations().find("sdk-x509-single").orElseThrow();
        assertThat(record.x509().certificateInfo().sha256Thumbprint())
                .isEqualTo(Certificates.sha256Thumbprint(device.certificate()));
    }

    @Test
    void group_signedByEnrolledRoot_isAssigned() throws Exception {
        server.enrollments().putGroup("sdk-root-group", group("sdk-root-group", root.certificate()), null);
        Issued device = device("sdk-root-member", root, Duration.ofDays(30));

        ProvisioningDeviceClientRegistrationResult result = register(device, List.of());

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(result.getDeviceId()).isEqualTo("sdk-root-member");
        assertThat(server.registrations().find("sdk-root-member").orElseThrow().x509().enrollmentGroupId())
                .isEqualTo("sdk-root-group");
    }

    @Test
    void group_intermediateUploadedWithTheGroup_isAssigned() throws Exception {
        server.enrollments().putGroup("sdk-int-group", group("sdk-int-group", intermediate.certificate()), null);
        Issued device = device("sdk-int-member", intermediate, Duration.ofDays(30));

        ProvisioningDeviceClientRegistrationResult result = register(device, List.of());

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(server.registrations().find("sdk-int-member").orElseThrow().x509().enrollmentGroupId())
                .isEqualTo("sdk-int-group");
    }

    @Test
    void group_rootEnrolled_intermediateSentByTheDevice_isAssigned() throws Exception {
        Issued otherRoot = ca("SDK Other Root", null);
        Issued otherIntermediate = ca("SDK Other Intermediate", otherRoot);
        server.enrollments().putGroup("sdk-chain-group", group("sdk-chain-group", otherRoot.certificate()), null);
        Issued device = device("sdk-chain-member", otherIntermediate, Duration.ofDays(30));

        ProvisioningDeviceClientRegistrationResult result = register(device,
                List.of(otherIntermediate.certificate()));

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(server.registrations().find("sdk-chain-member").orElseThrow().x509().enrollmentGroupId())
                .isEqualTo("sdk-chain-group");
    }

    @Test
    void unknownCa_failsWithUnauthorized() throws Exception {
        Issued stranger = ca("SDK Stranger Root", null);
        Issued device = device("sdk-stranger", stranger, Duration.ofDays(30));

        Exception error = registerExpectingFailure(device, List.of());

        assertThat(causes(error)).contains("401002").contains("no enrollment accepts this certificate chain");
    }

    @Test
    void expiredDeviceCertificate_failsWithUnauthorized() throws Exception {
        server.enrollments().putGroup("sdk-expiry-group", group("sdk-expiry-group", root.certificate()), null);
        Issued device = device("sdk-expired", root, Duration.ofDays(-1));

        Exception error = registerExpectingFailure(device, List.of());

        assertThat(causes(error)).contains("401002").containsIgnoringCase("expired");
    }

    @Test
    void disabledIndividualEnrollment_revokesOneDeviceOfAnActiveGroup() throws Exception {
        Issued groupCa = ca("SDK Revocation Root", null);
        server.enrollments().putGroup("sdk-revoke-group", group("sdk-revoke-group", groupCa.certificate()), null);
        Issued revoked = device("sdk-revoked", groupCa, Duration.ofDays(30));
        Issued sibling = device("sdk-sibling", groupCa, Duration.ofDays(30));
        IndividualEnrollment block = IndividualEnrollment.symmetricKey("sdk-revoked", null, null)
                .withAttestation(clientCertificate(revoked.certificate()));
        server.enrollments().putEnrollment("sdk-revoked", new IndividualEnrollment(block.registrationId(), null,
                null, block.attestation(), null, null, null, null, ProvisioningStatus.DISABLED, null, null, null,
                null, null, null, null), null);

        Exception error = registerExpectingFailure(revoked, List.of());
        ProvisioningDeviceClientRegistrationResult siblingResult = register(sibling, List.of());

        assertThat(error).isInstanceOf(ProvisioningDeviceHubException.class).hasMessage("Enrollment is disabled");
        assertThat(siblingResult.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
    }

    @Test
    void disabledGroup_refusesItsDevices() throws Exception {
        Issued groupCa = ca("SDK Disabled Group Root", null);
        EnrollmentGroup g = group("sdk-off-group", groupCa.certificate());
        server.enrollments().putGroup("sdk-off-group", new EnrollmentGroup(g.enrollmentGroupId(), g.attestation(),
                null, null, null, null, ProvisioningStatus.DISABLED, null, null, null, null, null, null), null);
        Issued device = device("sdk-off-member", groupCa, Duration.ofDays(30));

        Exception error = registerExpectingFailure(device, List.of());

        assertThat(error).isInstanceOf(ProvisioningDeviceHubException.class).hasMessageContaining("disabled");
    }

    private static ProvisioningDeviceClientRegistrationResult register(Issued device, List<X509Certificate> chain)
            throws Exception {
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.MQTT,
                new SecurityProviderX509Cert(device.certificate(), device.keys().getPrivate(), chain));
        try {
            return client.registerDeviceSync(60);
        } finally {
            client.close();
        }
    }

    private static Exception registerExpectingFailure(Issued device, List<X509Certificate> chain) {
        try {
            ProvisioningDeviceClientRegistrationResult r = register(device, chain);
            throw new AssertionError("registration should have failed but was " + r.getProvisioningDeviceClientStatus());
        } catch (Exception e) {
            return e;
        }
    }

    private static AttestationMechanism clientCertificate(X509Certificate certificate) {
        return AttestationMechanism.x509(X509Attestation.clientCertificates(new X509Certificates(
                new X509CertificateWithInfo(Certificates.toPem(certificate), null), null)));
    }

    private static EnrollmentGroup group(String id, X509Certificate signing) {
        return EnrollmentGroup.symmetricKey(id, null, null).withAttestation(AttestationMechanism.x509(
                X509Attestation.signingCertificates(new X509Certificates(
                        new X509CertificateWithInfo(Certificates.toPem(signing), null), null))));
    }

    private static Issued ca(String cn, Issued issuer) {
        KeyPair keys = Certificates.newEcKeyPair();
        CertificateTemplate t = Certificates.template("CN=" + cn, keys.getPublic()).ca()
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(365));
        t = issuer == null ? t.selfSigned(keys.getPrivate()) : t.issuedBy(issuer.certificate(), issuer.keys().getPrivate());
        return new Issued(t.issue(), keys);
    }

    /** A device certificate; a negative lifetime gives one that expired {@code -lifetime} ago. */
    private static Issued device(String cn, Issued issuer, Duration lifetime) {
        KeyPair keys = Certificates.newEcKeyPair();
        Instant notBefore = lifetime.isNegative() ? Instant.now().minus(Duration.ofDays(10))
                : Instant.now().minus(Duration.ofHours(1));
        Instant notAfter = lifetime.isNegative() ? Instant.now().plus(lifetime) : notBefore.plus(lifetime);
        X509Certificate cert = Certificates.template("CN=" + cn, keys.getPublic())
                .validity(notBefore, notAfter)
                .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH)
                .issuedBy(issuer.certificate(), issuer.keys().getPrivate()).issue();
        return new Issued(cert, keys);
    }

    private static void trustServerCaThroughTheJvmTrustStore() throws Exception {
        for (String p : TRUST_PROPERTIES) {
            savedProperties.put(p, System.getProperty(p));
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("opendps-test-ca",
                Certificates.readCertificates(server.info().caCertificate()).get(0));
        Path file = dataDir.resolve("jvm-truststore.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            trust.store(out, "changeit".toCharArray());
        }
        System.setProperty("javax.net.ssl.trustStore", file.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
    }

    private static String causes(Throwable error) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }
}
