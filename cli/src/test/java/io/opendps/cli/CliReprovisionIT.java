package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's worked example "into quarantine and back" with the CLI against a real server with two hubs: create,
 * provision, quarantine with the reset policy (bulk update), provision (reset on the quarantine hub), release with
 * migrate, provision (migrated back), then an operator-forced reprovision under {@code never}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CliReprovisionIT {

    private static final String HUB = "hub-1.opendps.local";
    private static final String QUARANTINE = "hub-2.opendps.local";

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withHubs(List.of(HUB, QUARANTINE)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static CliIT.Run run(String... args) {
        return CliIT.opendps(args);
    }

    private static CliIT.Run provision(String key) {
        CliIT.Run r = run("device", "provision", "--data-dir", dataDir.toString(), "--registration-id", "sensor-7",
                "--symmetric-key", key);
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        return r;
    }

    private static void update(String hub, boolean migrate, String policy) throws Exception {
        Path file = dataDir.resolve("update.json");
        Files.writeString(file, "[{\"registrationId\":\"sensor-7\",\"attestation\":{\"type\":\"symmetricKey\"},"
                + "\"allocationPolicy\":\"static\",\"iotHubs\":[\"" + hub + "\"],\"initialTwin\":{\"tags\":"
                + "{\"state\":\"quarantined\"},\"properties\":{\"desired\":{\"telemetry\":\"off\"}}},"
                + "\"reprovisionPolicy\":{\"updateHubAssignment\":" + policy + ",\"migrateDeviceData\":" + migrate
                + "}}]", StandardCharsets.UTF_8);
        CliIT.Run r = run("bulk", "--file", file.toString(), "--mode", "update", "--data-dir", dataDir.toString());
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    }

    @Test
    void quarantineAndBack() throws Exception {
        CliIT.Run created = run("enrollment", "create", "--registration-id", "sensor-7", "--hub", HUB, "--json",
                "--data-dir", dataDir.toString());
        assertThat(created.exitCode()).as(created.err()).isZero();
        String key = created.json().path("attestation").path("symmetricKey").path("primaryKey").asText();
        assertThat(provision(key).out()).contains("IoT Hub: " + HUB, "Substatus: initialAssignment");
        server.hub().patchReported(HUB, "sensor-7", server.hub().twin(HUB, "sensor-7").reported().put("fw", "1"));

        update(QUARANTINE, false, "true");
        assertThat(provision(key).out()).contains("IoT Hub: " + QUARANTINE, "Substatus: deviceDataReset");
        assertThat(server.hub().find(HUB, "sensor-7")).isEmpty();
        assertThat(server.hub().twin(QUARANTINE, "sensor-7").reported().has("fw")).isFalse();
        assertThat(server.hub().twin(QUARANTINE, "sensor-7").tags().path("state").asText()).isEqualTo("quarantined");
        server.hub().patchReported(QUARANTINE, "sensor-7",
                server.hub().twin(QUARANTINE, "sensor-7").reported().put("scan", "clean"));

        update(HUB, true, "true");
        assertThat(provision(key).out()).contains("IoT Hub: " + HUB, "Substatus: deviceDataMigrated");
        assertThat(server.hub().twin(HUB, "sensor-7").reported().path("scan").asText()).isEqualTo("clean");
        assertThat(server.hub().find(QUARANTINE, "sensor-7")).isEmpty();

        update(QUARANTINE, false, "false");
        assertThat(provision(key).out()).as("never: stays").contains("IoT Hub: " + HUB);
        CliIT.Run forced = run("registration", "reprovision", "sensor-7", "--data-dir", dataDir.toString());
        assertThat(forced.exitCode()).as(forced.err()).isZero();
        assertThat(provision(key).out()).contains("IoT Hub: " + QUARANTINE, "Substatus: deviceDataMigrated");
    }
}
