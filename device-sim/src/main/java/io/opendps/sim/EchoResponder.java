package io.opendps.sim;

import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3AsyncClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.Mqtt3ClientBuilder;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The "server side" of an echo flow on a plain broker: one MQTT client subscribed to {@code bench/req/+} at QoS 1
 * that answers each request with one QoS 1 PUBLISH of the same payload to {@code bench/res/{client-id}}. It plays
 * the role the DPS extension plays inside OpenDPS, so the comparison counts the broker's work for the same
 * message pattern. Runs on the shared {@link SimulatorRuntime}.
 */
final class EchoResponder implements AutoCloseable {

    private final Mqtt3AsyncClient client;
    private final LongAdder answered = new LongAdder();

    private EchoResponder(Mqtt3AsyncClient client) {
        this.client = client;
    }

    /**
     * Connects and subscribes; returns once the SUBACK arrived.
     *
     * @throws IllegalStateException if the broker cannot be reached or refuses the subscription within 30 s
     */
    static EchoResponder start(EchoFlow.Target target, SimulatorRuntime runtime) {
        Mqtt3ClientBuilder builder = Mqtt3Client.builder().identifier("opendps-echo-responder")
                .serverHost(target.host()).serverPort(target.port()).executorConfig(runtime.executorConfig());
        if (target.trust() != null) {
            builder = builder.sslConfig(MqttClientSslConfig.builder().protocols(List.of("TLSv1.3", "TLSv1.2"))
                    .trustManagerFactory(target.trust()).build());
        }
        Mqtt3AsyncClient client = builder.buildAsync();
        EchoResponder responder = new EchoResponder(client);
        var auth = com.hivemq.client.mqtt.mqtt3.message.auth.Mqtt3SimpleAuth.builder().username(target.username());
        var complete = target.password() == null ? auth
                : auth.password(target.password().getBytes(StandardCharsets.UTF_8));
        try {
            client.connectWith().cleanSession(true).keepAlive(60).simpleAuth(complete.build()).send()
                    .thenCompose(ack -> client.subscribeWith().topicFilter(EchoFlow.REQUEST_PREFIX + "+")
                            .qos(MqttQos.AT_LEAST_ONCE).callback(responder::answer).send())
                    .get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the echo responder", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the echo responder could not connect to " + target.host() + ":"
                    + target.port() + ": " + FailureMessages.describe(e.getCause() == null ? e : e.getCause()), e);
        }
        return responder;
    }

    private void answer(Mqtt3Publish request) {
        String clientId = request.getTopic().toString().substring(EchoFlow.REQUEST_PREFIX.length());
        client.publishWith().topic(EchoFlow.REPLY_PREFIX + clientId).qos(MqttQos.AT_LEAST_ONCE)
                .payload(request.getPayloadAsBytes()).send();
        answered.increment();
    }

    /** Requests answered so far. */
    long answered() {
        return answered.sum();
    }

    @Override
    public void close() {
        try {
            client.disconnect().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // already gone: nothing to close
        }
    }
}
