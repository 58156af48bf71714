package io.opendps.broker.mqtt;

import com.hivemq.extension.sdk.api.packets.general.Qos;
import com.hivemq.extension.sdk.api.services.builder.Builders;
import com.hivemq.extension.sdk.api.services.publish.Publish;
import com.hivemq.extension.sdk.api.services.publish.PublishService;
import com.hivemq.extension.sdk.api.services.publish.PublishToClientResult;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one reply to one client ({@code publishToClient}, never to a topic's subscribers), QoS 1, after a
 * short delay: the Java SDK loses replies that arrive before it starts waiting ({@code dps-device-protocol.md}
 * §2.10). A reply whose client is not (yet) subscribed is retried briefly (a publish can race the SUBACK) and
 * then dropped; a reply is never delivered to a later connection of the same client id.
 */
final class ReplyPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(ReplyPublisher.class);
    private static final Duration RETRY_INTERVAL = Duration.ofMillis(50);
    private static final int MAX_ATTEMPTS = 20;

    private final PublishService publishService;
    private final ScheduledExecutorService scheduler;
    private final BiPredicate<String, String> isCurrent;
    private final Duration delay;
    private final Qos qos;

    /**
     * @param isCurrent whether a (client id, connection token) pair is still the client's live connection
     */
    ReplyPublisher(PublishService publishService, ScheduledExecutorService scheduler,
            BiPredicate<String, String> isCurrent, Duration delay) {
        this(publishService, scheduler, isCurrent, delay, Qos.AT_LEAST_ONCE);
    }

    /**
     * @param isCurrent whether a (client id, connection token) pair is still the client's live connection
     * @param qos the QoS of the replies
     */
    ReplyPublisher(PublishService publishService, ScheduledExecutorService scheduler,
            BiPredicate<String, String> isCurrent, Duration delay, Qos qos) {
        this.qos = qos;
        this.publishService = publishService;
        this.scheduler = scheduler;
        this.isCurrent = isCurrent;
        this.delay = delay;
    }

    /** Sends {@code payload} on {@code topic} to the client, if its connection is still {@code connectionToken}. */
    void send(String clientId, String connectionToken, String topic, byte[] payload) {
        Publish publish = Builders.publish().topic(topic).qos(qos).payload(ByteBuffer.wrap(payload))
                .build();
        scheduler.schedule(() -> attempt(clientId, connectionToken, publish, 1), delay.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void attempt(String clientId, String connectionToken, Publish publish, int attempt) {
        if (!isCurrent.test(clientId, connectionToken)) {
            LOG.debug("reply dropped, connection gone [client-id: {}, topic: {}]", clientId, publish.getTopic());
            return;
        }
        publishService.publishToClient(publish, clientId).whenComplete((result, error) -> {
            if (error != null) {
                LOG.debug("reply failed [client-id: {}, topic: {}]", clientId, publish.getTopic(), error);
            } else if (result == PublishToClientResult.NOT_SUBSCRIBED) {
                if (attempt < MAX_ATTEMPTS) {
                    scheduler.schedule(() -> attempt(clientId, connectionToken, publish, attempt + 1),
                            RETRY_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
                } else {
                    LOG.debug("reply dropped, client not subscribed to its topic [client-id: {}, topic: {}]",
                            clientId, publish.getTopic());
                }
            }
        });
    }
}
