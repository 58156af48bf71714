package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.util.List;

/** A table of enrollments or groups: id, status, attestation, hub. */
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
}
