package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.broker.tls.Certificates;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.json.Json;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.tpm.TpmCrypto;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code device provision --transport https} end to end against the real server's HTTPS device API (ephemeral
 * ports; the HTTPS port taken from service.json): symmetric key (then hub telemetry over MQTT), X.509 with the
 * chain in the TLS handshake, TPM with a software TPM (swtpm + tpm2-tools, required, never skipped), and a wrong
 * key refused with the Azure error.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProvisionHttpsIT {

    @TempDir
    static Path dir;
    static OpenDpsServer server;
    static ServiceInfo info;
    static Swtpm tpm;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dir.resolve("server")));
        info = server.info();
        tpm = Swtpm.start(dir.resolve("tpm"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {tpm, server}) {
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
    void symmetricKeyOverHttps_isAssigned_thenTelemetryGoesToTheHubOverMqtt() {
        String key = server.enrollments().putEnrollment("https-sim-sym", IndividualEnrollment.symmetricKey(
                "https-sim-sym", null, null), null).attestation().symmetricKey().primaryKey();
        String hub = info.hubs().get(0);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = execute(out, err, "provision", "--transport", "https", "--registration-id", "https-sim-sym",
                "--symmetric-key", key, "--host", info.httpsHost(), "--send-telemetry", "1", "--gateway-host",
                info.mqttHost());

        assertThat(code).as(out + "\n" + err).isZero();
        assertThat(out.toString().lines()).contains("IoT Hub: " + hub, "Device ID: https-sim-sym",
                "... done sending message #1")
                .anySatisfy(l -> assertThat(l).startsWith("Provisioning device https-sim-sym with ")
                        .contains(":" + info.httpsPort() + " "));
        assertThat(server.registrations().find("https-sim-sym").orElseThrow().status())
                .isEqualTo(RegistrationStatus.ASSIGNED);
    }

    @Test
    void x509OverHttps_presentsTheChainInTheHandshake_andIsAssigned() throws Exception {
        TestPki pki = TestPki.create("HTTPS sim root");
        TestPki.Device device = pki.device("CN=https-sim-x509", "EC");
        server.enrollments().putEnrollment("https-sim-x509", new IndividualEnrollment("https-sim-x509", null, null,
                AttestationMechanism.x509(X509Attestation.clientCertificates(new X509Certificates(
                        new X509CertificateWithInfo(Certificates.toPem(device.leaf()), null), null))), null, null,
                null, null, ProvisioningStatus.ENABLED, null, null, null, null, null, null, null), null);
        Path cert = Files.writeString(dir.resolve("x509-chain.pem"), TestPki.pem(device.leaf(),
                device.intermediate()));
        Path key = Files.writeString(dir.resolve("x509-key.pem"), TestPki.pkcs8(device.keys().getPrivate()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = execute(out, err, "provision", "--transport", "https", "--cert", cert.toString(), "--key",
                key.toString(), "--host", info.httpsHost(), "--json");

        assertThat(code).as(out + "\n" + err).isZero();
        JsonNode answer = Json.mapper().readTree(out.toString());
        assertThat(answer.path("status").asText()).isEqualTo("assigned");
        assertThat(answer.path("registrationState").path("deviceId").asText()).isEqualTo("https-sim-x509");
        assertThat(answer.path("registrationState").path("x509").path("certificateInfo").path("sha256Thumbprint")
                .asText()).isEqualTo(X509Credential.thumbprint(device.leaf()));
    }

    @Test
    void tpmOverHttps_answersTheChallenge_andTheHubKeyIsTheKeyInTheTpm() throws Exception {
        String registrationId;
        try (Tpm2Tools tools = new Tpm2Tools(tpm.tcti())) {
            byte[] ek = tools.endorsementKey();
            registrationId = TpmCrypto.registrationId(ek);
            server.enrollments().putEnrollment(registrationId, new IndividualEnrollment(registrationId,
                    "https-sim-tpm", null, AttestationMechanism.tpm(Base64.getEncoder().encodeToString(ek), null),
                    null, null, null, null, ProvisioningStatus.ENABLED, null, null, null, null, null, null, null),
                    null);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = execute(out, err, "provision", "--transport", "https", "--tpm", "--tcti", tpm.tcti(), "--host",
                info.httpsHost(), "--https-port", Integer.toString(info.httpsPort()));

        assertThat(code).as(out + "\n" + err).isZero();
        String hub = info.hubs().get(0);
        assertThat(out.toString().lines()).contains("IoT Hub: " + hub, "Device ID: https-sim-tpm")
                .anySatisfy(l -> assertThat(l).startsWith("TPM challenge answered")
                        .endsWith("final authenticationKey imported"));
        assertThat(server.registrations().find(registrationId).orElseThrow().tpm()).isNotNull();
        DeviceIdentity identity = server.hub().find(hub, "https-sim-tpm").orElseThrow();
        byte[] hubKey = Base64.getDecoder().decode(identity.authentication().symmetricKey().primaryKey());
        byte[] message = (hub + "/devices/https-sim-tpm\n1893456000").getBytes(StandardCharsets.UTF_8);
        try (Tpm2Tools tools = new Tpm2Tools(tpm.tcti())) {
            assertThat(tools.hmac(message)).isEqualTo(TpmCrypto.hmac(hubKey, message));
        }
    }

    @Test
    void wrongKeyOverHttps_isRefusedWith401002_andNothingIsStored() {
        server.enrollments().putEnrollment("https-sim-wrong", IndividualEnrollment.symmetricKey("https-sim-wrong",
                null, null), null);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = execute(out, err, "provision", "--transport", "https", "--registration-id", "https-sim-wrong",
                "--symmetric-key", Base64.getEncoder().encodeToString(new byte[32]), "--host", info.httpsHost());

        assertThat(code).isEqualTo(1);
        assertThat(out + err.toString()).contains("Registration failed: status 401, error 401002");
        assertThat(server.registrations().find("https-sim-wrong")).isEmpty();
    }

    @Test
    void portOptionsBelongToTheirTransport() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(execute(out, err, "provision", "--https-port", "443", "--registration-id", "x",
                "--symmetric-key", "a2V5")).isEqualTo(2);
        assertThat(err.toString()).contains("--https-port needs --transport https");
        assertThat(execute(out, err, "provision", "--transport", "https", "--port", "8883", "--registration-id", "x",
                "--symmetric-key", "a2V5")).isEqualTo(2);
        assertThat(err.toString()).contains("--port is the MQTT port; with --transport https give --https-port");
        assertThat(execute(out, err, "provision", "--transport", "amqp")).isEqualTo(2);
        assertThat(err.toString()).contains("'amqp' is not a transport: use mqtt or https");
    }

    private static int execute(StringWriter out, StringWriter err, String... args) {
        CommandLine command = new CommandLine(new DeviceCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--data-dir";
        all[args.length + 1] = dir.resolve("server").toString();
        all[args.length + 2] = "--timeout";
        all[args.length + 3] = "30";
        return command.execute(all);
    }
}
