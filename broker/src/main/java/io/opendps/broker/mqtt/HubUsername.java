package io.opendps.broker.mqtt;

import java.util.Optional;

/**
 * The IoT Hub MQTT CONNECT username {@code {hubHostName}/{deviceId}/?api-version=..&DeviceClientType=..}
 * ({@code dps-device-protocol.md} §9). A DPS username ({@code {idScope}/registrations/{registrationId}/api-version=..})
 * never has {@code '?'} right after its second {@code '/'}, which is how the two endpoints on the same listener are
 * told apart. Module identities ({@code {hub}/{deviceId}/{moduleId}/?..}) are not served: such a username is not a
 * hub username and is refused like any other unknown username.
 *
 * @param hub the hub host name, lower-case
 * @param deviceId the device id, as sent (case-sensitive)
 * @param query the query after {@code '?'}, as sent (api-version, client type; not interpreted)
 */
record HubUsername(String hub, String deviceId, String query) {

    /** The hub username this is, or empty when the text has another shape (e.g. a DPS username). */
    static Optional<HubUsername> parse(String username) {
        int first = username.indexOf('/');
        if (first <= 0) {
            return Optional.empty();
        }
        int second = username.indexOf('/', first + 1);
        if (second <= first + 1 || second + 1 >= username.length() || username.charAt(second + 1) != '?') {
            return Optional.empty();
        }
        String hub = username.substring(0, first).toLowerCase(java.util.Locale.ROOT);
        String deviceId = username.substring(first + 1, second);
        return Optional.of(new HubUsername(hub, deviceId, username.substring(second + 2)));
    }
}
