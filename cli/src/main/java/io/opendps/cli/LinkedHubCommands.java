package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The linked-hub subcommands of {@code opendps hub} ({@code /linkedHubs} and {@code /settings/allocation} of the
 * service API; need a connection string with {@code ServiceConfig}). Webhook secrets are read from a file (never a
 * command-line argument, which other users of the machine can see) and are never printed.
 */
final class LinkedHubCommands {

    static final String PATH = "linkedHubs";
    static final String SETTINGS = "settings/allocation";

    private LinkedHubCommands() {
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the linked hubs.")
    static final class ListAll implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Override
        public Integer call() {
            JsonNode list = require(service.client().call("GET", PATH, null), "the hub list");
            PrintWriter out = spec.commandLine().getOut();
            if (service.json) {
                Output.print(out, list, true);
                return 0;
            }
            String format = "%-40s %-7s %-11s %-16s %s%n";
            out.printf(format, "hostName", "weight", "allocation", "location", "connector");
            for (JsonNode h : list.path("value")) {
                JsonNode c = h.path("connector");
                out.printf(format, h.path("hostName").asText(), h.path("allocationWeight").asText(),
                        h.path("applyAllocationPolicy").asBoolean() ? "yes" : "no",
                        h.path("location").asText("-"), c.path("type").asText()
                                + (c.has("url") ? " " + c.path("url").asText() : ""));
            }
            return 0;
        }
    }

    /** The options add and update share. */
    static final class HubOptions {
        @Option(names = "--weight", paramLabel = "N", description = "Allocation weight 1-1000 (default 1).")
        @Nullable Integer weight;

        @Option(names = "--location", paramLabel = "REGION", description = "Region name, e.g. westeurope.")
        @Nullable String location;

        @Option(names = "--no-allocation", description = "Keep the hub out of hashed/geo-latency allocation "
                + "(enrollments can still name it).")
        boolean noAllocation;

        @Option(names = "--webhook", paramLabel = "URL",
                description = "Hand devices to your backend at URL (signed POSTs; see the README).")
        @Nullable String webhook;

        @Option(names = "--secret-file", paramLabel = "FILE",
                description = "File holding the webhook's shared signing secret (16-512 characters).")
        @Nullable Path secretFile;

        @Nullable String secret() {
            if (secretFile == null) {
                return null;
            }
            try {
                return Files.readString(secretFile, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --secret-file " + secretFile + ": " + e.getMessage(), e);
            }
        }

        ObjectNode connector(@Nullable String url, @Nullable String secret) {
            ObjectNode c = Json.mapper().createObjectNode();
            c.put("type", "webhook");
            c.put("url", url);
            if (secret != null) {
                c.put("secret", secret);
            }
            return c;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Link a hub (built-in unless --webhook).",
                "A built-in hub added while the server runs is served at once, but devices connecting to it by name "
                        + "need the server's TLS certificate to name it: restart the server (devices using a gateway "
                        + "host name work at once).",
                "Example: hub add hub-2.iot.example.com --weight 2 --location westeurope"})
    static final class Add implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;
        @Mixin HubOptions options;

        @Parameters(paramLabel = "NAME", description = "The hub's host name, e.g. hub-2.iot.example.com.")
        String name;

        @Override
        public Integer call() {
            if (options.webhook == null && options.secretFile != null) {
                throw new IllegalArgumentException("--secret-file needs --webhook");
            }
            if (options.webhook != null && options.secretFile == null) {
                throw new IllegalArgumentException("--webhook needs --secret-file FILE with the shared secret");
            }
            ObjectNode body = Json.mapper().createObjectNode();
            body.put("allocationWeight", options.weight == null ? 1 : options.weight);
            body.put("applyAllocationPolicy", !options.noAllocation);
            if (options.location != null) {
                body.put("location", options.location);
            }
            if (options.webhook != null) {
                body.set("connector", options.connector(options.webhook, options.secret()));
            }
            show(spec, service, service.client().call("PUT", path(name), body, null));
            return 0;
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = {"Change a linked hub; options not given keep their value.",
                "Example: hub update hub-2.iot.example.com --weight 5 --allocation"})
    static final class Update implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;
        @Mixin HubOptions options;

        @Parameters(paramLabel = "NAME", description = "The hub's host name.")
        String name;

        @Option(names = "--allocation", description = "Let allocation choose the hub again.")
        boolean allocation;

        @Option(names = "--built-in", description = "Serve the hub by OpenDPS itself (drops the webhook).")
        boolean builtIn;

        @Option(names = "--if-match", paramLabel = "ETAG",
                description = "Update only this version ('*': any; default: the version read just before).")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            if (allocation && options.noAllocation) {
                throw new IllegalArgumentException("--allocation and --no-allocation exclude each other");
            }
            if (builtIn && (options.webhook != null || options.secretFile != null)) {
                throw new IllegalArgumentException("--built-in excludes --webhook and --secret-file");
            }
            ServiceClient client = service.client();
            ObjectNode body = (ObjectNode) require(client.call("GET", path(name), null), "the hub");
            String etag = ifMatch != null ? ifMatch : body.path("etag").asText();
            if (options.weight != null) {
                body.put("allocationWeight", options.weight);
            }
            if (options.location != null) {
                body.put("location", options.location);
            }
            if (options.noAllocation || allocation) {
                body.put("applyAllocationPolicy", allocation);
            }
            boolean isWebhook = body.path("connector").path("type").asText().equals("webhook");
            if (builtIn) {
                body.set("connector", Json.mapper().createObjectNode().put("type", "builtIn"));
            } else if (options.webhook != null || options.secretFile != null) {
                String url = options.webhook != null ? options.webhook : body.path("connector").path("url").asText();
                if (!isWebhook && (options.webhook == null || options.secretFile == null)) {
                    throw new IllegalArgumentException("turning a built-in hub into a webhook hub needs --webhook "
                            + "and --secret-file");
                }
                body.set("connector", options.connector(url, options.secret()));
            }
            show(spec, service, client.call("PUT", path(name), body, etag));
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Unlink a hub. Devices' data in it is kept (linking the name again brings it back); "
                    + "enrollments that list it fail their devices' next registration until then."})
    static final class Remove implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "NAME", description = "The hub's host name.")
        String name;

        @Option(names = "--if-match", paramLabel = "ETAG", description = "Remove only this version.")
        @Nullable String ifMatch;

        @Override
        public Integer call() {
            service.client().call("DELETE", path(name), null, ifMatch);
            spec.commandLine().getOut().println("Removed linked hub " + name);
            return 0;
        }
    }

    @Command(name = "default-policy", mixinStandardHelpOptions = true,
            description = {"Show or set the allocation policy of enrollments that set none (custom cannot be the "
                    + "default)."})
    static final class DefaultPolicy implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "POLICY", arity = "0..1", description = "hashed, geoLatency or static.")
        @Nullable String policy;

        @Override
        public Integer call() {
            ServiceClient client = service.client();
            JsonNode settings = policy == null ? client.call("GET", SETTINGS, null)
                    : client.call("PUT", SETTINGS, Map.of("allocationPolicy", policy), null);
            JsonNode s = require(settings, "the allocation settings");
            if (service.json) {
                Output.print(spec.commandLine().getOut(), s, true);
            } else {
                spec.commandLine().getOut().println("Default allocation policy: " + s.path("allocationPolicy").asText());
            }
            return 0;
        }
    }

    static String path(String name) {
        return PATH + "/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    private static JsonNode require(@Nullable JsonNode node, String what) {
        if (node == null) {
            throw new IllegalStateException("the service answered " + what + " without a body");
        }
        return node;
    }

    /** Prints the hub; notes on stderr when the server's certificate does not name a built-in hub yet. */
    private static void show(CommandSpec spec, ServiceOptions service, @Nullable JsonNode hub) {
        JsonNode h = require(hub, "the hub");
        Output.print(spec.commandLine().getOut(), h, service.json);
        if (h.has("certificateCoversHostName") && !h.path("certificateCoversHostName").asBoolean()) {
            spec.commandLine().getErr().println("Note: the server's TLS certificate does not name "
                    + h.path("hostName").asText() + " yet. Devices connecting to this hub by name fail TLS until the "
                    + "server restarts (it re-issues the certificate then); devices using a gateway host name work "
                    + "now.");
        }
    }
}
