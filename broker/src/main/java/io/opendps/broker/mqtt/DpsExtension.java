package io.opendps.broker.mqtt;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.events.client.ClientLifecycleEventListener;
import com.hivemq.extension.sdk.api.events.client.parameters.AuthenticationSuccessfulInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ConnectionStartInput;
import com.hivemq.extension.sdk.api.events.client.parameters.DisconnectEventInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.HubDeviceAuthenticator;
import io.opendps.core.registration.Registrar;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The in-code HiveMQ extension that turns the broker into a DPS device endpoint: the authenticator, the
 * subscription authorizer and QoS cap, the clean-session rule, the request interceptor and the reply path; and the
 * built-in hub's device endpoint on the same listener ({@link HubEndpoint}).
 *
 * <p>Every session is treated as clean (the CONNECT is rewritten to clean start with session expiry 0), so a
 * client connecting with clean session false gets {@code sessionPresent=0} and never receives a reply that was
 * meant for an earlier connection.
 */
public final class DpsExtension implements ExtensionMain {

    private final Registrar registrar;
    private final Executor workers;
    private final ScheduledExecutorService scheduler;
    private final Duration replyDelay;
    private final Clock clock;
    private final BuiltInHub hub;
    private final HubDeviceAuthenticator hubAuthenticator;
    private final ConnectedDeviceRegistry registry = new ConnectedDeviceRegistry();
    private final HubConnectionRegistry hubRegistry = new HubConnectionRegistry();

    /**
     * @param registrar decides requests
     * @param workers bounded pool for store and crypto work; a rejected task is answered with 429
     * @param scheduler schedules delayed replies (owned by the caller)
     * @param replyDelay delay before each reply (about 100 ms; the Java SDK races on instant replies)
     * @param clock time source
     * @param hub the built-in hub whose devices connect here
     * @param hubAuthenticator checks hub connections' credentials
     */
    public DpsExtension(Registrar registrar, Executor workers, ScheduledExecutorService scheduler,
            Duration replyDelay, Clock clock, BuiltInHub hub, HubDeviceAuthenticator hubAuthenticator) {
        this.registrar = registrar;
        this.hub = hub;
        this.hubAuthenticator = hubAuthenticator;
        this.workers = workers;
        this.scheduler = scheduler;
        this.replyDelay = replyDelay;
        this.clock = clock;
    }

    @Override
    public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
        ReplyPublisher replies = new ReplyPublisher(Services.publishService(), scheduler, registry::isCurrent,
                replyDelay);
        // Twin responses go at QoS 1 like DPS replies; desired-property pushes at QoS 0: iot-device-client 2.1.4
        // stops completing twin calls after it received a QoS 1 desired-properties PATCH (observed: a later
        // reported-properties response is received but its call times out after 60 s).
        ReplyPublisher hubReplies = new ReplyPublisher(Services.publishService(), scheduler, hubRegistry::isCurrent,
                replyDelay);
        ReplyPublisher hubPushes = new ReplyPublisher(Services.publishService(), scheduler, hubRegistry::isCurrent,
                Duration.ZERO, com.hivemq.extension.sdk.api.packets.general.Qos.AT_MOST_ONCE);
        HubEndpoint hubEndpoint = new HubEndpoint(hub, hubAuthenticator, workers, hubRegistry, hubReplies,
                hubPushes, Services.clientService(), clock);
        DpsPublishInterceptor interceptor = new DpsPublishInterceptor(registry,
                new DpsRequestHandler(registrar, workers, replies, clock), hubEndpoint);
        DpsAuthenticator authenticator = new DpsAuthenticator(registry, hubEndpoint);
        DpsSubscriptionAuthorizer authorizer = new DpsSubscriptionAuthorizer(hubEndpoint);
        DpsSubscribeInterceptor capQos = new DpsSubscribeInterceptor();
        Services.securityRegistry().setAuthenticatorProvider(in -> authenticator);
        Services.securityRegistry().setAuthorizerProvider(in -> authorizer);
        Services.interceptorRegistry().setConnectInboundInterceptorProvider(in -> (connect, out) -> {
            out.getConnectPacket().setCleanStart(true);
            out.getConnectPacket().setSessionExpiryInterval(0);
        });
        Services.initializerRegistry().setClientInitializer(
                (in, context) -> {
                    context.addPublishInboundInterceptor(interceptor);
                    context.addSubscribeInboundInterceptor(capQos);
                });
        Services.eventRegistry().setClientLifecycleEventListener(in -> new Lifecycle());
    }

    @Override
    public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
        // Nothing to release: executors belong to the server that created this extension.
    }

    /**
     * Whether a built-in hub device has a live hub connection here (the operator API's {@code connectionState}).
     *
     * @param hub the hub host name (any case)
     * @param deviceId the device id (case-sensitive)
     */
    public boolean hubDeviceConnected(String hub, String deviceId) {
        return hubRegistry.findDevice(hub.toLowerCase(Locale.ROOT), deviceId).isPresent();
    }

    /** Number of live device connections (for metrics and tests). */
    public int connectedDevices() {
        return registry.size();
    }

    /** Number of live hub device connections (for metrics and tests). */
    public int connectedHubDevices() {
        return hubRegistry.size();
    }

    /**
     * The live connection of an MQTT client id, as captured at CONNECT (registration id, whether a SAS token was
     * sent, thumbprints of the presented certificate chain), or empty if the client is not connected. Read-only.
     */
    public Optional<ConnectedDevice> connectedDevice(String clientId) {
        return registry.find(clientId).map(c -> c.describe(clientId));
    }

    private final class Lifecycle implements ClientLifecycleEventListener {
        @Override
        public void onMqttConnectionStart(ConnectionStartInput input) {
        }

        @Override
        public void onAuthenticationSuccessful(AuthenticationSuccessfulInput input) {
        }

        @Override
        public void onDisconnect(DisconnectEventInput input) {
            input.getConnectionInformation().getConnectionAttributeStore()
                    .getAsString(DpsAuthenticator.CONNECTION_TOKEN)
                    .ifPresent(token -> registry.disconnected(input.getClientInformation().getClientId(), token));
            hubRegistry.disconnected(input.getClientInformation().getClientId(),
                    input.getConnectionInformation().getConnectionAttributeStore()
                            .getAsString(HubEndpoint.HUB_CONNECTION).orElse(""));
        }
    }
}
