package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.opendps.core.enrollment.DeviceCapabilities;
import org.jspecify.annotations.Nullable;

/**
 * A built-in hub device as the service API shows it, modelled on IoT Hub's device JSON ({@code deviceId},
 * {@code status}, {@code connectionState}, {@code authentication}, {@code capabilities}). Keys are never shown:
 * {@code authentication} has the type, and the certificate thumbprint for X.509 devices.
 *
 * @param deviceId the device id (case-sensitive)
 * @param status {@code enabled} or {@code disabled}
 * @param connectionState {@code Connected} while the device has a hub MQTT connection to this server, else
 *     {@code Disconnected}
 * @param authentication how the device authenticates, without secrets
 * @param capabilities {@code iotEdge}
 */
@JsonPropertyOrder({"deviceId", "status", "connectionState", "authentication", "capabilities"})
public record HubDeviceView(String deviceId, DeviceStatus status, ConnectionState connectionState,
        Authentication authentication, DeviceCapabilities capabilities) {

    /** Whether the device is connected (IoT Hub's casing). */
    public enum ConnectionState {
        @JsonProperty("Connected") CONNECTED,
        @JsonProperty("Disconnected") DISCONNECTED
    }

    /**
     * The authentication type and, for X.509 devices, the pinned leaf's SHA-256 thumbprint.
     *
     * @param type {@code sas}, {@code selfSigned} or {@code certificateAuthority}
     * @param x509Thumbprint null for {@code sas}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Authentication(DeviceAuthentication.Type type,
            DeviceAuthentication.@Nullable X509Thumbprint x509Thumbprint) {
    }

    /** The view of a stored identity. */
    public static HubDeviceView of(DeviceIdentity identity, boolean connected) {
        return new HubDeviceView(identity.deviceId(), identity.status(),
                connected ? ConnectionState.CONNECTED : ConnectionState.DISCONNECTED,
                new Authentication(identity.authentication().type(), identity.authentication().x509Thumbprint()),
                identity.capabilities());
    }
}
