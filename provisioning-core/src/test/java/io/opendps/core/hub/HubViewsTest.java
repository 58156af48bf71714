package io.opendps.core.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The operator API's wire shapes: IoT Hub's twin and device JSON, twin patches, message pages. */
class HubViewsTest {

    private static <T> T parse(String text, Class<T> type) {
        try {
            return Json.parse(text.getBytes(StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void twinView_isIoTHubsTwinJson() {
        Twin twin = new Twin("hub.example.com", "dev-1", parse("{\"site\":\"north\"}", ObjectNode.class),
                parse("{\"interval\":5}", ObjectNode.class), 3, parse("{\"fw\":\"1.0\"}", ObjectNode.class), 2, 6);

        assertThat(Json.toText(TwinView.of(twin))).isEqualTo("{\"deviceId\":\"dev-1\",\"etag\":\"AAAAAAAAAAY=\","
                + "\"version\":6,\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"interval\":5,"
                + "\"$version\":3},\"reported\":{\"fw\":\"1.0\",\"$version\":2}}}");
    }

    @Test
    void deviceView_neverShowsKeys() {
        DeviceIdentity sas = new DeviceIdentity("hub.example.com", "dev-1", DeviceAuthentication.sas("c2VjcmV0"),
                DeviceCapabilities.NONE, DeviceStatus.ENABLED);
        DeviceIdentity x509 = new DeviceIdentity("hub.example.com", "dev-2", DeviceAuthentication.x509("AB12", true),
                new DeviceCapabilities(true), DeviceStatus.DISABLED);

        assertThat(Json.toText(HubDeviceView.of(sas, true))).isEqualTo("{\"deviceId\":\"dev-1\",\"status\":"
                + "\"enabled\",\"connectionState\":\"Connected\",\"authentication\":{\"type\":\"sas\"},"
                + "\"capabilities\":{\"iotEdge\":false}}");
        assertThat(Json.toText(HubDeviceView.of(x509, false))).isEqualTo("{\"deviceId\":\"dev-2\",\"status\":"
                + "\"disabled\",\"connectionState\":\"Disconnected\",\"authentication\":{\"type\":"
                + "\"certificateAuthority\",\"x509Thumbprint\":{\"primaryThumbprint\":\"AB12\"}},"
                + "\"capabilities\":{\"iotEdge\":true}}");
    }

    @Test
    void twinPatch_readsTagsAndDesired_ignoresReadOnlyFields_refusesReported() {
        TwinPatch roundTrip = parse("{\"deviceId\":\"dev-1\",\"etag\":\"x\",\"version\":4,\"tags\":{\"a\":null},"
                + "\"properties\":{\"desired\":{\"interval\":5}}}", TwinPatch.class);
        assertThat(Json.toText(roundTrip.tagsPatch())).isEqualTo("{\"a\":null}");
        assertThat(Json.toText(roundTrip.desiredPatch())).isEqualTo("{\"interval\":5}");

        assertThatThrownBy(() -> parse("{\"properties\":{\"reported\":{}}}", TwinPatch.class).desiredPatch())
                .hasMessageContaining("properties.reported cannot be set");
        assertThatThrownBy(() -> parse("{\"properties\":{\"other\":{}}}", TwinPatch.class).desiredPatch())
                .hasMessageContaining("properties.other is not allowed");
        assertThatThrownBy(() -> parse("{\"tags\":null,\"properties\":{\"desired\":null}}", TwinPatch.class)
                .requireSomething()).hasMessageContaining("the twin patch is empty");
    }

    @Test
    void messagePage_nextIsTheLastSequenceOrTheCursorSent() {
        HubMessage m = new HubMessage(42, "hub.example.com", "dev-1", Instant.parse("2024-05-01T10:00:00Z"),
                Map.of("$.ct", "application/json"), "hi".getBytes(StandardCharsets.UTF_8));

        assertThat(HubMessagePage.of(List.of(), 7).next()).isEqualTo(7);
        assertThat(Json.toText(HubMessagePage.of(List.of(m), 7))).isEqualTo("{\"messages\":[{\"sequence\":42,"
                + "\"hub\":\"hub.example.com\",\"deviceId\":\"dev-1\",\"enqueuedTimeUtc\":\"2024-05-01T10:00:00.0000000Z\","
                + "\"properties\":{\"$.ct\":\"application/json\"},\"body\":\"aGk=\"}],\"next\":42}");
    }
}
