package io.opendps.broker;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import io.netty.handler.ssl.ClientAuth;
import io.opendps.broker.http.DeviceApi;
import io.opendps.broker.http.HttpsServer;
import io.opendps.broker.http.ServiceApi;
import io.opendps.broker.mqtt.ConnectedDevice;
import io.opendps.broker.mqtt.DpsExtension;
import io.opendps.broker.tls.DeviceClientTrust;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.HubDeviceAuthenticator;
import io.opendps.core.hub.WebhookHubConnector;
import io.opendps.core.linkedhub.LinkedHubService;
import io.opendps.core.registration.DeviceAuthenticator;
import io.opendps.core.registration.Registrar;
import io.opendps.core.registration.RegistrationRecordService;
import io.opendps.core.x509.X509ChainValidator;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.service.AccessPolicyService;
import io.opendps.core.service.ServiceAuthorizer;
import io.opendps.core.service.ServiceIdentity;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.store.jdbc.DatabaseOptions;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcDatabase;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcLinkedHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.store.jdbc.JdbcSettingsStore;
import io.opendps.core.store.jdbc.JdbcTpmKeyStore;
import io.opendps.core.tpm.TpmAttestor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running OpenDPS server: the embedded HiveMQ broker with the DPS extension on the device port, the HTTPS
 * service API, the store, and the identity (ID scope, owner policy, TLS material) kept in the data directory.
 *
 * <p>{@link #start} returns when every listener is bound; {@link #close} stops everything it started. The
 * HiveMQ extension API is static, so one server per JVM at a time. Starting a server also installs
 * {@link DeviceClientTrust} for the life of the JVM (the device listener's client-certificate trust; every other
 * TLS use in the JVM keeps the default behaviour).
 */
public final class OpenDpsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpenDpsServer.class);
    private static final Duration OPERATION_TTL = Duration.ofHours(1);

    private final ServiceFile serviceFile;
    private final EnrollmentService enrollments;
    private final RegistrationStore registrations;
    private final CaCertificateService caCertificates;
    private final BuiltInHub hub;
    private final LinkedHubService linkedHubs;
    private final DpsExtension extension;
    private final Deque<AutoCloseable> resources;

    private OpenDpsServer(ServiceFile serviceFile, EnrollmentService enrollments, RegistrationStore registrations,
            CaCertificateService caCertificates, BuiltInHub hub, LinkedHubService linkedHubs, DpsExtension extension,
            Deque<AutoCloseable> resources) {
        this.serviceFile = serviceFile;
        this.linkedHubs = linkedHubs;
        this.hub = hub;
        this.enrollments = enrollments;
        this.registrations = registrations;
        this.caCertificates = caCertificates;
        this.extension = extension;
        this.resources = resources;
    }

    /**
     * Starts a server.
     *
     * @throws PortUnavailableException when a listener port is taken
     * @throws io.opendps.core.store.StoreException when the database cannot be opened
     */
    public static OpenDpsServer start(ServerOptions options) {
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        try {
            return start(options, Clock.systemUTC(), resources);
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        }
    }

    private static OpenDpsServer start(ServerOptions options, Clock clock, Deque<AutoCloseable> resources) {
        long started = System.nanoTime();
        Path dataDir = options.dataDir().toAbsolutePath();
        createDirectories(dataDir);
        int mqttPort = choosePort(options.bindAddress(), options.mqttPort(), "device MQTT/TLS", "--mqtt-port");
        int httpsPort = choosePort(options.bindAddress(), options.httpsPort(), "HTTPS", "--https-port");

        JdbcDatabase db = JdbcDatabase.open(withPool(DatabaseOptions.h2File(dataDir.resolve("db")),
                options.workerThreads()));
        resources.push(db);
        // Linked hubs are stored: the first start links the default hub (or the --hub names); --hub names missing
        // later are added with the built-in connector; API changes to existing hubs are kept.
        HttpClient webhookClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        LinkedHubService linkedHubs = new LinkedHubService(new JdbcLinkedHubStore(db),
                stored -> new WebhookHubConnector(stored.hostName(), URI.create(Objects.requireNonNull(
                        stored.webhookUrl())), Objects.requireNonNull(stored.webhookSecret()), webhookClient,
                        WebhookHubConnector.Options.defaults(), clock), clock);
        linkedHubs.initialize(options.effectiveHubs(), options.hubs());
        // Built-in hub names are in the certificate too: devices connect to their hub by name. A data directory
        // whose certificate lacks a name gets a re-issued server certificate (same CA), see TlsMaterial. A built-in
        // hub linked at run time is only added at the next start (LinkedHubView.certificateCoversHostName).
        List<String> certificateNames = certificateNames(options.hostNames(), linkedHubs.builtInHubs());
        TlsMaterial tls = TlsMaterial.loadOrCreate(dataDir, certificateNames, clock);
        Set<String> covered = certificateNames.stream().map(n -> n.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        linkedHubs.certificateCovers(covered::contains);
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(db);
        JdbcRegistrationStore registrationStore = new JdbcRegistrationStore(db);
        JdbcSettingsStore settings = new JdbcSettingsStore(db, clock);
        ServiceIdentity identity = ServiceIdentity.loadOrCreate(settings);
        ServiceFile serviceFile = new ServiceFile(dataDir, settings);

        Allocator allocator = new Allocator(linkedHubs);
        SasVerifier verifier = new SasVerifier(clock, Duration.ofMinutes(5));
        CaCertificateService caCertificates = new CaCertificateService(new JdbcCaCertificateStore(db),
                enrollmentStore, CaCertificateOptions.autoVerify(options.autoVerifyCa()), clock);
        BuiltInHub hub = new BuiltInHub(linkedHubs::builtInHubs, new JdbcHubStore(db), clock,
                BuiltInHub.DEFAULT_MESSAGE_CAP);
        Registrar registrar = new Registrar(identity.idScope(),
                new DeviceAuthenticator(identity.idScope(), enrollmentStore, verifier, caCertificates,
                        new X509ChainValidator(clock), new TpmAttestor(new JdbcTpmKeyStore(db), clock,
                                new SecureRandom())), registrationStore, allocator, linkedHubs.connectors(hub),
                clock);
        EnrollmentService enrollments = new EnrollmentService(enrollmentStore, registrationStore, allocator,
                caCertificates, clock);

        ThreadPoolExecutor workers = workerPool(options);
        resources.push(() -> shutdown(workers));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
                named("opendps-scheduler", new AtomicInteger()));
        resources.push(() -> shutdown(scheduler));
        scheduler.scheduleWithFixedDelay(() -> purgeOperations(registrationStore, clock), 10, 10, TimeUnit.MINUTES);

        DpsExtension extension = new DpsExtension(registrar, workers, scheduler, options.replyDelay(), clock, hub,
                new HubDeviceAuthenticator(hub, verifier, new X509ChainValidator(clock)));
        startBroker(options, dataDir, mqttPort, tls, extension, resources);
        ServiceApi api = new ServiceApi(enrollments, new RegistrationRecordService(registrationStore), caCertificates,
                new ServiceAuthorizer(settings, serviceAudiences(options.hostNames(), httpsPort), verifier), clock,
                new AccessPolicyService(settings, serviceFile, clock), hub, extension::hubDeviceConnected, linkedHubs);
        HttpsServer https = startHttps(options, httpsPort, tls, api, new DeviceApi(registrar, clock), workers);
        resources.push(https);

        ServiceInfo info = new ServiceInfo(identity.idScope(), tls.caCertificatePath(), options.hostNames().get(0),
                mqttPort, options.hostNames().get(0), https.port(), ServiceFile.connectionString(
                options.hostNames().get(0), https.port(), identity.owner()),
                linkedHubs.hubs().stream().map(LinkedHub::hostName).toList());
        serviceFile.publish(info);
        // The API is already listening: a policy change made before publish() found no file to refresh.
        serviceFile.refresh();
        LOG.info("OpenDPS started in {} ms [id-scope: {}, mqtt: {}, https: {}, hubs: {}]",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), info.idScope(), info.mqttEndpoint(),
                info.httpsEndpoint(), info.hubs());
        return new OpenDpsServer(serviceFile, enrollments, registrationStore, caCertificates, hub, linkedHubs,
                extension, resources);
    }

    /**
     * Endpoints, ID scope, CA and administrator connection string of this server, as {@code service.json} holds
     * them now (the connection string follows policy changes, see {@link ServiceFile}).
     */
    public ServiceInfo info() {
        return serviceFile.current();
    }

    /** Direct access to enrollment administration (the demo, tests). */
    public EnrollmentService enrollments() {
        return enrollments;
    }

    /** Direct access to CA certificate administration (tests). */
    public CaCertificateService caCertificates() {
        return caCertificates;
    }

    /**
     * The built-in hub serving the linked hubs: devices, twins, telemetry (the operator API of issue 5 part B, the
     * demo, tests).
     */
    public BuiltInHub hub() {
        return hub;
    }

    /** Direct access to the linked hubs and the default allocation policy (tests). */
    public LinkedHubService linkedHubs() {
        return linkedHubs;
    }

    /** Direct access to registration records (tests). */
    public RegistrationStore registrations() {
        return registrations;
    }

    /**
     * The live device connection of an MQTT client id: registration id, whether a SAS token was sent, and the
     * SHA-256 thumbprints of the certificate chain presented in the TLS handshake (leaf first). Read-only; for
     * operators and tests.
     */
    public Optional<ConnectedDevice> connectedDevice(String clientId) {
        return extension.connectedDevice(clientId);
    }

    @Override
    public void close() {
        closeAll(resources);
        LOG.info("OpenDPS stopped");
    }

    private static void startBroker(ServerOptions options, Path dataDir, int port, TlsMaterial tls,
            DpsExtension extension, Deque<AutoCloseable> resources) {
        Path brokerDir = dataDir.resolve("broker");
        String password = randomPassword();
        // Before HiveMQ builds its TLS context: the device listener's trust store selects the permissive device
        // trust (empty issuer list, any chain passes the handshake; see DeviceClientTrust and HiveMqConfig).
        DeviceClientTrust.install();
        try {
            Path keystore = tls.writePkcs12(brokerDir.resolve("keystore.p12"), password.toCharArray());
            Path truststore = DeviceClientTrust.writeTruststore(brokerDir.resolve("device-truststore.p12"),
                    password.toCharArray(), tls.caCertificate());
            HiveMqConfig.write(brokerDir.resolve("conf"), options.bindAddress(), port, keystore, truststore,
                    password);
            Files.createDirectories(brokerDir.resolve("data"));
            Files.createDirectories(brokerDir.resolve("extensions"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the broker folder " + brokerDir, e);
        }
        EmbeddedHiveMQ hivemq = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(brokerDir.resolve("conf"))
                .withDataFolder(brokerDir.resolve("data"))
                .withExtensionsFolder(brokerDir.resolve("extensions"))
                .withoutLoggingBootstrap()
                .withEmbeddedExtension(EmbeddedExtension.builder()
                        .withId("opendps-dps").withName("OpenDPS device provisioning").withVersion("0.1")
                        .withAuthor("OpenDPS").withPriority(1000).withStartPriority(1000)
                        .withExtensionMain(extension).build())
                .build();
        resources.push(hivemq);
        try {
            hivemq.start().join();
        } catch (CompletionException e) {
            throw new IllegalStateException("the MQTT broker failed to start: " + e.getCause().getMessage(), e);
        }
        if (!portInUse(options.bindAddress(), port)) {
            throw new PortUnavailableException("the device MQTT/TLS listener did not bind " + options.bindAddress()
                    + ":" + port + " (see the broker log above)", null);
        }
    }

    /**
     * The HTTPS listener asks for a client certificate but does not require one, with no issuers listed and any
     * chain let through ({@code dps-device-protocol.md} §0 rule 3): X.509 devices send theirs, service clients and
     * SAS devices send none; the registrar validates device chains.
     */
    private static HttpsServer startHttps(ServerOptions options, int port, TlsMaterial tls, ServiceApi api,
            DeviceApi devices, ThreadPoolExecutor workers) {
        try {
            return HttpsServer.start(new InetSocketAddress(options.bindAddress(), port),
                    tls.nettyServerContext(ClientAuth.OPTIONAL), api, devices, workers);
        } catch (RuntimeException e) {
            throw new PortUnavailableException("cannot listen for HTTPS on " + options.bindAddress() + ":" + port
                    + ": " + e.getMessage() + "; choose another port with --https-port", e);
        }
    }

    /** Checks that a port can be bound (0 picks a free one) so that a taken port is a one-line error. */
    static int choosePort(String bindAddress, int port, String what, String flag) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(bindAddress, port));
            return socket.getLocalPort();
        } catch (IOException e) {
            String hint = port < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "";
            throw new PortUnavailableException("cannot listen for " + what + " on " + bindAddress + ":" + port
                    + ": " + e.getMessage() + hint + "; choose another port with " + flag, e);
        }
    }

    private static boolean portInUse(String bindAddress, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(bindAddress, port));
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Every name the server certificate must cover: the host names, then the built-in linked hubs. */
    static List<String> certificateNames(List<String> hostNames, Set<String> builtInHubs) {
        LinkedHashSet<String> names = new LinkedHashSet<>(hostNames);
        builtInHubs.stream().sorted().forEach(names::add);
        return List.copyOf(names);
    }

    /**
     * The host names a service SAS may name in {@code sr}: each host name alone (the Java SDK's connection strings
     * cannot carry a port) and with the HTTPS port, as in the connection string {@link ServiceFile#connectionString} prints
     * when the port is not 443 (Node, the CLI and the C SDK sign {@code HostName} exactly as written).
     */
    static List<String> serviceAudiences(List<String> hostNames, int httpsPort) {
        List<String> audiences = new ArrayList<>(hostNames);
        hostNames.forEach(host -> audiences.add(host + ":" + httpsPort));
        return audiences;
    }

    private static DatabaseOptions withPool(DatabaseOptions db, int size) {
        return new DatabaseOptions(db.jdbcUrl(), db.user(), db.password(), size);
    }

    private static ThreadPoolExecutor workerPool(ServerOptions options) {
        return new ThreadPoolExecutor(options.workerThreads(), options.workerThreads(), 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(options.workerQueue()), named("opendps-worker", new AtomicInteger()),
                new ThreadPoolExecutor.AbortPolicy());
    }

    private static java.util.concurrent.ThreadFactory named(String prefix, AtomicInteger counter) {
        return r -> {
            Thread t = new Thread(r, prefix + "-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static void purgeOperations(RegistrationStore store, Clock clock) {
        try {
            int n = store.purgeOperationsBefore(clock.instant().minus(OPERATION_TTL));
            LOG.debug("purged {} registration operations older than {}", n, OPERATION_TTL);
        } catch (RuntimeException e) {
            LOG.warn("purging old registration operations failed", e);
        }
    }

    /** A fresh keystore password for each start: the keystore is rewritten from the PEM files every time. */
    private static String randomPassword() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + dir, e);
        }
    }

    private static void shutdown(java.util.concurrent.ExecutorService executor) throws InterruptedException {
        executor.shutdown();
        if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
            executor.shutdownNow();
        }
    }

    private static void closeAll(Deque<AutoCloseable> resources) {
        while (!resources.isEmpty()) {
            AutoCloseable r = resources.pop();
            try {
                r.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.warn("error while stopping {}", r.getClass().getSimpleName(), e);
            }
        }
    }
}
