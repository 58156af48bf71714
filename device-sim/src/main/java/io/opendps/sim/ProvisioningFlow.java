package io.opendps.sim;

import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttClientSslConfigBuilder;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttClientDisconnectedContext;
import com.hivemq.client.mqtt.lifecycle.MqttClientDisconnectedListener;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth;
import com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuthBuilder;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAck;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAckReturnCode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistration;
import io.opendps.core.sas.SasSigner;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One provisioning attempt of one device: a small state machine driven by MQTT callbacks and scheduler tasks.
 * Used once. State is written by one callback at a time (each step triggers the next), read by the timeout task,
 * hence volatile fields; the first decision wins ({@link CompletableFuture#complete}).
 */
final class ProvisioningFlow {

    private static final Logger LOG = LoggerFactory.getLogger(ProvisioningFlow.class);
    private static final Duration SAS_LIFETIME = Duration.ofHours(1);
    private static final Duration DISCONNECT_GRACE = Duration.ofSeconds(5);
    private static final Duration TRANSPORT_TIMEOUT_MARGIN = Duration.ofSeconds(1);
    private static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** Where the attempt is; names the step in timeout and failure messages. */
    private enum Phase {
        CONNECTING("connecting"),
        SUBSCRIBING("subscribing to " + DpsMqtt.RESPONSE_FILTER),
        REGISTERING("waiting for the answer to the register request"),
        WAITING_TO_POLL("waiting to poll the operation status"),
        POLLING("waiting for the operation status");

        private final String description;

        Phase(String description) {
            this.description = description;
        }
    }

    private final SimulatedDeviceOptions options;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private final Mqtt3AsyncClient client;
    private final CompletableFuture<ProvisioningOutcome> decided = new CompletableFuture<>();
    private final AtomicInteger lastRid = new AtomicInteger();
    private final long startNanos = System.nanoTime();
    private volatile Phase phase = Phase.CONNECTING;
    private volatile String expectedRid = "";
    private volatile @Nullable Duration subscribedAt;
    private volatile @Nullable Duration registerAnsweredAt;
    private volatile @Nullable Duration terminalAt;
    private volatile @Nullable Future<?> pendingPoll;
    private final @Nullable Duration pollDelayOverride;
    private volatile long waitedNanos;
    private volatile long pollSentNanos;
    private volatile @Nullable Duration lastPollAnswer;

    ProvisioningFlow(SimulatedDeviceOptions options, SimulatorRuntime runtime, Clock clock) {
        this(options, runtime, clock, null);
    }

    /**
     * A flow whose waits before each poll are {@code pollDelayOverride} instead of the server's {@code retry-after}
     * (the load harness shortens them for server-throughput runs); {@code null} waits as real devices do.
     */
    ProvisioningFlow(SimulatedDeviceOptions options, SimulatorRuntime runtime, Clock clock,
            @Nullable Duration pollDelayOverride) {
        this.pollDelayOverride = pollDelayOverride;
        this.options = options;
        this.scheduler = runtime.scheduler();
        this.clock = clock;
        this.client = newClient(options, runtime, this::onDisconnected);
    }

    /** Starts the attempt; the future completes after DISCONNECT (or its grace period). */
    CompletableFuture<ProvisioningOutcome> start() {
        Future<?> timeout;
        try {
            timeout = scheduler.schedule(this::onTimeout, options.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(ProvisioningOutcome.transportFailure(options.registrationId(),
                    "the simulator runtime is closed", timings()));
        }
        decided.whenComplete((outcome, error) -> {
            timeout.cancel(false);
            cancelPendingPoll();
        });
        try {
            connect();
        } catch (RuntimeException e) {
            fail(e);
        }
        return decided.thenCompose(this::disconnectThen);
    }

    private static Mqtt3AsyncClient newClient(SimulatedDeviceOptions options, SimulatorRuntime runtime,
            MqttClientDisconnectedListener onDisconnected) {
        long timeoutMillis = transportTimeoutMillis(options);
        return Mqtt3Client.builder()
                .identifier(options.registrationId())
                .transportConfig()
                    .serverHost(options.host())
                    .serverPort(options.port())
                    .sslConfig(sslConfig(options))
                    .socketConnectTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    .mqttConnectTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    .applyTransportConfig()
                .executorConfig(runtime.executorConfig())
                .addDisconnectedListener(onDisconnected)
                .buildAsync();
    }

    private static MqttClientSslConfig sslConfig(SimulatedDeviceOptions options) {
        MqttClientSslConfigBuilder builder = MqttClientSslConfig.builder()
                .protocols(TLS_PROTOCOLS)
                .handshakeTimeout(transportTimeoutMillis(options), TimeUnit.MILLISECONDS);
        if (options.trustManagerFactory() != null) {
            builder.trustManagerFactory(options.trustManagerFactory());
        }
        if (options.credential() instanceof X509Credential x509) {
            builder.keyManagerFactory(x509.keyManagerFactory());
        }
        return builder.build();
    }

    /**
     * The client's own socket, TLS and CONNACK timeouts: a little longer than the overall timeout, so the overall
     * timeout (with its message naming the step) decides, while a stuck connection still ends by itself.
     */
    private static long transportTimeoutMillis(SimulatedDeviceOptions options) {
        return options.timeout().plus(TRANSPORT_TIMEOUT_MARGIN).toMillis();
    }

    /**
     * CONNECT with the DPS username; the password is a SAS token for a symmetric key and absent (no password flag)
     * for X.509, whose identity is the certificate from the TLS handshake ({@code dps-device-protocol.md} §2.1). A
     * TPM device sends no password when it asks for its challenge and the TPM-signed token when it answers it.
     */
    private void connect() {
        Mqtt3SimpleAuthBuilder.Complete auth = Mqtt3SimpleAuth.builder()
                .username(DpsMqtt.username(options.idScope(), options.registrationId()));
        if (options.credential() instanceof SymmetricKeyCredential key) {
            String password = SasSigner.deviceToken(options.idScope(), options.registrationId(), key.deviceKey(),
                    clock.instant().plus(SAS_LIFETIME));
            auth = auth.password(password.getBytes(StandardCharsets.UTF_8));
        } else if (options.credential() instanceof TpmCredential tpm && tpm.sasToken() != null) {
            auth = auth.password(tpm.sasToken().getBytes(StandardCharsets.UTF_8));
        }
        client.connectWith()
                .cleanSession(true)
                .keepAlive(DpsMqtt.KEEP_ALIVE_SECONDS)
                .simpleAuth(auth.build())
                .send()
                .whenComplete(this::onConnected);
    }

    private void onConnected(@Nullable Mqtt3ConnAck connAck, @Nullable Throwable error) {
        if (error != null) {
            fail(error);
            return;
        }
        if (decided.isDone()) {
            client.disconnect();
            return;
        }
        phase = Phase.SUBSCRIBING;
        client.subscribeWith()
                .topicFilter(DpsMqtt.RESPONSE_FILTER)
                .qos(MqttQos.AT_LEAST_ONCE)
                .callback(this::onPublish)
                .send()
                .whenComplete(this::onSubscribed);
    }

    private void onSubscribed(@Nullable Mqtt3SubAck subAck, @Nullable Throwable error) {
        if (error != null || subAck == null) {
            fail(error);
            return;
        }
        List<Mqtt3SubAckReturnCode> codes = subAck.getReturnCodes();
        if (!codes.equals(List.of(Mqtt3SubAckReturnCode.SUCCESS_MAXIMUM_QOS_1))) {
            finish(ProvisioningOutcome.transportFailure(options.registrationId(), "the SUBACK for "
                    + DpsMqtt.RESPONSE_FILTER + " granted " + codes + ", expected QoS 1 (SUCCESS_MAXIMUM_QOS_1)",
                    timings()));
            return;
        }
        subscribedAt = elapsed();
        register();
    }

    private void register() {
        phase = Phase.REGISTERING;
        byte[] body = Json.toBytes(new DeviceRegistration(options.registrationId(),
                options.credential() instanceof TpmCredential tpm ? tpm.body() : null, options.payload()));
        publish(DpsMqtt::registerTopic, body);
    }

    private void poll(String operationId) {
        if (decided.isDone()) {
            return;
        }
        phase = Phase.POLLING;
        pollSentNanos = System.nanoTime();
        publish(rid -> DpsMqtt.pollTopic(rid, operationId), new byte[0]);
    }

    private void publish(Function<String, String> topicForRid, byte[] body) {
        String rid = Integer.toString(lastRid.incrementAndGet());
        expectedRid = rid;
        String topic = topicForRid.apply(rid);
        LOG.trace("publish [registration-id: {}, topic: {}]", options.registrationId(), topic);
        client.publishWith()
                .topic(topic)
                .qos(MqttQos.AT_LEAST_ONCE)
                .payload(body)
                .send()
                .whenComplete((published, error) -> {
                    if (error != null) {
                        fail(error);
                    }
                });
    }

    private void onPublish(Mqtt3Publish publish) {
        String topic = publish.getTopic().toString();
        Optional<ResponseTopic> response = DpsMqtt.parseResponseTopic(topic);
        if (response.isEmpty() || !response.get().rid().equals(expectedRid)) {
            LOG.debug("ignoring a message [registration-id: {}, topic: {}, expected rid: {}]",
                    options.registrationId(), topic, expectedRid);
            return;
        }
        expectedRid = "";
        LOG.trace("answer [registration-id: {}, topic: {}]", options.registrationId(), topic);
        react(ResponseReaction.of(response.get(), publish.getPayloadAsBytes()));
    }

    private void react(ResponseReaction reaction) {
        Duration now = elapsed();
        boolean registerAnswer = phase == Phase.REGISTERING;
        if (registerAnswer) {
            registerAnsweredAt = now;
        }
        if (reaction instanceof ResponseReaction.Poll poll) {
            schedulePoll(poll);
        } else if (reaction instanceof ResponseReaction.Finish finish) {
            terminalAt = registerAnswer ? null : now;
            if (!registerAnswer) {
                lastPollAnswer = Duration.ofNanos(System.nanoTime() - pollSentNanos);
            }
            finish(finish.toOutcome(options.registrationId(), timings()));
        }
    }

    private void schedulePoll(ResponseReaction.Poll poll) {
        phase = Phase.WAITING_TO_POLL;
        Duration delay = pollDelayOverride != null ? pollDelayOverride : poll.delay();
        long waitStart = System.nanoTime();
        try {
            pendingPoll = scheduler.schedule(() -> {
                waitedNanos += System.nanoTime() - waitStart;
                poll(poll.operationId());
            }, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            finish(ProvisioningOutcome.transportFailure(options.registrationId(), "the simulator runtime is closed",
                    timings()));
        }
        if (decided.isDone()) {
            cancelPendingPoll();
        }
    }

    private void onDisconnected(MqttClientDisconnectedContext context) {
        if (!decided.isDone()) {
            fail(context.getCause());
        }
    }

    private void onTimeout() {
        finish(ProvisioningOutcome.transportFailure(options.registrationId(), "timed out after "
                + options.timeout().toSeconds() + " s while " + phase.description + " (" + options.endpoint() + ")",
                timings()));
    }

    private void fail(@Nullable Throwable error) {
        if (decided.isDone()) {
            return;
        }
        String context = phase == Phase.CONNECTING
                ? "could not connect to " + options.endpoint()
                : "error while " + phase.description + " (" + options.endpoint() + ")";
        finish(ProvisioningOutcome.transportFailure(options.registrationId(),
                context + ": " + FailureMessages.describe(error), timings()));
    }

    private void finish(ProvisioningOutcome outcome) {
        if (decided.complete(outcome)) {
            LOG.debug("provisioning ended [registration-id: {}, kind: {}, status: {}]",
                    outcome.registrationId(), outcome.kind(), outcome.status());
        }
    }

    /** Sends DISCONNECT, then yields the outcome; waits at most {@link #DISCONNECT_GRACE} for it. */
    private CompletableFuture<ProvisioningOutcome> disconnectThen(ProvisioningOutcome outcome) {
        CompletableFuture<ProvisioningOutcome> done = new CompletableFuture<>();
        try {
            Future<?> grace = scheduler.schedule(() -> done.complete(outcome), DISCONNECT_GRACE.toMillis(),
                    TimeUnit.MILLISECONDS);
            done.whenComplete((ignored, error) -> grace.cancel(false));
            client.disconnect().whenComplete((ignored, error) -> done.complete(outcome));
        } catch (RuntimeException e) {
            // not connected, or the runtime is closed: nothing to disconnect or wait for
            done.complete(outcome);
        }
        return done;
    }

    private void cancelPendingPoll() {
        Future<?> poll = pendingPoll;
        if (poll != null) {
            poll.cancel(false);
        }
    }

    private ProvisioningOutcome.Timings timings() {
        Duration subscribed = subscribedAt;
        Duration answered = registerAnsweredAt;
        Duration terminal = terminalAt;
        return new ProvisioningOutcome.Timings(
                subscribed,
                subscribed == null || answered == null ? null : answered.minus(subscribed),
                answered == null || terminal == null ? null : terminal.minus(answered),
                elapsed(),
                lastPollAnswer,
                Duration.ofNanos(waitedNanos));
    }

    private Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
