package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttClientSslConfigBuilder;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuthBuilder;
import com.hivemq.client.mqtt.mqtt3.exceptions.Mqtt3ConnAckException;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * The second half of the quickstart: after {@code assigned}, the device connects to its IoT hub, reads its twin and
 * sends telemetry ({@code dps-device-protocol.md} §9). MQTT 3.1.1 over TLS, client id = device id, username
 * {@code {hub}/{deviceId}/?api-version=2021-04-12}; the password is a SAS token {@code sr={hub}/devices/{deviceId}}
 * (no {@code skn}) signed with the key the device used for DPS, or absent for X.509 (the certificate from the TLS
 * handshake is the identity).
 *
 * <p>Decision: the hub name goes in the username and the SAS resource, while the TLS/TCP target is a separate
 * {@code connectHost} (the assigned hub by default, {@code --gateway-host} otherwise), as an Azure SDK's
 * {@code GatewayHostName} does. Blocking (one device, one CLI run); not thread-safe; used once.
 *
 * @param hub the assigned hub name
 * @param deviceId the assigned device id
 * @param connectHost the host to open TLS to; the server certificate must name it
 * @param port the MQTT/TLS port
 * @param credential the device's DPS credential; for a TPM device, a {@link TpmCredential} whose token is the hub
 *     SAS token signed in the TPM (sr {@code {hub}/devices/{deviceId}})
 * @param trust the trust for the server certificate, or {@code null} for the JVM default
 * @param timeout the limit for each blocking step
 */
public record HubTelemetry(String hub, String deviceId, String connectHost, int port, DeviceCredential credential,
        @Nullable TrustManagerFactory trust, Duration timeout) {

    /** The API version of the hub username, as current Azure device SDKs send it. */
    static final String API_VERSION = "2021-04-12";

    private static final Duration SAS_LIFETIME = Duration.ofHours(1);
    private static final String TWIN_RESPONSES = "$iothub/twin/res/#";
    private static final String DESIRED_PATCHES = "$iothub/twin/PATCH/properties/desired/#";

    /** Why the hub conversation failed, as one line; {@link #getMessage()} is what the CLI prints. */
    public static final class HubException extends Exception {
        private static final long serialVersionUID = 1L;

        HubException(String message, @Nullable Throwable cause) {
            super(message, cause);
        }
    }

    /** Checks that no component is null. */
    public HubTelemetry {
        Objects.requireNonNull(hub, "hub");
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(connectHost, "connectHost");
        Objects.requireNonNull(credential, "credential");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** The CONNECT username, {@code {hub}/{deviceId}/?api-version=2021-04-12}. */
    static String username(String hub, String deviceId) {
        return hub + "/" + deviceId + "/?api-version=" + API_VERSION;
    }

    /** The telemetry topic with the JSON content type and encoding as system properties. */
    static String eventsTopic(String deviceId) {
        return "devices/" + deviceId + "/messages/events/$.ct=application%2Fjson&$.ce=utf-8";
    }

    /** The quickstart's telemetry body for message {@code number} (1-based). */
    static String body(int number) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("temperature", 20 + number % 10);
        node.put("humidity", 60 + number % 5);
        node.put("messageId", number);
        return Json.toText(node);
    }

    /**
     * Connects, subscribes to twin responses and desired patches, GETs the twin and prints its desired properties,
     * sends {@code count} QoS 1 messages printing a line each, and disconnects.
     *
     * @param count the number of messages, at least 1
     * @param out where the progress lines go
     * @param clock the clock for the SAS expiry
     * @throws HubException with a one-line reason (refused CONNECT naming credential and hub, timeout, ...)
     */
    public void run(int count, PrintWriter out, Clock clock) throws HubException {
        Mqtt3BlockingClient client = Mqtt3Client.builder()
                .identifier(deviceId)
                .serverHost(connectHost)
                .serverPort(port)
                .sslConfig(ssl())
                .buildBlocking();
        connect(client, clock);
        try {
            out.printf("Connected to IoT hub %s as %s%n", hub, deviceId);
            out.flush();
            try (Mqtt3BlockingClient.Mqtt3Publishes publishes = client.publishes(
                    com.hivemq.client.mqtt.MqttGlobalPublishFilter.SUBSCRIBED)) {
                client.subscribeWith().topicFilter(TWIN_RESPONSES).qos(MqttQos.AT_LEAST_ONCE).send();
                client.subscribeWith().topicFilter(DESIRED_PATCHES).qos(MqttQos.AT_LEAST_ONCE).send();
                client.publishWith().topic("$iothub/twin/GET/?$rid=1").qos(MqttQos.AT_MOST_ONCE).send();
                JsonNode twin = twinAnswer(publishes);
                out.println("Desired properties: " + Json.toText(twin.path("desired")));
                for (int i = 1; i <= count; i++) {
                    out.printf("Sending message #%d ...%n", i);
                    out.flush();
                    client.publishWith().topic(eventsTopic(deviceId)).qos(MqttQos.AT_LEAST_ONCE)
                            .payload(body(i).getBytes(StandardCharsets.UTF_8)).send();
                }
                out.printf("... done sending message #%d%n", count);
                out.flush();
            }
        } catch (RuntimeException e) {
            throw new HubException("IoT hub " + hub + " failed for device " + deviceId + ": " + e.getMessage(), e);
        } finally {
            disconnectQuietly(client);
        }
    }

    private JsonNode twinAnswer(Mqtt3BlockingClient.Mqtt3Publishes publishes) throws HubException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Optional<Mqtt3Publish> received;
            try {
                received = left <= 0 ? Optional.empty() : publishes.receive(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException("interrupted while waiting for the twin", e);
            }
            if (received.isEmpty()) {
                throw new HubException("Timed out after " + timeout.toSeconds() + " s waiting for the twin of "
                        + deviceId + " from IoT hub " + hub, null);
            }
            String topic = received.get().getTopic().toString();
            if (!topic.startsWith("$iothub/twin/res/") || !topic.contains("$rid=1")) {
                continue;
            }
            String text = new String(received.get().getPayloadAsBytes(), StandardCharsets.UTF_8);
            if (!topic.startsWith("$iothub/twin/res/200/")) {
                throw new HubException("IoT hub " + hub + " refused the twin GET of " + deviceId + ": " + topic
                        + " " + text, null);
            }
            try {
                return Json.mapper().readTree(text);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new HubException("IoT hub " + hub + " sent a twin that is not JSON: " + e.getOriginalMessage(),
                        e);
            }
        }
    }

    private void connect(Mqtt3BlockingClient client, Clock clock) throws HubException {
        Mqtt3SimpleAuthBuilder.Complete auth = Mqtt3SimpleAuth.builder().username(username(hub, deviceId));
        String what = "certificate";
        if (credential instanceof SymmetricKeyCredential key) {
            long expiry = clock.instant().plus(SAS_LIFETIME).getEpochSecond();
            auth = auth.password(SasSigner.sign(hub + "/devices/" + deviceId, expiry, key.deviceKey(), null)
                    .getBytes(StandardCharsets.UTF_8));
            what = "symmetric key (SAS token)";
        } else if (credential instanceof TpmCredential tpm && tpm.sasToken() != null) {
            auth = auth.password(tpm.sasToken().getBytes(StandardCharsets.UTF_8));
            what = "TPM key (SAS token signed in the TPM)";
        }
        try {
            client.connectWith().cleanSession(true).keepAlive(DpsMqtt.KEEP_ALIVE_SECONDS)
                    .simpleAuth(auth.build()).send();
        } catch (Mqtt3ConnAckException e) {
            throw new HubException("IoT hub " + hub + " refused device " + deviceId + " with its " + what + ": "
                    + e.getMqttMessage().getReturnCode(), e);
        } catch (RuntimeException e) {
            throw new HubException("Cannot connect device " + deviceId + " to IoT hub " + hub + " at "
                    + connectHost + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private MqttClientSslConfig ssl() {
        MqttClientSslConfigBuilder builder = MqttClientSslConfig.builder()
                .protocols(List.of("TLSv1.3", "TLSv1.2"))
                .handshakeTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (trust != null) {
            builder.trustManagerFactory(trust);
        }
        if (credential instanceof X509Credential x509) {
            builder.keyManagerFactory(x509.keyManagerFactory());
        }
        return builder.build();
    }

    private static void disconnectQuietly(Mqtt3BlockingClient client) {
        try {
            client.disconnect();
        } catch (RuntimeException e) {
            // already gone: nothing left to close
        }
    }
}
