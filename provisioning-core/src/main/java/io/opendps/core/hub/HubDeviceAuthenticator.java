package io.opendps.core.hub;

import io.opendps.core.sas.SasFormatException;
import io.opendps.core.sas.SasOutcome;
import io.opendps.core.sas.SasToken;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.x509.CertificateCodec;
import io.opendps.core.x509.X509ChainValidator;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates a device connecting to a built-in hub ({@code dps-device-protocol.md} §9) against the identity
 * provisioning wrote.
 *
 * <p>SAS: the token's {@code sr} must name {@code {hub}/devices/{deviceId}} (percent-encoded or raw, compared
 * case-insensitively, as on the DPS path; {@code skn} is ignored: device tokens carry none) and be signed with the
 * device's key; expiry and clock skew as for DPS tokens. X.509: the TLS handshake proved possession of the leaf's
 * key; the leaf must be within its validity and its SHA-256 thumbprint must be the one the device was provisioned
 * with ({@link DeviceAuthentication}: the hub pins the leaf DPS validated, for self-signed and CA-signed devices
 * alike). A SAS token together with a certificate is refused, as on the DPS path. A disabled device is refused.
 *
 * <p>Refusals carry a precise reason for the audit log; what the device learns is only that it was refused (CONNACK
 * "not authorized"), so the hub cannot be probed for device ids. Thread-safe; synchronous (store and crypto work):
 * call it on a worker pool.
 */
public final class HubDeviceAuthenticator {

    /** Why a hub connection was refused. */
    public enum Reason { UNKNOWN_HUB, UNKNOWN_DEVICE, DISABLED, NO_CREDENTIAL, BOTH_CREDENTIALS, MALFORMED_TOKEN,
        EXPIRED, WRONG_AUDIENCE, BAD_SIGNATURE, WRONG_CREDENTIAL_TYPE, CERTIFICATE_MISMATCH, CERTIFICATE_NOT_VALID }

    /** The outcome. */
    public sealed interface Result permits Accepted, Refused {
    }

    /** The device may connect as {@code identity}. */
    public record Accepted(DeviceIdentity identity) implements Result {
    }

    /** The device is refused; {@code detail} is for the audit log (no secrets). */
    public record Refused(Reason reason, String detail) implements Result {
    }

    private final BuiltInHub hub;
    private final SasVerifier verifier;
    private final X509ChainValidator validator;

    public HubDeviceAuthenticator(BuiltInHub hub, SasVerifier verifier, X509ChainValidator validator) {
        this.hub = Objects.requireNonNull(hub, "hub");
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.validator = Objects.requireNonNull(validator, "validator");
    }

    /**
     * @param hubName the hub host name from the MQTT username
     * @param deviceId the device id from the MQTT username
     * @param sas the MQTT password, null or empty when none
     * @param chain the TLS client certificate chain, leaf first; empty when none
     */
    public Result authenticate(String hubName, String deviceId, @Nullable String sas, List<X509Certificate> chain,
            Instant now) {
        if (!hub.serves(hubName)) {
            return new Refused(Reason.UNKNOWN_HUB, "hub '" + hubName + "' is not served here");
        }
        boolean hasSas = sas != null && !sas.isEmpty();
        if (hasSas && !chain.isEmpty()) {
            return new Refused(Reason.BOTH_CREDENTIALS, "both a SAS token and a client certificate were presented");
        }
        if (!hasSas && chain.isEmpty()) {
            return new Refused(Reason.NO_CREDENTIAL, "neither a SAS token nor a client certificate was presented");
        }
        DeviceIdentity identity = hub.find(hubName, deviceId).orElse(null);
        if (identity == null) {
            return new Refused(Reason.UNKNOWN_DEVICE, "no device '" + deviceId + "' in hub '" + hubName + "'");
        }
        if (identity.status() == DeviceStatus.DISABLED) {
            return new Refused(Reason.DISABLED, "device '" + deviceId + "' is disabled");
        }
        return hasSas ? checkSas(identity, Objects.requireNonNull(sas), now) : checkCertificate(identity, chain.get(0));
    }

    private Result checkSas(DeviceIdentity identity, String sas, Instant now) {
        DeviceAuthentication.SymmetricKey keys = identity.authentication().symmetricKey();
        if (keys == null) {
            return new Refused(Reason.WRONG_CREDENTIAL_TYPE, "device '" + identity.deviceId() + "' authenticates with "
                    + "an X.509 certificate, not a SAS token");
        }
        SasToken token;
        try {
            token = SasToken.parse(sas);
        } catch (SasFormatException e) {
            return new Refused(Reason.MALFORMED_TOKEN, "malformed SAS token: " + e.getMessage());
        }
        String audience = identity.hub() + "/devices/" + identity.deviceId();
        List<byte[]> candidates = keys.secondaryKey() == null ? List.of(decode(keys.primaryKey()))
                : List.of(decode(keys.primaryKey()), decode(keys.secondaryKey()));
        SasOutcome outcome = verifier.verifyDevice(token, audience, candidates);
        return switch (outcome) {
            case VALID -> new Accepted(identity);
            case EXPIRED -> new Refused(Reason.EXPIRED, "the SAS token expired at "
                    + Instant.ofEpochSecond(token.expiryEpochSeconds()) + " (server time " + now + ")");
            case WRONG_AUDIENCE -> new Refused(Reason.WRONG_AUDIENCE, "the SAS token's sr '" + token.decodedResource()
                    + "' does not name " + audience);
            default -> new Refused(Reason.BAD_SIGNATURE, "the SAS token is not signed with the device's key");
        };
    }

    private Result checkCertificate(DeviceIdentity identity, X509Certificate leaf) {
        DeviceAuthentication.X509Thumbprint pinned = identity.authentication().x509Thumbprint();
        if (pinned == null) {
            return new Refused(Reason.WRONG_CREDENTIAL_TYPE, "device '" + identity.deviceId() + "' authenticates with "
                    + "a SAS token, not a client certificate");
        }
        X509ChainValidator.Invalid dates = validator.checkValidity(leaf);
        if (dates != null) {
            return new Refused(Reason.CERTIFICATE_NOT_VALID, dates.reason());
        }
        String thumbprint = CertificateCodec.sha256Thumbprint(leaf);
        if (!thumbprint.equalsIgnoreCase(pinned.primaryThumbprint())
                && !thumbprint.equalsIgnoreCase(pinned.secondaryThumbprint())) {
            return new Refused(Reason.CERTIFICATE_MISMATCH, "the client certificate (sha256 " + thumbprint
                    + ") is not the one device '" + identity.deviceId() + "' was provisioned with");
        }
        return new Accepted(identity);
    }

    private static byte[] decode(String key) {
        return Base64.getDecoder().decode(key);
    }
}
