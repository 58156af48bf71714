package io.opendps.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAckReturnCode;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.opendps.broker.mqtt.ConnectedDevice;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.DeviceClientTrust;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Client certificates on the device listener ({@code dps-device-protocol.md} §0 rule 3, §1.2, §2.1): the server
 * asks for a certificate but does not require one, advertises no issuers, lets a chain from any CA through the
 * handshake, and the chain reaches the DPS extension leaf first; X.509 devices connect with a username and no
 * password. Meanwhile every other TLS client in this JVM still refuses servers it does not trust.
 *
 * <p>Device certificates come from a CA the server has never seen (root and intermediate generated here).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DeviceClientCertificateIT {

    private static final String API_VERSION = "api-version=2019-03-31";
    private static final char[] PASSWORD = "device-pass".toCharArray();
    private static final int SOCKET_TIMEOUT_MILLIS = 5_000;
    private static final Pattern REPLY_TOPIC = Pattern.compile("\\$dps/registrations/res/(\\d{3})/\\?\\$rid=1(&.*)?");
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    static Path dataDir;
    private static OpenDpsServer server;
    private static TrustManagerFactory trustServerCa;
    private static Issued deviceRoot;
    private static Issued deviceIntermediate;

    private record Issued(X509Certificate certificate, PrivateKey key) {}

    /** A device identity: key and chain (leaf, intermediate). */
    private record DeviceIdentity(String registrationId, PrivateKey key, List<X509Certificate> chain) {
        X509Certificate leaf() {
            return chain.get(0);
        }

        List<String> thumbprints() {
            return chain.stream().map(Certificates::sha256Thumbprint).toList();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        trustServerCa = TrustManagerFactory.getInstance("PKIX");
        trustServerCa.init(keyStoreTrusting(Certificates.readCertificates(server.info().caCertificate()).get(0)));
        deviceRoot = ca("CN=Unknown Device Root", null);
        deviceIntermediate = ca("CN=Unknown Device Intermediate", deviceRoot);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The CertificateRequest: asked, not required, no issuers listed

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void certificateRequest_listsNoIssuers_andTheCertificateIsSentAndAccepted(String protocol) throws Exception {
        DeviceIdentity device = newDevice("issuers", false);
        RecordingKeyManager keyManager = new RecordingKeyManager(keyManager("NewSunX509", device));

        try (SSLSocket socket = connect(clientContext(keyManager), protocol)) {
            int returnCode = mqttConnect(socket, device.registrationId(), null);

            assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
            assertThat(keyManager.asked()).as("the server asked for a client certificate").isTrue();
            assertThat(keyManager.issuers()).as("issuers in the CertificateRequest").isNullOrEmpty();
            assertThat(socket.getSession().getLocalCertificates()).as("certificate sent").isNotNull();
            assertThat(returnCode).as("CONNACK return code").isZero();
        }
    }

    @ParameterizedTest(name = "{0} key manager, {1} device key")
    @CsvSource({"SunX509, EC", "NewSunX509, RSA", "SunX509, RSA"})
    void standardKeyManager_deviceFromUnknownCa_sendsItsCertificateAndTheChainReachesTheExtension(String algorithm,
            String keyType) throws Exception {
        DeviceIdentity device = newDevice("kmf", keyType.equals("RSA"));
        SSLContext context = SSLContext.getInstance("TLSv1.2"); // as the Azure Java SDK's X.509 provider builds it
        context.init(keyManager(algorithm, device), trustServerCa.getTrustManagers(), null);

        try (SSLSocket socket = connect(context, "TLSv1.2")) {
            int returnCode = mqttConnect(socket, device.registrationId(), null);

            assertThat(socket.getSession().getLocalCertificates()).as("certificate sent").isNotNull()
                    .startsWith(device.leaf());
            assertThat(returnCode).isZero();
            ConnectedDevice connected = awaitConnected(device.registrationId());
            assertThat(connected.clientCertificateThumbprints()).containsExactlyElementsOf(device.thumbprints());
            assertThat(connected.sasTokenPresent()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void clientWithoutCertificate_connects(String protocol) throws Exception {
        String registrationId = "sas-" + IDS.incrementAndGet();
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustServerCa.getTrustManagers(), null);

        try (SSLSocket socket = connect(context, protocol)) {
            int returnCode = mqttConnect(socket, registrationId, "SharedAccessSignature sr=x&sig=y&se=1");

            assertThat(socket.getSession().getLocalCertificates()).isNull();
            assertThat(returnCode).isZero();
            ConnectedDevice connected = awaitConnected(registrationId);
            assertThat(connected.clientCertificateThumbprints()).isEmpty();
            assertThat(connected.sasTokenPresent()).isTrue();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // An MQTT client with a certificate and no password

    @Test
    void mqttClientWithCertificateAndNoPassword_isAcceptedAndItsRegisterIsDecided() throws Exception {
        DeviceIdentity device = newDevice("mqtt-x509", false);
        KeyManagerFactory keys = KeyManagerFactory.getInstance("SunX509");
        keys.init(keyStoreHolding(device), PASSWORD);
        Mqtt3BlockingClient mqtt = MqttClient.builder().useMqttVersion3()
                .identifier(device.registrationId())
                .serverHost(server.info().mqttHost())
                .serverPort(server.info().mqttPort())
                .sslConfig().keyManagerFactory(keys).trustManagerFactory(trustServerCa)
                .protocols(List.of("TLSv1.2")).applySslConfig()
                .buildBlocking();
        BlockingQueue<Mqtt3Publish> inbox = new LinkedBlockingQueue<>();
        mqtt.toAsync().publishes(MqttGlobalPublishFilter.ALL, inbox::add);
        try {
            Mqtt3ConnAck connAck = mqtt.connectWith().cleanSession(false).keepAlive(230)
                    .simpleAuth(Mqtt3SimpleAuth.builder().username(username(device.registrationId())).build())
                    .send();

            assertThat(connAck.getReturnCode()).isEqualTo(Mqtt3ConnAckReturnCode.SUCCESS);
            ConnectedDevice connected = awaitConnected(device.registrationId());
            assertThat(connected.clientCertificateThumbprints()).containsExactlyElementsOf(device.thumbprints());
            assertThat(connected.sasTokenPresent()).isFalse();
            assertThat(connected.registrationId()).isEqualTo(device.registrationId());

            mqtt.subscribeWith().topicFilter("$dps/registrations/res/#").qos(MqttQos.AT_LEAST_ONCE).send();
            mqtt.publishWith().topic("$dps/registrations/PUT/iotdps-register/?$rid=1")
                    .payload(("{\"registrationId\":\"" + device.registrationId() + "\"}")
                            .getBytes(StandardCharsets.UTF_8))
                    .qos(MqttQos.AT_MOST_ONCE).send();
            Mqtt3Publish reply = inbox.poll(10, TimeUnit.SECONDS);

            // The registrar's X.509 decision is not this test's business; that it decided (no 5xx) is.
            assertThat(reply).as("one reply to the register").isNotNull();
            Matcher topic = REPLY_TOPIC.matcher(reply.getTopic().toString());
            assertThat(topic.matches()).as("reply topic %s", reply.getTopic()).isTrue();
            assertThat(Integer.parseInt(topic.group(1))).as("status").isLessThan(500);
            assertThat(Json.mapper().readTree(reply.getPayloadAsBytes()).isObject()).isTrue();
        } finally {
            if (mqtt.getState().isConnected()) {
                mqtt.disconnect();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Everything else in the JVM keeps validating servers

    @Test
    void otherTlsClients_withTheProviderInstalled_stillRefuseUntrustedServers(@TempDir Path otherDir) {
        assertThat(DeviceClientTrust.isInstalled()).isTrue();
        assertThat(TrustManagerFactory.getDefaultAlgorithm()).isEqualTo(DeviceClientTrust.ALGORITHM);
        TlsMaterial other = TlsMaterial.loadOrCreate(otherDir, List.of(), Clock.systemUTC());

        assertThatThrownBy(() -> connect(TlsMaterial.trustingClientContext(other.caCertificate()), "TLSv1.3").close())
                .isInstanceOf(SSLException.class);
        assertThatThrownBy(() -> connect(defaultTrustContext(), "TLSv1.2").close())
                .as("JDK default trust (cacerts) does not know the OpenDPS CA")
                .isInstanceOf(SSLException.class);
        assertThatThrownBy(() -> httpsGet(HttpClient.newHttpClient()))
                .as("HttpClient with the JDK default SSLContext").isInstanceOf(SSLException.class);
        assertThatThrownBy(() -> httpsGet(HttpClient.newBuilder().sslContext(defaultTrustContext()).build()))
                .as("HttpClient with an SSLContext initialised after installation").isInstanceOf(SSLException.class);
    }

    @Test
    void defaultAlgorithmTrustManagers_overAnotherTrustStore_validateServersAsPkix() throws Exception {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(keyStoreTrusting(Certificates.readCertificates(server.info().caCertificate()).get(0)));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);

        try (SSLSocket socket = connect(context, "TLSv1.3")) {
            assertThat(socket.getSession().getPeerCertificates()).isNotEmpty();
        }
        HttpResponse<String> response = httpsGet(HttpClient.newBuilder().sslContext(context).build());
        assertThat(response.statusCode()).isPositive();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private static ConnectedDevice awaitConnected(String clientId) {
        AtomicReference<@Nullable ConnectedDevice> found = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> server.connectedDevice(clientId).map(d -> {
                    found.set(d);
                    return true;
                }).orElse(false));
        return found.get();
    }

    /** Connects to the device port as {@code localhost} with host-name verification; returns after the handshake. */
    private static SSLSocket connect(SSLContext context, String protocol) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", server.info().mqttPort());
        try {
            socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setProtocols(new String[] {protocol});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Sends an MQTT 3.1.1 CONNECT (clean session, username, password only if given) and returns the CONNACK return
     * code. Reading the CONNACK also proves the server accepted the client's certificate (TLS 1.3 sends it after the
     * client's handshake is done).
     */
    private static int mqttConnect(Socket socket, String registrationId, @Nullable String password)
            throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) (0x80 | (password == null ? 0 : 0x40) | 0x02),
            0, 60});
        writeString(body, registrationId);
        writeString(body, username(registrationId));
        if (password != null) {
            writeString(body, password);
        }
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        int remaining = body.size();
        do {
            int digit = remaining % 128;
            remaining /= 128;
            packet.write(remaining > 0 ? digit | 0x80 : digit);
        } while (remaining > 0);
        body.writeTo(packet);
        socket.getOutputStream().write(packet.toByteArray());
        socket.getOutputStream().flush();
        byte[] connAck = new byte[4];
        new DataInputStream(socket.getInputStream()).readFully(connAck);
        assertThat(connAck[0]).as("CONNACK packet type").isEqualTo((byte) 0x20);
        return connAck[3];
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xff);
        out.writeBytes(bytes);
    }

    private static String username(String registrationId) {
        return server.info().idScope() + "/registrations/" + registrationId + "/" + API_VERSION;
    }

    private static HttpResponse<String> httpsGet(HttpClient client) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.info().httpsPort() + "/"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A context initialised now with no trust managers: the JDK picks the default-algorithm factory over cacerts. */
    private static SSLContext defaultTrustContext() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        return context;
    }

    private static SSLContext clientContext(KeyManager keyManager) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {keyManager}, trustServerCa.getTrustManagers(), null);
        return context;
    }

    private static KeyManager[] keyManager(String algorithm, DeviceIdentity device) throws Exception {
        KeyManagerFactory factory = KeyManagerFactory.getInstance(algorithm);
        factory.init(keyStoreHolding(device), PASSWORD);
        return factory.getKeyManagers();
    }

    private static KeyStore keyStoreHolding(DeviceIdentity device) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("device", device.key(), PASSWORD, device.chain().toArray(X509Certificate[]::new));
        return store;
    }

    private static KeyStore keyStoreTrusting(X509Certificate ca) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", ca);
        return store;
    }

    private static DeviceIdentity newDevice(String prefix, boolean rsa) {
        String registrationId = prefix + "-" + IDS.incrementAndGet();
        KeyPair keys = rsa ? Certificates.newRsaKeyPair(2048) : Certificates.newEcKeyPair();
        X509Certificate leaf = Certificates.template("CN=" + registrationId, keys.getPublic())
                .issuedBy(deviceIntermediate.certificate(), deviceIntermediate.key())
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(1))
                .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH)
                .issue();
        return new DeviceIdentity(registrationId, keys.getPrivate(), List.of(leaf, deviceIntermediate.certificate()));
    }

    private static Issued ca(String subject, @Nullable Issued issuer) {
        KeyPair keys = Certificates.newEcKeyPair();
        CertificateTemplate template = Certificates.template(subject, keys.getPublic())
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(2)).ca();
        X509Certificate certificate = (issuer == null ? template.selfSigned(keys.getPrivate())
                : template.issuedBy(issuer.certificate(), issuer.key())).issue();
        return new Issued(certificate, keys.getPrivate());
    }

    /** Delegates to a standard key manager and records the issuers the server listed in its CertificateRequest. */
    private static final class RecordingKeyManager extends X509ExtendedKeyManager {

        private final X509ExtendedKeyManager delegate;
        private volatile boolean asked;
        private volatile Principal @Nullable [] issuers;

        RecordingKeyManager(KeyManager[] managers) {
            this.delegate = (X509ExtendedKeyManager) managers[0];
        }

        boolean asked() {
            return asked;
        }

        Principal @Nullable [] issuers() {
            return issuers;
        }

        @Override
        public @Nullable String chooseClientAlias(String[] keyType, Principal @Nullable [] issuers, Socket socket) {
            record(issuers);
            return delegate.chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public @Nullable String chooseEngineClientAlias(String[] keyType, Principal @Nullable [] issuers,
                SSLEngine engine) {
            record(issuers);
            return delegate.chooseEngineClientAlias(keyType, issuers, engine);
        }

        private void record(Principal @Nullable [] listed) {
            asked = true;
            issuers = listed == null ? null : listed.clone();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return delegate.getClientAliases(keyType, issuers);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return delegate.getServerAliases(keyType, issuers);
        }

        @Override
        public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return delegate.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return delegate.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return delegate.getPrivateKey(alias);
        }
    }
}
