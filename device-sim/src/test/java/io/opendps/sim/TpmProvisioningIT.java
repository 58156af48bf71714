package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.tpm.TpmCrypto;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * TPM attestation end to end over MQTT, then the hub with a SAS token signed in the TPM: two software TPMs (swtpm, own state directories, ephemeral ports, killed at
 * the end) driven by the real tpm2-tools, the real server (embedded broker, TLS, H2) and the simulated device.
 * Requires the Debian packages {@code swtpm} and {@code tpm2-tools} (CI installs them); never skipped.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TpmProvisioningIT {

    @TempDir
    static Path dir;
    static OpenDpsServer server;
    static ServiceInfo info;
    static Swtpm deviceTpm;
    static Swtpm otherTpm;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dir.resolve("server")));
        info = server.info();
        deviceTpm = Swtpm.start(dir.resolve("tpm-device"));
        otherTpm = Swtpm.start(dir.resolve("tpm-other"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {deviceTpm, otherTpm, server}) {
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
    void tpmInfoThenEnrollThenProvisionOverMqtt_assignedWithTheTpmKeyAtTheHubAndTelemetrySigned() throws Exception {
        StringWriter infoOut = new StringWriter();
        StringWriter infoErr = new StringWriter();
        int infoCode = command(infoOut, infoErr).execute("tpm-info", "--tcti", deviceTpm.tcti(), "--json");
        assertThat(infoCode).as(infoErr.toString()).isZero();
        JsonNode tpmInfo = Json.mapper().readTree(infoOut.toString());
        String ek = tpmInfo.get("endorsementKey").asText();
        String registrationId = tpmInfo.get("registrationId").asText();
        assertThat(registrationId).hasSize(52).isEqualTo(TpmCrypto.registrationId(Base64.getDecoder().decode(ek)));
        server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(registrationId, "tpm-device-it",
                null, AttestationMechanism.tpm(ek, null), null, null, null, null, ProvisioningStatus.ENABLED, null,
                null, null, null, null, null, null), null);

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String hub = info.hubs().get(0);
        long before = server.hub().messagesAfter(hub, 0, 1000).size();
        int code = command(out, err).execute("provision", "--tpm", "--tcti", deviceTpm.tcti(), "--host",
                info.mqttHost(), "--data-dir", dir.resolve("server").toString(), "--timeout", "30",
                "--send-telemetry", "2", "--gateway-host", info.mqttHost());

        assertThat(code).as(out + "\n" + err).isZero();
        assertThat(out.toString().lines()).contains("Connected to IoT hub " + hub + " as tpm-device-it",
                "... done sending message #2");
        assertThat(server.hub().messagesAfter(hub, 0, 1000)).hasSize((int) before + 2)
                .filteredOn(m -> m.deviceId().equals("tpm-device-it")).hasSize(2);
        assertThat(out.toString().lines()).contains("IoT Hub: " + hub, "Device ID: tpm-device-it")
                .anySatisfy(l -> assertThat(l).startsWith("TPM challenge answered")
                        .endsWith("final authenticationKey imported"));
        DeviceRegistrationState record = server.registrations().find(registrationId).orElseThrow();
        assertThat(record.tpm()).as("the record keeps the final authenticationKey").isNotNull();
        // The hub key is the key in the TPM: the TPM's HMAC equals HMAC with the hub identity's key.
        DeviceIdentity identity = server.hub().find(hub, "tpm-device-it").orElseThrow();
        byte[] hubKey = Base64.getDecoder().decode(identity.authentication().symmetricKey().primaryKey());
        byte[] message = (hub + "/devices/tpm-device-it\n1893456000").getBytes(StandardCharsets.UTF_8);
        try (Tpm2Tools tools = new Tpm2Tools(deviceTpm.tcti())) {
            assertThat(tools.hmac(message)).isEqualTo(TpmCrypto.hmac(hubKey, message));
        }
    }

    @Test
    void anotherTpmPresentingTheEnrolledEkCannotAnswerTheChallenge() throws Exception {
        byte[] ek;
        byte[] otherSrk;
        try (Tpm2Tools device = new Tpm2Tools(deviceTpm.tcti()); Tpm2Tools other = new Tpm2Tools(otherTpm.tcti())) {
            ek = device.endorsementKey();
            device.storageRootKey();
            otherSrk = other.storageRootKey();
            other.endorsementKey();
        }
        String registrationId = "tpm-impostor-target";
        server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(registrationId, null, null,
                AttestationMechanism.tpm(Base64.getEncoder().encodeToString(ek), null), null, null, null, null,
                ProvisioningStatus.ENABLED, null, null, null, null, null, null, null), null);
        SimulatedDeviceOptions options = new SimulatedDeviceOptions(info.mqttHost(), info.mqttPort(), info.idScope(),
                registrationId, new TpmCredential(ek, otherSrk, null), null, TrustMaterial.fromPem(
                        info.caCertificate()), Duration.ofSeconds(30));

        try (SimulatorRuntime runtime = SimulatorRuntime.create(1, 1);
                Tpm2Tools impostor = new Tpm2Tools(otherTpm.tcti())) {
            // The public EK is easy to copy; the challenge is encrypted to it, so the other TPM cannot activate it.
            assertThatThrownBy(() -> TpmProvisioning.provision(options, impostor, runtime, Clock.systemUTC()))
                    .isInstanceOf(Tpm2Tools.TpmException.class)
                    .hasMessageContaining("tpm2_activatecredential failed");
        }
        assertThat(server.registrations().find(registrationId)).isEmpty();
    }

    @Test
    void anotherTpmWithItsOwnEkIsRefusedWithoutChallenge() throws Exception {
        String registrationId = "tpm-other-ek-target";
        try (Tpm2Tools device = new Tpm2Tools(deviceTpm.tcti())) {
            server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(registrationId, null, null,
                    AttestationMechanism.tpm(Base64.getEncoder().encodeToString(device.endorsementKey()), null),
                    null, null, null, null, ProvisioningStatus.ENABLED, null, null, null, null, null, null, null),
                    null);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("provision", "--tpm", "--tcti", otherTpm.tcti(), "--registration-id",
                registrationId, "--host", info.mqttHost(), "--data-dir", dir.resolve("server").toString(),
                "--timeout", "30");

        assertThat(code).isEqualTo(1);
        assertThat(out + err.toString()).contains("401")
                .contains("no enrollment for registration id '" + registrationId + "' accepts this endorsement key");
    }

    private static CommandLine command(StringWriter out, StringWriter err) {
        CommandLine command = new CommandLine(new DeviceCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command;
    }
}
