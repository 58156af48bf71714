package io.opendps.broker.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.extension.sdk.api.async.Async;
import com.hivemq.extension.sdk.api.async.TimeoutFallback;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerInput;
import com.hivemq.extension.sdk.api.auth.parameter.SubscriptionAuthorizerOutput;
import com.hivemq.extension.sdk.api.client.parameter.ConnectionAttributeStore;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundInput;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundOutput;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.packets.publish.AckReasonCode;
import com.hivemq.extension.sdk.api.packets.subscribe.SubackReasonCode;
import com.hivemq.extension.sdk.api.services.session.ClientService;
import io.opendps.broker.mqtt.HubConnectionRegistry.HubConnection;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.HubDeviceAuthenticator;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in hub's MQTT endpoint, on the same listener as DPS: connections whose username is a hub username
 * ({@link HubUsername}) come here.
 *
 * <p>Authentication happens at CONNECT, as in IoT Hub (unlike the DPS path, which answers a wrong key with a 401 to
 * the register): the CONNECT waits while a worker checks the credential ({@link HubDeviceAuthenticator}); an unknown
 * hub, an unknown device, a wrong key or certificate, a disabled device, or a client id other than the device id is
 * refused with CONNACK 5 ("not authorized"), and the precise reason goes to the audit log. A full worker pool or a
 * store failure answers CONNACK 3 ("server unavailable"), which clients retry.
 *
 * <p>Topics: telemetry on the device's own {@code devices/{id}/messages/events/...} is stored in the hub's log before
 * it is acknowledged (QoS 1); {@code $iothub/twin/GET} is answered with the twin, a reported PATCH with 204 and the new
 * version; desired-property changes are pushed on {@code $iothub/twin/PATCH/properties/desired/?$version=n}. A device
 * may subscribe only to its own cloud-to-device topic and the twin and method topics; any other filter gets SUBACK
 * 0x80. A publish anywhere else (another device's topic included) is not delivered and the client is disconnected,
 * as IoT Hub does. Nothing a device publishes ever reaches another client.
 *
 * <p>Replies: twin responses are sent at QoS 1 after the same short delay as DPS replies; desired-property pushes
 * at QoS 0 (iot-device-client 2.1.4 stopped completing twin calls after a QoS 1 desired PATCH). That client can
 * also lose a twin response it has received and acknowledged, a race inside the client (its transport queues the
 * message for the receive thread before looking up the request's callback, and the receive thread removes that
 * callback after acknowledging): nothing a server can prevent; a retry of the call succeeds (see
 * {@code AzureDeviceClientIT#twinCall}).
 *
 * <p>A device deleted from the hub (operator API) is disconnected at once; it cannot connect again.
 *
 * <p>No blocking work on HiveMQ threads: store and crypto work runs on the bounded worker pool.
 */
final class HubEndpoint {

    static final String HUB_CONNECTION = "opendps.hub.connection";
    private static final Logger LOG = LoggerFactory.getLogger(HubEndpoint.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");
    private static final Duration WORK_TIMEOUT = Duration.ofSeconds(10);

    private final BuiltInHub hub;
    private final HubDeviceAuthenticator authenticator;
    private final Executor workers;
    private final HubConnectionRegistry registry;
    private final ReplyPublisher replies;
    private final ReplyPublisher pushes;
    private final ClientService clients;
    private final Clock clock;

    HubEndpoint(BuiltInHub hub, HubDeviceAuthenticator authenticator, Executor workers,
            HubConnectionRegistry registry, ReplyPublisher replies, ReplyPublisher pushes, ClientService clients,
            Clock clock) {
        this.pushes = pushes;
        this.hub = hub;
        this.authenticator = authenticator;
        this.workers = workers;
        this.registry = registry;
        this.replies = replies;
        this.clients = clients;
        this.clock = clock;
        hub.addListener(this::pushDesired);
        hub.addDeletionListener(this::disconnectDeleted);
    }

    // --- CONNECT ---

    void authenticate(SimpleAuthInput input, SimpleAuthOutput output, HubUsername username,
            @Nullable String password) {
        String clientId = input.getClientInformation().getClientId();
        if (!clientId.equals(username.deviceId())) {
            refuse(output, clientId, username, "the client id must equal the device id '" + username.deviceId() + "'");
            return;
        }
        List<X509Certificate> chain = DpsAuthenticator.clientCertificates(input.getConnectionInformation());
        ConnectionAttributeStore attributes = input.getConnectionInformation().getConnectionAttributeStore();
        Async<SimpleAuthOutput> async = output.async(WORK_TIMEOUT, TimeoutFallback.FAILURE,
                ConnackReasonCode.SERVER_UNAVAILABLE, "authentication timed out");
        try {
            workers.execute(() -> {
                try {
                    HubDeviceAuthenticator.Result result = authenticator.authenticate(username.hub(),
                            username.deviceId(), password, chain, clock.instant());
                    if (result instanceof HubDeviceAuthenticator.Accepted accepted) {
                        String token = UUID.randomUUID().toString();
                        attributes.putAsString(HUB_CONNECTION, token);
                        registry.connected(clientId, new HubConnection(token, accepted.identity().hub(),
                                accepted.identity().deviceId()));
                        AUDIT.info("hub device connected [hub: {}, device-id: {}, authentication: {}]",
                                username.hub(), username.deviceId(), accepted.identity().authentication().type());
                        output.authenticateSuccessfully();
                    } else {
                        HubDeviceAuthenticator.Refused refused = (HubDeviceAuthenticator.Refused) result;
                        refuse(output, clientId, username, refused.reason() + ": " + refused.detail());
                    }
                } catch (RuntimeException e) {
                    LOG.warn("hub authentication failed [hub: {}, device-id: {}]", username.hub(), username.deviceId(),
                            e);
                    output.failAuthentication(ConnackReasonCode.SERVER_UNAVAILABLE, "the server could not check the "
                            + "credential; retry later");
                } finally {
                    async.resume();
                }
            });
        } catch (RejectedExecutionException e) {
            output.failAuthentication(ConnackReasonCode.SERVER_UNAVAILABLE, "the server is busy; retry later");
            async.resume();
        }
    }

    private static void refuse(SimpleAuthOutput output, String clientId, HubUsername username, String reason) {
        AUDIT.info("hub connect refused [client-id: {}, hub: {}, device-id: {}, reason: {}]", clientId,
                username.hub(), username.deviceId(), reason);
        output.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, "not authorized for device '"
                + username.deviceId() + "' in hub '" + username.hub() + "'");
    }

    /** The hub connection of a client, if the connection is an authenticated hub connection. */
    Optional<HubConnection> connection(String clientId, ConnectionAttributeStore attributes) {
        return attributes.getAsString(HUB_CONNECTION).flatMap(token -> registry.current(clientId, token));
    }

    static boolean isHubConnection(ConnectionAttributeStore attributes) {
        return attributes.getAsString(HUB_CONNECTION).isPresent();
    }

    // --- SUBSCRIBE ---

    void authorizeSubscribe(SubscriptionAuthorizerInput input, SubscriptionAuthorizerOutput output) {
        String clientId = input.getClientInformation().getClientId();
        String filter = input.getSubscription().getTopicFilter();
        Optional<HubConnection> connection = connection(clientId,
                input.getConnectionInformation().getConnectionAttributeStore());
        if (connection.isPresent() && HubTopics.allowedFilters(connection.get().deviceId()).contains(filter)) {
            output.authorizeSuccessfully();
            return;
        }
        AUDIT.info("hub subscription refused [client-id: {}, filter: {}]", clientId, filter);
        output.failAuthorization(SubackReasonCode.NOT_AUTHORIZED, "a device may subscribe only to its own "
                + "devices/{id}/messages/devicebound/#, $iothub/twin/res/#, $iothub/twin/PATCH/properties/desired/# "
                + "and $iothub/methods/POST/#");
    }

    // --- PUBLISH ---

    /**
     * Handles a publish of a hub connection; it is never delivered to other clients. Telemetry is acknowledged once
     * stored (the interceptor goes async first, then prevents delivery: HiveMQ disconnects an MQTT 3 client whose
     * prevented publish was turned async afterwards).
     */
    void onPublish(PublishInboundInput input, PublishInboundOutput output) {
        String clientId = input.getClientInformation().getClientId();
        String topic = input.getPublishPacket().getTopic();
        Optional<HubConnection> found = connection(clientId,
                input.getConnectionInformation().getConnectionAttributeStore());
        if (found.isEmpty()) {
            output.preventPublishDelivery(AckReasonCode.SUCCESS);
            LOG.debug("publish from a stale hub connection ignored [client-id: {}]", clientId);
            return;
        }
        HubConnection c = found.get();
        HubTopics.Request request = HubTopics.parse(topic, c.deviceId());
        LOG.debug("hub publish [hub: {}, device-id: {}, topic: {}, request: {}]", c.hub(), c.deviceId(), topic,
                request.getClass().getSimpleName());
        byte[] payload = DpsPublishInterceptor.payload(input);
        if (request instanceof HubTopics.Telemetry telemetry) {
            storeTelemetry(c, telemetry, payload, output);
            return;
        }
        output.preventPublishDelivery(AckReasonCode.SUCCESS);
        if (request instanceof HubTopics.TwinGet get) {
            onWorker(clientId, c, get.rid(), () -> twinGet(clientId, c, get.rid()));
        } else if (request instanceof HubTopics.ReportedPatch patch) {
            onWorker(clientId, c, patch.rid(), () -> reportedPatch(clientId, c, patch.rid(), payload));
        } else if (request instanceof HubTopics.Refused refused) {
            AUDIT.info("hub publish refused, disconnecting [hub: {}, device-id: {}, reason: {}]", c.hub(),
                    c.deviceId(), refused.reason());
            clients.disconnectClient(clientId);
        } else {
            LOG.debug("method response ignored [client-id: {}]", clientId);
        }
    }

    private void storeTelemetry(HubConnection c, HubTopics.Telemetry telemetry, byte[] payload,
            PublishInboundOutput output) {
        Async<PublishInboundOutput> async = output.async(WORK_TIMEOUT, TimeoutFallback.FAILURE);
        output.preventPublishDelivery(AckReasonCode.SUCCESS);
        try {
            workers.execute(() -> {
                try {
                    hub.appendMessage(c.hub(), c.deviceId(), telemetry.properties(), payload);
                } catch (RuntimeException e) {
                    LOG.warn("telemetry not stored [hub: {}, device-id: {}]", c.hub(), c.deviceId(), e);
                } finally {
                    async.resume();
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.warn("telemetry dropped, server busy [hub: {}, device-id: {}]", c.hub(), c.deviceId());
            async.resume();
        }
    }

    private void onWorker(String clientId, HubConnection c, String rid, Runnable work) {
        try {
            workers.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    LOG.warn("twin request failed [hub: {}, device-id: {}]", c.hub(), c.deviceId(), e);
                    reply(clientId, c, HubTopics.twinResponse(500, rid, null), "{}");
                }
            });
        } catch (RejectedExecutionException e) {
            reply(clientId, c, HubTopics.twinResponse(429, rid, null), "{}");
        }
    }

    private void twinGet(String clientId, HubConnection c, String rid) {
        hub.deviceTwin(c.hub(), c.deviceId()).ifPresentOrElse(
                twin -> replies.send(clientId, c.connectionToken(), HubTopics.twinResponse(200, rid, null),
                        Json.toAsciiBytes(twin.deviceView())),
                () -> reply(clientId, c, HubTopics.twinResponse(404, rid, null), "{}"));
    }

    private void reportedPatch(String clientId, HubConnection c, String rid, byte[] payload) {
        JsonNode patch;
        try {
            patch = Json.parse(payload, JsonNode.class);
        } catch (IOException e) {
            patch = null;
        }
        if (patch == null || !patch.isObject()) {
            reply(clientId, c, HubTopics.twinResponse(400, rid, null), "{}");
            return;
        }
        Optional<Long> version = hub.patchReported(c.hub(), c.deviceId(), (ObjectNode) patch);
        if (version.isEmpty()) {
            reply(clientId, c, HubTopics.twinResponse(404, rid, null), "{}");
            return;
        }
        replies.send(clientId, c.connectionToken(), HubTopics.twinResponse(204, rid, version.get()), new byte[0]);
    }

    private void reply(String clientId, HubConnection c, String topic, String body) {
        replies.send(clientId, c.connectionToken(), topic, body.getBytes(StandardCharsets.US_ASCII));
    }

    /** Pushes an operator's desired-properties change to the device, if it is connected. */
    private void pushDesired(String hubName, String deviceId, ObjectNode patch, long version) {
        registry.findDevice(hubName, deviceId).ifPresent(c -> pushes.send(deviceId, c.connectionToken(),
                HubTopics.desiredPatch(version), Json.toAsciiBytes(patch)));
    }

    /** Disconnects a device an operator deleted, if it is connected (its credential is gone). */
    private void disconnectDeleted(String hubName, String deviceId) {
        registry.findDevice(hubName, deviceId).ifPresent(c -> {
            AUDIT.info("hub device disconnected: deleted [hub: {}, device-id: {}]", hubName, deviceId);
            clients.disconnectClient(deviceId);
        });
    }

    int connectedDevices() {
        return registry.size();
    }
}
