package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.broker.tls.Certificates;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.hub.HubMessage;
import io.opendps.core.json.Json;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code device provision --send-telemetry N} against the real server: the device continues to its assigned hub (the
 * server's built-in hub on the same MQTT/TLS listener, reached through {@code --gateway-host} because the test hub
 * name does not resolve), and the hub's message log holds what it sent.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HubTelemetryIT {

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static ServiceInfo info;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        info = server.info();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void provisionCommand_sendTelemetry3_hubLogHoldsTheMessagesAndDesiredPropertiesArePrinted() throws Exception {
        String hub = info.hubs().get(0);
        IndividualEnrollment e = IndividualEnrollment.symmetricKey("tele-1", null, null);
        e = new IndividualEnrollment(e.registrationId(), null, null, e.attestation(), null, null,
                Json.mapper().readTree("{\"properties\":{\"desired\":{\"interval\":5}}}"), null,
                ProvisioningStatus.ENABLED, null, null, null, null, null, null, null);
        String key = server.enrollments().putEnrollment("tele-1", e, null).attestation().symmetricKey()
                .primaryKey();
        long before = lastSequence(hub);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("--host", info.mqttHost(), "--registration-id", "tele-1",
                "--symmetric-key", key, "--data-dir", dataDir.toString(), "--timeout", "30",
                "--send-telemetry", "3", "--gateway-host", info.mqttHost());

        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString().lines()).contains(
                "Connected to IoT hub " + hub + " as tele-1",
                "Desired properties: {\"interval\":5,\"$version\":1}",
                "Sending message #1 ...", "Sending message #2 ...", "Sending message #3 ...",
                "... done sending message #3");
        List<HubMessage> messages = server.hub().messagesAfter(hub, before, 100);
        assertThat(messages).hasSize(3).allSatisfy(m -> {
            assertThat(m.deviceId()).isEqualTo("tele-1");
            assertThat(m.properties()).containsEntry("$.ct", "application/json").containsEntry("$.ce", "utf-8");
        });
        assertThat(new String(messages.get(2).body(), StandardCharsets.UTF_8)).isEqualTo(HubTelemetry.body(3));
    }

    @Test
    void hubTelemetry_x509Device_sendsThreeMessagesWithTheCertificateAsIdentity() throws Exception {
        String hub = info.hubs().get(0);
        TestPki.Device device = TestPki.create("hub telemetry IT CA").device("CN=tele-x509", "EC");
        X509Attestation x509 = X509Attestation.clientCertificates(new X509Certificates(
                new X509CertificateWithInfo(Certificates.toPem(device.leaf()), null), null));
        server.enrollments().putEnrollment("tele-x509", new IndividualEnrollment("tele-x509", null, null,
                AttestationMechanism.x509(x509), null, null,
                Json.mapper().readTree("{\"properties\":{\"desired\":{\"mode\":\"x509\"}}}"), null,
                ProvisioningStatus.ENABLED, null, null, null, null, null, null, null), null);
        try (SimulatorRuntime runtime = SimulatorRuntime.create(1, 1)) {
            ProvisioningOutcome outcome = new SimulatedDevice(SimulatedDeviceOptions.ofX509(info.mqttHost(),
                    info.mqttPort(), info.idScope(), device.credential()).withTrust(trust())
                    .withTimeout(Duration.ofSeconds(20)), runtime).provision().get(40, TimeUnit.SECONDS);
            assertThat(outcome.assigned()).as(outcome.describe()).isTrue();
        }
        StringWriter out = new StringWriter();

        new HubTelemetry(hub, "tele-x509", info.mqttHost(), info.mqttPort(), device.credential(), trust(),
                Duration.ofSeconds(20)).run(3, new PrintWriter(out, true), Clock.systemUTC());

        assertThat(out.toString().lines()).contains("Desired properties: {\"mode\":\"x509\",\"$version\":1}",
                "Sending message #3 ...", "... done sending message #3");
        assertThat(server.hub().messagesAfter(hub, 0, 1000)).filteredOn(m -> m.deviceId().equals("tele-x509"))
                .hasSize(3)
                .allSatisfy(m -> assertThat(m.properties()).containsEntry("$.ct", "application/json"));
    }

    @Test
    void hubTelemetry_wrongKey_isRefusedAtConnectNamingCredentialAndHub() {
        String hub = info.hubs().get(0);
        server.enrollments().putEnrollment("tele-wrong", IndividualEnrollment.symmetricKey("tele-wrong", null,
                null), null);
        String wrong = Base64.getEncoder().encodeToString("not the device's key 0123456789".getBytes(
                StandardCharsets.UTF_8));
        HubTelemetry telemetry = new HubTelemetry(hub, "tele-wrong", info.mqttHost(), info.mqttPort(),
                new SymmetricKeyCredential(wrong), trust(), Duration.ofSeconds(20));
        long before = lastSequence(hub);

        assertThatThrownBy(() -> telemetry.run(1, new PrintWriter(new StringWriter()), Clock.systemUTC()))
                .isInstanceOf(HubTelemetry.HubException.class)
                .hasMessageStartingWith("IoT hub " + hub + " refused device tele-wrong with its symmetric key");
        assertThat(server.hub().messagesAfter(hub, before, 100)).isEmpty();
    }

    private static javax.net.ssl.TrustManagerFactory trust() {
        try {
            return TrustMaterial.fromPem(info.caCertificate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static long lastSequence(String hub) {
        List<HubMessage> all = server.hub().messagesAfter(hub, 0, 1000);
        return all.isEmpty() ? 0 : all.get(all.size() - 1).sequence();
    }

    private static CommandLine command(StringWriter out, StringWriter err) {
        CommandLine command = new CommandLine(new ProvisionCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command;
    }
}
