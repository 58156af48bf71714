package io.opendps.broker.mqtt;

import org.jspecify.annotations.Nullable;

/**
 * What the authenticator captured from a device's CONNECT, kept for the connection's lifetime: its DPS
 * username parts, the SAS token (the MQTT password; null for X.509 devices) and a token that identifies this
 * connection (so a reply never reaches a later connection with the same client id).
 */
record DeviceConnection(String connectionToken, DpsUsername username, @Nullable String sasToken) {

    @Override
    public String toString() {
        return "DeviceConnection[registrationId=" + username.registrationId() + ", idScope=" + username.idScope()
                + ", sas=" + (sasToken == null ? "absent" : "present") + "]";
    }
}
