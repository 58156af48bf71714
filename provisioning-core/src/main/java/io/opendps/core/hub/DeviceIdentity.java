package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.opendps.core.enrollment.DeviceCapabilities;
import java.util.Locale;
import java.util.Objects;

/**
 * A device identity in a hub (IoT Hub's device registry entry, reduced to what provisioning hands over).
 *
 * <p>The hub host name is kept lower-case (host names are case-insensitive); the device id is kept as the registrar
 * assigned it and is case-sensitive, as in IoT Hub: a device connects with exactly the id DPS returned.
 *
 * @param hub the hub's host name
 * @param deviceId the device id
 * @param authentication the credential the device connects to the hub with
 * @param capabilities {@code iotEdge}
 * @param status whether the device may connect
 */
@JsonPropertyOrder({"hub", "deviceId", "status", "authentication", "capabilities"})
public record DeviceIdentity(String hub, String deviceId, DeviceAuthentication authentication,
        DeviceCapabilities capabilities, DeviceStatus status) {

    public DeviceIdentity {
        hub = Objects.requireNonNull(hub, "hub").toLowerCase(Locale.ROOT);
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(authentication, "authentication");
        capabilities = capabilities == null ? DeviceCapabilities.NONE : capabilities;
        status = status == null ? DeviceStatus.ENABLED : status;
    }
}
