package io.opendps.cli;

import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code opendps serve}: runs the server until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the provisioning server: the device endpoint (MQTT over TLS) and the service API (HTTPS).",
            "The first start in an empty data directory creates the ID scope, a private CA and server certificate, "
                    + "the owner access policy and the database; later starts reuse them."})
final class ServeCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--data-dir", defaultValue = "${env:OPENDPS_DATA_DIR:-./opendps-data}",
            description = "Data directory (default: ${DEFAULT-VALUE}; env OPENDPS_DATA_DIR).")
    Path dataDir;

    @Option(names = "--host", description = "A host name (or IP) devices and clients use for this server; "
            + "repeatable. The first is the service host name. localhost, 127.0.0.1 and ::1 are always in the "
            + "certificate. Default: localhost.")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--mqtt-port", defaultValue = "8883",
            description = "Device MQTT/TLS port (default: ${DEFAULT-VALUE}, the port the Azure SDKs use).")
    int mqttPort;

    @Option(names = "--https-port", defaultValue = "443",
            description = "Service API HTTPS port (default: ${DEFAULT-VALUE}, the port the Azure SDKs use).")
    int httpsPort;

    @Option(names = "--hub", description = "A linked IoT hub host name, served by the built-in hub on the device "
            + "port; repeatable. Use DNS names that resolve to this server. The first start links these (default: "
            + "the first --host name with a dot, else 127.0.0.1); later starts add missing ones and keep changes "
            + "made with './opendps hub ...'.")
    List<String> hubs = new ArrayList<>();

    @Option(names = "--auto-verify-ca", description = "Local development only: accept CA certificates uploaded with "
            + "isVerified=true (ca upload --verified) without proof of possession, and let groups reference "
            + "unverified CAs. Off by default.")
    boolean autoVerifyCa;

    @Option(names = "--reply-delay", paramLabel = "MILLIS", defaultValue = "100",
            description = "Delay before each MQTT reply in milliseconds (default: ${DEFAULT-VALUE}). The Azure Java "
                    + "device SDK loses replies that arrive before it starts waiting; keep the default when Java "
                    + "devices connect. 0 for benchmarks with other clients.")
    long replyDelayMillis;

    @Override
    public Integer call() throws InterruptedException {
        if (replyDelayMillis < 0 || replyDelayMillis > 10_000) {
            throw new ParameterException(spec.commandLine(), "--reply-delay must be 0..10000 ms: " + replyDelayMillis);
        }
        ServerOptions defaults = ServerOptions.defaults(dataDir);
        ServerOptions options = new ServerOptions(dataDir, hosts.isEmpty() ? defaults.hostNames() : hosts, bind,
                mqttPort, httpsPort, hubs, Duration.ofMillis(replyDelayMillis), defaults.workerThreads(), defaults.workerQueue(),
                autoVerifyCa);
        OpenDpsServer server = OpenDpsServer.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "opendps-shutdown"));
        printBanner(spec.commandLine().getOut(), server.info());
        stopped.await();
        return 0;
    }

    static void printBanner(PrintWriter out, ServiceInfo info) {
        out.println("OpenDPS is running.");
        out.println("  ID scope:          " + info.idScope());
        out.println("  Device endpoint:   " + info.mqttEndpoint() + " (MQTT over TLS)");
        out.println("  Service API:       " + info.httpsEndpoint());
        out.println("  CA certificate:    " + info.caCertificate().toAbsolutePath() + "  (devices must trust it)");
        out.println("  Linked hubs:       " + String.join(", ", info.hubs()));
        out.println("  Service connection string:");
        out.println("    " + info.serviceConnectionString());
        out.println();
        out.println("Provision a first device (in another terminal):");
        out.println("  ./opendps enrollment create --registration-id my-device-01");
        out.println("  ./opendps device provision --registration-id my-device-01 --symmetric-key <primaryKey>");
        out.println("Press Ctrl+C to stop.");
        out.flush();
    }
}
