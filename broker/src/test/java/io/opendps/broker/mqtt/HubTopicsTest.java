package io.opendps.broker.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The hub username and device topics as the built-in hub reads them. */
class HubTopicsTest {

    @Test
    void hubUsername_isToldApartFromDpsUsernames() {
        assertThat(HubUsername.parse("Hub-1.Example.com/dev-1/?api-version=2020-09-30&DeviceClientType=x%2F1"))
                .contains(new HubUsername("hub-1.example.com", "dev-1", "api-version=2020-09-30&DeviceClientType=x%2F1"));
        assertThat(HubUsername.parse("127.0.0.1/Dev-1/?")).contains(new HubUsername("127.0.0.1", "Dev-1", ""));
        assertThat(HubUsername.parse("0ne00000001/registrations/dev-1/api-version=2019-03-31")).isEmpty();
        assertThat(HubUsername.parse("hub/dev-1/module-1/?api-version=2020-09-30")).isEmpty();
        assertThat(HubUsername.parse("hub/dev-1/")).isEmpty();
        assertThat(HubUsername.parse("/dev-1/?x")).isEmpty();
        assertThat(HubUsername.parse("hub//?x")).isEmpty();
    }

    @Test
    void telemetry_ownTopicWithPropertyBag_isDecoded() {
        HubTopics.Request r = HubTopics.parse("devices/dev-1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8"
                + "&$.mid=m1&flag", "dev-1");

        assertThat(r).isInstanceOfSatisfying(HubTopics.Telemetry.class, t -> assertThat(t.properties())
                .containsEntry("$.ct", "application/json").containsEntry("$.ce", "utf-8")
                .containsEntry("$.mid", "m1").containsEntry("flag", ""));
        assertThat(HubTopics.parse("devices/dev-1/messages/events", "dev-1")).isInstanceOf(HubTopics.Telemetry.class);
    }

    @Test
    void anotherDevicesTopicsAndUnknownTopics_areRefused() {
        assertThat(HubTopics.parse("devices/dev-2/messages/events/", "dev-1")).isInstanceOf(HubTopics.Refused.class);
        assertThat(HubTopics.parse("devices/dev-1x/messages/events/", "dev-1")).isInstanceOf(HubTopics.Refused.class);
        assertThat(HubTopics.parse("devices/dev-1/messages/devicebound/", "dev-1"))
                .isInstanceOf(HubTopics.Refused.class);
        assertThat(HubTopics.parse("$dps/registrations/PUT/iotdps-register/?$rid=1", "dev-1"))
                .isInstanceOf(HubTopics.Refused.class);
        assertThat(HubTopics.parse("$iothub/twin/GET/", "dev-1")).isInstanceOf(HubTopics.Refused.class);
    }

    @Test
    void twinRequests_keepTheRidAsSent() {
        assertThat(HubTopics.parse("$iothub/twin/GET/?$rid=a%2Fb", "dev-1")).isEqualTo(new HubTopics.TwinGet("a%2Fb"));
        assertThat(HubTopics.parse("$iothub/twin/PATCH/properties/reported/?$rid=7&$version=0", "dev-1"))
                .isEqualTo(new HubTopics.ReportedPatch("7"));
        assertThat(HubTopics.twinResponse(204, "7", 3L)).isEqualTo("$iothub/twin/res/204/?$rid=7&$version=3");
        assertThat(HubTopics.twinResponse(200, "7", null)).isEqualTo("$iothub/twin/res/200/?$rid=7");
        assertThat(HubTopics.desiredPatch(5)).isEqualTo("$iothub/twin/PATCH/properties/desired/?$version=5");
    }

    @Test
    void allowedFilters_areTheDevicesOwn() {
        assertThat(HubTopics.allowedFilters("dev-1")).containsExactlyInAnyOrder(
                "devices/dev-1/messages/devicebound/#", "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#",
                "$iothub/methods/POST/#");
    }
}
