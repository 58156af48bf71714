package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClient;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientRegistrationResult;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientStatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientTransportProtocol;
import com.microsoft.azure.sdk.iot.provisioning.device.internal.exceptions.ProvisioningDeviceClientException;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.tpm.TpmCrypto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Azure IoT Java device SDK ({@code provisioning-device-client} 2.1.3, unmodified) runs its TPM
 * attestation flow over {@link ProvisioningDeviceClientTransportProtocol#HTTPS} against the real server on port 443
 * (hard-coded by the SDK), with a {@link SwtpmSecurityProvider} over two software TPMs (swtpm + tpm2-tools, required,
 * never skipped). Binds a fixed port: run under {@code flock /tmp/opendps-fixed-ports.lock}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AzureSdkTpmHttpsIT {

    @TempDir
    static Path dir;
    static OpenDpsServer server;
    static Swtpm enrolledTpm;
    static Swtpm unknownTpm;
    static SSLContext trustingServerCa;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dir.resolve("server"))
                .withPorts(0, ServerOptions.DPS_HTTPS_PORT));
        trustingServerCa = TlsMaterial.trustingClientContext(server.info().caCertificate());
        enrolledTpm = Swtpm.start(dir.resolve("tpm-enrolled"));
        unknownTpm = Swtpm.start(dir.resolve("tpm-unknown"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {enrolledTpm, unknownTpm, server}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the others
            }
        }
    }

    @Test
    void sdkTpmProviderOverHttps_isAssigned_andTheHubKeyIsTheKeyInTheTpm() throws Exception {
        try (Tpm2Tools tools = new Tpm2Tools(enrolledTpm.tcti())) {
            SwtpmSecurityProvider provider = new SwtpmSecurityProvider(tools, trustingServerCa);
            byte[] ek = provider.getEndorsementKey();
            String registrationId = provider.getRegistrationId();
            assertThat(registrationId).as("the SDK's default TPM registration id is OpenDPS's")
                    .isEqualTo(TpmCrypto.registrationId(ek));
            server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(registrationId,
                    "sdk-tpm-https", null, AttestationMechanism.tpm(Base64.getEncoder().encodeToString(ek), null),
                    null, null, null, null, ProvisioningStatus.ENABLED, null, null, null, null, null, null, null),
                    null);

            ProvisioningDeviceClientRegistrationResult result = register(provider);

            assertThat(result.getProvisioningDeviceClientStatus())
                    .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
            String hub = server.info().hubs().get(0);
            assertThat(result.getIothubUri()).isEqualTo(hub);
            assertThat(result.getDeviceId()).isEqualTo("sdk-tpm-https");
            assertThat(result.getRegistrationId()).isEqualTo(registrationId);
            DeviceRegistrationState record = server.registrations().find(registrationId).orElseThrow();
            assertThat(record.status()).isEqualTo(RegistrationStatus.ASSIGNED);
            assertThat(record.tpm()).as("the record keeps the final authenticationKey").isNotNull();
            // What the SDK's device client would sign for the hub equals HMAC with the hub identity's key.
            DeviceIdentity identity = server.hub().find(hub, "sdk-tpm-https").orElseThrow();
            byte[] hubKey = Base64.getDecoder().decode(identity.authentication().symmetricKey().primaryKey());
            byte[] toSign = (hub + "/devices/sdk-tpm-https\n1893456000").getBytes(StandardCharsets.UTF_8);
            assertThat(provider.signWithIdentity(toSign)).isEqualTo(TpmCrypto.hmac(hubKey, toSign));
        }
    }

    @Test
    void sdkTpmProviderOverHttps_ekNotEnrolled_theSdkReportsTheFailure() throws Exception {
        try (Tpm2Tools tools = new Tpm2Tools(unknownTpm.tcti())) {
            SwtpmSecurityProvider provider = new SwtpmSecurityProvider(tools, trustingServerCa);
            String registrationId = provider.getRegistrationId();

            Exception error = registerExpectingFailure(provider);

            // The server answers 401 with the Azure error body (401002, no enrollment). The SDK 2.1.3 treats every
            // 401 of its TPM challenge step as the challenge (reference §6.4) and fails reading the absent
            // authenticationKey: the user gets "Failed to register", caused by that NullPointerException. This is
            // the SDK's behaviour against Azure too; answering another status would break the Node and C clients.
            assertThat(error).isInstanceOf(ProvisioningDeviceClientException.class)
                    .hasMessageContaining("Failed to register");
            assertThat(causes(error)).contains("getAuthenticationKey()");
            assertThat(server.registrations().find(registrationId)).isEmpty();
        }
    }

    private static ProvisioningDeviceClientRegistrationResult register(SwtpmSecurityProvider provider)
            throws Exception {
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.HTTPS, provider);
        try {
            return client.registerDeviceSync(90);
        } finally {
            client.close();
        }
    }

    private static Exception registerExpectingFailure(SwtpmSecurityProvider provider) {
        try {
            ProvisioningDeviceClientRegistrationResult r = register(provider);
            throw new AssertionError("registration should have failed but was "
                    + r.getProvisioningDeviceClientStatus());
        } catch (Exception e) {
            return e;
        }
    }

    private static String causes(Throwable error) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }
}
