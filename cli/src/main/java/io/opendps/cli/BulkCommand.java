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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * that size, {@code --parallel} (default 4) at once over the client's keep-alive connections, with a progress line
 * on stderr; the per-item errors of all of them are reported together in file order. Like the API, this is not
 * atomic, and with parallel requests the order in which chunks apply is not the file order (ids are unique, so
 * this changes no outcome). If a request is refused as a whole (e.g. 401), requests not yet started are not sent,
 * the results of those that went through are printed, the command names the item ranges not applied and
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
            "The service takes 10 items per request: larger files are sent in chunks of 10, --parallel at once "
                    + "(not atomic; failures of every chunk are listed). Exit code 0 when every item succeeded, 2 when some failed, "
                    + "1 on errors. Keys are not printed: read them with 'enrollment show --keys'."})
final class BulkCommand implements Callable<Integer> {

    /** The exit code when the requests went through but some items failed. */
    static final int ITEMS_FAILED = 2;

    /** The most requests --parallel may keep in flight. */
    static final int MAX_PARALLEL = 32;

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

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
            description = "Requests in flight at once (1.." + MAX_PARALLEL + ", default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--groups", description = "The items are enrollment groups (POST /enrollmentGroups).")
    boolean groups;

    @Override
    public Integer call() {
        if (parallel < 1 || parallel > MAX_PARALLEL) {
            throw new IllegalArgumentException("--parallel must be 1.." + MAX_PARALLEL + ", got " + parallel);
        }
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
        int size = BulkEnrollmentService.MAX_ITEMS;
        int requests = (items.size() + size - 1) / size;
        Chunk[] chunks = new Chunk[requests];
        AtomicBoolean refused = new AtomicBoolean();
        AtomicInteger finished = new AtomicInteger();
        Progress progress = new Progress(spec.commandLine().getErr(), requests, !service.json && requests > 1);
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, requests));
        try {
            List<Future<?>> sent = new ArrayList<>();
            for (int r = 0; r < requests; r++) {
                int index = r;
                int from = r * size;
                int to = Math.min(from + size, items.size());
                sent.add(pool.submit(() -> {
                    if (refused.get()) {
                        return;
                    }
                    try {
                        chunks[index] = new Chunk(client.bulk(kind.listName(), kind.body().apply(bulkMode,
                                items.subList(from, to))).errors(), null);
                    } catch (ServiceClient.ApiException e) {
                        refused.set(true);
                        chunks[index] = new Chunk(List.of(), e);
                    }
                    progress.update(finished.incrementAndGet());
                }));
            }
            for (Future<?> f : sent) {
                await(f);
            }
        } finally {
            pool.shutdownNow();
            progress.done();
        }
        List<BulkOperationError> errors = new ArrayList<>();
        List<String> notApplied = new ArrayList<>();
        ServiceClient.ApiException firstRefusal = null;
        int applied = 0;
        int through = 0;
        for (int r = 0; r < requests; r++) {
            int from = r * size;
            int to = Math.min(from + size, items.size());
            Chunk chunk = chunks[r];
            if (chunk == null || chunk.refusal() != null) {
                notApplied.add((from + 1) + "-" + to);
                if (chunk != null && firstRefusal == null) {
                    firstRefusal = chunk.refusal();
                }
                continue;
            }
            errors.addAll(chunk.errors());
            applied += to - from;
            through++;
        }
        print(out, kind, bulkMode, applied, errors, through, requests);
        if (firstRefusal != null) {
            throw new IllegalStateException(String.format("%d of %d requests were refused or not sent (%s): %s; "
                    + "items %s were not applied", requests - through, requests, bulkMode.wireName(),
                    firstRefusal.getMessage(), String.join(", ", notApplied)), firstRefusal);
        }
        return errors.isEmpty() ? 0 : ITEMS_FAILED;
    }

    private static void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending the bulk requests", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("a bulk request failed: " + cause, cause);
        }
    }

    /** One request's outcome: its per-item errors, or the refusal of the whole request. */
    private record Chunk(List<BulkOperationError> errors, ServiceClient.@Nullable ApiException refusal) {
    }

    /** A one-line progress counter on stderr (requests done of all), for multi-request runs without --json. */
    private static final class Progress {
        private final PrintWriter err;
        private final int requests;
        private final boolean enabled;
        private final long started = System.nanoTime();
        private long lastPrinted;

        Progress(PrintWriter err, int requests, boolean enabled) {
            this.err = err;
            this.requests = requests;
            this.enabled = enabled;
        }

        synchronized void update(int done) {
            long now = System.nanoTime();
            if (!enabled || (now - lastPrinted < 500_000_000L && done < requests)) {
                return;
            }
            lastPrinted = now;
            double seconds = Math.max(1e-3, (now - started) / 1e9);
            err.printf("\rsent %d/%d requests (%.0f items/s)", done, requests,
                    done * (double) BulkEnrollmentService.MAX_ITEMS / seconds);
            err.flush();
        }

        synchronized void done() {
            if (enabled && lastPrinted != 0) {
                err.println();
                err.flush();
            }
        }
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
