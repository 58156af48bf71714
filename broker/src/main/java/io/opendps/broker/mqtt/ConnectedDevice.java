package io.opendps.broker.mqtt;

import java.util.List;

/**
 * A read-only view of one live device connection, for operators and tests. Carries no secrets: whether a SAS token
 * was sent, never the token; certificate thumbprints, never the certificates.
 *
 * @param clientId the MQTT client id
 * @param idScope the ID scope from the CONNECT username
 * @param registrationId the registration id from the CONNECT username
 * @param sasTokenPresent whether the CONNECT carried a password (the SAS token)
 * @param clientCertificateThumbprints SHA-256 thumbprints (upper-case hex of the DER) of the certificate chain the
 *     device presented in its TLS handshake, leaf first; empty when it presented none
 */
public record ConnectedDevice(String clientId, String idScope, String registrationId, boolean sasTokenPresent,
        List<String> clientCertificateThumbprints) {

    public ConnectedDevice {
        clientCertificateThumbprints = List.copyOf(clientCertificateThumbprints);
    }
}
