package io.opendps.broker.mqtt;

import com.hivemq.extension.sdk.api.auth.SubscriptionAuthorizer;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerInput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerOutput;
import com.hivemq.extension.sdk.api.packets.subscribe.SubackReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Devices may subscribe to {@code $dps/registrations/res/#} and nothing else (SUBACK 0x80 for any other
 * filter); hub connections are authorized by the {@link HubEndpoint}. The granted QoS is capped at 1 by
 * {@link DpsSubscribeInterceptor}, so a QoS 2 request gets 0x01.
 */
final class DpsSubscriptionAuthorizer implements SubscriptionAuthorizer {

    private static final Logger LOG = LoggerFactory.getLogger(DpsSubscriptionAuthorizer.class);

    private final HubEndpoint hub;

    DpsSubscriptionAuthorizer(HubEndpoint hub) {
        this.hub = hub;
    }

    @Override
    public void authorizeSubscribe(SubscriptionAuthorizerInput input, SubscriptionAuthorizerOutput output) {
        if (HubEndpoint.isHubConnection(input.getConnectionInformation().getConnectionAttributeStore())) {
            hub.authorizeSubscribe(input, output);
            return;
        }
        String filter = input.getSubscription().getTopicFilter();
        if (DpsTopics.RESPONSE_FILTER.equals(filter)) {
            output.authorizeSuccessfully();
            return;
        }
        LOG.debug("subscription refused [client-id: {}, filter: {}]", input.getClientInformation().getClientId(),
                filter);
        output.failAuthorization(SubackReasonCode.NOT_AUTHORIZED,
                "only " + DpsTopics.RESPONSE_FILTER + " may be subscribed");
    }
}
