package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.json.Json;
import org.junit.jupiter.api.Test;

class HubTelemetryTest {

    @Test
    void username_namesHubDeviceAndApiVersion() {
        assertThat(HubTelemetry.username("hub-1.example", "dev-1"))
                .isEqualTo("hub-1.example/dev-1/?api-version=2021-04-12");
    }

    @Test
    void eventsTopic_carriesJsonContentTypeAndEncodingAsSystemProperties() {
        assertThat(HubTelemetry.eventsTopic("dev-1"))
                .isEqualTo("devices/dev-1/messages/events/$.ct=application%2Fjson&$.ce=utf-8");
    }

    @Test
    void body_isQuickstartStyleJsonNumberedFromOne() throws Exception {
        assertThat(HubTelemetry.body(1)).isEqualTo("{\"temperature\":21,\"humidity\":61,\"messageId\":1}");
        assertThat(Json.mapper().readTree(HubTelemetry.body(10)).path("messageId").asInt()).isEqualTo(10);
    }
}
