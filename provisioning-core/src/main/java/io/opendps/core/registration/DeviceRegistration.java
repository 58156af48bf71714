package io.opendps.core.registration;

import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * The register request body: {@code {"registrationId": .., "payload": <any JSON>}}. The payload may be an
 * object (Node, C), a JSON string (Java) or {@code null} (Python); TPM fields come in a later issue.
 */
public record DeviceRegistration(@Nullable String registrationId, @Nullable JsonNode payload) {
}
