package io.opendps.broker.mqtt;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.OperationStatusRequest;
import io.opendps.core.registration.RegistrationReply;
import io.opendps.core.registration.RegistrationRequest;
import io.opendps.core.registration.Registrar;
import java.time.Clock;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a device's register or poll to the {@link Registrar} on the bounded worker pool and sends exactly one
 * reply back to the requesting connection. A full pool answers 429 with retry-after; an infrastructure failure
 * answers 503. Every request carries the connection's client certificate chain (empty for SAS devices). Never blocks
 * the calling (HiveMQ) thread.
 */
final class DpsRequestHandler {

    private static final Logger LOG = LoggerFactory.getLogger(DpsRequestHandler.class);

    private final Registrar registrar;
    private final Executor workers;
    private final ReplyPublisher replies;
    private final Clock clock;

    DpsRequestHandler(Registrar registrar, Executor workers, ReplyPublisher replies, Clock clock) {
        this.registrar = registrar;
        this.workers = workers;
        this.replies = replies;
        this.clock = clock;
    }

    void handle(String clientId, DeviceConnection connection, DpsTopics.Request request, byte[] payload) {
        CompletableFuture<RegistrationReply> reply;
        try {
            reply = CompletableFuture.supplyAsync(() -> decide(connection, request, payload), workers);
        } catch (RejectedExecutionException e) {
            reply = CompletableFuture.completedFuture(RegistrationReply.error(ErrorCode.THROTTLED,
                    "the server is busy; retry after the given time", UUID.randomUUID().toString(), clock.instant()));
        }
        reply.exceptionally(e -> failure(connection, e))
                .thenAccept(r -> replies.send(clientId, connection.connectionToken(),
                        DpsTopics.responseTopic(r.status(), rawRid(request), retryAfter(r)),
                        Json.toAsciiBytes(r.body())));
    }

    private RegistrationReply decide(DeviceConnection c, DpsTopics.Request request, byte[] payload) {
        DpsUsername u = c.username();
        if (request instanceof DpsTopics.Poll poll) {
            return registrar.operationStatus(new OperationStatusRequest(u.idScope(), u.registrationId(),
                    c.sasToken(), poll.operationId(), u.apiVersion(), c.clientCertificates()));
        }
        return registrar.register(new RegistrationRequest(u.idScope(), u.registrationId(), c.sasToken(), payload,
                u.apiVersion(), c.clientCertificates()));
    }

    private RegistrationReply failure(DeviceConnection connection, Throwable e) {
        String trackingId = UUID.randomUUID().toString();
        LOG.warn("registration request failed [registration-id: {}, tracking-id: {}]",
                connection.username().registrationId(), trackingId, e);
        return RegistrationReply.error(ErrorCode.SERVICE_UNAVAILABLE,
                "the server could not process the request; retry later (tracking id " + trackingId + ")",
                trackingId, clock.instant());
    }

    private static String rawRid(DpsTopics.Request request) {
        return request instanceof DpsTopics.Poll p ? p.rid() : ((DpsTopics.Register) request).rid();
    }

    private static OptionalInt retryAfter(RegistrationReply reply) {
        Integer seconds = reply.retryAfterSeconds();
        return seconds == null ? OptionalInt.empty() : OptionalInt.of(seconds);
    }
}
