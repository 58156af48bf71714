package io.opendps.core.registration;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.enrollment.TpmAttestation;
import org.jspecify.annotations.Nullable;

/**
 * The register request body: {@code {"registrationId": .., "tpm": {"endorsementKey": .., "storageRootKey": ..},
 * "payload": <any JSON>}}. The payload may be an object (Node, C), a JSON string (Java) or {@code null} (Python);
 * {@code tpm} is sent by TPM devices (§7.3), on the challenge request and again with the SAS token.
 */
public record DeviceRegistration(@Nullable String registrationId, @Nullable TpmAttestation tpm,
        @Nullable JsonNode payload) {

    /** A body without {@code tpm}. */
    public DeviceRegistration(@Nullable String registrationId, @Nullable JsonNode payload) {
        this(registrationId, null, payload);
    }
}
