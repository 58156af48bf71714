package io.opendps.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.enrollment.BulkEnrollmentGroupOperation;
import io.opendps.core.enrollment.BulkEnrollmentOperation;
import io.opendps.core.enrollment.BulkEnrollmentService;
import io.opendps.core.enrollment.BulkMode;
import io.opendps.core.enrollment.BulkOperationError;
import io.opendps.core.enrollment.BulkOperationResult;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.json.Json;
import io.opendps.core.json.JsonProblem;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code opendps bulk --file ops.json}: a bulk create, update, updateIfMatchETag or delete of individual enrollments
 * (or, with {@code --groups}, enrollment groups) through {@code POST /enrollments} / {@code POST /enrollmentGroups}.
 *
 * <p>Decisions: the file holds the API's bulk body or a plain JSON array of items (then {@code --mode} is required;
 * with a body, {@code --mode} may repeat its mode but not contradict it). The whole file is read and checked first
 * (JSON shape, mode, ids present and unique) so a bad file sends nothing. The service takes at most
 * {@value BulkEnrollmentService#MAX_ITEMS} items per request, so larger files go out in consecutive requests of
 * that size and the per-item errors of all of them are reported together; like the API, this is not atomic. If a
 * request is refused as a whole (e.g. 401), the results so far are printed, the rest is not sent and the command
 * fails. Exit codes: 0 every item succeeded, {@value #ITEMS_FAILED} some items failed (listed), 1 the command
 * failed.
 */
@Command(name = "bulk", mixinStandardHelpOptions = true,
        description = {"Create, update or delete many enrollments (or groups, with --groups) from a JSON file.",
            "The file holds the API's bulk body, e.g. {\"mode\":\"create\",\"enrollments\":[{\"registrationId\":"
                    + "\"dev-1\",\"attestation\":{\"type\":\"symmetricKey\"}}]}, or just the array of items "
                    + "(then --mode is required). Modes: create (fails for existing ids), update (create or "
                    + "replace), updateIfMatchETag (replace only if the item's etag is current), delete (the item's "
                    + "etag is honoured when present).",
            "The service takes 10 items per request: larger files are sent in chunks of 10 (not atomic; failures "
                    + "of every chunk are listed). Exit code 0 when every item succeeded, 2 when some failed, "
                    + "1 on errors. Keys are not printed: read them with 'enrollment show --keys'."})
final class BulkCommand implements Callable<Integer> {

    /** The exit code when the requests went through but some items failed. */
    static final int ITEMS_FAILED = 2;

    private static final Kind<IndividualEnrollment> ENROLLMENTS = new Kind<>("enrollments", "enrollmentGroups",
            "registrationId", "enrollments", BulkEnrollmentOperation.class, o -> ((BulkEnrollmentOperation) o)
            .enrollments(), BulkEnrollmentOperation::of, IndividualEnrollment::registrationId);
    private static final Kind<EnrollmentGroup> GROUPS = new Kind<>("enrollmentGroups", "enrollments",
            "enrollmentGroupId", "enrollment groups", BulkEnrollmentGroupOperation.class,
            o -> ((BulkEnrollmentGroupOperation) o).enrollmentGroups(), BulkEnrollmentGroupOperation::of,
            EnrollmentGroup::enrollmentGroupId);

    @Spec CommandSpec spec;
    @Mixin ServiceOptions service;

    @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "JSON file: the bulk body {\"mode\":...,\"enrollments\":[...]} (\"enrollmentGroups\" with "
                    + "--groups) or a plain array of items.")
    Path file;

    @Option(names = "--mode", paramLabel = "MODE",
            description = "create, update, updateIfMatchETag or delete; required when the file is a plain array.")
    @Nullable String mode;

    @Option(names = "--groups", description = "The items are enrollment groups (POST /enrollmentGroups).")
    boolean groups;

    @Override
    public Integer call() {
        return groups ? run(GROUPS) : run(ENROLLMENTS);
    }

    private <T> int run(Kind<T> kind) {
        ObjectNode body = readBody(kind);
        BulkMode bulkMode = BulkMode.parse(body.path("mode").asText(null));
        List<T> items = parseItems(kind, body);
        List<@Nullable String> ids = new ArrayList<>();
        items.forEach(item -> ids.add(kind.id().apply(item)));
        BulkEnrollmentService.checkIds(kind.listName(), kind.idField(), ids);

        ServiceClient client = service.client();
        PrintWriter out = spec.commandLine().getOut();
        List<BulkOperationError> errors = new ArrayList<>();
        int size = BulkEnrollmentService.MAX_ITEMS;
        int requests = (items.size() + size - 1) / size;
        for (int from = 0; from < items.size(); from += size) {
            int to = Math.min(from + size, items.size());
            try {
                errors.addAll(client.bulk(kind.listName(), kind.body().apply(bulkMode, items.subList(from, to)))
                        .errors());
            } catch (ServiceClient.ApiException e) {
                print(out, kind, bulkMode, from, errors, from / size, requests);
                throw new IllegalStateException(String.format("request %d of %d (items %d-%d) was refused: %s; %s",
                        from / size + 1, requests, from + 1, to, e.getMessage(), from == 0 ? "nothing was applied"
                                : "items " + (from + 1) + "-" + items.size() + " were not applied"), e);
            }
        }
        print(out, kind, bulkMode, items.size(), errors, requests, requests);
        return errors.isEmpty() ? 0 : ITEMS_FAILED;
    }

    /** The file as a bulk body with the effective mode; a plain array is wrapped. */
    private ObjectNode readBody(Kind<?> kind) {
        JsonNode doc = readFile();
        ObjectNode body;
        if (doc.isArray()) {
            if (mode == null) {
                throw new IllegalArgumentException(file + " holds a plain array of items: --mode is required ("
                        + BulkMode.VALID + ")");
            }
            body = Json.mapper().createObjectNode();
            body.set(kind.listName(), doc);
        } else if (doc.isObject()) {
            body = (ObjectNode) doc;
        } else {
            throw new IllegalArgumentException(file + " must hold a JSON object {\"mode\":...,\""
                    + kind.listName() + "\":[...]} or an array of items");
        }
        String fileMode = body.hasNonNull("mode") ? body.get("mode").asText() : null;
        if (mode != null && fileMode != null && BulkMode.parse(mode) != BulkMode.parse(fileMode)) {
            throw new IllegalArgumentException("--mode " + mode + " contradicts the mode '" + fileMode + "' in "
                    + file);
        }
        if (mode == null && fileMode == null) {
            throw new IllegalArgumentException(file + " has no \"mode\": add one or pass --mode (" + BulkMode.VALID
                    + ")");
        }
        body.put("mode", BulkMode.parse(mode != null ? mode : fileMode).wireName());
        if (!body.has(kind.listName())) {
            throw new IllegalArgumentException(file + " has no \"" + kind.listName() + "\" list" + (body.has(
                    kind.otherListName()) ? "; it holds \"" + kind.otherListName() + "\": "
                    + (groups ? "drop --groups" : "add --groups") : ""));
        }
        return body;
    }

    private JsonNode readFile() {
        try {
            return Json.mapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file, e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + JsonProblem.describe(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private <T> List<T> parseItems(Kind<T> kind, ObjectNode body) {
        Object operation;
        try {
            operation = Json.mapper().treeToValue(body, kind.operationType());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": " + JsonProblem.describe(e), e);
        }
        List<T> items = kind.items().apply(operation);
        if (items == null || items.isEmpty()) {
            throw new IllegalArgumentException(file + ": \"" + kind.listName() + "\" must be a non-empty list");
        }
        return items;
    }

    /**
     * The summary and one line per failed item, or with {@code --json} the combined result. {@code applied} items
     * were sent in {@code sent} of {@code requests} requests.
     */
    private void print(PrintWriter out, Kind<?> kind, BulkMode bulkMode, int applied, List<BulkOperationError> errors,
            int sent, int requests) {
        BulkOperationResult result = BulkOperationResult.of(errors);
        if (service.json) {
            Output.print(out, Json.mapper().valueToTree(result), true);
            return;
        }
        out.printf("Bulk %s of %d %s in %d request%s: %s%n", bulkMode.wireName(), applied, kind.noun(), sent,
                sent == 1 ? "" : "s", errors.isEmpty() ? "all succeeded." : (applied - errors.size())
                        + " succeeded, " + errors.size() + " failed.");
        if (sent < requests) {
            out.printf("Only %d of %d requests went through.%n", sent, requests);
        }
        if (!errors.isEmpty()) {
            String format = "%-40s %-9s %s%n";
            out.printf(format, kind.idField(), "errorCode", "message");
            for (BulkOperationError e : errors) {
                out.printf(format, e.id(), e.errorCode(), e.errorStatus());
            }
        }
    }

    /** What differs between enrollments and groups. */
    private record Kind<T>(String listName, String otherListName, String idField, String noun,
            Class<?> operationType, Function<Object, @Nullable List<T>> items,
            BiFunction<BulkMode, List<T>, Object> body, Function<T, @Nullable String> id) {
    }
}
