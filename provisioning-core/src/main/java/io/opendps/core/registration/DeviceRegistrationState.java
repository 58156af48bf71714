package io.opendps.core.registration;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.tpm.TpmRegistrationResult;
import io.opendps.core.x509.X509RegistrationResult;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A device's registration record ({@code DeviceRegistrationResult} on the device path,
 * {@code DeviceRegistrationState} on the service API; {@code dps-device-protocol.md} §3.3, {@code
 * dps-service-api.md} §8). {@code payload}, when present, is a JSON object (the Java and Embedded C SDKs reject
 * anything else). Exactly one of {@code symmetricKey}, {@code x509} and {@code tpm} is set on records of devices
 * that authenticated (the attestation sub-object of the device-side result); {@code tpm} only on TPM devices that
 * were assigned (it carries the key they use at the hub).
 */
@JsonPropertyOrder({"registrationId", "createdDateTimeUtc", "assignedHub", "deviceId", "status", "substatus",
    "errorCode", "errorMessage", "lastUpdatedDateTimeUtc", "etag", "x509", "symmetricKey", "tpm", "payload"})
public record DeviceRegistrationState(
        String registrationId,
        @Nullable Instant createdDateTimeUtc,
        @Nullable String assignedHub,
        @Nullable String deviceId,
        RegistrationStatus status,
        @Nullable Substatus substatus,
        @Nullable Integer errorCode,
        @Nullable String errorMessage,
        @Nullable Instant lastUpdatedDateTimeUtc,
        @Nullable String etag,
        @Nullable GroupReference symmetricKey,
        @Nullable X509RegistrationResult x509,
        @Nullable JsonNode payload,
        @Nullable TpmRegistrationResult tpm) {

    /** A record without {@code tpm} result. */
    public DeviceRegistrationState(String registrationId, @Nullable Instant createdDateTimeUtc,
            @Nullable String assignedHub, @Nullable String deviceId, RegistrationStatus status,
            @Nullable Substatus substatus, @Nullable Integer errorCode, @Nullable String errorMessage,
            @Nullable Instant lastUpdatedDateTimeUtc, @Nullable String etag, @Nullable GroupReference symmetricKey,
            @Nullable X509RegistrationResult x509, @Nullable JsonNode payload) {
        this(registrationId, createdDateTimeUtc, assignedHub, deviceId, status, substatus, errorCode, errorMessage,
                lastUpdatedDateTimeUtc, etag, symmetricKey, x509, payload, null);
    }

    /**
     * The record of a TPM device: {@code tpm} set (the final authenticationKey, §7.8; null on outcomes that carry
     * none) and no {@code symmetricKey} object, although the device authenticated with a SAS token.
     */
    public DeviceRegistrationState withTpm(@Nullable TpmRegistrationResult result) {
        return new DeviceRegistrationState(registrationId, createdDateTimeUtc, assignedHub, deviceId, status,
                substatus, errorCode, errorMessage, lastUpdatedDateTimeUtc, etag, null, x509, payload, result);
    }

    /** A record of a symmetric-key device (or of none): no {@code x509} object. */
    public DeviceRegistrationState(String registrationId, @Nullable Instant createdDateTimeUtc,
            @Nullable String assignedHub, @Nullable String deviceId, RegistrationStatus status,
            @Nullable Substatus substatus, @Nullable Integer errorCode, @Nullable String errorMessage,
            @Nullable Instant lastUpdatedDateTimeUtc, @Nullable String etag, @Nullable GroupReference symmetricKey,
            @Nullable JsonNode payload) {
        this(registrationId, createdDateTimeUtc, assignedHub, deviceId, status, substatus, errorCode, errorMessage,
                lastUpdatedDateTimeUtc, etag, symmetricKey, null, payload);
    }

    /** The {@code registrationState} of a 202 poll answer: only the id and {@code assigning}. */
    public static DeviceRegistrationState assigning(String registrationId) {
        return new DeviceRegistrationState(registrationId, null, null, null, RegistrationStatus.ASSIGNING, null,
                null, null, null, null, null, null, null);
    }

    /**
     * The record as the service API shows it ({@code dps-service-api.md} §8): the device-side attestation
     * sub-objects ({@code symmetricKey}, {@code x509}) are not part of the service view.
     */
    public DeviceRegistrationState serviceView() {
        return new DeviceRegistrationState(registrationId, createdDateTimeUtc, assignedHub, deviceId, status,
                substatus, errorCode, errorMessage, lastUpdatedDateTimeUtc, etag, null, null, payload);
    }

    /** The record as a caller on {@code apiVersion} sees it: its substatus mapped by {@link ApiVersions#substatus}. */
    public DeviceRegistrationState forApiVersion(String apiVersion) {
        Substatus mapped = substatus == null ? null : ApiVersions.substatus(substatus, apiVersion);
        return mapped == substatus ? this : new DeviceRegistrationState(registrationId, createdDateTimeUtc, assignedHub,
                deviceId, status, mapped, errorCode, errorMessage, lastUpdatedDateTimeUtc, etag, symmetricKey, x509,
                payload);
    }

    /** The enrollment group the device registered through, if any. */
    public @Nullable String enrollmentGroupId() {
        if (x509 != null) {
            return x509.enrollmentGroupId();
        }
        return symmetricKey == null ? null : symmetricKey.enrollmentGroupId();
    }
}
