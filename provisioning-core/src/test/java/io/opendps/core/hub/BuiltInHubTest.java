package io.opendps.core.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The built-in hub on real in-memory H2: identities, twins and versions, the bounded telemetry log. */
class BuiltInHubTest {

    private static final String HUB = "hub-1.example.com";
    private static final String OTHER_HUB = "hub-2.example.com";
    private static final String KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String OTHER_KEY = "T1RIRVItS0VZLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU=";

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private TestDatabase database;
    private BuiltInHub hub;
    private final List<String> pushed = new ArrayList<>();

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        hub = new BuiltInHub(List.of("HUB-1.example.com", OTHER_HUB), new JdbcHubStore(database.db()), clock, 3);
        hub.addListener((h, device, patch, version) -> pushed.add(h + "/" + device + " " + Json.toText(patch)));
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private static ObjectNode json(String text) {
        try {
            return Json.parse(text.getBytes(StandardCharsets.UTF_8), ObjectNode.class);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static DeviceIdentity device(String id, String key) {
        return new DeviceIdentity(HUB, id, DeviceAuthentication.sas(key), DeviceCapabilities.NONE,
                DeviceStatus.ENABLED);
    }

    private static InitialTwin initial() {
        return InitialTwin.fromEnrollment(json("{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":"
                + "{\"interval\":30,\"mode\":{\"a\":1}}}}"));
    }

    @Test
    void createOrUpdate_newDevice_storesIdentityAndInitialTwinAtVersionOne() {
        hub.createOrUpdate(device("dev-1", KEY), initial());

        assertThat(hub.find(HUB, "dev-1")).contains(device("dev-1", KEY));
        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(Json.toText(twin.tags())).isEqualTo("{\"site\":\"north\"}");
        assertThat(Json.toText(twin.deviceView())).isEqualTo("{\"desired\":{\"interval\":30,\"mode\":{\"a\":1},"
                + "\"$version\":1},\"reported\":{\"$version\":1}}");
    }

    @Test
    void createOrUpdate_twice_isIdempotentAndKeepsTheTwin() {
        hub.createOrUpdate(device("dev-1", KEY), initial());
        hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":60}"));

        hub.createOrUpdate(device("dev-1", OTHER_KEY), InitialTwin.empty());
        hub.createOrUpdate(device("dev-1", OTHER_KEY), InitialTwin.empty());

        assertThat(hub.listDevices(HUB, null, 10)).containsExactly(device("dev-1", OTHER_KEY));
        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(twin.desired().path("interval").asInt()).isEqualTo(60);
        assertThat(twin.desiredVersion()).isEqualTo(2);
    }

    @Test
    void createOrUpdate_hubNotServedHere_isAConnectorFailure() {
        DeviceIdentity elsewhere = new DeviceIdentity("hub-9.example.com", "dev-1", DeviceAuthentication.sas(KEY),
                DeviceCapabilities.NONE, DeviceStatus.ENABLED);

        assertThatThrownBy(() -> hub.createOrUpdate(elsewhere, InitialTwin.empty()))
                .isInstanceOf(HubConnectorException.class).hasMessageContaining("hub-9.example.com");
        assertThat(hub.find("hub-9.example.com", "dev-1")).isEmpty();
    }

    @Test
    void deviceIds_areCaseSensitive_hubNamesAreNot() {
        hub.createOrUpdate(device("Dev-1", KEY), initial());

        assertThat(hub.find("HUB-1.EXAMPLE.COM", "Dev-1")).isPresent();
        assertThat(hub.find(HUB, "dev-1")).isEmpty();
    }

    @Test
    void updateTwin_desiredChange_bumpsVersionMergesAndNotifies() {
        hub.createOrUpdate(device("dev-1", KEY), initial());

        Twin updated = hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":10,\"mode\":{\"b\":2},\"$version\":77}"));

        assertThat(updated.desiredVersion()).isEqualTo(2);
        assertThat(Json.toText(updated.desired())).isEqualTo("{\"interval\":10,\"mode\":{\"a\":1,\"b\":2}}");
        assertThat(pushed).containsExactly(HUB + "/dev-1 {\"interval\":10,\"mode\":{\"b\":2},\"$version\":2}");
    }

    @Test
    void updateTwin_nullRemovesAndTagsAloneKeepTheDesiredVersion() {
        hub.createOrUpdate(device("dev-1", KEY), initial());

        Twin tagsOnly = hub.updateTwin(HUB, "dev-1", json("{\"site\":null,\"floor\":3}"), null);
        Twin removed = hub.updateTwin(HUB, "dev-1", null, json("{\"mode\":null}"));
        Twin unchanged = hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":30}"));

        assertThat(Json.toText(tagsOnly.tags())).isEqualTo("{\"floor\":3}");
        assertThat(tagsOnly.desiredVersion()).isEqualTo(1);
        assertThat(Json.toText(removed.desired())).isEqualTo("{\"interval\":30}");
        assertThat(removed.desiredVersion()).isEqualTo(2);
        assertThat(unchanged.desiredVersion()).isEqualTo(2);
        assertThat(pushed).containsExactly(HUB + "/dev-1 {\"mode\":null,\"$version\":2}");
    }

    @Test
    void updateTwin_unknownDeviceOrHubOrNonObjectPatch_isRefusedWithItsCode() {
        hub.createOrUpdate(device("dev-1", KEY), initial());
        JsonNode array = Json.mapper().createArrayNode();

        assertThatThrownBy(() -> hub.updateTwin(HUB, "nobody", null, json("{}")))
                .isInstanceOfSatisfying(ProvisioningException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.HUB_DEVICE_NOT_FOUND))
                .hasMessageContaining("nobody");
        assertThatThrownBy(() -> hub.twin("hub-9.example.com", "dev-1"))
                .isInstanceOfSatisfying(ProvisioningException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.HUB_NOT_FOUND));
        assertThatThrownBy(() -> hub.updateTwin(HUB, "dev-1", null, array))
                .isInstanceOfSatisfying(ProvisioningException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("properties.desired");
        assertThat(hub.twin(HUB, "dev-1").desiredVersion()).isEqualTo(1);
        assertThat(pushed).isEmpty();
    }

    @Test
    void patchReported_bumpsTheReportedVersionOnly() {
        hub.createOrUpdate(device("dev-1", KEY), initial());

        assertThat(hub.patchReported(HUB, "dev-1", json("{\"fw\":\"1.0\",\"temp\":{\"c\":20}}"))).contains(2L);
        assertThat(hub.patchReported(HUB, "dev-1", json("{\"temp\":{\"c\":21}}"))).contains(3L);
        assertThat(hub.patchReported(HUB, "gone", json("{}"))).isEmpty();

        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(Json.toText(twin.reported())).isEqualTo("{\"fw\":\"1.0\",\"temp\":{\"c\":21}}");
        assertThat(twin.desiredVersion()).isEqualTo(1);
        assertThat(pushed).isEmpty();
    }

    @Test
    void delete_removesDeviceAndTwin() {
        hub.createOrUpdate(device("dev-1", KEY), initial());

        assertThat(hub.delete(HUB, "dev-1")).isTrue();
        assertThat(hub.delete(HUB, "dev-1")).isFalse();
        assertThat(hub.find(HUB, "dev-1")).isEmpty();
        assertThat(hub.deviceTwin(HUB, "dev-1")).isEmpty();
    }

    @Test
    void listDevices_pagesInDeviceIdOrder() {
        for (String id : List.of("c", "a", "b")) {
            hub.createOrUpdate(device(id, KEY), InitialTwin.empty());
        }

        assertThat(hub.listDevices(HUB, null, 2)).extracting(DeviceIdentity::deviceId).containsExactly("a", "b");
        assertThat(hub.listDevices(HUB, "b", 2)).extracting(DeviceIdentity::deviceId).containsExactly("c");
        assertThat(hub.listDevices(OTHER_HUB, null, 2)).isEmpty();
    }

    @Test
    void messages_areKeptPerHubUpToTheCapOldestDropped() {
        for (int i = 1; i <= 5; i++) {
            hub.appendMessage(HUB, "dev-1", Map.of("n", Integer.toString(i)), ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        HubMessage other = hub.appendMessage(OTHER_HUB, "dev-2", Map.of(), new byte[] {1});

        List<HubMessage> kept = hub.messagesAfter(HUB, 0, 100);
        assertThat(kept).extracting(m -> new String(m.body(), StandardCharsets.UTF_8)).containsExactly("m3", "m4",
                "m5");
        assertThat(kept).extracting(m -> m.properties().get("n")).containsExactly("3", "4", "5");
        assertThat(hub.messagesAfter(HUB, kept.get(1).sequence(), 100)).extracting(HubMessage::sequence)
                .containsExactly(kept.get(2).sequence());
        assertThat(hub.messagesAfter(OTHER_HUB, 0, 100)).extracting(HubMessage::sequence)
                .containsExactly(other.sequence());
        assertThat(kept.get(0).enqueuedTimeUtc()).isEqualTo(clock.instant());
    }
    @Test
    void twinVersionAndEtag_changeWithEveryChangeOfAnySection_andOnlyThen() {
        hub.createOrUpdate(device("dev-1", KEY), initial());
        Twin created = hub.twin(HUB, "dev-1");
        assertThat(created.version()).isEqualTo(1);
        assertThat(created.etag()).isEqualTo("AAAAAAAAAAE=");

        Twin tags = hub.updateTwin(HUB, "dev-1", json("{\"floor\":2}"), null);
        Twin same = hub.updateTwin(HUB, "dev-1", json("{\"floor\":2}"), null);
        Twin desired = hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":5}"));
        long reported = hub.patchReported(HUB, "dev-1", json("{\"fw\":\"1.0\"}")).orElseThrow();

        assertThat(List.of(tags.version(), same.version(), desired.version())).containsExactly(2L, 2L, 3L);
        assertThat(same.etag()).isEqualTo(tags.etag()).isNotEqualTo(created.etag());
        assertThat(reported).isEqualTo(2);
        Twin now = hub.twin(HUB, "dev-1");
        assertThat(now.version()).isEqualTo(4);
        assertThat(now.etag()).isEqualTo("AAAAAAAAAAQ=");
    }

    @Test
    void updateTwin_ifMatch_staleIsRefusedWithoutWritingCurrentAndWildcardApply() {
        hub.createOrUpdate(device("dev-1", KEY), initial());
        String read = hub.twin(HUB, "dev-1").etag();
        hub.updateTwin(HUB, "dev-1", json("{\"floor\":1}"), null);

        assertThatThrownBy(() -> hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":1}"), "\"" + read + "\""))
                .isInstanceOf(ProvisioningException.class)
                .satisfies(e -> assertThat(((ProvisioningException) e).code())
                        .isEqualTo(ErrorCode.HUB_TWIN_PRECONDITION_FAILED))
                .hasMessageContaining("does not match the current etag \"AAAAAAAAAAI=\"");
        assertThat(hub.twin(HUB, "dev-1").desired().get("interval").intValue()).isEqualTo(30);
        assertThat(pushed).isEmpty();

        String current = hub.twin(HUB, "dev-1").etag();
        assertThat(hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":2}"), current).desiredVersion())
                .isEqualTo(2);
        assertThat(hub.updateTwin(HUB, "dev-1", null, json("{\"interval\":3}"), "*").desiredVersion())
                .isEqualTo(3);
        assertThat(pushed).hasSize(2);
    }

    @Test
    void updateTwin_breakingATwinRule_isA400NamingTheFieldAndWritesNothing() {
        hub.createOrUpdate(device("dev-1", KEY), initial());

        assertThatThrownBy(() -> hub.updateTwin(HUB, "dev-1", null, json("{\"bad.key\":1}")))
                .isInstanceOf(ProvisioningException.class)
                .satisfies(e -> assertThat(((ProvisioningException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("properties.desired has an invalid key \"bad.key\"");
        assertThatThrownBy(() -> hub.updateTwin(HUB, "dev-1", json("{\"note\":\"" + "x".repeat(5000) + "\"}"),
                null)).hasMessageContaining("tags.note is a string of 5000 bytes");
        // Each patch is within the limit; the merged desired properties are not.
        hub.updateTwin(HUB, "dev-1", null, json("{\"a\":\"" + "x".repeat(4000) + "\"}"));
        StringBuilder big = new StringBuilder("{");
        for (int i = 0; i < 7; i++) {
            big.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("y".repeat(4000))
                    .append("\"");
        }
        String bigPatch = big.append('}').toString();
        hub.updateTwin(HUB, "dev-1", null, json(bigPatch));
        assertThatThrownBy(() -> hub.updateTwin(HUB, "dev-1", null, json(bigPatch.replace("\"k", "\"m"))))
                .hasMessageContaining("properties.desired is ").hasMessageContaining("the limit is 32768");
        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(twin.desired().has("m0")).isFalse();
        assertThat(twin.desiredVersion()).isEqualTo(3);
    }

    @Test
    void devicePage_caseSensitiveIds_pagesWithContinuationAndRefusesForeignTokens() {
        for (String id : List.of("b", "A", "a", "B", "c")) {
            hub.createOrUpdate(device(id, KEY), initial());
        }
        List<String> seen = new ArrayList<>();
        String continuation = null;
        int pages = 0;
        do {
            var page = hub.devicePage(HUB, continuation, 2);
            page.items().forEach(d -> seen.add(d.deviceId()));
            continuation = page.continuation();
            pages++;
        } while (continuation != null);

        assertThat(seen).containsExactly("A", "B", "a", "b", "c");
        assertThat(pages).isEqualTo(3);
        assertThat(hub.devicePage(HUB, null, 0).items()).hasSize(5);
        assertThatThrownBy(() -> hub.devicePage(HUB, "%%%", 2)).hasMessageContaining("x-ms-continuation '%%%'");
        assertThatThrownBy(() -> hub.devicePage("nohub.example.com", null, 2))
                .satisfies(e -> assertThat(((ProvisioningException) e).code()).isEqualTo(ErrorCode.HUB_NOT_FOUND));
    }

    @Test
    void deleteDevice_notifiesDeletionListenersAndUnknownIs404() {
        List<String> deleted = new ArrayList<>();
        hub.addDeletionListener((h, id) -> deleted.add(h + "/" + id));
        hub.createOrUpdate(device("dev-1", KEY), initial());

        hub.deleteDevice("HUB-1.EXAMPLE.COM", "dev-1");

        assertThat(deleted).containsExactly(HUB + "/dev-1");
        assertThatThrownBy(() -> hub.deleteDevice(HUB, "dev-1"))
                .satisfies(e -> assertThat(((ProvisioningException) e).code())
                        .isEqualTo(ErrorCode.HUB_DEVICE_NOT_FOUND));
        assertThatThrownBy(() -> hub.device(HUB, "dev-1")).hasMessageContaining("no device 'dev-1'");
        assertThat(deleted).hasSize(1);
    }

    @Test
    void readData_returnsTagsDesiredAndReported_emptyForAnUnknownDevice() {
        hub.createOrUpdate(device("dev-1", KEY), initial());
        hub.patchReported(HUB, "dev-1", json("{\"fw\":\"1.0\"}"));

        DeviceData data = hub.readData(HUB, "dev-1").orElseThrow();

        assertThat(Json.toText(data.tags())).isEqualTo("{\"site\":\"north\"}");
        assertThat(data.desired().path("interval").asInt()).isEqualTo(30);
        assertThat(Json.toText(data.reported())).isEqualTo("{\"fw\":\"1.0\"}");
        assertThat(hub.readData(HUB, "nobody")).isEmpty();
    }

    @Test
    void createOrReplace_newDevice_holdsTheDataAtVersionOne() {
        hub.createOrReplace(device("dev-1", KEY), new DeviceData(json("{\"t\":1}"), json("{\"d\":2}"),
                json("{\"r\":3}")));

        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(Json.toText(twin.tags())).isEqualTo("{\"t\":1}");
        assertThat(Json.toText(twin.deviceView())).isEqualTo("{\"desired\":{\"d\":2,\"$version\":1},"
                + "\"reported\":{\"r\":3,\"$version\":1}}");
        assertThat(pushed).isEmpty();
    }

    @Test
    void createOrReplace_existingDevice_bumpsChangedSectionsAndPushesTheDesiredChange() {
        hub.createOrUpdate(device("dev-1", KEY), initial());
        hub.patchReported(HUB, "dev-1", json("{\"fw\":\"1.0\"}"));

        hub.createOrReplace(device("dev-1", OTHER_KEY), DeviceData.initial(InitialTwin.fromEnrollment(
                json("{\"properties\":{\"desired\":{\"interval\":5}}}"))));

        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(Json.toText(twin.tags())).isEqualTo("{}");
        assertThat(Json.toText(twin.deviceView())).isEqualTo("{\"desired\":{\"interval\":5,\"$version\":2},"
                + "\"reported\":{\"$version\":3}}");
        assertThat(hub.find(HUB, "dev-1")).contains(device("dev-1", OTHER_KEY));
        assertThat(pushed).containsExactly(HUB + "/dev-1 {\"interval\":5,\"mode\":null,\"$version\":2}");
    }

    @Test
    void createOrReplace_sameDataTwice_isIdempotentVersionsIncluded() {
        DeviceData data = new DeviceData(json("{\"t\":1}"), json("{\"d\":2}"), json("{\"r\":3}"));
        hub.createOrReplace(device("dev-1", KEY), data);

        hub.createOrReplace(device("dev-1", KEY), data);

        Twin twin = hub.twin(HUB, "dev-1");
        assertThat(twin.desiredVersion()).isEqualTo(1);
        assertThat(twin.reportedVersion()).isEqualTo(1);
        assertThat(pushed).isEmpty();
    }

    @Test
    void createOrReplace_hubNotServed_isAConnectorFailure() {
        DeviceIdentity elsewhere = new DeviceIdentity("hub-9.example.com", "dev-1", DeviceAuthentication.sas(KEY),
                DeviceCapabilities.NONE, DeviceStatus.ENABLED);

        assertThatThrownBy(() -> hub.createOrReplace(elsewhere, DeviceData.initial(InitialTwin.empty())))
                .isInstanceOf(HubConnectorException.class).hasMessageContaining("hub-9.example.com");
    }
}
