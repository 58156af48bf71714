package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opendps.sim.FakeDpsBroker.ClientAuth;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** X.509 devices against a fake DPS that requires a client certificate chaining to the test CA. */
@Timeout(30)
class SimulatedDeviceX509Test {

    private static final String SCOPE = SimulatedDeviceTest.SCOPE;

    private static TestPki pki;
    private static TrustManagerFactory trust;
    private static SimulatorRuntime runtime;

    @BeforeAll
    static void createRuntime() throws Exception {
        pki = TestPki.create("x509 fake dps CA");
        trust = pki.clientTrust();
        runtime = SimulatorRuntime.create(1, 1);
    }

    @AfterAll
    static void closeRuntime() {
        runtime.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"EC", "RSA"})
    void provision_certificate_presentsTheChainAndSendsNoPassword(String keyAlgorithm) throws Exception {
        TestPki.Device device = pki.device("CN=x509-dev-1", keyAlgorithm);
        try (FakeDpsBroker broker = FakeDpsBroker.start(pki.serverContextTrustingDevices(), ClientAuth.NEED)) {
            broker.responder = SimulatedDeviceTest.assigningDps();

            ProvisioningOutcome outcome = provision(options(broker, device));

            assertThat(outcome.assigned()).as(outcome.describe()).isTrue();
            assertThat(broker.clientChains).singleElement()
                    .isEqualTo(List.of(device.leaf(), device.intermediate()));
            assertThat(broker.connects).singleElement().satisfies(connect -> {
                assertThat(connect.clientId()).isEqualTo("x509-dev-1");
                assertThat(connect.username()).isEqualTo(DpsMqtt.username(SCOPE, "x509-dev-1"));
                assertThat(connect.password()).isNull();
            });
            assertThat(broker.publishes.get(0).body()).isEqualTo("{\"registrationId\":\"x509-dev-1\"}");
            await().atMost(Duration.ofSeconds(5)).until(() -> broker.disconnects.get() == 1);
        }
    }

    @Test
    void provision_serverNamesOtherIssuers_stillPresentsTheChain() throws Exception {
        TestPki.Device device = pki.device("CN=x509-dev-2", "EC");
        X509Certificate unrelated = TestPki.create("unrelated CA").ca();
        try (FakeDpsBroker broker = FakeDpsBroker.start(pki.serverContext(acceptAnyNaming(unrelated)),
                ClientAuth.WANT)) {
            broker.responder = SimulatedDeviceTest.assigningDps();

            ProvisioningOutcome outcome = provision(options(broker, device));

            assertThat(outcome.assigned()).as(outcome.describe()).isTrue();
            assertThat(broker.clientChains).singleElement()
                    .isEqualTo(List.of(device.leaf(), device.intermediate()));
        }
    }

    @Test
    void provision_certificateFromAnotherCa_failsInTheTlsHandshake() throws Exception {
        TestPki.Device stranger = TestPki.create("stranger CA").device("CN=x509-dev-3", "EC");
        try (FakeDpsBroker broker = FakeDpsBroker.start(pki.serverContextTrustingDevices(), ClientAuth.NEED)) {

            ProvisioningOutcome outcome = provision(options(broker, stranger));

            assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
            assertThat(outcome.failure()).startsWith("could not connect to localhost:" + broker.port())
                    .contains("the server refused the client certificate").contains("Received fatal alert");
            assertThat(broker.connects).isEmpty();
        }
    }

    @Test
    void provision_symmetricKeyDeviceWhereCertificateIsRequired_failsInTheTlsHandshake() throws Exception {
        try (FakeDpsBroker broker = FakeDpsBroker.start(pki.serverContextTrustingDevices(), ClientAuth.NEED)) {
            SimulatedDeviceOptions sas = new SimulatedDeviceOptions("localhost", broker.port(), SCOPE, "dev-1",
                    SimulatedDeviceTest.KEY, null, trust, Duration.ofSeconds(10));

            ProvisioningOutcome outcome = provision(sas);

            assertThat(outcome.kind()).isEqualTo(ProvisioningOutcome.Kind.TRANSPORT_FAILURE);
            assertThat(broker.connects).isEmpty();
            assertThat(broker.clientChains).isEmpty();
            assertThat(outcome.failure()).contains("the server refused the client certificate");
        }
    }

    private static SimulatedDeviceOptions options(FakeDpsBroker broker, TestPki.Device device) {
        return SimulatedDeviceOptions.ofX509("localhost", broker.port(), SCOPE, device.credential())
                .withTrust(trust).withTimeout(Duration.ofSeconds(10));
    }

    private static ProvisioningOutcome provision(SimulatedDeviceOptions options) {
        CompletableFuture<ProvisioningOutcome> future = new SimulatedDevice(options, runtime).provision();
        await().atMost(options.timeout().plusSeconds(10)).until(future::isDone);
        return future.join();
    }

    /** Accepts every client chain but names only {@code issuer} in the CertificateRequest. */
    private static X509TrustManager acceptAnyNaming(X509Certificate issuer) {
        return new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
                // accept
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                // not a client
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[] {issuer};
            }
        };
    }
}
