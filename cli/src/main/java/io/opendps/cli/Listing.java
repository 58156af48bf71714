package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.util.List;

/** Tables of enrollments or groups (id, status, attestation, hub) and of registration records, or a JSON array. */
final class Listing {

    private Listing() {
    }

    static void print(PrintWriter out, List<JsonNode> items, boolean json, String idField, String empty) {
        if (json) {
            ArrayNode array = Json.mapper().createArrayNode();
            items.forEach(array::add);
            Output.print(out, array, true);
            return;
        }
        if (items.isEmpty()) {
            out.println(empty);
            return;
        }
        String format = "%-40s %-9s %-13s %s%n";
        out.printf(format, idField, "status", "attestation", "hub");
        for (JsonNode e : items) {
            out.printf(format, e.path(idField).asText(), e.path("provisioningStatus").asText("enabled"),
                    e.path("attestation").path("type").asText(), e.path("iotHubHostName").asText("(allocated)"));
        }
    }

    /** A table of registration records: id, status, assigned hub, device id. */
    static void printRegistrations(PrintWriter out, List<JsonNode> items, boolean json, String empty) {
        if (json) {
            print(out, items, true, "registrationId", empty);
            return;
        }
        if (items.isEmpty()) {
            out.println(empty);
            return;
        }
        String format = "%-40s %-9s %-40s %s%n";
        out.printf(format, "registrationId", "status", "assignedHub", "deviceId");
        for (JsonNode r : items) {
            out.printf(format, r.path("registrationId").asText(), r.path("status").asText(),
                    r.path("assignedHub").asText("-"), r.path("deviceId").asText("-"));
        }
    }
}
