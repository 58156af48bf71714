package io.opendps.broker.mqtt;

import com.hivemq.extension.sdk.api.interceptor.publish.PublishInboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundInput;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundOutput;
import com.hivemq.extension.sdk.api.packets.publish.AckReasonCode;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Intercepts every device PUBLISH: nothing a device publishes is delivered to other clients. Publishes of hub
 * connections go to the {@link HubEndpoint}. DPS register and
 * poll requests go to the {@link DpsRequestHandler}; other topics are dropped (and logged), because an
 * unsolicited reply would break the Java SDK, which consumes replies in order without matching {@code $rid}.
 * QoS 1 publishes are still acknowledged normally.
 */
final class DpsPublishInterceptor implements PublishInboundInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(DpsPublishInterceptor.class);

    private final ConnectedDeviceRegistry registry;
    private final DpsRequestHandler handler;
    private final HubEndpoint hub;

    DpsPublishInterceptor(ConnectedDeviceRegistry registry, DpsRequestHandler handler, HubEndpoint hub) {
        this.registry = registry;
        this.handler = handler;
        this.hub = hub;
    }

    @Override
    public void onInboundPublish(PublishInboundInput input, PublishInboundOutput output) {
        if (HubEndpoint.isHubConnection(input.getConnectionInformation().getConnectionAttributeStore())) {
            hub.onPublish(input, output);
            return;
        }
        output.preventPublishDelivery(AckReasonCode.SUCCESS);
        String clientId = input.getClientInformation().getClientId();
        String topic = input.getPublishPacket().getTopic();
        Optional<DpsTopics.Request> request;
        try {
            request = DpsTopics.parseRequest(topic);
        } catch (IllegalArgumentException e) {
            LOG.debug("malformed request topic ignored [client-id: {}, reason: {}]", clientId, e.getMessage());
            return;
        }
        if (request.isEmpty()) {
            LOG.debug("publish ignored, not a DPS request [client-id: {}, topic: {}]", clientId, topic);
            return;
        }
        String token = input.getConnectionInformation().getConnectionAttributeStore()
                .getAsString(DpsAuthenticator.CONNECTION_TOKEN).orElse("");
        Optional<DeviceConnection> connection = registry.find(clientId)
                .filter(c -> c.connectionToken().equals(token));
        if (connection.isEmpty()) {
            LOG.debug("request from an unregistered connection ignored [client-id: {}]", clientId);
            return;
        }
        handler.handle(clientId, connection.get(), request.get(), payload(input));
    }

    /** A copy of the publish payload (empty when there is none); the packet's buffer is left untouched. */
    static byte[] payload(PublishInboundInput input) {
        ByteBuffer buffer = input.getPublishPacket().getPayload().orElse(null);
        if (buffer == null) {
            return new byte[0];
        }
        ByteBuffer copy = buffer.asReadOnlyBuffer();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
