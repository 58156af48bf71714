package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code opendps} commands against a real server, through the HTTPS service API and MQTT/TLS. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliIT {

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;

    record Run(int exitCode, String out, String err) {
        JsonNode json() throws Exception {
            return Json.mapper().readTree(out);
        }
    }

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static Run opendps(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = OpenDpsMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(Arrays.asList(args));
        int code = cl.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    static String[] admin(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return all.toArray(String[]::new);
    }

    @Test
    void info_json_hasTheDocumentedKeys() throws Exception {
        Run run = opendps("info", "--json", "--data-dir", dataDir.toString());

        assertThat(run.exitCode()).isZero();
        JsonNode info = run.json();
        assertThat(info.path("idScope").asText()).matches("0ne[0-9A-F]{8}");
        assertThat(Path.of(info.path("caCertificate").asText())).exists();
        assertThat(info.path("mqttEndpoint").asText()).isEqualTo("localhost:" + server.info().mqttPort());
        assertThat(info.path("httpsEndpoint").asText()).isEqualTo("https://localhost:" + server.info().httpsPort());
        assertThat(info.path("serviceConnectionString").asText()).startsWith("HostName=localhost:");
        assertThat(info.path("hubs").get(0).asText()).isEqualTo("hub-1.opendps.local");
    }

    @Test
    void enrollment_createShowListDelete_roundTrip() throws Exception {
        Run created = opendps(admin("enrollment", "create", "--registration-id", "cli-dev-1", "--device-id",
                "cli-device", "--json"));
        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.json().path("attestation").path("symmetricKey").path("primaryKey").asText()).hasSize(88);

        Run shown = opendps(admin("enrollment", "show", "cli-dev-1"));
        assertThat(shown.exitCode()).isZero();
        assertThat(shown.out()).contains("registrationId: cli-dev-1").contains("deviceId: cli-device")
                .doesNotContain("primaryKey");

        Run withKeys = opendps(admin("enrollment", "show", "cli-dev-1", "--keys", "--json"));
        assertThat(withKeys.json().path("attestation").path("symmetricKey").path("primaryKey").asText())
                .isEqualTo(created.json().path("attestation").path("symmetricKey").path("primaryKey").asText());

        assertThat(opendps(admin("enrollment", "list")).out()).contains("cli-dev-1");
        assertThat(opendps(admin("enrollment", "delete", "cli-dev-1")).out()).contains("Deleted enrollment cli-dev-1");

        Run gone = opendps(admin("enrollment", "show", "cli-dev-1"));
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.err()).isEqualTo("opendps: enrollment 'cli-dev-1' not found" + System.lineSeparator());
    }

    @Test
    void enrollment_createTwice_isAClearConflict() {
        assertThat(opendps(admin("enrollment", "create", "--registration-id", "cli-dup")).exitCode()).isZero();

        Run again = opendps(admin("enrollment", "create", "--registration-id", "cli-dup"));

        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("'cli-dup' already exists");
    }

    @Test
    void enrollment_badKey_isAClearError() {
        Run run = opendps(admin("enrollment", "create", "--registration-id", "cli-bad-key", "--symmetric-key",
                "not base64!"));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("symmetricKey.primaryKey is not valid base64");
    }

    @Test
    void enrollment_createWithEndorsementKey_isATpmEnrollment() {
        // An RSA-2048 EK TPM2B_PUBLIC as swtpm made it with the SDK template (tpm2_readpublic -o ek.pub).
        String ek = EK_HEADER + "A".repeat(340) + "AA==";
        Run created = opendps(admin("enrollment", "create", "--registration-id", "cli-tpm-1", "--endorsement-key",
                ek, "--json"));

        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).contains("tpm").contains(ek);
        Run both = opendps(admin("enrollment", "create", "--registration-id", "cli-tpm-2", "--endorsement-key",
                ek, "--symmetric-key", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY="));
        assertThat(both.exitCode()).isNotZero();
        assertThat(both.err()).contains("mutually exclusive");
        Run broken = opendps(admin("enrollment", "create", "--registration-id", "cli-tpm-3", "--endorsement-key",
                "AAEC"));
        assertThat(broken.exitCode()).isEqualTo(1);
        assertThat(broken.err()).contains("endorsementKey");
    }

    /** The first 60 bytes (base64, 80 characters) of an RSA-2048 EK with the standard template; 256 modulus bytes follow. */
    private static final String EK_HEADER =
            "AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA";

    @Test
    void group_createAndDeviceProvision_withDerivedKey() throws Exception {
        Run group = opendps(admin("group", "create", "--group-id", "cli-fleet", "--json"));
        assertThat(group.exitCode()).as(group.err()).isZero();
        String groupKey = group.json().path("attestation").path("symmetricKey").path("primaryKey").asText();
        assertThat(opendps(admin("group", "list")).out()).contains("cli-fleet");

        Run derived = opendps("derive-key", "--group-key", groupKey, "--registration-id", "cli-sensor-7");
        assertThat(derived.exitCode()).isZero();

        Run device = opendps("device", "provision", "--data-dir", dataDir.toString(), "--registration-id",
                "cli-sensor-7", "--group-key", groupKey);

        assertThat(device.exitCode()).as(device.err()).isZero();
        assertThat(device.out()).contains("Registration status: assigned").contains("IoT Hub: hub-1.opendps.local")
                .contains("Device ID: cli-sensor-7");
        assertThat(server.registrations().find("cli-sensor-7").orElseThrow().enrollmentGroupId())
                .isEqualTo("cli-fleet");
    }

    @Test
    void deviceProvision_wrongKey_exitsNonZeroWithTheServersError() {
        opendps(admin("enrollment", "create", "--registration-id", "cli-dev-wrong"));

        Run device = opendps("device", "provision", "--data-dir", dataDir.toString(), "--registration-id",
                "cli-dev-wrong", "--symmetric-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");

        assertThat(device.exitCode()).isEqualTo(1);
        assertThat(device.out() + device.err()).contains("401002");
    }

    @Test
    void connectionString_malformed_isAClearError() {
        Run run = opendps("enrollment", "list", "--connection-string", "HostName=localhost;SharedAccessKey=abc");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("has no SharedAccessKeyName");
    }

    @Test
    void info_withoutServer_saysHowToStartOne(@TempDir Path empty) {
        Run run = opendps("info", "--data-dir", empty.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("start the server with './opendps serve");
    }

    @Test
    void serve_portTaken_isAOneLineError(@TempDir Path other) {
        Run run = opendps("serve", "--data-dir", other.toString(), "--bind", "127.0.0.1", "--mqtt-port",
                Integer.toString(server.info().mqttPort()), "--https-port", "0");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("opendps: cannot listen for device MQTT/TLS on 127.0.0.1:"
                + server.info().mqttPort()).contains("--mqtt-port");
        assertThat(run.err().lines()).hasSize(1);
    }

    @Test
    void serve_replyDelayOutOfRange_isAUsageError(@TempDir Path other) {
        Run run = opendps("serve", "--data-dir", other.toString(), "--reply-delay", "-1");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--reply-delay must be 0..10000 ms: -1");
        assertThat(other).isEmptyDirectory();
    }

    @Test
    void serve_replyDelay_isShownInTheHelp() {
        Run run = opendps("serve", "--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--reply-delay", "Java");
    }

    @Test
    void help_everyCommandHasIt() {
        for (String[] cmd : List.of(new String[] {"--help"}, new String[] {"serve", "--help"},
                new String[] {"enrollment", "create", "--help"}, new String[] {"group", "list", "--help"},
                new String[] {"device", "provision", "--help"}, new String[] {"device", "load", "--help"},
                new String[] {"device", "tpm-info", "--help"},
                new String[] {"derive-key", "--help"},
                new String[] {"info", "--help"}, new String[] {"demo", "--help"})) {
            Run run = opendps(cmd);
            assertThat(run.exitCode()).as(String.join(" ", cmd)).isZero();
            assertThat(run.out()).as(String.join(" ", cmd)).contains("Usage: opendps");
        }
    }
}
