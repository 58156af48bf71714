package io.opendps.cli;

import io.opendps.broker.ServiceInfo;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Where an administration command finds the service: a data directory or a connection string. */
final class ServiceOptions {

    @Option(names = "--data-dir", defaultValue = "${env:OPENDPS_DATA_DIR:-./opendps-data}",
            description = "The server's data directory, to read its connection string and CA from "
                    + "(default: ${DEFAULT-VALUE}; env OPENDPS_DATA_DIR).")
    Path dataDir = Path.of("opendps-data");

    @Option(names = "--connection-string", defaultValue = "${env:OPENDPS_CONNECTION_STRING}",
            description = "Service connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...); "
                    + "overrides --data-dir (env OPENDPS_CONNECTION_STRING).")
    @Nullable String connectionString;

    @Option(names = "--ca", description = "PEM CA certificate to trust for HTTPS (default: the data directory's CA; "
            + "with --connection-string: the JVM's trust store).")
    @Nullable Path ca;

    @Option(names = "--json", description = "Print the API's JSON as is.")
    boolean json;

    ServiceClient client() {
        if (connectionString != null && !connectionString.isBlank()) {
            return new ServiceClient(ConnectionString.parse(connectionString), ca);
        }
        ServiceInfo info = ServiceInfo.read(dataDir);
        return new ServiceClient(ConnectionString.parse(info.serviceConnectionString()).withEndpoint(
                info.httpsHost(), info.httpsPort()), ca != null ? ca : info.caCertificate());
    }
}
