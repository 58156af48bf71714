package io.opendps.core.registration;

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
 */
public record RegistrationRequest(String idScope, String registrationId, @Nullable String sasToken, byte[] body,
        String apiVersion) {

    @Override
    public String toString() {
        return "RegistrationRequest[idScope=" + idScope + ", registrationId=" + registrationId + ", apiVersion="
                + apiVersion + ", sas=" + (sasToken == null ? "absent" : "present") + "]";
    }
}
