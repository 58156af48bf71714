package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code opendps bulk} and {@code opendps query} against a real server over HTTPS: bulk files in both shapes and
 * every mode, chunking beyond 10 items, partial failures and their exit code, files refused before anything is
 * sent, and queries that follow continuation tokens (automatically, and one page at a time). Registration records
 * come from real simulated devices over MQTT/TLS.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliBulkIT {

    private static final Pattern NEXT_PAGE = Pattern.compile("next page: --continuation (\\S+)");

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

    // ---------------------------------------------------------------- bulk

    @Test
    void bulk_fullBodyFile_createsAll_exit0() throws Exception {
        Path file = write("create.json", "{\"mode\":\"create\",\"enrollments\":[" + enrollment("body-1") + ","
                + enrollment("body-2") + "]}");

        CliIT.Run run = opendps("bulk", "--file", file.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("Bulk create of 2 enrollments in 1 request: all succeeded."
                + System.lineSeparator());
        assertThat(run.out()).doesNotContain("primaryKey");
        assertThat(server.enrollments().getEnrollment("body-1")).isPresent();
        assertThat(server.enrollments().getEnrollment("body-2")).isPresent();
    }

    @Test
    void bulk_plainArrayOver10Items_isSentInChunks_andQueryFollowsEveryPage() throws Exception {
        // 105 items: 11 bulk requests, and more than the service's default query page of 100.
        Path file = write("many.json", "[" + IntStream.rangeClosed(1, 105).mapToObj(i -> enrollment(
                String.format("page-%03d", i))).collect(Collectors.joining(",")) + "]");

        CliIT.Run run = opendps("bulk", "--file", file.toString(), "--mode", "create");

        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).startsWith("Bulk create of 105 enrollments in 11 requests: all succeeded.");
        int stored = server.enrollments().listEnrollments(1000, null).items().size();
        assertThat(stored).isGreaterThan(100);

        CliIT.Run all = opendps("query", "enrollments", "--json");

        assertThat(all.exitCode()).as(all.err()).isZero();
        assertThat(all.err()).doesNotContain("next page");
        List<String> ids = ids(all.json(), "registrationId");
        assertThat(ids).hasSize(stored).doesNotHaveDuplicates();
        assertThat(ids.stream().filter(id -> id.startsWith("page-"))).hasSize(105);
    }

    @Test
    void bulk_manyItemsInParallel_appliesAll_listsFailuresInFileOrder_thenDeletesInParallel() throws Exception {
        for (int i : new int[] {7, 333, 998}) {
            assertThat(opendps("enrollment", "create", "--registration-id", String.format("par-%04d", i))
                    .exitCode()).isZero();
        }
        Path file = write("parallel.json", "[" + IntStream.range(0, 1000).mapToObj(i -> enrollment(
                String.format("par-%04d", i))).collect(Collectors.joining(",")) + "]");

        CliIT.Run run = opendps("bulk", "--file", file.toString(), "--mode", "create", "--parallel", "8");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(BulkCommand.ITEMS_FAILED);
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("Bulk create of 1000 enrollments in 100 requests: 997 succeeded, "
                + "3 failed.");
        assertThat(lines.subList(2, lines.size())).extracting(l -> l.split(" ")[0])
                .containsExactly("par-0007", "par-0333", "par-0998");
        assertThat(run.err()).contains("sent 100/100 requests");
        assertThat(IntStream.range(0, 1000).filter(i -> server.enrollments().getEnrollment(
                String.format("par-%04d", i)).isPresent()).count()).isEqualTo(1000);

        CliIT.Run delete = opendps("bulk", "--file", file.toString(), "--mode", "delete", "--parallel", "3");

        assertThat(delete.exitCode()).as(delete.err()).isZero();
        assertThat(delete.out()).startsWith("Bulk delete of 1000 enrollments in 100 requests: all succeeded.");
        assertThat(server.enrollments().getEnrollment("par-0000")).isEmpty();
        assertThat(server.enrollments().getEnrollment("par-0999")).isEmpty();
    }

    @Test
    void bulk_parallelOutOfRange_isAClearError() throws Exception {
        Path file = write("par-range.json", "[" + enrollment("par-range") + "]");

        CliIT.Run run = opendps("bulk", "--file", file.toString(), "--mode", "create", "--parallel", "0");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("--parallel must be 1..32, got 0");
        assertThat(server.enrollments().getEnrollment("par-range")).isEmpty();
    }

    @Test
    void bulk_partialFailureAcrossChunks_listsEveryFailedItem_exit2() throws Exception {
        assertThat(opendps("enrollment", "create", "--registration-id", "part-existing").exitCode()).isZero();
        IndividualEnrollment before = server.enrollments().getEnrollment("part-existing").orElseThrow();
        List<String> items = new ArrayList<>();
        for (int i = 1; i <= 11; i++) {
            items.add(i == 4 ? "{\"registrationId\":\"part-04\",\"attestation\":{\"type\":\"symmetricKey\","
                    + "\"symmetricKey\":{\"primaryKey\":\"not base64!\"}}}" : enrollment(String.format("part-%02d", i)));
        }
        items.add(enrollment("part-existing"));
        Path file = write("partial.json", "{\"mode\":\"create\",\"enrollments\":[" + String.join(",", items) + "]}");

        CliIT.Run run = opendps("bulk", "--file", file.toString());

        assertThat(run.exitCode()).as(run.err()).isEqualTo(BulkCommand.ITEMS_FAILED);
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("Bulk create of 12 enrollments in 2 requests: 10 succeeded, 2 failed.");
        assertThat(lines.get(1)).startsWith("registrationId").contains("errorCode").contains("message");
        assertThat(lines.get(2)).startsWith("part-04 ").contains("400004")
                .contains("symmetricKey.primaryKey is not valid base64");
        assertThat(lines.get(3)).startsWith("part-existing ").contains("409201")
                .contains("'part-existing' already exists");
        assertThat(lines).hasSize(4);
        assertThat(server.enrollments().getEnrollment("part-04")).isEmpty();
        assertThat(server.enrollments().getEnrollment("part-11")).isPresent();
        assertThat(server.enrollments().getEnrollment("part-existing").orElseThrow()).isEqualTo(before);
    }

    @Test
    void bulk_json_printsTheCombinedResult() throws Exception {
        assertThat(opendps("enrollment", "create", "--registration-id", "json-existing").exitCode()).isZero();
        Path file = write("json.json", "[" + enrollment("json-existing") + "," + enrollment("json-new") + "]");

        CliIT.Run run = opendps("bulk", "--file", file.toString(), "--mode", "create", "--json");

        assertThat(run.exitCode()).isEqualTo(BulkCommand.ITEMS_FAILED);
        JsonNode result = run.json();
        assertThat(result.path("isSuccessful").asBoolean(true)).isFalse();
        assertThat(result.path("errors")).hasSize(1);
        assertThat(result.at("/errors/0/registrationId").asText()).isEqualTo("json-existing");
        assertThat(result.at("/errors/0/errorCode").asInt()).isEqualTo(409201);
    }

    @Test
    void bulk_updateIfMatchEtagThenDelete_withEtagsFromShow() throws Exception {
        assertThat(opendps("bulk", "--file", write("etag-create.json", "[" + enrollment("etag-1") + ","
                + enrollment("etag-2") + "]").toString(), "--mode", "create").exitCode()).isZero();
        JsonNode one = opendps("enrollment", "show", "etag-1", "--json").json();
        String stale = "\\\"00000000-0000-0000-0000-000000000000\\\"";

        CliIT.Run update = opendps("bulk", "--mode", "updateIfMatchETag", "--file", write("etag-update.json",
                "{\"mode\":\"updateIfMatchETag\",\"enrollments\":["
                        + enrollment("etag-1", "\"provisioningStatus\":\"disabled\",\"etag\":"
                        + one.path("etag").toString()) + ","
                        + enrollment("etag-2", "\"provisioningStatus\":\"disabled\",\"etag\":\"" + stale + "\"")
                        + "]}").toString());

        assertThat(update.exitCode()).isEqualTo(BulkCommand.ITEMS_FAILED);
        assertThat(update.out()).contains("1 succeeded, 1 failed").containsPattern("etag-2 +412201 ");
        assertThat(server.enrollments().getEnrollment("etag-1").orElseThrow().provisioningStatus())
                .isEqualTo(ProvisioningStatus.DISABLED);
        assertThat(server.enrollments().getEnrollment("etag-2").orElseThrow().provisioningStatus())
                .isEqualTo(ProvisioningStatus.ENABLED);

        CliIT.Run delete = opendps("bulk", "--mode", "delete", "--file", write("etag-delete.json",
                "[{\"registrationId\":\"etag-1\"},{\"registrationId\":\"etag-2\"},{\"registrationId\":\"etag-3\"}]")
                .toString());

        assertThat(delete.exitCode()).isEqualTo(BulkCommand.ITEMS_FAILED);
        assertThat(delete.out()).contains("Bulk delete of 3 enrollments in 1 request: 2 succeeded, 1 failed.")
                .containsPattern("etag-3 +404201 +enrollment 'etag-3' not found");
        assertThat(server.enrollments().getEnrollment("etag-1")).isEmpty();
        assertThat(server.enrollments().getEnrollment("etag-2")).isEmpty();
    }

    @Test
    void bulk_groups_createAndUpdate_thenQueryGroups() throws Exception {
        Path file = write("groups.json", "{\"mode\":\"update\",\"enrollmentGroups\":[" + group("bulk-grp-1") + ","
                + group("bulk-grp-2") + "]}");

        CliIT.Run run = opendps("bulk", "--groups", "--file", file.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("Bulk update of 2 enrollment groups in 1 request: all succeeded.");
        CliIT.Run listed = opendps("query", "groups");
        assertThat(listed.exitCode()).as(listed.err()).isZero();
        assertThat(listed.out()).startsWith("enrollmentGroupId").contains("bulk-grp-1").contains("bulk-grp-2")
                .contains("symmetricKey");
    }

    @Test
    void bulk_badFiles_areRefusedBeforeAnythingIsSent_exit1() throws Exception {
        CliIT.Run noMode = opendps("bulk", "--file", write("no-mode.json", "[" + enrollment("bad-1") + "]")
                .toString());
        CliIT.Run badMode = opendps("bulk", "--mode", "upsert", "--file", write("bad-mode.json", "["
                + enrollment("bad-1") + "]").toString());
        CliIT.Run contradicting = opendps("bulk", "--mode", "delete", "--file", write("contradicting.json",
                "{\"mode\":\"create\",\"enrollments\":[" + enrollment("bad-1") + "]}").toString());
        CliIT.Run groupsWithoutFlag = opendps("bulk", "--file", write("groups-no-flag.json",
                "{\"mode\":\"create\",\"enrollmentGroups\":[" + group("bad-grp") + "]}").toString());
        CliIT.Run notJson = opendps("bulk", "--file", write("not-json.json", "{\"mode\":\"create\",").toString());
        CliIT.Run badItem = opendps("bulk", "--mode", "create", "--file", write("bad-item.json", "["
                + enrollment("bad-1") + ",{\"registrationId\":\"bad-2\",\"attestation\":{\"type\":\"retina\"}}]")
                .toString());
        List<String> fifteen = IntStream.rangeClosed(1, 15).mapToObj(i -> enrollment("dup-" + i))
                .collect(Collectors.toCollection(ArrayList::new));
        fifteen.set(13, enrollment("DUP-2"));
        CliIT.Run duplicate = opendps("bulk", "--mode", "create", "--file", write("dup.json", "["
                + String.join(",", fifteen) + "]").toString());

        assertThat(List.of(noMode, badMode, contradicting, groupsWithoutFlag, notJson, badItem, duplicate))
                .allSatisfy(r -> {
                    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
                    assertThat(r.out()).isEmpty();
                });
        assertThat(noMode.err()).contains("--mode is required").contains("updateIfMatchETag");
        assertThat(badMode.err()).isEqualTo("opendps: unknown mode 'upsert'; use one of create, update, "
                + "updateIfMatchETag, delete" + System.lineSeparator());
        assertThat(contradicting.err()).contains("--mode delete contradicts the mode 'create'");
        assertThat(groupsWithoutFlag.err()).contains("no \"enrollments\" list").contains("add --groups");
        assertThat(notJson.err()).contains("is not valid JSON");
        assertThat(badItem.err()).contains("'enrollments[1].attestation.type'");
        assertThat(duplicate.err()).contains("registrationId 'DUP-2' appears twice (enrollments[1] and "
                + "enrollments[13])");
        assertThat(server.enrollments().getEnrollment("bad-1")).isEmpty();
        assertThat(server.enrollments().getEnrollment("dup-1")).isEmpty();
        assertThat(server.enrollments().getGroup("bad-grp")).isEmpty();
    }

    @Test
    void bulk_refusedRequest_stopsAndSaysWhatWasApplied() throws Exception {
        Path file = write("refused.json", "[" + enrollment("refused-1") + "]");

        CliIT.Run run = CliIT.opendps("bulk", "--mode", "create", "--file", file.toString(), "--connection-string",
                server.info().serviceConnectionString().replaceFirst("SharedAccessKey=[^;]+",
                        "SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
                "--ca", server.info().caCertificate().toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("opendps: 1 of 1 requests were refused or not sent (create): Unauthorized:")
                .contains("items 1-1 were not applied");
        assertThat(server.enrollments().getEnrollment("refused-1")).isEmpty();
    }

    @Test
    void bulk_help_explainsFileShapesModesAndChunks() {
        CliIT.Run help = CliIT.opendps("bulk", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--file").contains("--mode").contains("--groups").contains("--json")
                .contains("updateIfMatchETag").contains("chunks of 10");
        assertThat(CliIT.opendps("query", "--help").out()).contains("--page-size").contains("--continuation")
                .contains("--group").contains("--query");
    }

    // ---------------------------------------------------------------- query

    @Test
    void query_onePageAtATime_followsTheTokensPrintedOnStderr() throws Exception {
        assertThat(opendps("bulk", "--mode", "create", "--file", write("paged.json", "[" + IntStream.rangeClosed(1, 7)
                .mapToObj(i -> enrollment("paged-" + i)).collect(Collectors.joining(",")) + "]").toString())
                .exitCode()).isZero();
        Set<String> expected = new LinkedHashSet<>(ids(opendps("query", "enrollments", "--json").json(),
                "registrationId"));

        List<String> seen = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            CliIT.Run page = token == null ? opendps("query", "enrollments", "--json", "--page-size", "3")
                    : opendps("query", "enrollments", "--json", "--page-size", "3", "--continuation", token);
            assertThat(page.exitCode()).as(page.err()).isZero();
            List<String> ids = ids(page.json(), "registrationId");
            assertThat(ids.size()).isBetween(1, 3);
            seen.addAll(ids);
            token = nextToken(page.err());
            pages++;
        } while (token != null);

        assertThat(seen).containsExactlyElementsOf(expected);
        assertThat(pages).isEqualTo((expected.size() + 2) / 3);
    }

    @Test
    void query_registrationsOfAGroup_tableAndPages() throws Exception {
        CliIT.Run group = opendps("group", "create", "--group-id", "query-fleet", "--json");
        assertThat(group.exitCode()).as(group.err()).isZero();
        String groupKey = group.json().at("/attestation/symmetricKey/primaryKey").asText();
        for (String id : List.of("query-dev-1", "query-dev-2")) {
            CliIT.Run device = CliIT.opendps("device", "provision", "--data-dir", dataDir.toString(),
                    "--registration-id", id, "--group-key", groupKey);
            assertThat(device.exitCode()).as(device.out() + device.err()).isZero();
        }

        CliIT.Run table = opendps("query", "registrations", "--group", "query-fleet",
                "--query", "SELECT * FROM deviceRegistrations");
        CliIT.Run first = opendps("query", "registrations", "--group", "query-fleet", "--page-size", "1", "--json");
        CliIT.Run second = opendps("query", "registrations", "--group", "query-fleet", "--json", "--continuation",
                nextToken(first.err()));

        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out().lines().toList()).hasSize(3);
        assertThat(table.out()).startsWith("registrationId").contains("assignedHub")
                .containsPattern("query-dev-1 +assigned +hub-1.opendps.local +query-dev-1");
        assertThat(ids(first.json(), "registrationId")).containsExactly("query-dev-1");
        assertThat(ids(second.json(), "registrationId")).containsExactly("query-dev-2");
        assertThat(second.err()).doesNotContain("next page");
    }

    @Test
    void query_badArguments_areClearErrors() {
        CliIT.Run noGroup = opendps("query", "registrations");
        CliIT.Run groupOnEnrollments = opendps("query", "enrollments", "--group", "g");
        CliIT.Run unknown = opendps("query", "devices");
        CliIT.Run zeroPage = opendps("query", "enrollments", "--page-size", "0");

        assertThat(List.of(noGroup, groupOnEnrollments, unknown, zeroPage))
                .allSatisfy(r -> assertThat(r.exitCode()).isEqualTo(1));
        assertThat(noGroup.err()).contains("needs --group");
        assertThat(groupOnEnrollments.err()).contains("--group applies to 'query registrations' only");
        assertThat(unknown.err()).contains("unknown collection 'devices'");
        assertThat(zeroPage.err()).contains("--page-size must be a positive number");
    }

    // ---------------------------------------------------------------- helpers

    private static CliIT.Run opendps(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return CliIT.opendps(all.toArray(String[]::new));
    }

    private static Path write(String name, String content) throws IOException {
        return Files.writeString(files.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static String enrollment(String id) {
        return enrollment(id, null);
    }

    private static String enrollment(String id, @Nullable String extraFields) {
        return "{\"registrationId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}"
                + (extraFields == null ? "" : "," + extraFields) + "}";
    }

    private static String group(String id) {
        return "{\"enrollmentGroupId\":\"" + id + "\",\"attestation\":{\"type\":\"symmetricKey\"}}";
    }

    private static List<String> ids(JsonNode array, String idField) {
        assertThat(array.isArray()).as(array.toString()).isTrue();
        List<String> ids = new ArrayList<>();
        array.forEach(item -> ids.add(item.path(idField).asText()));
        return ids;
    }

    private static @Nullable String nextToken(String stderr) {
        Matcher m = NEXT_PAGE.matcher(stderr);
        return m.find() ? m.group(1) : null;
    }
}
