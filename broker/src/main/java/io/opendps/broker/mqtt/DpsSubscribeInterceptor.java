package io.opendps.broker.mqtt;

import com.hivemq.extension.sdk.api.interceptor.subscribe.SubscribeInboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.subscribe.parameter.SubscribeInboundInput;
import com.hivemq.extension.sdk.api.interceptor.subscribe.parameter.SubscribeInboundOutput;
import com.hivemq.extension.sdk.api.packets.general.Qos;
import com.hivemq.extension.sdk.api.packets.subscribe.ModifiableSubscription;

/**
 * Lowers every QoS 2 subscription to QoS 1, so that a device asking for QoS 2 on
 * {@code $dps/registrations/res/#} gets SUBACK 0x01, as from the cloud service. HiveMQ's {@code max-qos} setting
 * caps publishes but not the QoS a SUBACK grants, hence this interceptor; it runs before the
 * {@link DpsSubscriptionAuthorizer}. Stateless and thread-safe; no blocking work.
 */
final class DpsSubscribeInterceptor implements SubscribeInboundInterceptor {

    @Override
    public void onInboundSubscribe(SubscribeInboundInput input, SubscribeInboundOutput output) {
        for (ModifiableSubscription subscription : output.getSubscribePacket().getSubscriptions()) {
            if (subscription.getQos() == Qos.EXACTLY_ONCE) {
                subscription.setQos(Qos.AT_LEAST_ONCE);
            }
        }
    }
}
