package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.embedded.EmbeddedHiveMQ;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The CI smoke run of the load harness: {@code device load} against the real OpenDPS server (embedded HiveMQ with
 * the DPS extension, real H2, MQTT/TLS and the HTTPS bulk API on free loopback ports), a few dozen devices per
 * attestation mode, every flow assigned and the report complete; and {@code --mode echo} against a plain embedded
 * HiveMQ (no extension, plain TCP, so the test needs no installed broker).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LoadCommandIT {

    private static final int DEVICES = 30;

    @TempDir
    static Path dataDir;
    @TempDir
    static Path work;
    static OpenDpsServer server;

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

    @ParameterizedTest
    @ValueSource(strings = {"individual", "group", "x509-group"})
    void load_everyModeAgainstTheRealServer_assignsEveryDevice_andWritesACompleteReport(String mode)
            throws Exception {
        Path reportFile = work.resolve("report-" + mode + ".json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("load", "--data-dir", dataDir.toString(), "--mode", mode,
                "--devices", Integer.toString(DEVICES), "--concurrency", "10", "--warmup", "5", "--retry-after", "0",
                "--timeout", "30s", "--duration", "60s", "--server-pid",
                Long.toString(ProcessHandle.current().pid()), "--report", reportFile.toString());

        assertThat(code).as(out + "\n" + err).isZero();
        JsonNode report = Json.mapper().readTree(Files.readAllBytes(reportFile));
        assertThat(report.path("mode").asText()).isEqualTo(mode);
        assertThat(report.path("devices").asLong()).isEqualTo(DEVICES);
        assertThat(report.path("warmup").asLong()).isEqualTo(5);
        assertThat(report.path("completed").asLong()).isEqualTo(DEVICES);
        assertThat(report.path("failed").asLong()).isZero();
        assertThat(report.path("notStarted").asLong()).isZero();
        assertThat(report.path("flowsPerSecond").asDouble()).isPositive();
        assertThat(report.path("errors").size()).isZero();
        for (String step : List.of("connect", "register", "poll", "endToEnd")) {
            JsonNode latency = report.path("steps").path(step);
            assertThat(latency.path("count").asLong()).as(step).isEqualTo(DEVICES);
            assertThat(latency.path("p50").asDouble()).as(step).isPositive()
                    .isLessThanOrEqualTo(latency.path("p99").asDouble());
            assertThat(latency.path("max").asDouble()).as(step)
                    .isGreaterThanOrEqualTo(latency.path("p999").asDouble());
        }
        assertThat(report.path("steps").has("request")).isFalse();
        JsonNode serverUsage = report.path("server");
        assertThat(serverUsage.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        assertThat(serverUsage.path("cpuSeconds").asDouble()).isPositive();
        assertThat(serverUsage.path("cpuMillisPerFlow").asDouble()).isPositive();
        assertThat(serverUsage.path("peakRssMiB").asDouble()).isPositive();
        assertThat(out.toString()).contains("mode " + mode, "completed " + DEVICES + ", failed 0", "endToEnd");
        assertThat(err.toString()).contains("setup: " + (DEVICES + 5) + " " + mode + " devices ready",
                "warm-up: 5 flows done");
    }

    @Test
    void load_openLoopRate_recordsStartDelays() throws Exception {
        Path reportFile = work.resolve("report-rate.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("load", "--data-dir", dataDir.toString(), "--mode", "group",
                "--devices", "20", "--concurrency", "20", "--rate", "50", "--retry-after", "0", "--report",
                reportFile.toString());

        assertThat(code).as(out + "\n" + err).isZero();
        JsonNode report = Json.mapper().readTree(Files.readAllBytes(reportFile));
        assertThat(report.path("targetRate").asDouble()).isEqualTo(50.0);
        assertThat(report.path("completed").asLong()).isEqualTo(20);
        assertThat(report.path("steps").path("startDelay").path("count").asLong()).isEqualTo(20);
        assertThat(report.path("server").isMissingNode() || report.path("server").isNull()).as("no server usage").isTrue();
    }

    @Test
    void load_withoutAServer_failsEveryFlowWithATransportError() throws Exception {
        int freePort;
        try (ServerSocket socket = new ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        Path reportFile = work.resolve("report-refused.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("load", "--data-dir", dataDir.toString(), "--mode", "group",
                "--devices", "3", "--concurrency", "3", "--port", Integer.toString(freePort), "--timeout", "10s",
                "--report", reportFile.toString());

        assertThat(code).isEqualTo(1);
        JsonNode report = Json.mapper().readTree(Files.readAllBytes(reportFile));
        assertThat(report.path("failed").asLong()).isEqualTo(3);
        assertThat(report.path("completed").asLong()).isZero();
        List<String> kinds = new ArrayList<>();
        report.path("errors").fieldNames().forEachRemaining(kinds::add);
        assertThat(kinds).singleElement().asString().startsWith("transport: ");
        assertThat(out.toString()).contains("failed 3", "error transport: ");
    }

    @Test
    void load_invalidOptions_areUsageErrors() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        assertThat(command(out, err).execute("load", "--devices", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--devices must be 1..1000000");
        assertThat(command(out, err).execute("load", "--concurrency", "10001")).isEqualTo(2);
        assertThat(err.toString()).contains("--concurrency must be 1..10000");
        assertThat(command(out, err).execute("load", "--mode", "tpm")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown mode 'tpm'");
        assertThat(command(out, err).execute("load", "--duration", "2h")).isEqualTo(2);
        assertThat(err.toString()).contains("--duration must be above 0 and at most 1h");
    }

    @Test
    void load_echoMode_againstAPlainBroker_getsEveryReply() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path brokerDir = work.resolve("plain-hivemq");
        Files.createDirectories(brokerDir.resolve("conf"));
        Files.createDirectories(brokerDir.resolve("data"));
        Files.createDirectories(brokerDir.resolve("extensions"));
        Files.writeString(brokerDir.resolve("conf/config.xml"), """
                <?xml version="1.0"?>
                <hivemq>
                    <listeners><tcp-listener><port>%d</port><bind-address>127.0.0.1</bind-address></tcp-listener>
                    </listeners>
                    <persistence><mode>in-memory</mode></persistence>
                    <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                </hivemq>
                """.formatted(port));
        try (EmbeddedHiveMQ broker = EmbeddedHiveMQ.builder().withConfigurationFolder(brokerDir.resolve("conf"))
                .withDataFolder(brokerDir.resolve("data")).withExtensionsFolder(brokerDir.resolve("extensions"))
                .withoutLoggingBootstrap().build()) {
            broker.start().join();
            Path reportFile = work.resolve("report-echo.json");
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();

            int code = command(out, err).execute("load", "--mode", "echo", "--plain", "--host", "127.0.0.1",
                    "--port", Integer.toString(port), "--data-dir", work.resolve("none").toString(), "--devices",
                    Integer.toString(DEVICES), "--concurrency", "10", "--warmup", "5", "--password", "pw",
                    "--report", reportFile.toString());

            assertThat(code).as(out + "\n" + err).isZero();
            JsonNode report = Json.mapper().readTree(Files.readAllBytes(reportFile));
            assertThat(report.path("mode").asText()).isEqualTo("echo");
            assertThat(report.path("completed").asLong()).isEqualTo(DEVICES);
            assertThat(report.path("failed").asLong()).isZero();
            assertThat(report.path("steps").path("connect").path("count").asLong()).isEqualTo(DEVICES);
            assertThat(report.path("steps").path("request").path("count").asLong()).isEqualTo(DEVICES);
            assertThat(report.path("steps").path("endToEnd").path("count").asLong()).isEqualTo(DEVICES);
            assertThat(report.path("steps").has("register")).isFalse();
        }
    }

    private static CommandLine command(StringWriter out, StringWriter err) {
        CommandLine line = new CommandLine(new DeviceCommand());
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        return line;
    }
}
