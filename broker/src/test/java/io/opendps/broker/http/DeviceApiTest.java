package io.opendps.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.error.ErrorBody;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.linkedhub.LinkedHubService;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceAuthenticator;
import io.opendps.core.registration.Registrar;
import io.opendps.core.registration.RegistrationOperationStatus;
import io.opendps.core.registration.RegistrationReply;
import io.opendps.core.registration.RegistrationStatusReply;
import io.opendps.core.registration.RegistrationRecordService;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.service.AccessPolicyListener;
import io.opendps.core.service.AccessPolicyService;
import io.opendps.core.service.ServiceAuthorizer;
import io.opendps.core.store.jdbc.DatabaseOptions;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcDatabase;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcLinkedHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.store.jdbc.JdbcSettingsStore;
import io.opendps.core.x509.X509ChainValidator;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Routing and reply mapping of the HTTPS device API: path recognition next to the service API, the generic mapping
 * of registrar replies to HTTP, and the Netty handler (real registrar on in-memory H2, requests through an
 * {@link EmbeddedChannel}, a direct or a rejecting executor).
 */
class DeviceApiTest {

    private static final String SCOPE = "0ne00000042";
    private final Clock clock = Clock.systemUTC();
    private JdbcDatabase db;
    private DeviceApi devices;
    private ServiceApi service;

    @BeforeEach
    void setUp() {
        db = JdbcDatabase.open(DatabaseOptions.h2Memory("device-api-" + UUID.randomUUID()));
        JdbcEnrollmentStore enrollments = new JdbcEnrollmentStore(db);
        JdbcRegistrationStore registrations = new JdbcRegistrationStore(db);
        JdbcSettingsStore settings = new JdbcSettingsStore(db, clock);
        Allocator allocator = new Allocator(List.of(LinkedHub.of("hub.example.net")));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(db), enrollments,
                CaCertificateOptions.DEFAULTS, clock);
        SasVerifier verifier = new SasVerifier(clock, Duration.ofMinutes(5));
        BuiltInHub hub = new BuiltInHub(List.of("hub.example.net"), new JdbcHubStore(db), clock, 10);
        Registrar registrar = new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollments, verifier, cas,
                new X509ChainValidator(clock)), registrations, allocator, hub.connectors(), clock);
        devices = new DeviceApi(registrar, clock);
        service = new ServiceApi(new EnrollmentService(enrollments, registrations, allocator, cas, clock),
                new RegistrationRecordService(registrations), cas,
                new ServiceAuthorizer(settings, List.of("localhost"), verifier), clock,
                new AccessPolicyService(settings, new AccessPolicyListener() { }, clock), hub, (h, d) -> false,
                new LinkedHubService(new JdbcLinkedHubStore(db), stored -> {
                    throw new AssertionError("no webhook hubs here");
                }, clock));
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    @Test
    void serves_deviceShapedPathsOnly() {
        assertThat(DeviceApi.serves(List.of(SCOPE, "registrations", "dev", "register"))).isTrue();
        assertThat(DeviceApi.serves(List.of(SCOPE, "Registrations", "dev"))).isTrue();
        assertThat(DeviceApi.serves(List.of(SCOPE, "registrations"))).isTrue();
        // The service API's registration records and collections stay with the service API.
        assertThat(DeviceApi.serves(List.of("registrations", "registrations"))).isFalse();
        assertThat(DeviceApi.serves(List.of("registrations", "dev"))).isFalse();
        assertThat(DeviceApi.serves(List.of("enrollments", "dev"))).isFalse();
        assertThat(DeviceApi.serves(List.of(SCOPE))).isFalse();
        assertThat(DeviceApi.serves(List.of())).isFalse();
    }

    @Test
    void response_mapsAnyReplyGenerically() throws Exception {
        RegistrationReply accepted = RegistrationReply.accepted(RegistrationOperationStatus.accepted("1.ab.cd"));

        ApiResponse r = DeviceApi.response(accepted.status(), accepted.body(), accepted.retryAfterSeconds());

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.headers()).containsEntry("Content-Type", "application/json; charset=utf-8")
                .containsEntry("Retry-After", "2");
        JsonNode json = Json.mapper().readTree(r.body());
        assertThat(json.get("operationId").asText()).isEqualTo("1.ab.cd");
        assertThat(json.get("status").asText()).isEqualTo("assigning");

        // A reply of a kind the edge does not know (here: a bare map) passes through with its own status.
        ApiResponse other = DeviceApi.response(401, java.util.Map.of("authenticationKey", "a2V5",
                "keyName", "registration"), null);
        assertThat(other.status()).isEqualTo(401);
        assertThat(other.headers()).doesNotContainKey("Retry-After");
        assertThat(Json.mapper().readTree(other.body()).get("keyName").asText()).isEqualTo("registration");
    }

    @Test
    void response_isAsciiOnly() {
        RegistrationStatusReply reply = RegistrationStatusReply.error(ErrorCode.REGISTRATION_NOT_FOUND,
                "no record for 'gr\u00fc\u00dfe'", "t-1", Instant.parse("2024-05-01T10:00:00Z"));

        ApiResponse r = DeviceApi.response(reply.status(), reply.body(), null);

        String text = new String(r.body(), StandardCharsets.US_ASCII);
        assertThat(r.status()).isEqualTo(404);
        assertThat(text).contains("gr\\u00FC\\u00DFe").contains("\"errorCode\":404202");
    }

    @Test
    void handler_routesDevicePathsToTheDeviceApi_andOthersToTheServiceApi() throws Exception {
        EmbeddedChannel channel = channel(Runnable::run);

        FullHttpResponse device = exchange(channel, HttpMethod.PUT, "/" + SCOPE
                + "/registrations/dev-1/register?api-version=2019-03-31", "{\"registrationId\":\"dev-1\"}");
        FullHttpResponse serviceReply = exchange(channel, HttpMethod.GET, "/registrations/dev-1?api-version=2021-10-01",
                null);

        assertThat(device.status().code()).isEqualTo(401); // no credential: the registrar refused
        assertThat(errorOf(device).message()).contains("no SAS token and no client certificate");
        assertThat(serviceReply.status().code()).isEqualTo(401); // no service SAS
        assertThat(serviceReply.headers().get("x-ms-error-code")).isNotNull();
        assertThat(device.headers().get("x-ms-error-code")).isNull();
    }

    @Test
    void handler_fullWorkerPool_is429WithRetryAfter() throws Exception {
        Executor full = task -> {
            throw new RejectedExecutionException("full");
        };
        EmbeddedChannel channel = channel(full);

        FullHttpResponse r = exchange(channel, HttpMethod.PUT, "/" + SCOPE
                + "/registrations/dev-1/register?api-version=2019-03-31", "{\"registrationId\":\"dev-1\"}");

        assertThat(r.status().code()).isEqualTo(429);
        assertThat(r.headers().get("Retry-After")).isEqualTo("2");
        assertThat(r.headers().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(errorOf(r).errorCode()).isEqualTo(429001);
    }

    @Test
    void handler_routingErrors() throws Exception {
        EmbeddedChannel channel = channel(Runnable::run);

        assertThat(errorOf(exchange(channel, HttpMethod.DELETE, "/" + SCOPE
                + "/registrations/dev-1?api-version=2019-03-31", null)).errorCode()).isEqualTo(405000);
        assertThat(errorOf(exchange(channel, HttpMethod.GET, "/" + SCOPE + "/registrations?api-version=2019-03-31",
                null)).errorCode()).isEqualTo(404000);
        assertThat(errorOf(exchange(channel, HttpMethod.PUT, "/" + SCOPE + "/registrations/dev-1/register", "{}"))
                .errorCode()).isEqualTo(400009);
    }

    private EmbeddedChannel channel(Executor pool) {
        return new EmbeddedChannel(new ServiceApiHandler(service, devices, pool));
    }

    private static FullHttpResponse exchange(EmbeddedChannel channel, HttpMethod method, String uri, String body) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        request.headers().set("Content-Type", "application/json; charset=utf-8");
        channel.writeInbound(request);
        channel.runPendingTasks();
        FullHttpResponse response = channel.readOutbound();
        assertThat(response).as("a response to " + method + " " + uri).isNotNull();
        return response;
    }

    private static ErrorBody errorOf(FullHttpResponse r) throws Exception {
        byte[] bytes = new byte[r.content().readableBytes()];
        r.content().getBytes(r.content().readerIndex(), bytes);
        return Json.parse(bytes, ErrorBody.class);
    }
}
