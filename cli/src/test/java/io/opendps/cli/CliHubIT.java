package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.hub.HubMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code opendps hub ...} against a real server: a device enrolled and provisioned with the CLI sends telemetry to
 * its hub with {@code device provision --send-telemetry}, then the operator lists it, reads and updates its twin
 * (with and without a current etag), reads and follows the hub's telemetry, and deletes it; errors exit 1 with the
 * service's message, usage errors 2.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliHubIT {

    private static final String HUB = "hub-1.opendps.local";

    @TempDir
    static Path dataDir;
    @TempDir
    static Path files;
    static OpenDpsServer server;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        for (String id : List.of("hub-cli-1", "hub-cli-2", "hub-cli-del")) {
            CliIT.Run created = run("enrollment", "create", "--registration-id", id, "--json");
            assertThat(created.exitCode()).as(created.err()).isZero();
            String key = created.json().path("attestation").path("symmetricKey").path("primaryKey").asText();
            CliIT.Run provisioned = CliIT.opendps("device", "provision", "--data-dir", dataDir.toString(),
                    "--registration-id", id, "--symmetric-key", key, "--send-telemetry", "3", "--gateway-host",
                    server.info().mqttHost());
            assertThat(provisioned.exitCode()).as(provisioned.out() + provisioned.err()).isZero();
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static CliIT.Run run(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--data-dir";
        all[args.length + 1] = dataDir.toString();
        return CliIT.opendps(all);
    }

    @Test
    void devices_listsTheProvisionedDevices_textAndJsonOverPages() throws Exception {
        CliIT.Run text = run("hub", "devices", HUB, "--page-size", "1");
        CliIT.Run json = run("hub", "devices", HUB, "--json");

        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out().lines().toList()).anySatisfy(l -> assertThat(l).startsWith("deviceId"))
                .anySatisfy(l -> assertThat(l).startsWith("hub-cli-1").contains("enabled", "Disconnected", "sas"));
        assertThat(json.exitCode()).isZero();
        assertThat(json.json().findValuesAsText("deviceId")).contains("hub-cli-1", "hub-cli-2");
        assertThat(json.out()).doesNotContain("primaryKey", "symmetricKey");
    }

    @Test
    void deviceShow_printsTheIdentityWithoutKeys_unknownDeviceOrHubExits1() {
        CliIT.Run shown = run("hub", "device", "show", HUB, "hub-cli-1");
        CliIT.Run unknown = run("hub", "device", "show", HUB, "nobody");
        CliIT.Run otherHub = run("hub", "device", "show", "nohub.example.com", "hub-cli-1");

        assertThat(shown.exitCode()).as(shown.err()).isZero();
        assertThat(shown.out()).contains("deviceId: hub-cli-1", "type: sas").doesNotContain("Key");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no device 'nobody' in hub '" + HUB + "'");
        assertThat(otherHub.exitCode()).isEqualTo(1);
        assertThat(otherHub.err()).contains("hub 'nohub.example.com' is not served by this OpenDPS server");
    }

    @Test
    void twinUpdate_withTheCurrentEtag_thenStaleEtagRefused_fileInput_andUsageErrors() throws Exception {
        JsonNode before = run("hub", "twin", "show", HUB, "hub-cli-2", "--json").json();
        String etag = before.path("etag").asText();

        CliIT.Run updated = run("hub", "twin", "update", HUB, "hub-cli-2", "--desired", "{\"interval\":5}",
                "--tags", "{\"site\":\"north\"}", "--etag", etag);
        assertThat(updated.exitCode()).as(updated.err()).isZero();
        assertThat(updated.out()).contains("tags: {\"site\":\"north\"}", "desired: {\"interval\":5,\"$version\":2}");

        CliIT.Run stale = run("hub", "twin", "update", HUB, "hub-cli-2", "--desired", "{\"interval\":6}", "--etag",
                etag);
        assertThat(stale.exitCode()).isEqualTo(1);
        assertThat(stale.err()).contains("does not match the current etag");

        Path patch = files.resolve("desired.json");
        Files.writeString(patch, "{\"interval\":null,\"mode\":\"eco\"}");
        CliIT.Run fromFile = run("hub", "twin", "update", HUB, "hub-cli-2", "--desired", "@" + patch, "--json");
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        assertThat(fromFile.json().path("properties").path("desired").toString())
                .isEqualTo("{\"mode\":\"eco\",\"$version\":3}");

        CliIT.Run badKey = run("hub", "twin", "update", HUB, "hub-cli-2", "--tags", "{\"a b\":1}");
        assertThat(badKey.exitCode()).isEqualTo(1);
        assertThat(badKey.err()).contains("tags has an invalid key \"a b\"");
        CliIT.Run nothing = run("hub", "twin", "update", HUB, "hub-cli-2");
        assertThat(nothing.exitCode()).isEqualTo(2);
        assertThat(nothing.err()).contains("give --desired and/or --tags");
        CliIT.Run notJson = run("hub", "twin", "update", HUB, "hub-cli-2", "--desired", "{interval:5");
        assertThat(notJson.exitCode()).isEqualTo(2);
        assertThat(notJson.err()).contains("--desired is not valid JSON");
        CliIT.Run array = run("hub", "twin", "update", HUB, "hub-cli-2", "--desired", "[1]");
        assertThat(array.exitCode()).isEqualTo(2);
        assertThat(array.err()).contains("--desired must be a JSON object");

        CliIT.Run shown = run("hub", "twin", "show", HUB, "hub-cli-2");
        assertThat(shown.out()).contains("version: 3", "desired: {\"mode\":\"eco\",\"$version\":3}");
    }

    @Test
    void messages_printsOneLinePerMessage_textUtf8OrBase64() {
        CliIT.Run read = run("hub", "messages", HUB);

        assertThat(read.exitCode()).as(read.err()).isZero();
        List<String> lines = read.out().lines().filter(l -> l.contains(" hub-cli-1 ")).toList();
        assertThat(lines).hasSize(3).allSatisfy(l -> assertThat(l)
                .matches("\\d{4}-\\d{2}-\\d{2}T\\S+Z hub-cli-1 \\{.*\"\\$\\.ct\":\"application/json\".*\\} \\{.*\\}"));

        long after = lastSequence();
        server.hub().appendMessage(HUB, "raw-device", Map.of(), new byte[] {(byte) 0xff, 0x00, 0x41});
        server.hub().appendMessage(HUB, "raw-device", Map.of("k", "v"), "two\nlines".getBytes(StandardCharsets.UTF_8));
        CliIT.Run raw = run("hub", "messages", HUB, "--after", Long.toString(after));
        assertThat(raw.out().lines().toList()).satisfiesExactly(
                l -> assertThat(l).endsWith(" raw-device {} base64:/wBB"),
                l -> assertThat(l).endsWith(" raw-device {\"k\":\"v\"} \"two\\nlines\""));
    }

    @Test
    void messagesFollow_printsNewMessagesUntilMax_andTimesOutWithExit1() throws Exception {
        long after = lastSequence();
        CompletableFuture<CliIT.Run> follow = CompletableFuture.supplyAsync(() -> run("hub", "messages", HUB,
                "--follow", "--after", Long.toString(after), "--max", "2", "--timeout", "60", "--interval", "50"));
        // The second message arrives while the command is starting or already polling; both orders must work.
        server.hub().appendMessage(HUB, "follow-device", Map.of(), "first".getBytes(StandardCharsets.UTF_8));
        server.hub().appendMessage(HUB, "follow-device", Map.of(), "second".getBytes(StandardCharsets.UTF_8));

        CliIT.Run followed = follow.get(60, TimeUnit.SECONDS);
        assertThat(followed.exitCode()).as(followed.err()).isZero();
        assertThat(followed.out().lines().toList()).satisfiesExactly(
                l -> assertThat(l).endsWith(" follow-device {} first"),
                l -> assertThat(l).endsWith(" follow-device {} second"));

        CliIT.Run quiet = run("hub", "messages", HUB, "--follow", "--after", Long.toString(lastSequence()), "--max",
                "1", "--timeout", "1", "--interval", "50");
        assertThat(quiet.exitCode()).isEqualTo(1);
        assertThat(quiet.err()).contains("0 of 1 messages within 1 s");
        assertThat(run("hub", "messages", HUB, "--limit", "0").exitCode()).isEqualTo(2);
    }

    @Test
    void deviceDelete_removesItFromTheHub_andKeepsTheRegistrationRecord() {
        CliIT.Run deleted = run("hub", "device", "delete", HUB, "hub-cli-del");

        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        assertThat(deleted.out()).contains("Deleted device hub-cli-del from hub " + HUB);
        assertThat(run("hub", "device", "show", HUB, "hub-cli-del").exitCode()).isEqualTo(1);
        CliIT.Run again = run("hub", "device", "delete", HUB, "hub-cli-del");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("no device 'hub-cli-del'");
        CliIT.Run record = run("registration", "show", "hub-cli-del");
        assertThat(record.exitCode()).as(record.err()).isZero();
        assertThat(record.out()).contains("status: assigned");
    }

    private static long lastSequence() {
        List<HubMessage> all = server.hub().messagesAfter(HUB, 0, 1000);
        return all.isEmpty() ? 0 : all.get(all.size() - 1).sequence();
    }
}
