package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.hub.HubMessage;
import io.opendps.core.hub.HubMessagePage;
import io.opendps.core.hub.TwinPatch;
import io.opendps.core.json.Json;
import io.opendps.core.json.JsonProblem;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code opendps hub ...}: the operator side of the hubs OpenDPS serves itself, through the service API
 * ({@code /hubs/{H}/...}): devices, twins, telemetry. A thin parent: each subcommand is its own class, and the
 * linked-hub management commands join the same {@code subcommands} list.
 *
 * <p>Exit codes as the other administration commands: 0 done, 1 refused by the service or bad input (the message
 * says why), 2 usage errors (picocli). {@code hub messages --max N} exits 1 when fewer than N messages arrived
 * within {@code --timeout}.
 */
@Command(name = "hub", mixinStandardHelpOptions = true,
        description = {"Linked hubs: list, add, update, remove, and the service's default allocation policy.",
            "The built-in hubs: list devices, show and update twins, delete devices, read telemetry."},
        subcommands = {LinkedHubCommands.ListAll.class, LinkedHubCommands.Add.class, LinkedHubCommands.Update.class,
            LinkedHubCommands.Remove.class, LinkedHubCommands.DefaultPolicy.class, HubCommand.Devices.class,
            HubCommand.Device.class, HubCommand.Twin.class, HubCommand.Messages.class})
final class HubCommand {

    static String hubPath(String hub, String resource) {
        return "hubs/" + encode(hub) + "/" + resource;
    }

    static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Command(name = "devices", mixinStandardHelpOptions = true,
            description = "List a hub's devices (all pages): id, status, connection state, authentication.")
    static final class Devices implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "HUB", description = "The hub's host name, e.g. 127.0.0.1 or hub-1.example.com.")
        String hub;

        @Option(names = "--page-size", paramLabel = "N", description = "Devices per request (default: the server's, "
                + "100).")
        int pageSize;

        @Override
        public Integer call() {
            ServiceClient client = service.client();
            List<JsonNode> devices = new ArrayList<>();
            String continuation = null;
            do {
                Map<String, String> headers = new LinkedHashMap<>();
                if (pageSize > 0) {
                    headers.put("x-ms-max-item-count", Integer.toString(pageSize));
                }
                if (continuation != null) {
                    headers.put("x-ms-continuation", continuation);
                }
                ServiceClient.Reply page = client.exchange("GET", hubPath(hub, "devices"), Map.of(), null, headers);
                if (page.body() != null) {
                    page.body().forEach(devices::add);
                }
                continuation = page.headers().firstValue("x-ms-continuation").filter(t -> !t.isEmpty()).orElse(null);
            } while (continuation != null);
            PrintWriter out = spec.commandLine().getOut();
            if (service.json) {
                ArrayNode array = Json.mapper().createArrayNode();
                devices.forEach(array::add);
                Output.print(out, array, true);
                return 0;
            }
            if (devices.isEmpty()) {
                out.println("No devices in hub " + hub + ".");
                return 0;
            }
            String format = "%-40s %-9s %-13s %s%n";
            out.printf(format, "deviceId", "status", "connection", "authentication");
            for (JsonNode d : devices) {
                out.printf(format, d.path("deviceId").asText(), d.path("status").asText(),
                        d.path("connectionState").asText(), d.path("authentication").path("type").asText());
            }
            return 0;
        }
    }

    @Command(name = "device", mixinStandardHelpOptions = true, description = "Show or delete one device of a hub.",
            subcommands = {DeviceShow.class, DeviceDelete.class})
    static final class Device {
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show a device's identity (authentication type and certificate thumbprint; never keys).")
    static final class DeviceShow implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(index = "0", paramLabel = "HUB", description = "The hub's host name.")
        String hub;

        @Parameters(index = "1", paramLabel = "DEVICE_ID", description = "The device id (case-sensitive).")
        String deviceId;

        @Override
        public Integer call() {
            JsonNode device = service.client().exchange("GET", hubPath(hub, "devices/" + encode(deviceId)), Map.of(),
                    null, Map.of()).body();
            Output.print(spec.commandLine().getOut(), device, service.json);
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Delete a device and its twin from a hub; a connected device is disconnected.",
                "Its registration record stays: its next registration puts it back with the enrollment's initial "
                        + "twin (also run 'registration delete' to start afresh)."})
    static final class DeviceDelete implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(index = "0", paramLabel = "HUB", description = "The hub's host name.")
        String hub;

        @Parameters(index = "1", paramLabel = "DEVICE_ID", description = "The device id (case-sensitive).")
        String deviceId;

        @Override
        public Integer call() {
            service.client().exchange("DELETE", hubPath(hub, "devices/" + encode(deviceId)), Map.of(), null,
                    Map.of());
            spec.commandLine().getOut().println("Deleted device " + deviceId + " from hub " + hub
                    + " (its registration record is kept)");
            return 0;
        }
    }

    @Command(name = "twin", mixinStandardHelpOptions = true, description = "Show or update a device's twin.",
            subcommands = {TwinShow.class, TwinUpdate.class})
    static final class Twin {
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show a device's twin: etag, version, tags, desired and reported properties.")
    static final class TwinShow implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(index = "0", paramLabel = "HUB", description = "The hub's host name.")
        String hub;

        @Parameters(index = "1", paramLabel = "DEVICE_ID", description = "The device id (case-sensitive).")
        String deviceId;

        @Override
        public Integer call() {
            JsonNode twin = service.client().exchange("GET", hubPath(hub, "twins/" + encode(deviceId)), Map.of(),
                    null, Map.of()).body();
            printTwin(spec.commandLine().getOut(), twin, service.json);
            return 0;
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = {"Update a twin's desired properties and/or tags (JSON merge patch: null removes a key).",
                "A desired change is pushed to the device if it is connected."})
    static final class TwinUpdate implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(index = "0", paramLabel = "HUB", description = "The hub's host name.")
        String hub;

        @Parameters(index = "1", paramLabel = "DEVICE_ID", description = "The device id (case-sensitive).")
        String deviceId;

        @Option(names = "--desired", paramLabel = "JSON|@FILE",
                description = "Desired-properties patch, e.g. '{\"interval\":5}', or @file.json.")
        @Nullable String desired;

        @Option(names = "--tags", paramLabel = "JSON|@FILE", description = "Tags patch, e.g. '{\"site\":null}'.")
        @Nullable String tags;

        @Option(names = "--etag", paramLabel = "ETAG",
                description = "Update only this version of the twin (from 'twin show'); refused if it changed.")
        @Nullable String etag;

        @Override
        public Integer call() {
            if (desired == null && tags == null) {
                throw new ParameterException(spec.commandLine(), "give --desired and/or --tags");
            }
            ObjectNode properties = null;
            if (desired != null) {
                properties = Json.mapper().createObjectNode();
                properties.set("desired", object("--desired", desired));
            }
            TwinPatch patch = new TwinPatch(tags == null ? null : object("--tags", tags), properties);
            ServiceClient.Reply reply = service.client().exchange("PATCH", hubPath(hub, "twins/" + encode(deviceId)),
                    Map.of(), patch, etag == null ? Map.of() : Map.of("If-Match", etag));
            printTwin(spec.commandLine().getOut(), reply.body(), service.json);
            return 0;
        }

        private JsonNode object(String option, String value) {
            byte[] json;
            if (value.startsWith("@")) {
                Path file = Path.of(value.substring(1));
                try {
                    json = Files.readAllBytes(file);
                } catch (IOException e) {
                    throw new ParameterException(spec.commandLine(), option + ": cannot read " + file + ": "
                            + e.getMessage());
                }
            } else {
                json = value.getBytes(StandardCharsets.UTF_8);
            }
            try {
                JsonNode node = Json.parse(json, JsonNode.class);
                if (node == null || !node.isObject()) {
                    throw new ParameterException(spec.commandLine(), option + " must be a JSON object, e.g. "
                            + "'{\"interval\":5}'");
                }
                return node;
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), option + " is not valid JSON: "
                        + JsonProblem.describe(e));
            }
        }
    }

    static void printTwin(PrintWriter out, @Nullable JsonNode twin, boolean json) {
        if (twin == null) {
            throw new IllegalStateException("the service answered without a twin");
        }
        if (json) {
            Output.print(out, twin, true);
            return;
        }
        out.println("deviceId: " + twin.path("deviceId").asText());
        out.println("etag: " + twin.path("etag").asText());
        out.println("version: " + twin.path("version").asText());
        out.println("tags: " + Json.toText(twin.path("tags")));
        out.println("desired: " + Json.toText(twin.path("properties").path("desired")));
        out.println("reported: " + Json.toText(twin.path("properties").path("reported")));
    }

    @Command(name = "messages", mixinStandardHelpOptions = true,
            description = {"Print a hub's telemetry, one line per message: time, device, properties, body (UTF-8 "
                    + "text, a JSON string if it has line breaks, else base64:...); --json: one JSON object a line.",
                "--follow keeps polling for new messages until Ctrl-C (or --max / --timeout)."})
    static final class Messages implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ServiceOptions service;

        @Parameters(paramLabel = "HUB", description = "The hub's host name.")
        String hub;

        @Option(names = "--follow", description = "Keep polling for new messages.")
        boolean follow;

        @Option(names = "--after", paramLabel = "N", defaultValue = "0",
                description = "Start after this sequence number (default 0: the oldest message kept).")
        long after;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "Messages per request, 1..1000 (default ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--max", paramLabel = "N",
                description = "Stop after N messages (exit 1 if --timeout passes first).")
        @Nullable Integer max;

        @Option(names = "--timeout", paramLabel = "SECONDS",
                description = "With --follow: stop after this many seconds.")
        @Nullable Integer timeoutSeconds;

        @Option(names = "--interval", paramLabel = "MILLIS", defaultValue = "1000",
                description = "With --follow: poll interval when nothing is new (default ${DEFAULT-VALUE} ms).")
        long intervalMillis;

        @Override
        public Integer call() throws InterruptedException {
            if (after < 0) {
                throw new ParameterException(spec.commandLine(), "--after must be 0 or more");
            }
            if (limit < 1 || limit > 1000) {
                throw new ParameterException(spec.commandLine(), "--limit must be 1..1000");
            }
            if (max != null && max < 1) {
                throw new ParameterException(spec.commandLine(), "--max must be at least 1");
            }
            if (intervalMillis < 10) {
                throw new ParameterException(spec.commandLine(), "--interval must be at least 10 ms");
            }
            ServiceClient client = service.client();
            PrintWriter out = spec.commandLine().getOut();
            long deadline = timeoutSeconds == null ? Long.MAX_VALUE
                    : System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            long cursor = after;
            int printed = 0;
            while (true) {
                int want = max == null ? limit : Math.min(limit, max - printed);
                HubMessagePage page = read(client, cursor, want);
                for (HubMessage m : page.messages()) {
                    out.println(service.json ? Json.toText(m) : line(m));
                    printed++;
                }
                out.flush();
                cursor = page.next();
                if (max != null && printed >= max) {
                    return 0;
                }
                if (!follow) {
                    return 0;
                }
                if (System.nanoTime() >= deadline) {
                    if (max != null) {
                        spec.commandLine().getErr().println("opendps: " + printed + " of " + max + " messages within "
                                + timeoutSeconds + " s");
                        return 1;
                    }
                    return 0;
                }
                if (page.messages().isEmpty()) {
                    long sleep = Math.min(intervalMillis, Math.max(1, TimeUnit.NANOSECONDS.toMillis(
                            deadline - System.nanoTime())));
                    Thread.sleep(sleep);
                }
            }
        }

        private HubMessagePage read(ServiceClient client, long cursor, int want) {
            JsonNode body = client.exchange("GET", hubPath(hub, "messages"), Map.of("after", Long.toString(cursor),
                    "limit", Integer.toString(want)), null, Map.of()).body();
            try {
                return Json.mapper().treeToValue(body, HubMessagePage.class);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalStateException("the service answered the message read with an unreadable page: "
                        + e.getMessage(), e);
            }
        }
    }

    /**
     * {@code time device {properties} body}: the body as UTF-8 text when it is valid UTF-8 (as a JSON string when it
     * holds line breaks or other control characters, so each message stays one line), else {@code base64:...}.
     */
    static String line(HubMessage m) {
        return m.enqueuedTimeUtc() + " " + m.deviceId() + " " + Json.toText(new TreeMap<>(m.properties())) + " "
                + body(m.body());
    }

    static String body(byte[] body) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
            return text.chars().anyMatch(c -> c != '\t' && Character.isISOControl(c)) ? Json.toText(text) : text;
        } catch (CharacterCodingException e) {
            return "base64:" + Base64.getEncoder().encodeToString(body);
        }
    }
}
