package io.opendps.sim;

import io.opendps.core.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * The part of {@code {data-dir}/service.json} a device needs. The server writes the file on start, e.g.
 * {@code {"idScope":"0ne0123ABCD","caCertificate":"/abs/path/ca.pem","mqttEndpoint":"localhost:8883",...}};
 * other keys are ignored.
 *
 * @param idScope the server's ID scope
 * @param caCertificate the path of the CA certificate (PEM) the server certificate chains to
 * @param mqttEndpoint {@code host:port} of the MQTT/TLS listener ({@code [v6-address]:port} for IPv6)
 * @param httpsEndpoint {@code host:port} of the HTTPS listener (service API and device API)
 */
public record ServiceFile(@Nullable String idScope, @Nullable String caCertificate, @Nullable String mqttEndpoint,
        @Nullable String httpsEndpoint) {

    /** A file without HTTPS endpoint. */
    public ServiceFile(@Nullable String idScope, @Nullable String caCertificate, @Nullable String mqttEndpoint) {
        this(idScope, caCertificate, mqttEndpoint, null);
    }

    /** The file's name inside the data directory. */
    public static final String FILE_NAME = "service.json";

    /**
     * Reads {@code {dataDir}/service.json}.
     *
     * @param dataDir the server's data directory
     * @return the file's content, or empty when the file does not exist
     * @throws IOException if the file exists but cannot be read or is not a JSON object
     */
    public static Optional<ServiceFile> read(Path dataDir) throws IOException {
        try {
            return Optional.ofNullable(Json.parse(Files.readAllBytes(dataDir.resolve(FILE_NAME)), ServiceFile.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** The CA certificate path; a relative path is resolved against the data directory. */
    public Optional<Path> caCertificatePath(Path dataDir) {
        return caCertificate == null || caCertificate.isBlank()
                ? Optional.empty()
                : Optional.of(dataDir.resolve(caCertificate));
    }

    /** The port of {@link #mqttEndpoint()}, when it has a valid one. */
    public OptionalInt mqttPort() {
        return portOf(mqttEndpoint);
    }

    /** The port of {@link #httpsEndpoint()}, when it has a valid one. */
    public OptionalInt httpsPort() {
        return portOf(httpsEndpoint);
    }

    private static OptionalInt portOf(@Nullable String endpoint) {
        if (endpoint == null) {
            return OptionalInt.empty();
        }
        int colon = endpoint.lastIndexOf(':');
        if (colon < 0 || endpoint.endsWith("]")) {
            return OptionalInt.empty();
        }
        try {
            int port = Integer.parseInt(endpoint.substring(colon + 1));
            return port >= 1 && port <= 65_535 ? OptionalInt.of(port) : OptionalInt.empty();
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }
}
