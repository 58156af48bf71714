package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.sim.FakeDpsBroker.Answer;
import io.opendps.sim.FakeDpsBroker.Publish;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class SimulatedDeviceTest {

    static final String KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    static final String SCOPE = "0ne00000001";
    static final String REGISTER_PREFIX = "$dps/registrations/PUT/iotdps-register/";
    static final String ACCEPTED = "{\"operationId\":\"op-1\",\"status\":\"assigning\"}";

    private static TestPki pki;
    private static TrustManagerFactory trust;
    private static SimulatorRuntime runtime;
    private FakeDpsBroker broker;

    @BeforeAll
    static void createRuntime() throws Exception {
        pki = TestPki.create("fake dps test CA");
        trust = pki.clientTrust();
        runtime = SimulatorRuntime.create(1, 1);
    }

    @AfterAll
    static void closeRuntime() {
        runtime.close();
    }

    @BeforeEach
    void startBroker() throws Exception {
        broker = FakeDpsBroker.start(pki.serverContext());
    }

    @AfterEach
    void stopBroker() throws IOException {
        broker.close();
    }

    /** A DPS that accepts every register (202, retry-after 1) and assigns on the first poll. */
    static FakeDpsBroker.Responder assigningDps() {
        return request -> request.topic().startsWith(REGISTER_PREFIX)
                ? List.of(answer(202, request, "&retry-after=1", ACCEPTED))
                : List.of(answer(200, request, "", assignedBody("dev-1")));
    }

    static Answer answer(int status, Publish request, String suffix, String body) {
        return new Answer("$dps/registrations/res/" + status + "/?$rid=" + request.rid() + suffix, body);
    }

    static String assignedBody(String id) {
        return ResponseReactionTest.ASSIGNED.replace("dev-1", id);
    }

    @Test
    void provision_assignedAfterOnePoll_followsTheQuickstartSequence() throws Exception {
        broker.responder = assigningDps();
        JsonNode payload = Json.mapper().readTree("{\"modelId\":\"dtmi:com:example:Thermostat;1\"}");

        ProvisioningOutcome outcome = provision(options("dev-1").withPayload(payload));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TERMINAL);
        assertThat(outcome.assigned()).isTrue();
        assertThat(outcome.registrationState().assignedHub()).isEqualTo("hub-1.opendps.local");
        assertThat(broker.connects).singleElement().satisfies(connect -> {
            assertThat(connect.protocolLevel()).isEqualTo(4);
            assertThat(connect.clientId()).isEqualTo("dev-1");
            assertThat(connect.username()).isEqualTo(DpsMqtt.username(SCOPE, "dev-1"));
            assertThat(connect.password()).startsWith("SharedAccessSignature sr=" + SCOPE + "/registrations/dev-1&sig=")
                    .contains("&se=").endsWith("&skn=registration");
            assertThat(connect.cleanSession()).isTrue();
            assertThat(connect.keepAlive()).isEqualTo(60);
        });
        assertThat(broker.subscribes).containsExactly(new FakeDpsBroker.Subscribe("$dps/registrations/res/#", 1));
        assertThat(broker.publishes).hasSize(2);
        Publish register = broker.publishes.get(0);
        assertThat(register.topic()).isEqualTo("$dps/registrations/PUT/iotdps-register/?$rid=1");
        assertThat(register.qos()).isEqualTo(1);
        assertThat(Json.mapper().readTree(register.payload())).isEqualTo(Json.mapper().readTree(
                "{\"registrationId\":\"dev-1\",\"payload\":{\"modelId\":\"dtmi:com:example:Thermostat;1\"}}"));
        Publish poll = broker.publishes.get(1);
        assertThat(poll.topic()).isEqualTo("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=op-1");
        assertThat(poll.qos()).isEqualTo(1);
        assertThat(poll.payload()).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.disconnects.get() == 1);
    }

    @Test
    void provision_assignedAfterOnePoll_reportsStepTimings() {
        broker.responder = assigningDps();

        ProvisioningOutcome.Timings timings = provision(options("dev-1")).timings();

        assertThat(timings.connectAndSubscribe()).isPositive();
        assertThat(timings.register()).isPositive();
        assertThat(timings.poll()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(timings.total()).isGreaterThanOrEqualTo(timings.poll());
    }

    @Test
    void provision_withoutPayload_sendsOnlyTheRegistrationId() {
        broker.responder = assigningDps();

        provision(options("dev-1"));

        assertThat(broker.publishes.get(0).body()).isEqualTo("{\"registrationId\":\"dev-1\"}");
    }

    @Test
    void provision_terminalAnswerToRegister_doesNotPoll() {
        broker.responder = request -> List.of(answer(200, request, "", assignedBody("dev-1")));

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.assigned()).isTrue();
        assertThat(outcome.timings().poll()).isNull();
        assertThat(broker.publishes).hasSize(1);
    }

    @Test
    void provision_answersWithOtherRids_areIgnored() {
        broker.responder = request -> {
            List<Answer> answers = new ArrayList<>();
            answers.add(new Answer("$dps/registrations/res/200/?$rid=99", ResponseReactionTest.FAILED));
            answers.add(new Answer("$iothub/twin/res/200/?$rid=" + request.rid(), "{}"));
            answers.addAll(assigningDps().answer(request));
            return answers;
        };

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.assigned()).isTrue();
    }

    @Test
    void provision_repeated202_pollsUntilTerminal() {
        broker.responder = request -> {
            if (request.topic().startsWith(REGISTER_PREFIX) || request.rid().equals("2")) {
                return List.of(answer(202, request, "&retry-after=1", ACCEPTED));
            }
            return List.of(answer(200, request, "", ResponseReactionTest.FAILED));
        };

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.registrationStatus()).isEqualTo(RegistrationStatus.FAILED);
        assertThat(outcome.errorCode()).isEqualTo(400207);
        assertThat(broker.publishes).extracting(Publish::rid).containsExactly("1", "2", "3");
    }

    @Test
    void provision_errorAnswer_isAnErrorResponseWithTheParsedBody() {
        broker.responder = request -> List.of(answer(401, request, "", ResponseReactionTest.UNAUTHORIZED));

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.status()).isEqualTo(401);
        assertThat(outcome.error().errorCode()).isEqualTo(401002);
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.disconnects.get() == 1);
    }

    @Test
    void provision_subAckFailure_failsNamingTheSuback() {
        broker.subAckCode = 0x80;

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).contains("SUBACK").contains("expected QoS 1");
        assertThat(broker.publishes).isEmpty();
    }

    @Test
    void provision_subAckGrantsQos0_failsNamingTheGrantedQos() {
        broker.subAckCode = 0;

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).contains("SUCCESS_MAXIMUM_QOS_0").contains("expected QoS 1");
        assertThat(broker.publishes).isEmpty();
    }

    @Test
    void provision_connAckRefused_failsNamingTheReturnCode() {
        broker.connAckCode = 5;

        ProvisioningOutcome outcome = provision(options("dev-1"));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).contains("could not connect to localhost:" + broker.port())
                .contains("CONNACK return code 5 (NOT_AUTHORIZED)");
    }

    @Test
    void provision_untrustedServerCertificate_failsWithTlsReason() throws Exception {
        TrustManagerFactory otherCa = TestPki.create("another CA").clientTrust();

        ProvisioningOutcome outcome = provision(options("dev-1").withTrust(otherCa));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).contains("TLS handshake failed");
        assertThat(broker.connects).isEmpty();
    }

    @Test
    void provision_hostNotInCertificate_failsHostnameVerification() {
        SimulatedDeviceOptions byAddress = new SimulatedDeviceOptions("127.0.0.1", broker.port(), SCOPE, "dev-1", KEY,
                null, trust, Duration.ofSeconds(10));

        ProvisioningOutcome outcome = provision(byAddress);

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).contains("TLS handshake failed");
        assertThat(broker.connects).isEmpty();
    }

    @Test
    void provision_nothingListening_failsWithConnectionRefused() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        SimulatedDeviceOptions nowhere = new SimulatedDeviceOptions("localhost", closedPort, SCOPE, "dev-1", KEY,
                null, trust, Duration.ofSeconds(10));

        ProvisioningOutcome outcome = provision(nowhere);

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).startsWith("could not connect to localhost:" + closedPort)
                .contains("connection refused");
    }

    @Test
    void provision_serverNeverAnswers_timesOutNamingTheStep() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            SimulatedDeviceOptions stuck = new SimulatedDeviceOptions("localhost", silent.getLocalPort(), SCOPE,
                    "dev-1", KEY, null, trust, Duration.ofSeconds(1));

            ProvisioningOutcome outcome = provision(stuck);

            assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
            assertThat(outcome.failure()).isEqualTo("timed out after 1 s while connecting (localhost:"
                    + silent.getLocalPort() + ")");
            assertThat(outcome.timings().connectAndSubscribe()).isNull();
        }
    }

    @Test
    void provision_noAnswerToRegister_timesOutNamingTheStep() {
        SimulatedDeviceOptions impatient = options("dev-1").withTimeout(Duration.ofSeconds(1));

        ProvisioningOutcome outcome = provision(impatient);

        assertThat(outcome.failure()).startsWith("timed out after 1 s while waiting for the answer to the register");
        assertThat(outcome.timings().connectAndSubscribe()).isNotNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.disconnects.get() == 1);
    }

    @Test
    void provision_unsignableRegistrationId_failsInsteadOfThrowing() {
        ProvisioningOutcome outcome = provision(options("dev&1"));

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).startsWith("could not connect to localhost:" + broker.port() + ": ");
        assertThat(broker.connects).isEmpty();
    }

    @Test
    void provision_closedRuntime_failsInsteadOfThrowing() {
        SimulatorRuntime closed = SimulatorRuntime.create(1, 1);
        closed.close();

        ProvisioningOutcome outcome = new SimulatedDevice(options("dev-1"), closed).provision().join();

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).isEqualTo("the simulator runtime is closed");
        assertThat(broker.connects).isEmpty();
    }

    @Test
    void provision_manyDevices_shareTheRuntimesThreads() {
        broker.responder = request -> request.topic().startsWith(REGISTER_PREFIX)
                ? List.of(answer(202, request, "&retry-after=1", ACCEPTED.replace("op-1", idOf(request))))
                : List.of(answer(200, request, "", assignedBody(request.operationId())));

        long ioBefore = threadsNamed("device-sim-io-");
        long appBefore = threadsNamed("device-sim-app-");
        try (SimulatorRuntime shared = SimulatorRuntime.create(1, 1)) {
            List<CompletableFuture<ProvisioningOutcome>> futures = IntStream.range(0, 50)
                    .mapToObj(i -> new SimulatedDevice(options("many-" + i), shared).provision())
                    .toList();
            await().atMost(Duration.ofSeconds(20)).until(() -> futures.stream().allMatch(CompletableFuture::isDone));

            assertThat(futures).allSatisfy(future -> assertThat(future.join().assigned()).isTrue());
            assertThat(threadsNamed("device-sim-io-") - ioBefore).isLessThanOrEqualTo(1);
            assertThat(threadsNamed("device-sim-app-") - appBefore).isLessThanOrEqualTo(1);
        }
    }

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    private static String idOf(Publish register) {
        try {
            return Json.mapper().readTree(register.payload()).path("registrationId").asText();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private SimulatedDeviceOptions options(String registrationId) {
        return new SimulatedDeviceOptions("localhost", broker.port(), SCOPE, registrationId, KEY, null, trust,
                Duration.ofSeconds(10));
    }

    private static ProvisioningOutcome provision(SimulatedDeviceOptions options) {
        CompletableFuture<ProvisioningOutcome> future = new SimulatedDevice(options, runtime).provision();
        await().atMost(options.timeout().plusSeconds(10)).until(future::isDone);
        return future.join();
    }
}
