package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import io.opendps.core.sas.DerivedKeys;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The simulated device and the {@code device provision} command against the real OpenDPS server (embedded HiveMQ
 * with the DPS extension) over MQTT/TLS on a free port, trusting the CA the server generated.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SimulatedDeviceIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static ServiceInfo info;
    static TrustManagerFactory trust;
    static SimulatorRuntime runtime;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        info = server.info();
        trust = TrustMaterial.fromPem(info.caCertificate());
        runtime = SimulatorRuntime.create(2, 1);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void provision_individualEnrollment_isAssignedToTheHub() {
        String key = server.enrollments().putEnrollment("dev-1", IndividualEnrollment.symmetricKey("dev-1", null,
                null), null).attestation().symmetricKey().primaryKey();

        ProvisioningOutcome outcome = provision(options("dev-1", key));

        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.status()).isEqualTo(200);
        assertThat(outcome.assigned()).isTrue();
        DeviceRegistrationState state = outcome.registrationState();
        assertThat(state.registrationId()).isEqualTo("dev-1");
        assertThat(state.deviceId()).isEqualTo("dev-1");
        assertThat(state.assignedHub()).isEqualTo("hub-1.opendps.local").isEqualTo(info.hubs().get(0));
        assertThat(state.substatus()).isEqualTo(Substatus.INITIAL_ASSIGNMENT);
        assertThat(state.enrollmentGroupId()).isNull();
        assertThat(outcome.operation().operationId()).isNotBlank();
        assertThat(outcome.timings().connectAndSubscribe()).isNotNull();
        assertThat(outcome.timings().register()).isNotNull();
        assertThat(outcome.timings().poll()).isNotNull();
    }

    @Test
    void provision_withPayload_isAssigned() throws Exception {
        String key = server.enrollments().putEnrollment("dev-payload", IndividualEnrollment.symmetricKey(
                "dev-payload", null, null), null).attestation().symmetricKey().secondaryKey();
        JsonNode payload = Json.mapper().readTree("{\"modelId\":\"dtmi:com:example:Thermostat;1\"}");

        ProvisioningOutcome outcome = provision(options("dev-payload", key).withPayload(payload));

        assertThat(outcome.assigned()).as(outcome.describe()).isTrue();
    }

    @Test
    void provision_groupMemberWithDerivedKey_isAssignedThroughTheGroup() {
        String groupKey = server.enrollments().putGroup("grp-1", EnrollmentGroup.symmetricKey("grp-1", null, null),
                null).attestation().symmetricKey().primaryKey();
        String deviceKey = DerivedKeys.deriveBase64(groupKey, "grp-1-dev-7");

        ProvisioningOutcome outcome = provision(options("grp-1-dev-7", deviceKey));

        assertThat(outcome.assigned()).as(outcome.describe()).isTrue();
        assertThat(outcome.registrationState().deviceId()).isEqualTo("grp-1-dev-7");
        assertThat(outcome.registrationState().symmetricKey().enrollmentGroupId()).isEqualTo("grp-1");
    }

    @Test
    void provision_wrongKey_isUnauthorized() {
        server.enrollments().putEnrollment("dev-wrong-key", IndividualEnrollment.symmetricKey("dev-wrong-key", null,
                null), null);
        String wrong = Base64.getEncoder().encodeToString("not the enrollment's key 0123456789".getBytes(
                StandardCharsets.UTF_8));

        ProvisioningOutcome outcome = provision(options("dev-wrong-key", wrong));

        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.status()).isEqualTo(401);
        assertThat(outcome.error()).isNotNull();
        assertThat(outcome.error().errorCode()).isEqualTo(401002);
        assertThat(outcome.describe()).startsWith("Registration failed: status 401, error 401002: ");
    }

    @Test
    void provision_unknownRegistrationId_isUnauthorized() {
        String key = Base64.getEncoder().encodeToString(new byte[32]);

        ProvisioningOutcome outcome = provision(options("dev-nobody", key));

        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.status()).isEqualTo(401);
        assertThat(outcome.errorCode()).isEqualTo(401002);
    }

    @Test
    void provision_disabledEnrollment_endsDisabled() {
        IndividualEnrollment e = IndividualEnrollment.symmetricKey("dev-disabled", null, null);
        e = new IndividualEnrollment(e.registrationId(), null, null, e.attestation(), null, null, null, null,
                ProvisioningStatus.DISABLED, null, null, null, null, null, null, null);
        String key = server.enrollments().putEnrollment("dev-disabled", e, null).attestation().symmetricKey()
                .primaryKey();

        ProvisioningOutcome outcome = provision(options("dev-disabled", key));

        assertThat(outcome.kind()).as(outcome.describe()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.registrationStatus()).isEqualTo(RegistrationStatus.DISABLED);
        assertThat(outcome.describe()).startsWith("Registration disabled: error ");
    }

    @Test
    void provisionCommand_withDataDir_printsTheQuickstartLines() {
        String key = server.enrollments().putEnrollment("dev-cli", IndividualEnrollment.symmetricKey("dev-cli", null,
                null), null).attestation().symmetricKey().primaryKey();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("--host", info.mqttHost(), "--registration-id", "dev-cli",
                "--symmetric-key", key, "--data-dir", dataDir.toString(), "--timeout", "30");

        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString().lines()).containsExactly(
                "Provisioning device dev-cli with " + info.mqttEndpoint() + " (ID scope " + info.idScope() + ")",
                "Waiting for the provisioning service to register the device...",
                "Registration status: assigned",
                "IoT Hub: hub-1.opendps.local",
                "Device ID: dev-cli",
                "Substatus: initialAssignment");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void provisionCommand_groupKeyAsJson_printsTheRegistrationResult() throws Exception {
        String groupKey = server.enrollments().putGroup("grp-cli", EnrollmentGroup.symmetricKey("grp-cli", null,
                null), null).attestation().symmetricKey().primaryKey();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("--host", info.mqttHost(), "--registration-id", "grp-cli-dev-1",
                "--group-key", groupKey, "--data-dir", dataDir.toString(), "--json");

        assertThat(code).as(err.toString()).isZero();
        JsonNode result = Json.mapper().readTree(out.toString());
        assertThat(result.path("status").asText()).isEqualTo("assigned");
        assertThat(result.path("registrationState").path("symmetricKey").path("enrollmentGroupId").asText())
                .isEqualTo("grp-cli");
    }

    @Test
    void provisionCommand_unknownDevice_exitsWithOneAndTheError() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = command(out, err).execute("--host", info.mqttHost(), "--registration-id", "dev-cli-nobody",
                "--symmetric-key", Base64.getEncoder().encodeToString(new byte[32]), "--data-dir", dataDir.toString());

        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).startsWith("Registration failed: status 401, error 401002: ");
    }

    private static CommandLine command(StringWriter out, StringWriter err) {
        CommandLine command = new CommandLine(new ProvisionCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command;
    }

    private static SimulatedDeviceOptions options(String registrationId, String key) {
        return new SimulatedDeviceOptions(info.mqttHost(), info.mqttPort(), info.idScope(), registrationId, key,
                null, trust, TIMEOUT);
    }

    private static ProvisioningOutcome provision(SimulatedDeviceOptions options) {
        CompletableFuture<ProvisioningOutcome> future = new SimulatedDevice(options, runtime).provision();
        await().atMost(TIMEOUT.plusSeconds(10)).until(future::isDone);
        return future.join();
    }
}
