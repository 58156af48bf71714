package io.opendps.broker.mqtt;

import io.opendps.broker.tls.Certificates;
import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the authenticator captured from a device's CONNECT and its TLS handshake, kept for the connection's
 * lifetime: its DPS username parts, the SAS token (the MQTT password; null for X.509 devices), the certificate
 * chain it presented (leaf first, empty when none; the handshake only proved possession of the leaf's key) and a
 * token that identifies this connection (so a reply never reaches a later connection with the same client id).
 */
record DeviceConnection(String connectionToken, DpsUsername username, @Nullable String sasToken,
        List<X509Certificate> clientCertificates) {

    DeviceConnection {
        clientCertificates = List.copyOf(clientCertificates);
    }

    /** SHA-256 thumbprint of the leaf certificate, or null when the device presented none. */
    @Nullable String leafThumbprint() {
        return clientCertificates.isEmpty() ? null : Certificates.sha256Thumbprint(clientCertificates.get(0));
    }

    /** A read-only view without the SAS token or whole certificates. */
    ConnectedDevice describe(String clientId) {
        return new ConnectedDevice(clientId, username.idScope(), username.registrationId(), sasToken != null,
                clientCertificates.stream().map(Certificates::sha256Thumbprint).toList());
    }

    @Override
    public String toString() {
        String leaf = leafThumbprint();
        return "DeviceConnection[registrationId=" + username.registrationId() + ", idScope=" + username.idScope()
                + ", sas=" + (sasToken == null ? "absent" : "present") + ", certificates=" + clientCertificates.size()
                + (leaf == null ? "" : ", leaf-sha256=" + leaf) + "]";
    }
}
