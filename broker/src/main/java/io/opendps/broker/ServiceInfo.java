package io.opendps.broker;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a client needs to talk to a running server: the ID scope, the CA certificate to trust, the endpoints and
 * the service connection string. The server writes it to {@code <data-dir>/service.json} (mode 0600: the
 * connection string holds the owner key), where the CLI and the simulated device find it.
 */
public record ServiceInfo(String idScope, Path caCertificate, String mqttHost, int mqttPort, String httpsHost,
        int httpsPort, String serviceConnectionString, List<String> hubs) {

    /** The file name in the data directory. */
    public static final String FILE = "service.json";

    public ServiceInfo {
        hubs = List.copyOf(hubs);
    }

    /** The same information with another service connection string. */
    public ServiceInfo withServiceConnectionString(String connectionString) {
        return new ServiceInfo(idScope, caCertificate, mqttHost, mqttPort, httpsHost, httpsPort, connectionString,
                hubs);
    }

    /** {@code host:port} of the device MQTT endpoint. */
    public String mqttEndpoint() {
        return mqttHost + ":" + mqttPort;
    }

    /** {@code https://host:port} of the service API. */
    public String httpsEndpoint() {
        return "https://" + httpsHost + ":" + httpsPort;
    }

    /** The JSON shape of {@code service.json} and {@code ./opendps info --json}. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("idScope", idScope);
        m.put("caCertificate", caCertificate.toAbsolutePath().toString());
        m.put("mqttEndpoint", mqttEndpoint());
        m.put("httpsEndpoint", httpsEndpoint());
        m.put("serviceConnectionString", serviceConnectionString);
        m.put("hubs", hubs);
        return m;
    }

    /** Reads {@code <dataDir>/service.json}. */
    public static ServiceInfo read(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no " + file + ": start the server with './opendps serve --data-dir "
                    + dataDir + "' first, or pass --connection-string");
        }
        try {
            JsonNode n = Json.mapper().readTree(Files.readAllBytes(file));
            String[] mqtt = hostPort(text(n, "mqttEndpoint", file));
            String[] https = hostPort(text(n, "httpsEndpoint", file).replaceFirst("^https://", ""));
            List<String> hubs = new ArrayList<>();
            n.path("hubs").forEach(h -> hubs.add(h.asText()));
            return new ServiceInfo(text(n, "idScope", file), Path.of(text(n, "caCertificate", file)), mqtt[0],
                    Integer.parseInt(mqtt[1]), https[0], Integer.parseInt(https[1]),
                    text(n, "serviceConnectionString", file), hubs);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code <dataDir>/service.json}, readable by the owner only. */
    void write(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        try {
            Path tmp = Files.createTempFile(dataDir, "service", ".tmp");
            FilePermissions.ownerOnly(tmp);
            Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(toJson()));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static String text(JsonNode n, String field, Path file) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalStateException(file + " has no '" + field + "'");
        }
        return v.asText();
    }

    private static String[] hostPort(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalStateException("endpoint '" + endpoint + "' has no port");
        }
        String host = endpoint.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new String[] {host, endpoint.substring(colon + 1)};
    }
}
