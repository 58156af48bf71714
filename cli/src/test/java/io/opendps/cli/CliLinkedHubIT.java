package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.enrollment.AllocationPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

/** {@code opendps hub list|add|update|remove|default-policy} against a real server over HTTPS. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliLinkedHubIT {

    private static final String HUB = "hub-1.opendps.local";

    @TempDir
    static Path dataDir;
    @TempDir
    static Path files;
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

    static CliIT.Run admin(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return CliIT.opendps(all.toArray(String[]::new));
    }

    @Test
    void hub_addUpdateListRemove_andTheServerFollowsAtOnce() throws Exception {
        CliIT.Run added = admin("hub", "add", "cli-hub.example.com", "--weight", "7", "--location", "westeurope",
                "--no-allocation");
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(added.err()).contains("does not name cli-hub.example.com yet").contains("restarts");
        assertThat(server.linkedHubs().hubs()).contains(new LinkedHub("cli-hub.example.com", 7, false,
                "westeurope"));
        assertThat(server.hub().serves("cli-hub.example.com")).isTrue();

        CliIT.Run updated = admin("hub", "update", "cli-hub.example.com", "--weight", "9", "--allocation",
                "--json");
        assertThat(updated.exitCode()).as(updated.err()).isZero();
        assertThat(updated.json().path("allocationWeight").asInt()).isEqualTo(9);
        assertThat(updated.json().path("location").asText()).isEqualTo("westeurope");
        assertThat(server.linkedHubs().hubs()).contains(new LinkedHub("cli-hub.example.com", 9, true,
                "westeurope"));

        CliIT.Run list = admin("hub", "list");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains(HUB).contains("cli-hub.example.com").contains("westeurope");

        CliIT.Run removed = admin("hub", "remove", "cli-hub.example.com");
        assertThat(removed.exitCode()).as(removed.err()).isZero();
        assertThat(server.hub().serves("cli-hub.example.com")).isFalse();
        CliIT.Run again = admin("hub", "remove", "cli-hub.example.com");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.err()).contains("no linked hub 'cli-hub.example.com'");
    }

    @Test
    void hub_webhook_secretFromAFile_neverPrinted() throws Exception {
        Path secret = files.resolve("secret.txt");
        Files.writeString(secret, "cli-secret-0123456789abcdef\n", StandardCharsets.UTF_8);

        CliIT.Run added = admin("hub", "add", "cli-webhook.example.com", "--webhook",
                "https://backend.example.com/hook", "--secret-file", secret.toString(), "--no-allocation", "--json");

        assertThat(added.exitCode()).as(added.err()).isZero();
        JsonNode hub = added.json();
        assertThat(hub.at("/connector/type").asText()).isEqualTo("webhook");
        assertThat(hub.at("/connector/secret").asText()).isEqualTo("****");
        assertThat(added.out() + added.err()).doesNotContain("cli-secret-0123456789abcdef");
        assertThat(server.linkedHubs().builtInHubs()).doesNotContain("cli-webhook.example.com");

        CliIT.Run weighted = admin("hub", "update", "cli-webhook.example.com", "--weight", "2");
        assertThat(weighted.exitCode()).as(weighted.err()).isZero();

        CliIT.Run missingSecret = admin("hub", "add", "cli-other.example.com", "--webhook", "https://b.example.com/");
        assertThat(missingSecret.exitCode()).isNotZero();
        assertThat(missingSecret.err()).contains("--webhook needs --secret-file");
        CliIT.Run badWeight = admin("hub", "add", "cli-other.example.com", "--weight", "0");
        assertThat(badWeight.exitCode()).isNotZero();
        assertThat(badWeight.err()).contains("allocationWeight must be 1..1000, was 0");
        admin("hub", "remove", "cli-webhook.example.com");
    }

    @Test
    void hub_defaultPolicy_showSetAndRefuseCustom() {
        CliIT.Run shown = admin("hub", "default-policy");
        assertThat(shown.exitCode()).as(shown.err()).isZero();
        assertThat(shown.out()).contains("Default allocation policy: hashed");

        CliIT.Run set = admin("hub", "default-policy", "GeoLatency");
        assertThat(set.exitCode()).as(set.err()).isZero();
        assertThat(set.out()).contains("Default allocation policy: geoLatency");
        assertThat(server.linkedHubs().defaultPolicy()).isEqualTo(AllocationPolicy.GEO_LATENCY);

        CliIT.Run custom = admin("hub", "default-policy", "custom");
        assertThat(custom.exitCode()).isNotZero();
        assertThat(custom.err()).contains("cannot be the service default");
        assertThat(admin("hub", "default-policy", "hashed").exitCode()).isZero();
    }
}
