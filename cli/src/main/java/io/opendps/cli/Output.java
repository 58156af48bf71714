package io.opendps.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.util.Map;

/** Renders API JSON as readable {@code key: value} text, or as pretty JSON with {@code --json}. */
final class Output {

    private Output() {
    }

    static void print(PrintWriter out, JsonNode node, boolean json) {
        if (json) {
            try {
                out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(node));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            return;
        }
        printFields(out, node, "");
    }

    private static void printFields(PrintWriter out, JsonNode node, String indent) {
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            JsonNode v = f.getValue();
            if (v.isObject() && !v.isEmpty()) {
                out.println(indent + f.getKey() + ":");
                printFields(out, v, indent + "  ");
            } else if (v.isValueNode()) {
                out.println(indent + f.getKey() + ": " + v.asText());
            } else {
                out.println(indent + f.getKey() + ": " + v);
            }
        }
    }
}
