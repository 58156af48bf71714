package io.opendps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.hub.HubMessage;
import io.opendps.core.hub.HubMessagePage;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.sim.HubTelemetry;
import io.opendps.sim.ProvisioningOutcome;
import io.opendps.sim.SimulatedDevice;
import io.opendps.sim.SimulatedDeviceOptions;
import io.opendps.sim.SimulatorRuntime;
import io.opendps.sim.SymmetricKeyCredential;
import io.opendps.sim.TrustMaterial;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code opendps demo}: a first look. Starts a server in a temporary directory on free loopback ports, creates an
 * individual enrollment and an enrollment group through the HTTPS service API, provisions one simulated device of
 * each kind over MQTT/TLS, lets each send telemetry to its assigned hub (the server's built-in hub) and reads it back
 * from the hub's log, prints what happened, stops and removes the directory. Exit code 1 if any step is missing.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a throw-away server, enroll and provision two simulated devices, print what happened.")
final class DemoCommand implements Callable<Integer> {

    private static final String DEVICE = "demo-device-01";
    private static final String GROUP = "demo-group";
    private static final String GROUP_DEVICE = "demo-group-device-01";
    private static final int MESSAGES = 3;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("opendps-demo");
        ServerOptions options = new ServerOptions(dir, List.of("localhost"), "127.0.0.1", 0, 0,
                List.of("hub-1.demo.opendps.local", "hub-2.demo.opendps.local"), Duration.ofMillis(100), 4, 1000);
        try (OpenDpsServer server = OpenDpsServer.start(options)) {
            ServiceInfo info = server.info();
            out.printf("1. Started OpenDPS in %s%n   ID scope %s, devices on %s, service API on %s%n", dir,
                    info.idScope(), info.mqttEndpoint(), info.httpsEndpoint());
            ServiceClient api = new ServiceClient(ConnectionString.parse(info.serviceConnectionString())
                    .withEndpoint(info.httpsHost(), info.httpsPort()), info.caCertificate());
            String deviceKey = api.put(EnrollmentCommand.COLLECTION, DEVICE,
                    IndividualEnrollment.symmetricKey(DEVICE, null, null))
                    .path("attestation").path("symmetricKey").path("primaryKey").asText();
            out.printf("2. Created the individual enrollment '%s' (PUT /enrollments/%s); the service generated its "
                    + "keys%n", DEVICE, DEVICE);
            String groupKey = api.put(GroupCommand.COLLECTION, GROUP, EnrollmentGroup.symmetricKey(GROUP, null, null))
                    .path("attestation").path("symmetricKey").path("primaryKey").asText();
            String groupDeviceKey = DerivedKeys.deriveBase64(groupKey, GROUP_DEVICE);
            out.printf("3. Created the enrollment group '%s'; derived the key of member '%s' from the group key%n",
                    GROUP, GROUP_DEVICE);
            boolean ok;
            TrustManagerFactory trust = TrustMaterial.fromPem(info.caCertificate());
            @Nullable DeviceRegistrationState first;
            @Nullable DeviceRegistrationState second;
            try (SimulatorRuntime runtime = SimulatorRuntime.create()) {
                first = provision(out, "4", runtime, trust, info, DEVICE, deviceKey);
                second = provision(out, "5", runtime, trust, info, GROUP_DEVICE, groupDeviceKey);
            }
            ok = first != null && second != null
                    && telemetry(out, "6", api, trust, info, first, deviceKey)
                    & telemetry(out, "7", api, trust, info, second, groupDeviceKey);
            JsonNode state = api.get(EnrollmentCommand.COLLECTION, DEVICE).path("registrationState");
            out.printf("8. The service API now shows %s as %s on %s (GET /enrollments/%s)%n", DEVICE,
                    state.path("status").asText("?"), state.path("assignedHub").asText("?"), DEVICE);
            out.println(ok ? "Demo finished: both devices were provisioned and their telemetry "
                    + "reached their hubs." : "Demo finished with failures.");
            return ok ? 0 : 1;
        } finally {
            deleteRecursively(dir);
        }
    }

    /**
     * Sends {@link #MESSAGES} messages from a provisioned device to its hub and reads them back from the built-in
     * hub's log through the operator service API ({@code GET /hubs/{hub}/messages}, as {@code hub messages} does). The demo's hub names do not resolve, so the device opens TLS to the server's MQTT host and names the
     * hub in its username and SAS token, as an Azure SDK's {@code GatewayHostName} does.
     */
    private static boolean telemetry(PrintWriter out, String step, ServiceClient api, TrustManagerFactory trust,
            ServiceInfo info, DeviceRegistrationState state, String key) {
        String hub = state.assignedHub();
        String deviceId = state.deviceId();
        out.printf("%s. Device '%s' connects to hub %s (via %s) and sends %d messages:%n", step, deviceId, hub,
                info.mqttEndpoint(), MESSAGES);
        StringWriter lines = new StringWriter();
        try {
            new HubTelemetry(hub, deviceId, info.mqttHost(), info.mqttPort(), new SymmetricKeyCredential(key), trust,
                    Duration.ofSeconds(30)).run(MESSAGES, new PrintWriter(lines, true), Clock.systemUTC());
        } catch (HubTelemetry.HubException e) {
            out.printf("   failed: %s%n", e.getMessage());
            return false;
        }
        lines.toString().lines().forEach(line -> out.println("   " + line));
        List<HubMessage> read;
        try {
            read = Json.mapper().treeToValue(api.exchange("GET", HubCommand.hubPath(hub, "messages"),
                    Map.of("limit", "1000"), null, Map.of()).body(), HubMessagePage.class).messages().stream()
                    .filter(m -> m.deviceId().equals(deviceId)).toList();
        } catch (IOException | ServiceClient.ApiException e) {
            out.printf("   failed: cannot read hub %s's messages through the service API: %s%n", hub, e.getMessage());
            return false;
        }
        out.printf("   read back through the service API (GET /hubs/%s/messages):%n", hub);
        for (HubMessage m : read) {
            out.printf("     #%d %s%n", m.sequence(),
                    new String(m.body(), StandardCharsets.UTF_8));
        }
        if (read.size() != MESSAGES) {
            out.printf("   failed: hub %s holds %d messages from %s, expected %d%n", hub, read.size(), deviceId,
                    MESSAGES);
            return false;
        }
        return true;
    }

    private static @Nullable DeviceRegistrationState provision(PrintWriter out, String step, SimulatorRuntime runtime, TrustManagerFactory trust,
            ServiceInfo info, String registrationId, String key) throws Exception {
        SimulatedDeviceOptions options = SimulatedDeviceOptions.of(info.mqttHost(), info.mqttPort(), info.idScope(),
                registrationId, key).withTrust(trust).withTimeout(Duration.ofSeconds(30));
        ProvisioningOutcome outcome = new SimulatedDevice(options, runtime).provision().get(60, TimeUnit.SECONDS);
        DeviceRegistrationState s = outcome.registrationState();
        if (outcome.assigned() && s != null) {
            out.printf("%s. Simulated device '%s' provisioned over MQTT/TLS: assigned to hub %s as device id %s "
                    + "(%s)%n", step, registrationId, s.assignedHub(), s.deviceId(),
                    s.symmetricKey() != null && s.symmetricKey().enrollmentGroupId() != null
                            ? "group " + s.symmetricKey().enrollmentGroupId() : "individual enrollment");
            return s;
        }
        out.printf("%s. Simulated device '%s' failed: %s%n", step, registrationId, outcome.describe());
        return null;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
