package io.opendps.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClient;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientRegistrationResult;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientStatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientTransportProtocol;
import com.microsoft.azure.sdk.iot.provisioning.security.SecurityProvider;
import com.microsoft.azure.sdk.iot.provisioning.security.SecurityProviderSymmetricKey;
import com.microsoft.azure.sdk.iot.provisioning.security.hsm.SecurityProviderX509Cert;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Azure IoT Java device SDK ({@code provisioning-device-client} 2.1.3, unmodified) provisions over
 * {@link ProvisioningDeviceClientTransportProtocol#HTTPS} against the real server on port 443, which the SDK
 * hard-codes: symmetric keys (individual, group-derived, wrong key) and X.509 with {@code SecurityProviderX509Cert},
 * whose SSLContext uses the JVM trust store (pointed at the server's CA here, as the README tells Java users).
 * Binds a fixed port: run under {@code flock /tmp/opendps-fixed-ports.lock}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AzureDeviceSdkHttpsIT {

    private static final String[] TRUST_PROPERTIES = {"javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword",
        "javax.net.ssl.trustStoreType"};

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static final Map<String, String> savedProperties = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withPorts(0, ServerOptions.DPS_HTTPS_PORT));
        trustServerCaThroughTheJvmTrustStore();
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
    void symmetricKey_individual_isAssigned() throws Exception {
        String key = server.enrollments().putEnrollment("sdk-https-1", IndividualEnrollment.symmetricKey(
                "sdk-https-1", null, null), null).attestation().symmetricKey().primaryKey();

        ProvisioningDeviceClientRegistrationResult result = register(symmetricKey("sdk-https-1", key));

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(result.getIothubUri()).isEqualTo("hub-1.opendps.local");
        assertThat(result.getDeviceId()).isEqualTo("sdk-https-1");
        assertThat(server.registrations().find("sdk-https-1").orElseThrow().status())
                .isEqualTo(RegistrationStatus.ASSIGNED);
    }

    @Test
    void symmetricKey_groupDerived_isAssigned() throws Exception {
        EnrollmentGroup g = server.enrollments().putGroup("sdk-https-group", EnrollmentGroup.symmetricKey(
                "sdk-https-group", null, null), null);
        String deviceKey = DerivedKeys.deriveBase64(g.attestation().symmetricKey().primaryKey(), "sdk-https-dev-2");

        ProvisioningDeviceClientRegistrationResult result = register(symmetricKey("sdk-https-dev-2", deviceKey));

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(server.registrations().find("sdk-https-dev-2").orElseThrow().enrollmentGroupId())
                .isEqualTo("sdk-https-group");
    }

    @Test
    void symmetricKey_wrongKey_failsWithUnauthorized() throws Exception {
        server.enrollments().putEnrollment("sdk-https-wrong", IndividualEnrollment.symmetricKey("sdk-https-wrong",
                null, null), null);
        String wrong = Base64.getEncoder().encodeToString(new byte[32]);

        Exception error = registerExpectingFailure(symmetricKey("sdk-https-wrong", wrong));

        assertThat(causes(error)).contains("401002").contains("no enrollment for registration id");
        assertThat(server.registrations().find("sdk-https-wrong")).isEmpty();
    }

    @Test
    void x509_groupDevice_isAssigned() throws Exception {
        KeyPair rootKeys = Certificates.newEcKeyPair();
        X509Certificate root = Certificates.template("CN=SDK HTTPS Root", rootKeys.getPublic()).ca()
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(30))
                .selfSigned(rootKeys.getPrivate()).issue();
        server.enrollments().putGroup("sdk-https-x509", EnrollmentGroup.symmetricKey("sdk-https-x509", null, null)
                .withAttestation(AttestationMechanism.x509(X509Attestation.signingCertificates(new X509Certificates(
                        new X509CertificateWithInfo(Certificates.toPem(root), null), null)))), null);
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate leaf = Certificates.template("CN=sdk-https-x509-dev", keys.getPublic())
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(30))
                .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH)
                .issuedBy(root, rootKeys.getPrivate()).issue();

        ProvisioningDeviceClientRegistrationResult result = register(new SecurityProviderX509Cert(leaf,
                keys.getPrivate(), List.of()));

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(result.getDeviceId()).isEqualTo("sdk-https-x509-dev");
        assertThat(server.registrations().find("sdk-https-x509-dev").orElseThrow().x509().enrollmentGroupId())
                .isEqualTo("sdk-https-x509");
    }

    private static ProvisioningDeviceClientRegistrationResult register(SecurityProvider provider) throws Exception {
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.HTTPS, provider);
        try {
            return client.registerDeviceSync(60);
        } finally {
            client.close();
        }
    }

    private static Exception registerExpectingFailure(SecurityProvider provider) {
        try {
            ProvisioningDeviceClientRegistrationResult r = register(provider);
            throw new AssertionError("registration should have failed but was "
                    + r.getProvisioningDeviceClientStatus());
        } catch (Exception e) {
            return e;
        }
    }

    private static SecurityProviderSymmetricKey symmetricKey(String registrationId, String key) {
        SSLContext trustingTestCa = TlsMaterial.trustingClientContext(server.info().caCertificate());
        return new SecurityProviderSymmetricKey(key.getBytes(StandardCharsets.UTF_8), registrationId) {
            @Override
            public SSLContext getSSLContext() {
                return trustingTestCa;
            }
        };
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
