package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.opendps.core.sas.DerivedKeys;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ProvisionCommandTest {

    private static final String KEY = SimulatedDeviceTest.KEY;
    private static final String GROUP_KEY = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

    @TempDir
    Path dataDir;

    private final Map<String, String> environment = new HashMap<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void noQuickstartEnvironment() {
        for (String name : List.of("PROVISIONING_HOST", "PROVISIONING_IDSCOPE", "PROVISIONING_REGISTRATION_ID",
                "PROVISIONING_SYMMETRIC_KEY")) {
            assumeTrue(System.getenv(name) == null, name + " is set in this environment");
        }
    }

    @Test
    void resolve_allOptionsGiven_usesThemOverServiceFile() throws IOException {
        writeServiceFile("0ne-FROM-FILE", "/file/ca.pem", "localhost:18883");

        ProvisionCommand.Settings settings = resolve("--host", "dps.example.com", "--port", "9883",
                "--id-scope", "0ne00000001", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--ca", "/given/ca.pem", "--payload", "{\"a\":1}", "--timeout", "5", "--data-dir", dataDir.toString());

        assertThat(settings.host()).isEqualTo("dps.example.com");
        assertThat(settings.port()).isEqualTo(9883);
        assertThat(settings.idScope()).isEqualTo("0ne00000001");
        assertThat(settings.registrationId()).isEqualTo("dev-1");
        assertThat(settings.credential()).isEqualTo(new SymmetricKeyCredential(KEY));
        assertThat(settings.ca()).isEqualTo(Path.of("/given/ca.pem"));
        assertThat(settings.payload().path("a").asInt()).isEqualTo(1);
        assertThat(settings.timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void resolve_noScopeCaOrPort_readsThemFromServiceFile() throws IOException {
        writeServiceFile("0ne0123ABCD", "/abs/path/ca.pem", "localhost:18883");

        ProvisionCommand.Settings settings = resolve("--registration-id", "dev-1", "--symmetric-key", KEY,
                "--data-dir", dataDir.toString());

        assertThat(settings.idScope()).isEqualTo("0ne0123ABCD");
        assertThat(settings.ca()).isEqualTo(Path.of("/abs/path/ca.pem"));
        assertThat(settings.port()).isEqualTo(18883);
        assertThat(settings.host()).isEqualTo("localhost");
    }

    @Test
    void resolve_explicitPort_winsOverMqttEndpoint() throws IOException {
        writeServiceFile("0ne0123ABCD", "/abs/path/ca.pem", "localhost:18883");

        ProvisionCommand.Settings settings = resolve("--registration-id", "dev-1", "--symmetric-key", KEY,
                "--data-dir", dataDir.toString(), "--port", "8883");

        assertThat(settings.port()).isEqualTo(8883);
    }

    @Test
    void resolve_noServiceFile_usesQuickstartDefaults() {
        ProvisionCommand.Settings settings = resolve("--id-scope", "0ne1", "--registration-id", "dev-1",
                "--symmetric-key", KEY, "--data-dir", dataDir.toString());

        assertThat(settings.host()).isEqualTo("localhost");
        assertThat(settings.port()).isEqualTo(8883);
        assertThat(settings.ca()).isNull();
        assertThat(settings.payload()).isNull();
        assertThat(settings.timeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void resolve_groupKey_derivesTheDeviceKeyFromTheRegistrationId() {
        ProvisionCommand.Settings settings = resolve("--id-scope", "0ne1", "--registration-id", "my-device-01",
                "--group-key", GROUP_KEY, "--data-dir", dataDir.toString());

        assertThat(((SymmetricKeyCredential) settings.credential()).key())
                .isEqualTo(DerivedKeys.deriveBase64(GROUP_KEY, "my-device-01"))
                .isEqualTo("pVwrrnsS3LMMG0J+YLiW+6Ewipb33TvgohNoecRqnGA=");
    }

    @Test
    void execute_missingIdScope_isAUsageErrorNamingOptionAndVariable() {
        int code = execute("--registration-id", "dev-1", "--symmetric-key", KEY, "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Missing ID scope").contains("--id-scope").contains("PROVISIONING_IDSCOPE");
    }

    @Test
    void execute_missingRegistrationId_isAUsageErrorNamingOptionAndVariable() {
        int code = execute("--id-scope", "0ne1", "--symmetric-key", KEY, "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--registration-id").contains("PROVISIONING_REGISTRATION_ID");
    }

    @Test
    void execute_missingKey_isAUsageErrorNamingBothKeyOptions() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--symmetric-key").contains("PROVISIONING_SYMMETRIC_KEY")
                .contains("--group-key");
    }

    @Test
    void execute_bothKeys_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--group-key", GROUP_KEY, "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("mutually exclusive");
    }

    @Test
    void execute_tpmWithAKeyOrCertificate_isAUsageError() {
        for (String[] other : new String[][] {{"--symmetric-key", KEY}, {"--group-key", GROUP_KEY},
            {"--cert", "device.pem"}}) {
            int code = execute("--id-scope", "0ne1", "--tpm", other[0], other[1], "--data-dir", dataDir.toString());

            assertThat(code).as(other[0]).isEqualTo(2);
            assertThat(err.toString()).contains("--tpm and " + other[0] + " are mutually exclusive");
        }
    }

    @Test
    void execute_tctiWithoutTpm_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--tcti", "swtpm:port=2321", "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--tcti needs --tpm");
    }

    @Test
    void execute_tpmUnreachable_exitsOneNamingTheTpm() {
        int code = execute("--id-scope", "0ne1", "--tpm", "--tcti", "swtpm:host=127.0.0.1,port=1",
                "--data-dir", dataDir.toString(), "--timeout", "5");

        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("Cannot use the TPM (Tpm2Tools[tcti=swtpm:host=127.0.0.1,port=1])");
    }

    @Test
    void execute_sendTelemetryZero_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--send-telemetry", "0", "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Invalid --send-telemetry: must be at least 1, was 0");
    }

    @Test
    void execute_gatewayHostWithoutSendTelemetry_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--gateway-host", "127.0.0.1", "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--gateway-host and --hub-port need --send-telemetry");
    }

    @Test
    void execute_keyNotBase64_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", "%%%",
                "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Invalid --symmetric-key");
    }

    @Test
    void execute_invalidPayload_isAUsageErrorSayingSo() {
        for (String payload : List.of("{\"a\":", "{} trailing", "not json", "")) {
            err.getBuffer().setLength(0);

            int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                    "--payload", payload, "--data-dir", dataDir.toString());

            assertThat(code).as(payload).isEqualTo(2);
            assertThat(err.toString()).as(payload).contains("Invalid --payload");
        }
    }

    @Test
    void execute_invalidTimeout_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--timeout", "0", "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Invalid --timeout");
    }

    @Test
    void execute_unreadableServiceFile_isAUsageErrorNamingTheFile() throws IOException {
        Files.writeString(dataDir.resolve("service.json"), "{broken");

        int code = execute("--registration-id", "dev-1", "--symmetric-key", KEY, "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Cannot read").contains("service.json");
    }

    @Test
    void execute_missingCaFile_isAUsageErrorNamingTheFile() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key", KEY,
                "--ca", dataDir.resolve("absent.pem").toString(), "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Cannot load the CA certificate").contains("absent.pem");
    }

    @Test
    void help_always_documentsEveryOptionAndVariable() {
        int code = execute("--help");

        assertThat(code).isZero();
        assertThat(out.toString()).contains("--host", "--port", "--id-scope", "--registration-id", "--symmetric-key",
                "--group-key", "--cert", "--key", "--chain", "--passphrase", "--ca", "--payload", "--timeout",
                "--data-dir", "--json", "PROVISIONING_HOST", "PROVISIONING_IDSCOPE", "PROVISIONING_REGISTRATION_ID",
                "PROVISIONING_SYMMETRIC_KEY", "X509_CERT_FILE", "X509_KEY_FILE", "PASS_PHRASE",
                "DPS_X509_REGISTRATION_ID", "service.json", "Exit codes");
    }

    @Test
    void deviceCommand_withoutSubcommand_isAUsageError() {
        CommandLine device = new CommandLine(new DeviceCommand());
        device.setOut(new PrintWriter(out, true));
        device.setErr(new PrintWriter(err, true));

        assertThat(device.execute()).isEqualTo(2);
        assertThat(err.toString()).contains("Missing subcommand");
        assertThat(device.execute("provision", "--help")).isZero();
        assertThat(out.toString()).contains("Usage: device provision");
    }

    @Test
    @Timeout(30)
    void execute_againstFakeDps_printsTheQuickstartLines() throws Exception {
        TestPki pki = TestPki.create("command test CA");
        Path caPem = pki.writeCaPem(dataDir.resolve("ca.pem"));
        try (FakeDpsBroker broker = FakeDpsBroker.start(pki.serverContext())) {
            broker.responder = SimulatedDeviceTest.assigningDps();
            writeServiceFile("0ne0123ABCD", caPem.toString(), "localhost:" + broker.port());

            int code = execute("--registration-id", "dev-1", "--symmetric-key", KEY, "--data-dir", dataDir.toString());

            assertThat(code).as(err.toString()).isZero();
            assertThat(out.toString().lines()).containsExactly(
                    "Provisioning device dev-1 with localhost:" + broker.port() + " (ID scope 0ne0123ABCD)",
                    "Waiting for the provisioning service to register the device...",
                    "Registration status: assigned",
                    "IoT Hub: hub-1.opendps.local",
                    "Device ID: dev-1",
                    "Substatus: initialAssignment",
                    "Payload: {\"fwChannel\":\"beta\"}");
        }
    }

    @Test
    @Timeout(30)
    void execute_errorAnswerAsJson_printsTheBodyAndExitsWithOne() throws Exception {
        TestPki pki = TestPki.create("command test CA");
        Path caPem = pki.writeCaPem(dataDir.resolve("ca.pem"));
        try (FakeDpsBroker broker = FakeDpsBroker.start(pki.serverContext())) {
            broker.responder = request -> List.of(
                    SimulatedDeviceTest.answer(401, request, "", ResponseReactionTest.UNAUTHORIZED));

            int code = execute("--registration-id", "dev-1", "--symmetric-key", KEY, "--id-scope", "0ne1",
                    "--port", Integer.toString(broker.port()), "--ca", caPem.toString(), "--json",
                    "--data-dir", dataDir.toString());

            assertThat(code).isEqualTo(1);
            assertThat(out.toString()).isEqualTo(ResponseReactionTest.UNAUTHORIZED + System.lineSeparator());
        }
    }

    private ProvisionCommand.Settings resolve(String... args) {
        ProvisionCommand command = new ProvisionCommand(environment);
        new CommandLine(command).parseArgs(args);
        return command.resolve();
    }

    private int execute(String... args) {
        CommandLine command = new CommandLine(new ProvisionCommand(environment));
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command.execute(args);
    }

    private void writeServiceFile(String idScope, String ca, String mqttEndpoint) throws IOException {
        Files.writeString(dataDir.resolve("service.json"), "{\"idScope\":\"" + idScope + "\",\"caCertificate\":\""
                + ca.replace("\\", "\\\\") + "\",\"mqttEndpoint\":\"" + mqttEndpoint + "\",\"httpsPort\":443}");
    }
}
