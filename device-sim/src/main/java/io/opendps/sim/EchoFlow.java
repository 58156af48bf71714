package io.opendps.sim;

import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.Mqtt3ClientBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * The plain-broker counterpart of a provisioning flow, for comparing OpenDPS with an ordinary MQTT broker on the
 * same transport: (TLS) connect, CONNECT with a username and password, SUBSCRIBE {@code bench/res/{client-id}}
 * QoS 1, PUBLISH QoS 1 to {@code bench/req/{client-id}}, wait for the one reply an {@link EchoResponder} sends,
 * DISCONNECT. Same client library, event loop and TLS settings as {@link ProvisioningFlow}.
 */
final class EchoFlow {

    /** The topic prefix of requests; the responder subscribes {@code bench/req/+}. */
    static final String REQUEST_PREFIX = "bench/req/";
    /** The topic prefix of replies. */
    static final String REPLY_PREFIX = "bench/res/";

    /**
     * Where and how the echo clients connect.
     *
     * @param host broker host (also the name the server certificate must carry when {@code trust} is set)
     * @param port broker port
     * @param trust the trust for the broker's certificate; {@code null} for plain TCP (tests only)
     * @param username the CONNECT username
     * @param password the CONNECT password, or {@code null} for none
     * @param timeout the limit of one flow
     */
    record Target(String host, int port, @Nullable TrustManagerFactory trust, String username,
            @Nullable String password, Duration timeout) {
    }

    private EchoFlow() {
    }

    /** Runs one echo flow; the future completes (never exceptionally) after DISCONNECT. */
    static CompletableFuture<LoadFlowResult> run(Target target, String clientId, SimulatorRuntime runtime) {
        long start = System.nanoTime();
        Mqtt3ClientBuilder builder = Mqtt3Client.builder().identifier(clientId).serverHost(target.host())
                .serverPort(target.port()).executorConfig(runtime.executorConfig());
        if (target.trust() != null) {
            builder = builder.sslConfig(MqttClientSslConfig.builder().protocols(List.of("TLSv1.3", "TLSv1.2"))
                    .trustManagerFactory(target.trust()).build());
        }
        Mqtt3AsyncClient client = builder.buildAsync();
        CompletableFuture<LoadFlowResult> decided = new CompletableFuture<>();
        AtomicLongArray marks = new AtomicLongArray(1);
        Future<?> timeout;
        try {
            timeout = runtime.scheduler().schedule(() -> decided.complete(failure("transport: timed out", start,
                    marks)), target.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(failure("transport: runtime closed", start, marks));
        }
        decided.whenComplete((r, e) -> timeout.cancel(false));
        byte[] payload = clientId.getBytes(StandardCharsets.UTF_8);
        var connect = client.connectWith().cleanSession(true).keepAlive(60);
        var auth = com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth.builder().username(target.username());
        var complete = target.password() == null ? auth
                : auth.password(target.password().getBytes(StandardCharsets.UTF_8));
        connect.simpleAuth(complete.build()).send()
                .thenCompose(ack -> client.subscribeWith().topicFilter(REPLY_PREFIX + clientId)
                        .qos(MqttQos.AT_LEAST_ONCE)
                        .callback(reply -> {
                            long now = System.nanoTime();
                            long subscribed = marks.get(0);
                            decided.complete(new LoadFlowResult(true, null, Duration.ofNanos(subscribed - start),
                                    null, null, Duration.ofNanos(now - subscribed), Duration.ofNanos(now - start)));
                        })
                        .send())
                .thenCompose(subAck -> {
                    marks.set(0, System.nanoTime());
                    return client.publishWith().topic(REQUEST_PREFIX + clientId).qos(MqttQos.AT_LEAST_ONCE)
                            .payload(payload).send();
                })
                .whenComplete((published, error) -> {
                    if (error != null) {
                        decided.complete(failure("transport: " + LoadStats.shorten(FailureMessages.describe(error)),
                                start, marks));
                    }
                });
        return decided.thenCompose(result -> {
            CompletableFuture<LoadFlowResult> done = new CompletableFuture<>();
            try {
                client.disconnect().whenComplete((ignored, error) -> done.complete(result));
            } catch (RuntimeException e) {
                done.complete(result);
            }
            return done;
        });
    }

    private static LoadFlowResult failure(String kind, long start, AtomicLongArray marks) {
        long subscribed = marks.get(0);
        return new LoadFlowResult(false, kind, subscribed == 0 ? null : Duration.ofNanos(subscribed - start), null, null,
                null, Duration.ofNanos(System.nanoTime() - start));
    }
}
