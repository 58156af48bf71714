package io.opendps.broker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to run a server. Validated on construction; defaults are those of {@code ./opendps serve}.
 *
 * @param dataDir where the ID scope, keys, TLS material and the H2 database live (created on first start)
 * @param hostNames names devices and clients use for this server; the first is the service's host name (the
 *     service SAS audience and the connection string's {@code HostName}); all go into the server certificate
 * @param bindAddress the address the listeners bind
 * @param mqttPort device MQTT over TLS (DPS: 8883; 0 picks a free port)
 * @param httpsPort service API and HTTPS device API (DPS: 443; 0 picks a free port)
 * @param hubs linked hub host names ({@code --hub}): the first start links them (empty: one hub named by
 *     {@link #effectiveHubs()}); later starts add those missing, with the built-in connector, and keep changes made
 *     through the service API
 * @param replyDelay delay before each MQTT reply (the Java SDK loses instant replies; HTTPS replies need none)
 * @param workerThreads size of the worker pool (store and crypto work) and of the database pool
 * @param workerQueue requests that may wait for a worker before devices get 429
 * @param autoVerifyCa mark uploaded CA certificates verified without proof of possession (local development
 *     only; off by default)
 */
public record ServerOptions(Path dataDir, List<String> hostNames, String bindAddress, int mqttPort, int httpsPort,
        List<String> hubs, Duration replyDelay, int workerThreads, int workerQueue, boolean autoVerifyCa) {

    /** The DPS device port the Azure SDKs hard-code. */
    public static final int DPS_MQTT_PORT = 8883;
    /** The default hub of a server without a dotted host name (see {@link #effectiveHubs()}). */
    public static final String LOOPBACK_HUB = "127.0.0.1";
    /** The HTTPS port the Azure SDKs hard-code. */
    public static final int DPS_HTTPS_PORT = 443;

    public ServerOptions {
        hostNames = List.copyOf(hostNames);
        hubs = List.copyOf(hubs);
        if (hostNames.isEmpty()) {
            throw new IllegalArgumentException("at least one host name is required");
        }
        checkPort("MQTT", mqttPort);
        checkPort("HTTPS", httpsPort);
        if (workerThreads < 1 || workerQueue < 1) {
            throw new IllegalArgumentException("workerThreads and workerQueue must be positive");
        }
        if (replyDelay.isNegative()) {
            throw new IllegalArgumentException("replyDelay must not be negative");
        }
    }

    /** Options with CA proof of possession required (the default). */
    public ServerOptions(Path dataDir, List<String> hostNames, String bindAddress, int mqttPort, int httpsPort,
            List<String> hubs, Duration replyDelay, int workerThreads, int workerQueue) {
        this(dataDir, hostNames, bindAddress, mqttPort, httpsPort, hubs, replyDelay, workerThreads, workerQueue,
                false);
    }

    /** The defaults of {@code ./opendps serve}: localhost, ports 8883 and 443 on all interfaces. */
    public static ServerOptions defaults(Path dataDir) {
        return new ServerOptions(dataDir, List.of("localhost"), "0.0.0.0", DPS_MQTT_PORT, DPS_HTTPS_PORT, List.of(),
                Duration.ofMillis(100), 8, 10_000);
    }

    /** For tests: loopback only, free ephemeral ports, one hub {@code hub-1.opendps.local}. */
    public static ServerOptions forTests(Path dataDir) {
        return new ServerOptions(dataDir, List.of("localhost"), "127.0.0.1", 0, 0, List.of("hub-1.opendps.local"),
                Duration.ofMillis(100), 4, 1_000);
    }

    /**
     * The linked hubs in effect: the configured ones, else one hub named after the first host name that contains a
     * dot, else {@code 127.0.0.1}.
     *
     * <p>Why: a device connects to its assigned hub by name, so the name must resolve to this server and be in its
     * certificate, and the Azure Java device client refuses a hub host name without a dot ({@code localhost}). An IP
     * literal has dots, resolves everywhere without DNS, and is an IP SAN of the server certificate; on Linux every
     * {@code 127.x.y.z} is loopback, so local setups can link further hubs {@code 127.0.0.2}, ... In a real
     * deployment, name hubs with DNS names that point at the OpenDPS nodes (e.g. {@code hub-1.iot.example.com}) and
     * pass them with {@code --hub}; they go into the server certificate.
     */
    public List<String> effectiveHubs() {
        if (!hubs.isEmpty()) {
            return hubs;
        }
        return List.of(hostNames.stream().filter(h -> h.indexOf('.') > 0).findFirst().orElse(LOOPBACK_HUB));
    }

    /**
     * The names of a fresh data directory's certificate: the host names, then the linked hubs of a first start. The
     * server itself certifies the stored built-in hubs (see {@code OpenDpsServer}).
     */
    public List<String> certificateNames() {
        java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>(hostNames);
        names.addAll(effectiveHubs());
        return List.copyOf(names);
    }

    /** A copy with other ports. */
    public ServerOptions withPorts(int mqtt, int https) {
        return new ServerOptions(dataDir, hostNames, bindAddress, mqtt, https, hubs, replyDelay, workerThreads,
                workerQueue, autoVerifyCa);
    }

    /** A copy with other hubs. */
    public ServerOptions withHubs(List<String> value) {
        return new ServerOptions(dataDir, hostNames, bindAddress, mqttPort, httpsPort, value, replyDelay,
                workerThreads, workerQueue, autoVerifyCa);
    }

    /** A copy with CA auto-verification switched on or off. */
    public ServerOptions withAutoVerifyCa(boolean value) {
        return new ServerOptions(dataDir, hostNames, bindAddress, mqttPort, httpsPort, hubs, replyDelay,
                workerThreads, workerQueue, value);
    }

    private static void checkPort(String what, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(what + " port must be 0..65535, was " + port);
        }
    }
}
