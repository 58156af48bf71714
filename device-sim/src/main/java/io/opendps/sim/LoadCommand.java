package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.BulkEnrollmentOperation;
import io.opendps.core.enrollment.BulkMode;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.json.Json;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.x509.CertificateCodec;
import io.opendps.core.x509.X509Attestation;
import io.opendps.core.x509.X509CertificateWithInfo;
import io.opendps.core.x509.X509Certificates;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code device load}: the load-test harness. Many simulated devices on the shared event loop, each doing the
 * real flow (TLS connect, CONNECT with its own SAS or client certificate, SUBSCRIBE, register, wait
 * {@code retry-after}, poll until assigned, DISCONNECT), open-loop at a target arrival rate with a cap on flows
 * in flight, then a report of flow rate, per-step latency percentiles (HdrHistogram), errors and the local
 * server's CPU per flow and peak heap.
 *
 * <p>Decisions: enrollments (individual mode: keys generated here, created through the bulk API 10 per call, 4
 * calls in flight) and the group (group and x509-group modes; for x509-group a fresh EC P-256 root is uploaded as
 * the group's signing certificate and every device certificate is generated) are set up before the timing, with
 * registration ids {@code {prefix}-{n}} under a fresh random prefix, so runs never collide with each other or with
 * real enrollments. {@code --retry-after} replaces the server's wait before polls (server-throughput runs; devices
 * really wait what the server says, 2 s by default); the report's end-to-end latency never includes the waits.
 * Server metrics need {@code --server-pid} (a local server of the same user): no guessing from the data directory,
 * which may belong to a server that is not the one answering. {@code --mode echo} runs the same transport against
 * a plain MQTT broker (see {@link EchoFlow}) for {@code bench/compare}. Bounded: at most 1,000,000 flows,
 * 10,000 in flight, one hour.
 */
@Command(
        name = "load",
        description = {
            "Load-test a DPS server with many simulated devices on one event loop, each doing the full provisioning "
                    + "flow, and report the flow rate, latency percentiles per step, errors, and the local server's "
                    + "CPU per flow and peak heap (with --server-pid).",
            "",
            "Endpoint, ID scope, CA and the service connection string (for creating the enrollments up front) "
                    + "default to <data-dir>/service.json. --mode echo measures a plain MQTT broker instead "
                    + "(bench/compare)."
        },
        mixinStandardHelpOptions = true,
        sortOptions = false,
        usageHelpAutoWidth = true,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:Every measured flow completed.",
            "1:Some flows failed or were not started within --duration, or the setup failed.",
            "2:Invalid or missing options."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  device load --devices 1000 --concurrency 50 --rate 200 --warmup 100",
            "  device load --mode x509-group --devices 500 --retry-after 0 --server-pid $(pgrep -f 'opendps serve')",
            "  device load --mode echo --host localhost --port 18884 --ca ca.pem --username bench --password pw"
        })
public final class LoadCommand implements Callable<Integer> {

    /** The flows the harness runs. */
    enum Mode {
        INDIVIDUAL("individual"), GROUP("group"), X509_GROUP("x509-group"), ECHO("echo");

        private final String text;

        Mode(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }

        static Mode parse(String value) {
            for (Mode m : values()) {
                if (m.text.equals(value)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown mode '" + value + "' (individual, group, x509-group, echo)");
        }
    }

    static final int MAX_DEVICES = 1_000_000;
    static final int MAX_CONCURRENCY = 10_000;
    static final Duration MAX_DURATION = Duration.ofHours(1);
    private static final int BULK_SIZE = 10;
    private static final int BULK_IN_FLIGHT = 4;

    @Spec
    private CommandSpec spec;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "individual", converter = ModeConverter.class,
            description = "individual (symmetric-key enrollments), group (group-derived keys), x509-group (EC P-256 "
                    + "device certificates under an uploaded group CA) or echo (plain broker). Default: "
                    + "${DEFAULT-VALUE}.")
    Mode mode = Mode.INDIVIDUAL;

    @Option(names = "--devices", paramLabel = "N", defaultValue = "100",
            description = "Measured flows, each a distinct device (default: ${DEFAULT-VALUE}; max 1000000).")
    int devices;

    @Option(names = "--concurrency", paramLabel = "C", defaultValue = "50",
            description = "Flows in flight at most (default: ${DEFAULT-VALUE}; max 10000).")
    int concurrency;

    @Option(names = "--rate", paramLabel = "R", defaultValue = "0",
            description = "Open-loop target arrivals per second; a flow that cannot start on time (concurrency "
                    + "reached) is recorded as startDelay. 0: as fast as the concurrency allows (default).")
    double rate;

    @Option(names = "--duration", paramLabel = "TIME", defaultValue = "300s", converter = DurationConverter.class,
            description = "No flow starts after this (e.g. 90s, 5m; default: ${DEFAULT-VALUE}; max 1h).")
    Duration duration = Duration.ofMinutes(5);

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "0",
            description = "Flows run first and left out of the report (JIT warm-up; default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--retry-after", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Wait this long before each poll instead of the server's retry-after (e.g. 0, 100ms), for "
                    + "server-throughput runs. Default: the server's value, as real devices do.")
    @Nullable Duration retryAfter;

    @Option(names = "--timeout", paramLabel = "TIME", defaultValue = "60s", converter = DurationConverter.class,
            description = "Limit of one flow (default: ${DEFAULT-VALUE}).")
    Duration timeout = Duration.ofSeconds(60);

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:OPENDPS_DATA_DIR:-./opendps-data}",
            description = "The server's data directory, for service.json (default: ${DEFAULT-VALUE}).")
    Path dataDir = Path.of("opendps-data");

    @Option(names = "--host", paramLabel = "HOST",
            description = "MQTT host (default: service.json's mqttEndpoint host).")
    @Nullable String host;

    @Option(names = "--port", paramLabel = "PORT", description = "MQTT/TLS port (default: service.json's).")
    @Nullable Integer port;

    @Option(names = "--id-scope", paramLabel = "SCOPE", description = "ID scope (default: service.json's).")
    @Nullable String idScope;

    @Option(names = "--ca", paramLabel = "PEM", description = "CA certificate to trust (default: service.json's).")
    @Nullable Path ca;

    @Option(names = "--connection-string", paramLabel = "CS", defaultValue = "${env:OPENDPS_CONNECTION_STRING}",
            description = "Service connection string for creating enrollments (default: service.json's).")
    @Nullable String connectionString;

    @Option(names = "--prefix", paramLabel = "TEXT",
            description = "Registration id prefix (default: load-<random>); ids are <prefix>-<n>.")
    @Nullable String prefix;

    @Option(names = "--server-pid", paramLabel = "PID",
            description = "Process id of the local server: report its CPU time per flow and peak heap.")
    @Nullable Long serverPid;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
    @Nullable Path report;

    @Option(names = "--username", paramLabel = "NAME", defaultValue = "bench",
            description = "echo mode: CONNECT username (default: ${DEFAULT-VALUE}).")
    String username = "bench";

    @Option(names = "--password", paramLabel = "TEXT", description = "echo mode: CONNECT password.")
    @Nullable String password;

    @Option(names = "--plain", description = "echo mode: plain TCP instead of TLS (tests only).")
    boolean plain;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JsonNode service = readServiceJson();
        String mqttHost = host != null ? host : hostOf(text(service, "mqttEndpoint"), "localhost");
        int mqttPort = port != null ? port : portOf(text(service, "mqttEndpoint"), SimulatedDeviceOptions.DEFAULT_PORT);
        TrustManagerFactory trust = trust(service);
        int total = warmup + devices;
        byte[] tag = new byte[3];
        new SecureRandom().nextBytes(tag);
        String ids = prefix != null ? prefix : "load-" + HexFormat.of().formatHex(tag);
        try (SimulatorRuntime runtime = SimulatorRuntime.create()) {
            LoadRun.FlowStarter starter;
            EchoResponder responder = null;
            try {
                if (mode == Mode.ECHO) {
                    EchoFlow.Target target = new EchoFlow.Target(mqttHost, mqttPort, plain ? null : trust, username,
                            password, timeout);
                    responder = EchoResponder.start(target, runtime);
                    starter = i -> EchoFlow.run(target, ids + "-" + i, runtime);
                } else {
                    String scope = idScope != null ? idScope : text(service, "idScope");
                    if (scope == null) {
                        throw new ParameterException(spec.commandLine(), "no --id-scope and no idScope in "
                                + dataDir.resolve(ServiceFile.FILE_NAME));
                    }
                    List<DeviceCredential> credentials = setUp(service, trust, ids, total, err);
                    starter = i -> {
                        String id = ids + "-" + i;
                        SimulatedDeviceOptions options = new SimulatedDeviceOptions(mqttHost, mqttPort, scope, id,
                                credentials.get(i), null, trust, timeout);
                        return new ProvisioningFlow(options, runtime, Clock.systemUTC(), retryAfter).start()
                                .thenApply(LoadFlowResult::of);
                    };
                }
                LoadRun run = new LoadRun(new LoadRun.Settings(mode.toString(), devices, concurrency,
                        new ArrivalSchedule(rate), duration, warmup, timeout, serverPid), runtime.scheduler(), err,
                        System.console() != null);
                LoadReport result = run.run(starter);
                out.print(result.toText());
                out.flush();
                if (report != null) {
                    Files.write(report, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(result));
                }
                return result.failed() == 0 && result.notStarted() == 0 ? 0 : 1;
            } finally {
                if (responder != null) {
                    responder.close();
                }
            }
        } catch (IllegalStateException | GeneralSecurityException | IOException e) {
            err.println("Load run failed: " + e.getMessage());
            return 1;
        }
    }

    private void validate() {
        if (devices < 1 || devices > MAX_DEVICES) {
            throw new ParameterException(spec.commandLine(), "--devices must be 1.." + MAX_DEVICES + ": " + devices);
        }
        if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw new ParameterException(spec.commandLine(), "--concurrency must be 1.." + MAX_CONCURRENCY + ": "
                    + concurrency);
        }
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw new ParameterException(spec.commandLine(), "--rate must be 0 or more: " + rate);
        }
        if (warmup < 0 || warmup > MAX_DEVICES) {
            throw new ParameterException(spec.commandLine(), "--warmup must be 0.." + MAX_DEVICES + ": " + warmup);
        }
        if (duration.isZero() || duration.compareTo(MAX_DURATION) > 0) {
            throw new ParameterException(spec.commandLine(), "--duration must be above 0 and at most 1h: "
                    + duration);
        }
        if (timeout.isZero()) {
            throw new ParameterException(spec.commandLine(), "--timeout must be above 0");
        }
    }

    /**
     * Creates what the devices need and returns their credentials, index = flow number (warm-up first).
     */
    private List<DeviceCredential> setUp(JsonNode service, TrustManagerFactory trust, String ids, int total,
            PrintWriter err) throws GeneralSecurityException, InterruptedException {
        String cs = connectionString != null ? connectionString : text(service, "serviceConnectionString");
        if (cs == null) {
            throw new ParameterException(spec.commandLine(), "no --connection-string and no serviceConnectionString "
                    + "in " + dataDir.resolve(ServiceFile.FILE_NAME) + ": needed to create the enrollments");
        }
        LoadServiceApi api = LoadServiceApi.of(cs, connectionString != null ? null : text(service, "httpsEndpoint"),
                trust);
        SecureRandom random = new SecureRandom();
        List<DeviceCredential> credentials = new ArrayList<>(total);
        long setupStart = System.nanoTime();
        switch (mode) {
            case INDIVIDUAL -> {
                List<IndividualEnrollment> batch = new ArrayList<>(BULK_SIZE);
                List<Future<JsonNode>> pending = new ArrayList<>();
                ExecutorService pool = Executors.newFixedThreadPool(BULK_IN_FLIGHT);
                try {
                    for (int i = 0; i < total; i++) {
                        String key = LoadServiceApi.randomKey(random);
                        credentials.add(new SymmetricKeyCredential(key));
                        batch.add(IndividualEnrollment.symmetricKey(ids + "-" + i, key, LoadServiceApi.randomKey(
                                random)));
                        if (batch.size() == BULK_SIZE || i == total - 1) {
                            BulkEnrollmentOperation op = BulkEnrollmentOperation.of(BulkMode.CREATE,
                                    List.copyOf(batch));
                            pending.add(pool.submit(() -> api.send("POST", "enrollments", op)));
                            batch.clear();
                        }
                    }
                    for (Future<JsonNode> f : pending) {
                        JsonNode result = f.get();
                        if (!result.path("isSuccessful").asBoolean(false)) {
                            throw new IllegalStateException("the bulk enrollment creation failed: " + result);
                        }
                    }
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
                } finally {
                    pool.shutdownNow();
                }
            }
            case GROUP -> {
                String groupId = ids + "-group";
                String groupKey = LoadServiceApi.randomKey(random);
                api.send("PUT", "enrollmentGroups/" + groupId, EnrollmentGroup.symmetricKey(groupId, groupKey,
                        LoadServiceApi.randomKey(random)));
                for (int i = 0; i < total; i++) {
                    credentials.add(new SymmetricKeyCredential(DerivedKeys.deriveBase64(groupKey, ids + "-" + i)));
                }
            }
            case X509_GROUP -> {
                String groupId = ids + "-group";
                LoadPki pki = LoadPki.create("OpenDPS load root " + ids);
                X509Attestation signing = X509Attestation.signingCertificates(new X509Certificates(
                        new X509CertificateWithInfo(CertificateCodec.toPem(pki.root()), null), null));
                api.send("PUT", "enrollmentGroups/" + groupId, new EnrollmentGroup(groupId,
                        AttestationMechanism.x509(signing), null, null, null, null, ProvisioningStatus.ENABLED,
                        null, null, null, null, null, null));
                for (int i = 0; i < total; i++) {
                    credentials.add(pki.device(ids + "-" + i));
                }
            }
            case ECHO -> throw new IllegalStateException("echo mode has no setup");
        }
        err.printf(Locale.ROOT, "setup: %d %s devices ready in %.1f s%n", total, mode,
                (System.nanoTime() - setupStart) / 1e9);
        err.flush();
        return credentials;
    }

    private JsonNode readServiceJson() throws IOException {
        Path file = dataDir.resolve(ServiceFile.FILE_NAME);
        if (!Files.exists(file)) {
            return Json.mapper().createObjectNode();
        }
        return Json.mapper().readTree(Files.readAllBytes(file));
    }

    private TrustManagerFactory trust(JsonNode service) throws IOException, GeneralSecurityException {
        if (ca != null) {
            return TrustMaterial.fromPem(ca);
        }
        String fromFile = text(service, "caCertificate");
        if (fromFile == null) {
            if (mode == Mode.ECHO && plain) {
                return TrustMaterial.fromCertificates(List.of());
            }
            throw new ParameterException(spec.commandLine(), "no --ca and no caCertificate in "
                    + dataDir.resolve(ServiceFile.FILE_NAME));
        }
        return TrustMaterial.fromPem(dataDir.resolve(fromFile));
    }

    private static @Nullable String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || !value.isTextual() || value.asText().isBlank() ? null : value.asText();
    }

    private static String hostOf(@Nullable String endpoint, String fallback) {
        if (endpoint == null) {
            return fallback;
        }
        int colon = endpoint.lastIndexOf(':');
        return colon > 0 ? endpoint.substring(0, colon) : endpoint;
    }

    private static int portOf(@Nullable String endpoint, int fallback) {
        return endpoint == null ? fallback
                : new ServiceFile(null, null, endpoint).mqttPort().orElse(fallback);
    }

    /** Parses {@code --mode}. */
    static final class ModeConverter implements ITypeConverter<Mode> {
        @Override
        public Mode convert(String value) {
            return Mode.parse(value);
        }
    }

    /** Parses {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h} or plain seconds ({@code 30}). */
    static final class DurationConverter implements ITypeConverter<Duration> {

        private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

        @Override
        public Duration convert(String value) {
            return parse(value);
        }

        static Duration parse(String value) {
            Matcher m = FORMAT.matcher(value.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + value + "' is not a duration (e.g. 250ms, 30s, 5m, 1h)");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
    }
}
