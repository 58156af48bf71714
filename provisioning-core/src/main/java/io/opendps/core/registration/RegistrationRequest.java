package io.opendps.core.registration;

import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A device's register request, as the edge extracted it from MQTT (username, password, payload) or HTTPS
 * (path, Authorization header, body).
 *
 * @param idScope the ID scope the device addressed
 * @param registrationId the registration id from the username or path
 * @param sasToken the SAS token (MQTT password / Authorization header), or null when none was sent
 * @param body the raw request body
 * @param apiVersion the api-version the device sent
 * @param clientCertificates the certificate chain the device presented in its TLS handshake, leaf first (empty
 *     when it presented none); the TLS layer only proved possession of the leaf's key, nothing else
 */
public record RegistrationRequest(String idScope, String registrationId, @Nullable String sasToken, byte[] body,
        String apiVersion, List<X509Certificate> clientCertificates) {

    public RegistrationRequest {
        clientCertificates = List.copyOf(clientCertificates);
    }

    /** A request from a device that presented no client certificate. */
    public RegistrationRequest(String idScope, String registrationId, @Nullable String sasToken, byte[] body,
            String apiVersion) {
        this(idScope, registrationId, sasToken, body, apiVersion, List.of());
    }

    @Override
    public String toString() {
        return "RegistrationRequest[idScope=" + idScope + ", registrationId=" + registrationId + ", apiVersion="
                + apiVersion + ", sas=" + (sasToken == null ? "absent" : "present") + ", certificates="
                + clientCertificates.size() + "]";
    }
}
