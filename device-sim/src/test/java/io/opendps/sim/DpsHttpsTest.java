package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.opendps.core.registration.RegistrationStatus;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link DpsHttps} against a scripted JDK HTTPS server on an ephemeral port (real TLS with the test PKI): the
 * request shapes (method, path, api-version, SAS header), {@code Retry-After} polling, and the failure endings.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DpsHttpsTest {

    private static final String SCOPE = "0ne00000001";
    private static final TestPki PKI = TestPki.create("DpsHttpsTest CA");

    private HttpsServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void registerThenPollAfterRetryAfter_untilAssigned_withTheSasTokenOnEveryRequest() throws Exception {
        start(exchange -> exchange.getRequestMethod().equals("PUT")
                ? new Answer(202, "1", "{\"operationId\":\"op 1\",\"status\":\"assigning\"}")
                : new Answer(200, null, "{\"operationId\":\"op 1\",\"status\":\"assigned\",\"registrationState\":"
                        + "{\"registrationId\":\"dev-1\",\"status\":\"assigned\",\"assignedHub\":\"hub-1\","
                        + "\"deviceId\":\"dev-1\"}}"));

        ProvisioningOutcome outcome = new DpsHttps(options(new SymmetricKeyCredential(SimulatedDeviceTest.KEY),
                Duration.ofSeconds(10)), Clock.systemUTC()).provision();

        assertThat(outcome.registrationStatus()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(outcome.registrationState().assignedHub()).isEqualTo("hub-1");
        assertThat(outcome.timings().waited()).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        assertThat(outcome.timings().lastPoll()).isNotNull();
        assertThat(requests).hasSize(2);
        assertThat(requests.get(0)).startsWith("PUT /" + SCOPE + "/registrations/dev-1/register?api-version=2019-03-31 "
                + "SharedAccessSignature sr=" + SCOPE + "/registrations/dev-1&sig=")
                .endsWith("&skn=registration {\"registrationId\":\"dev-1\"}");
        assertThat(requests.get(1)).startsWith("GET /" + SCOPE + "/registrations/dev-1/operations/op%201"
                + "?api-version=2019-03-31 SharedAccessSignature ");
    }

    @Test
    void errorAnswer_isAnErrorResponseOutcomeWithTheParsedBody() throws Exception {
        start(exchange -> new Answer(401, null, "{\"errorCode\":401002,\"trackingId\":\"t\",\"message\":\"no\"}"));

        ProvisioningOutcome outcome = new DpsHttps(options(new SymmetricKeyCredential(SimulatedDeviceTest.KEY),
                Duration.ofSeconds(10)), Clock.systemUTC()).provision();

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.ERROR_RESPONSE);
        assertThat(outcome.errorCode()).isEqualTo(401002);
        assertThat(outcome.describe()).isEqualTo("Registration failed: status 401, error 401002: no");
    }

    @Test
    void answerWithoutOperationId_isAProtocolError() throws Exception {
        start(exchange -> new Answer(202, null, "{\"status\":\"assigning\"}"));

        ProvisioningOutcome outcome = new DpsHttps(options(new SymmetricKeyCredential(SimulatedDeviceTest.KEY),
                Duration.ofSeconds(10)), Clock.systemUTC()).provision();

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.PROTOCOL_ERROR);
        assertThat(outcome.failure()).isEqualTo("the body has no operationId");
    }

    @Test
    void neverTerminal_endsAtTheTimeout() throws Exception {
        start(exchange -> new Answer(202, "3", "{\"operationId\":\"op\",\"status\":\"assigning\"}"));

        ProvisioningOutcome outcome = new DpsHttps(options(new SymmetricKeyCredential(SimulatedDeviceTest.KEY),
                Duration.ofSeconds(2)), Clock.systemUTC()).provision();

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).isEqualTo("no terminal answer within 2 s");
    }

    @Test
    void nothingListening_isATransportFailure() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        SimulatedDeviceOptions options = new SimulatedDeviceOptions("localhost", port, SCOPE, "dev-1",
                new SymmetricKeyCredential(SimulatedDeviceTest.KEY), null, PKI.clientTrust(), Duration.ofSeconds(5));

        ProvisioningOutcome outcome = new DpsHttps(options, Clock.systemUTC()).provision();

        assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
        assertThat(outcome.failure()).startsWith("the register request failed: java.net.ConnectException");
    }

    private record Answer(int status, @Nullable String retryAfter, String body) {
    }

    private void start(Function<HttpExchange, Answer> script) throws Exception {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(PKI.serverContext()));
        server.createContext("/", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath() + "?"
                        + exchange.getRequestURI().getRawQuery() + " "
                        + exchange.getRequestHeaders().getFirst("Authorization") + (body.isEmpty() ? "" : " " + body));
                Answer answer = script.apply(exchange);
                exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
                if (answer.retryAfter() != null) {
                    exchange.getResponseHeaders().set("Retry-After", answer.retryAfter());
                }
                byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(answer.status(), bytes.length);
                exchange.getResponseBody().write(bytes);
            }
        });
        server.start();
    }

    private SimulatedDeviceOptions options(DeviceCredential credential, Duration timeout) throws Exception {
        return new SimulatedDeviceOptions("localhost", server.getAddress().getPort(), SCOPE, "dev-1", credential,
                null, PKI.clientTrust(), timeout);
    }
}
