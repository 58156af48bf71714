package io.opendps.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClient;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientRegistrationResult;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientStatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientSubstatus;
import com.microsoft.azure.sdk.iot.provisioning.device.internal.exceptions.ProvisioningDeviceHubException;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientTransportProtocol;
import com.microsoft.azure.sdk.iot.provisioning.security.SecurityProviderSymmetricKey;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.sas.DerivedKeys;
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
 * The official Azure IoT Java device SDK ({@code provisioning-device-client}, unmodified) provisions against the
 * real server over MQTT/TLS on port 8883, which the SDK hard-codes. The only customisation is the one every
 * user of a private CA makes: a security provider whose SSLContext trusts that CA.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AzureDeviceSdkIT {

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withPorts(ServerOptions.DPS_MQTT_PORT, 0));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void individualEnrollment_symmetricKey_isAssigned() throws Exception {
        IndividualEnrollment e = server.enrollments().putEnrollment("sdk-device-1",
                IndividualEnrollment.symmetricKey("sdk-device-1", null, null), null);
        String key = e.attestation().symmetricKey().primaryKey();

        ProvisioningDeviceClientRegistrationResult result = register("sdk-device-1", key);

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(result.getIothubUri()).isEqualTo("hub-1.opendps.local");
        assertThat(result.getDeviceId()).isEqualTo("sdk-device-1");
        assertThat(result.getSubstatus()).isEqualTo(ProvisioningDeviceClientSubstatus.INITIAL_ASSIGNMENT);
        DeviceRegistrationState record = server.registrations().find("sdk-device-1").orElseThrow();
        assertThat(record.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(record.assignedHub()).isEqualTo("hub-1.opendps.local");
    }

    @Test
    void individualEnrollment_reRegistration_isIdempotent() throws Exception {
        IndividualEnrollment e = server.enrollments().putEnrollment("sdk-device-again",
                IndividualEnrollment.symmetricKey("sdk-device-again", null, null), null);
        String key = e.attestation().symmetricKey().secondaryKey();
        ProvisioningDeviceClientRegistrationResult first = register("sdk-device-again", key);
        DeviceRegistrationState before = server.registrations().find("sdk-device-again").orElseThrow();

        ProvisioningDeviceClientRegistrationResult second = register("sdk-device-again", key);

        assertThat(second.getDeviceId()).isEqualTo(first.getDeviceId());
        assertThat(second.getIothubUri()).isEqualTo(first.getIothubUri());
        DeviceRegistrationState after = server.registrations().find("sdk-device-again").orElseThrow();
        assertThat(after.createdDateTimeUtc()).isEqualTo(before.createdDateTimeUtc());
        assertThat(after.etag()).isNotEqualTo(before.etag());
    }

    @Test
    void groupEnrollment_derivedKey_isAssigned() throws Exception {
        EnrollmentGroup g = server.enrollments().putGroup("sdk-group", EnrollmentGroup.symmetricKey("sdk-group",
                null, null), null);
        String deviceKey = DerivedKeys.deriveBase64(g.attestation().symmetricKey().primaryKey(), "sdk-group-dev-7");

        ProvisioningDeviceClientRegistrationResult result = register("sdk-group-dev-7", deviceKey);

        assertThat(result.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        assertThat(result.getDeviceId()).isEqualTo("sdk-group-dev-7");
        assertThat(server.registrations().find("sdk-group-dev-7").orElseThrow().enrollmentGroupId())
                .isEqualTo("sdk-group");
    }

    @Test
    void wrongKey_failsWithUnauthorized() throws Exception {
        server.enrollments().putEnrollment("sdk-wrong-key", IndividualEnrollment.symmetricKey("sdk-wrong-key", null,
                null), null);
        String wrong = Base64.getEncoder().encodeToString("not the enrollment's key 0123456789".getBytes(
                StandardCharsets.UTF_8));

        Exception error = registerExpectingFailure("sdk-wrong-key", wrong);

        assertThat(causes(error)).contains("Service error: 401002").contains("no enrollment for registration id");
    }

    @Test
    void unknownRegistrationId_failsWithUnauthorized() throws Exception {
        String key = Base64.getEncoder().encodeToString(new byte[32]);

        Exception error = registerExpectingFailure("sdk-nobody", key);

        assertThat(causes(error)).contains("Service error: 401002").contains("no enrollment for registration id");
    }

    @Test
    void disabledEnrollment_reportsDisabled() throws Exception {
        IndividualEnrollment e = IndividualEnrollment.symmetricKey("sdk-disabled", null, null);
        e = new IndividualEnrollment(e.registrationId(), null, null, e.attestation(), null, null, null, null,
                ProvisioningStatus.DISABLED, null, null, null, null, null, null, null);
        String key = server.enrollments().putEnrollment("sdk-disabled", e, null).attestation().symmetricKey()
                .primaryKey();

        Exception error = registerExpectingFailure("sdk-disabled", key);

        // The SDK turns a "disabled" operation status into a hub exception carrying our errorMessage.
        assertThat(error).isInstanceOf(ProvisioningDeviceHubException.class).hasMessage("Enrollment is disabled");
        assertThat(server.registrations().find("sdk-disabled").orElseThrow().status())
                .isEqualTo(RegistrationStatus.DISABLED);
    }

    private static ProvisioningDeviceClientRegistrationResult register(String registrationId, String key)
            throws Exception {
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.MQTT, provider(registrationId, key));
        try {
            return client.registerDeviceSync(60);
        } finally {
            client.close();
        }
    }

    private static Exception registerExpectingFailure(String registrationId, String key) throws Exception {
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.MQTT, provider(registrationId, key));
        try {
            client.registerDeviceSync(60);
            throw new AssertionError("registration of " + registrationId + " should have failed");
        } catch (Exception e) {
            return e;
        } finally {
            client.close();
        }
    }

    /** The SDK wraps the service's error: collect the messages of the whole cause chain. */
    private static String causes(Throwable error) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }

    private static SecurityProviderSymmetricKey provider(String registrationId, String key) {
        SSLContext trustingTestCa = TlsMaterial.trustingClientContext(server.info().caCertificate());
        // As the SDK samples do: the key is passed as the bytes of its base64 text.
        return new SecurityProviderSymmetricKey(key.getBytes(StandardCharsets.UTF_8), registrationId) {
            @Override
            public SSLContext getSSLContext() {
                return trustingTestCa;
            }
        };
    }
}
