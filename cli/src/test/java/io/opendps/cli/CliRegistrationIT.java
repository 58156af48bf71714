package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.ServiceInfo;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device registration records through the service API and {@code opendps registration}, with records made by
 * real simulated devices over MQTT/TLS: show, list per group (paged), delete, and a deleted record letting the
 * device register afresh.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CliRegistrationIT {

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static String groupKey;

    @BeforeAll
    static void start() throws Exception {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir));
        CliIT.Run group = run("group", "create", "--group-id", "reg-fleet", "--json", "--data-dir", dataDir.toString());
        assertThat(group.exitCode()).as(group.err()).isZero();
        groupKey = group.json().path("attestation").path("symmetricKey").path("primaryKey").asText();
        for (String id : new String[] {"reg-dev-3", "reg-dev-1", "reg-dev-2"}) {
            CliIT.Run device = provision(id);
            assertThat(device.exitCode()).as(device.out() + device.err()).isZero();
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static CliIT.Run run(String... args) {
        return CliIT.opendps(args);
    }

    static CliIT.Run provision(String id) {
        return provision(id, groupKey);
    }

    static CliIT.Run provision(String id, String key) {
        return run("device", "provision", "--data-dir", dataDir.toString(), "--registration-id", id, "--group-key",
                key);
    }

    @Test
    void show_registeredDevice_printsItsAssignment() throws Exception {
        CliIT.Run shown = run("registration", "show", "reg-dev-1", "--json", "--data-dir", dataDir.toString());

        assertThat(shown.exitCode()).as(shown.err()).isZero();
        JsonNode r = shown.json();
        assertThat(r.path("registrationId").asText()).isEqualTo("reg-dev-1");
        assertThat(r.path("status").asText()).isEqualTo("assigned");
        assertThat(r.path("assignedHub").asText()).isEqualTo("hub-1.opendps.local");
        assertThat(r.path("etag").asText()).isNotEmpty();
        assertThat(r.has("symmetricKey")).as("device-side attestation is not part of the service view").isFalse();
    }

    @Test
    void list_group_showsItsDevicesInOrder() {
        CliIT.Run listed = run("registration", "list", "--group-id", "REG-FLEET", "--data-dir", dataDir.toString());

        assertThat(listed.exitCode()).as(listed.err()).isZero();
        assertThat(listed.out()).containsSubsequence("reg-dev-1", "reg-dev-2", "reg-dev-3");
    }

    @Test
    void query_overHttps_pagesWithTheDocumentedHeaders_andAcceptsNoBody() throws Exception {
        HttpResponse<String> first = post("registrations/reg-fleet/query", null, "2", null);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ms-item-type")).hasValue("DeviceRegistration");
        assertThat(Json.mapper().readTree(first.body())).hasSize(2);
        String continuation = first.headers().firstValue("x-ms-continuation").orElseThrow();

        HttpResponse<String> last = post("registrations/reg-fleet/query", "{\"query\":\"SELECT *\"}", "2",
                continuation);

        assertThat(Json.mapper().readTree(last.body())).hasSize(1);
        assertThat(last.headers().firstValue("x-ms-continuation")).isEmpty();
    }

    @Test
    void errors_overHttps_carryTheAzureCodes() throws Exception {
        HttpResponse<String> unknown = send("GET", "registrations/nobody", null, null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Json.mapper().readTree(unknown.body()).path("errorCode").asInt()).isEqualTo(404202);

        HttpResponse<String> stale = send("DELETE", "registrations/reg-dev-2", null, "\"not-the-etag\"");
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(Json.mapper().readTree(stale.body()).path("errorCode").asInt()).isEqualTo(412202);
        assertThat(server.registrations().find("reg-dev-2")).isPresent();

        HttpRequest noAuth = HttpRequest.newBuilder(uri("registrations/reg-dev-2")).DELETE().build();
        assertThat(http().send(noAuth, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat(server.registrations().find("reg-dev-2")).isPresent();
    }

    @Test
    void delete_thenTheDeviceRegistersAfresh() throws Exception {
        CliIT.Run group = run("group", "create", "--group-id", "reg-fresh-fleet", "--json", "--data-dir",
                dataDir.toString());
        String freshKey = group.json().path("attestation").path("symmetricKey").path("primaryKey").asText();
        CliIT.Run device = provision("reg-dev-fresh", freshKey);
        assertThat(device.exitCode()).isZero();
        String createdBefore = server.registrations().find("reg-dev-fresh").orElseThrow().createdDateTimeUtc()
                .toString();

        CliIT.Run deleted = run("registration", "delete", "reg-dev-fresh", "--data-dir", dataDir.toString());
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        CliIT.Run gone = run("registration", "show", "reg-dev-fresh", "--data-dir", dataDir.toString());
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.err()).contains("no registration record for 'reg-dev-fresh'");

        assertThat(provision("reg-dev-fresh", freshKey).exitCode()).isZero();

        assertThat(server.registrations().find("reg-dev-fresh").orElseThrow().createdDateTimeUtc().toString())
                .as("a first-time assignment gets a new record").isNotEqualTo(createdBefore);
    }

    @Test
    void reprovision_marksTheRecordAndTheNextRegistrationHonoursIt() throws Exception {
        CliIT.Run group = run("group", "create", "--group-id", "reg-reprov-fleet", "--json", "--data-dir",
                dataDir.toString());
        String key = group.json().path("attestation").path("symmetricKey").path("primaryKey").asText();
        assertThat(provision("reg-dev-reprov", key).exitCode()).isZero();

        CliIT.Run marked = run("registration", "reprovision", "reg-dev-reprov", "--data-dir", dataDir.toString());

        assertThat(marked.exitCode()).as(marked.err()).isZero();
        assertThat(marked.out()).contains("Marked reg-dev-reprov for reprovisioning");
        assertThat(server.registrations().reprovisionRequested("reg-dev-reprov")).isTrue();
        assertThat(provision("reg-dev-reprov", key).exitCode()).isZero();
        assertThat(server.registrations().reprovisionRequested("reg-dev-reprov")).isFalse();
        assertThat(server.registrations().find("reg-dev-reprov").orElseThrow().substatus())
                .as("allocation ran again and kept the only hub")
                .isEqualTo(io.opendps.core.registration.Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT);

        CliIT.Run unknown = run("registration", "reprovision", "reg-nobody", "--data-dir", dataDir.toString());
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no registration record for 'reg-nobody'");
    }

    private static HttpClient http() {
        return HttpClient.newBuilder().sslContext(TlsMaterial.trustingClientContext(server.info().caCertificate()))
                .build();
    }

    private static URI uri(String path) {
        return URI.create(server.info().httpsEndpoint() + "/" + path + "?api-version=2021-10-01");
    }

    private static String token() {
        ServiceInfo info = server.info();
        String[] cs = info.serviceConnectionString().split(";");
        return SasSigner.serviceToken(info.httpsHost(), cs[1].substring(cs[1].indexOf('=') + 1),
                Base64.getDecoder().decode(cs[2].substring(cs[2].indexOf('=') + 1)), Instant.now().plusSeconds(600));
    }

    private static HttpResponse<String> post(String path, String body, String maxItems, String continuation)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Authorization", token())
                .header("x-ms-max-item-count", maxItems)
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (continuation != null) {
            b.header("x-ms-continuation", continuation);
        }
        return http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> send(String method, String path, String body, String ifMatch)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Authorization", token())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
