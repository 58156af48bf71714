package io.opendps.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.Twin;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClient;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientRegistrationResult;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientStatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientSubstatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientTransportProtocol;
import com.microsoft.azure.sdk.iot.provisioning.security.SecurityProviderSymmetricKey;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.json.Json;
import io.opendps.core.registration.Substatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reprovisioning end to end with the official Azure Java clients, unmodified, across two built-in hubs: a device
 * provisions to {@code hub-1}, reports a property through {@code iot-device-client}, its enrollment's static hub is
 * changed to {@code hub-2}, and it provisions again. Per policy: migrate (its reported property and the operator's
 * desired change arrive on hub-2), reset (hub-2 holds the enrollment's initial twin), never (it stays on hub-1). The
 * device clients reach both hubs through {@code GatewayHostName=localhost} (the hub names do not resolve). The
 * provisioning client speaks api-version 2019-03-31, so it sees {@code initialAssignment} where the service API at a
 * newer version shows {@code reprovisionedToInitialAssignment}.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AzureReprovisionIT {

    private static final Logger LOG = LoggerFactory.getLogger(AzureReprovisionIT.class);
    private static final String HUB_1 = "hub-1.opendps.local";
    private static final String HUB_2 = "hub-2.opendps.local";
    private static final String TWIN = "\"initialTwin\":{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":"
            + "{\"interval\":30}}}";
    private static final int TWIN_CALL_TIMEOUT_MS = 10_000;
    private static final int TWIN_CALL_ATTEMPTS = 3;

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withPorts(ServerOptions.DPS_MQTT_PORT, 0)
                .withHubs(List.of(HUB_1, HUB_2)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void migrate_reportedAndDesiredMoveToTheNewHub_andTheOldHubForgetsTheDevice() throws Exception {
        String key = enroll("reprov-migrate", HUB_1, true, true);
        assignedToHub1WithReportedFirmware("reprov-migrate", key);
        server.hub().updateTwin(HUB_1, "reprov-migrate", null, Json.mapper().createObjectNode().put("interval", 5));
        enroll("reprov-migrate", HUB_2, true, true);

        ProvisioningDeviceClientRegistrationResult moved = provision("reprov-migrate", key);

        assertThat(moved.getIothubUri()).isEqualTo(HUB_2);
        assertThat(moved.getSubstatus()).isEqualTo(ProvisioningDeviceClientSubstatus.DEVICE_DATA_MIGRATED);
        Twin twin = readTwin(HUB_2, "reprov-migrate", key);
        assertThat(((Number) twin.getDesiredProperties().get("interval")).intValue()).isEqualTo(5);
        assertThat(twin.getReportedProperties().get("firmware")).isEqualTo("1.0.3");
        assertThat(server.hub().twin(HUB_2, "reprov-migrate").tags().path("site").asText()).isEqualTo("north");
        assertThat(server.hub().find(HUB_1, "reprov-migrate")).isEmpty();

        ProvisioningDeviceClientRegistrationResult again = provision("reprov-migrate", key);
        assertThat(again.getIothubUri()).isEqualTo(HUB_2);
        assertThat(again.getSubstatus()).as("gated for api-version 2019-03-31")
                .isEqualTo(ProvisioningDeviceClientSubstatus.INITIAL_ASSIGNMENT);
        assertThat(server.registrations().find("reprov-migrate").orElseThrow().substatus())
                .isEqualTo(Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT);
    }

    @Test
    void reset_newHubHoldsTheInitialTwin() throws Exception {
        String key = enroll("reprov-reset", HUB_1, true, false);
        assignedToHub1WithReportedFirmware("reprov-reset", key);
        enroll("reprov-reset", HUB_2, true, false);

        ProvisioningDeviceClientRegistrationResult moved = provision("reprov-reset", key);

        assertThat(moved.getIothubUri()).isEqualTo(HUB_2);
        assertThat(moved.getSubstatus()).isEqualTo(ProvisioningDeviceClientSubstatus.DEVICE_DATA_RESET);
        Twin twin = readTwin(HUB_2, "reprov-reset", key);
        assertThat(((Number) twin.getDesiredProperties().get("interval")).intValue()).isEqualTo(30);
        assertThat(twin.getReportedProperties().containsKey("firmware")).isFalse();
        assertThat(server.hub().find(HUB_1, "reprov-reset")).isEmpty();
    }

    @Test
    void never_deviceStaysOnItsHub() throws Exception {
        String key = enroll("reprov-never", HUB_1, false, false);
        assignedToHub1WithReportedFirmware("reprov-never", key);
        enroll("reprov-never", HUB_2, false, false);

        ProvisioningDeviceClientRegistrationResult again = provision("reprov-never", key);

        assertThat(again.getIothubUri()).isEqualTo(HUB_1);
        assertThat(again.getSubstatus()).isEqualTo(ProvisioningDeviceClientSubstatus.INITIAL_ASSIGNMENT);
        assertThat(readTwin(HUB_1, "reprov-never", key).getReportedProperties().get("firmware")).isEqualTo("1.0.3");
        assertThat(server.hub().find(HUB_2, "reprov-never")).isEmpty();
    }

    // --- helpers ---

    /** Writes the enrollment (static to {@code hub}, the given reprovision policy); returns its primary key. */
    private static String enroll(String id, String hub, boolean updateHubAssignment, boolean migrateDeviceData)
            throws Exception {
        String existingKey = server.enrollments().getEnrollment(id).isPresent()
                ? server.enrollments().enrollmentAttestation(id).symmetricKey().primaryKey() : null;
        String attestation = existingKey == null ? "{\"type\":\"symmetricKey\"}"
                : "{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" + existingKey
                        + "\",\"secondaryKey\":\"" + server.enrollments().enrollmentAttestation(id).symmetricKey()
                        .secondaryKey() + "\"}}";
        String json = "{\"registrationId\":\"" + id + "\",\"attestation\":" + attestation + ",\"allocationPolicy\":"
                + "\"static\",\"iotHubs\":[\"" + hub + "\"]," + TWIN + ",\"reprovisionPolicy\":{\"updateHubAssignment\":"
                + updateHubAssignment + ",\"migrateDeviceData\":" + migrateDeviceData + "}}";
        IndividualEnrollment stored = server.enrollments().putEnrollment(id,
                Json.parse(json.getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class), "*");
        return stored.attestation().symmetricKey().primaryKey();
    }

    private static void assignedToHub1WithReportedFirmware(String id, String key) throws Exception {
        ProvisioningDeviceClientRegistrationResult first = provision(id, key);
        assertThat(first.getIothubUri()).isEqualTo(HUB_1);
        assertThat(first.getSubstatus()).isEqualTo(ProvisioningDeviceClientSubstatus.INITIAL_ASSIGNMENT);
        DeviceClient client = deviceClient(HUB_1, id, key);
        client.open(false);
        try {
            client.subscribeToDesiredProperties((twin, context) -> { }, null);
            TwinCollection reported = new TwinCollection();
            reported.put("firmware", "1.0.3");
            twinCall("updateReportedProperties", () -> client.updateReportedProperties(reported,
                    TWIN_CALL_TIMEOUT_MS));
        } finally {
            client.close();
        }
        assertThat(server.hub().twin(HUB_1, id).reported().path("firmware").asText()).isEqualTo("1.0.3");
    }

    private static Twin readTwin(String hub, String id, String key) throws Exception {
        DeviceClient client = deviceClient(hub, id, key);
        client.open(false);
        try {
            client.subscribeToDesiredProperties((twin, context) -> { }, null);
            return twinCall("getTwin", () -> client.getTwin(TWIN_CALL_TIMEOUT_MS));
        } finally {
            client.close();
        }
    }

    private static DeviceClient deviceClient(String hub, String id, String key) {
        return new DeviceClient("HostName=" + hub + ";DeviceId=" + id + ";SharedAccessKey=" + key
                + ";GatewayHostName=localhost", IotHubClientProtocol.MQTT,
                ClientOptions.builder().sslContext(trustingServerCa()).build());
    }

    /** Retries a twin call the client lost to its own receive race (see AzureDeviceClientIT#twinCall). */
    private static <T> T twinCall(String what, Callable<T> call) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.call();
            } catch (IotHubClientException e) {
                if (e.getStatusCode() != IotHubStatusCode.DEVICE_OPERATION_TIMED_OUT || attempt == TWIN_CALL_ATTEMPTS) {
                    throw e;
                }
                LOG.warn("{} timed out in the client (attempt {} of {}); retrying", what, attempt, TWIN_CALL_ATTEMPTS);
            }
        }
    }

    private static ProvisioningDeviceClientRegistrationResult provision(String id, String key) throws Exception {
        SSLContext trusting = trustingServerCa();
        SecurityProviderSymmetricKey provider = new SecurityProviderSymmetricKey(key.getBytes(StandardCharsets.UTF_8),
                id) {
            @Override
            public SSLContext getSSLContext() {
                return trusting;
            }
        };
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.MQTT, provider);
        try {
            ProvisioningDeviceClientRegistrationResult result = client.registerDeviceSync(60);
            assertThat(result.getProvisioningDeviceClientStatus())
                    .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
            return result;
        } finally {
            client.close();
        }
    }

    private static SSLContext trustingServerCa() {
        return TlsMaterial.trustingClientContext(server.info().caCertificate());
    }
}
