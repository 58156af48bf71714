package io.opendps.cli;

import io.opendps.broker.ServiceInfo;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code opendps info}: what clients need to reach the server of a data directory. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the ID scope, endpoints, CA certificate path and service connection string.")
final class InfoCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--data-dir", defaultValue = "${env:OPENDPS_DATA_DIR:-./opendps-data}",
            description = "The server's data directory (default: ${DEFAULT-VALUE}; env OPENDPS_DATA_DIR).")
    Path dataDir;

    @Option(names = "--json", description = "Print JSON: idScope, caCertificate, mqttEndpoint, httpsEndpoint, "
            + "serviceConnectionString, hubs.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ServiceInfo info = ServiceInfo.read(dataDir);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(info.toJson()));
            return 0;
        }
        out.println("ID scope:                  " + info.idScope());
        out.println("Device endpoint (MQTT):    " + info.mqttEndpoint());
        out.println("Service API (HTTPS):       " + info.httpsEndpoint());
        out.println("CA certificate:            " + info.caCertificate());
        out.println("Linked hubs:               " + String.join(", ", info.hubs()));
        out.println("Service connection string: " + info.serviceConnectionString());
        return 0;
    }
}
