package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code opendps query enrollments|groups|registrations}: the service API's query operations
 * ({@code POST /enrollments/query}, {@code /enrollmentGroups/query}, {@code /registrations/{groupId}/query}) as a
 * table or a JSON array.
 *
 * <p>Paging decision: by default every page is fetched, following {@code x-ms-continuation} until the service sends
 * none. With {@code --page-size} or {@code --continuation} exactly one page is fetched ({@code --page-size} items at
 * most, after the token); when more exist, the line {@code next page: --continuation TOKEN} goes to stderr so that
 * stdout stays a clean table or JSON array. The query text is sent as given (default {@code SELECT * FROM ...}, as
 * the Java service SDK sends it); the service currently answers every query with the whole collection.
 */
@Command(name = "query", mixinStandardHelpOptions = true,
        description = {"Query enrollments, enrollment groups or the registration records of a group.",
            "Prints every result (following the service's continuation tokens), or with --page-size/--continuation "
                    + "one page, writing the token of the next page to stderr."})
final class QueryCommand implements Callable<Integer> {

    @Spec CommandSpec spec;
    @Mixin ServiceOptions service;

    @Parameters(index = "0", paramLabel = "COLLECTION", description = "enrollments, groups or registrations.")
    String collection;

    @Option(names = "--group", paramLabel = "ID",
            description = "The enrollment group whose registration records to query (registrations only).")
    @Nullable String group;

    @Option(names = "--query", paramLabel = "TEXT",
            description = "The query text (default: SELECT * FROM enrollments | enrollmentGroups | "
                    + "deviceRegistrations).")
    @Nullable String query;

    @Option(names = "--page-size", paramLabel = "N",
            description = "Fetch one page of at most N items (the service caps N at 1000) instead of every page.")
    int pageSize;

    @Option(names = "--continuation", paramLabel = "TOKEN",
            description = "Fetch the one page after TOKEN (printed by a previous --page-size query).")
    @Nullable String continuation;

    @Override
    public Integer call() {
        Target target = target();
        if (pageSize < 0 || pageSize == 0 && spec.commandLine().getParseResult().hasMatchedOption("--page-size")) {
            throw new IllegalArgumentException("--page-size must be a positive number, got " + pageSize);
        }
        String text = query != null ? query : target.defaultQuery();
        ServiceClient client = service.client();
        List<JsonNode> items;
        if (pageSize > 0 || continuation != null) {
            ServiceClient.QueryPage page = client.query(target.path(), text, pageSize, continuation);
            items = page.items();
            if (page.continuation() != null) {
                spec.commandLine().getErr().println("next page: --continuation " + page.continuation());
            }
        } else {
            items = client.queryAll(target.path(), text, 0);
        }
        PrintWriter out = spec.commandLine().getOut();
        switch (target.kind()) {
            case "enrollments" -> Listing.print(out, items, service.json, "registrationId", "No enrollments.");
            case "groups" -> Listing.print(out, items, service.json, "enrollmentGroupId", "No enrollment groups.");
            default -> Listing.printRegistrations(out, items, service.json, "No registration records for group "
                    + group + ".");
        }
        return 0;
    }

    private Target target() {
        String kind = collection.toLowerCase(Locale.ROOT);
        if (kind.equals("enrollmentgroups")) {
            kind = "groups";
        }
        switch (kind) {
            case "enrollments", "groups" -> {
                if (group != null) {
                    throw new IllegalArgumentException("--group applies to 'query registrations' only");
                }
                return kind.equals("groups")
                        ? new Target(kind, GroupCommand.COLLECTION, "SELECT * FROM enrollmentGroups")
                        : new Target(kind, EnrollmentCommand.COLLECTION, "SELECT * FROM enrollments");
            }
            case "registrations" -> {
                if (group == null || group.isBlank()) {
                    throw new IllegalArgumentException("'query registrations' needs --group ID: registration records "
                            + "are queried per enrollment group");
                }
                return new Target(kind, RegistrationCommand.COLLECTION + "/" + URLEncoder.encode(group,
                        StandardCharsets.UTF_8), "SELECT * FROM deviceRegistrations");
            }
            default -> throw new IllegalArgumentException("unknown collection '" + collection
                    + "': use enrollments, groups or registrations");
        }
    }

    /** The collection to query: its kind, API path and default query text. */
    private record Target(String kind, String path, String defaultQuery) {
    }
}
