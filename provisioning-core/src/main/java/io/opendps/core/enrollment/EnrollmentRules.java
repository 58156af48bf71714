package io.opendps.core.enrollment;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.service.Keys;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The validation rules of enrollment writes, each failing with a 400 that says what was wrong. Also resolves
 * the attestation to store: symmetric keys generated on create when omitted, kept on update when omitted;
 * X.509 certificates parsed and described ({@link X509Rules}). TPM is refused.
 */
final class EnrollmentRules {

    /** Registration ids and group ids ({@code dps-service-api.md} §11.2). */
    static final Pattern ID = Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$");
    /** IoT Hub device ids: up to 128 ASCII alphanumerics and {@code - . + % _ # * ? ! ( ) , : = @ $ '}. */
    private static final Pattern DEVICE_ID = Pattern.compile("^[A-Za-z0-9\\-.+%_#*?!(),:=@$']{1,128}$");
    private static final Set<String> SUPPORTED_POLICIES = Set.of("hashed", "static");
    private static final Set<String> KNOWN_POLICIES = Set.of("hashed", "geolatency", "static", "custom");

    private final Allocator allocator;
    private final X509Rules x509;

    EnrollmentRules(Allocator allocator, CaCertificateService cas) {
        this.allocator = allocator;
        this.x509 = new X509Rules(cas);
    }

    static String requireId(String what, String id) {
        if (!ID.matcher(id).matches()) {
            throw bad("invalid %s '%s': use 1-128 characters A-Z a-z 0-9 - . _ :, starting with a letter or digit "
                    + "and ending with a letter, digit or '-'", what, id);
        }
        return id;
    }

    static String bodyId(String what, String pathId, @Nullable String bodyId) {
        requireId(what, pathId);
        if (bodyId != null && !bodyId.isEmpty() && !bodyId.equalsIgnoreCase(pathId)) {
            throw bad("the %s in the body ('%s') does not match the one in the path ('%s')", what, bodyId, pathId);
        }
        return pathId;
    }

    void common(@Nullable AttestationMechanism attestation, @Nullable String iotHubHostName,
            @Nullable List<String> iotHubs, @Nullable String allocationPolicy, @Nullable JsonNode initialTwin) {
        requireSupportedType(attestation);
        if (iotHubHostName != null && allocator.find(iotHubHostName).isEmpty()) {
            throw bad("iotHubHostName '%s' is not a linked hub; linked hubs: %s", iotHubHostName, linkedHubs());
        }
        if (iotHubs != null) {
            for (String hub : iotHubs) {
                if (allocator.find(hub).isEmpty()) {
                    throw bad("iotHubs entry '%s' is not a linked hub; linked hubs: %s", hub, linkedHubs());
                }
            }
        }
        policy(allocationPolicy, iotHubs);
        initialTwin(initialTwin);
    }

    static void deviceId(@Nullable String deviceId) {
        if (deviceId != null && !DEVICE_ID.matcher(deviceId).matches()) {
            throw bad("invalid deviceId '%s': use 1-128 ASCII letters, digits or - . + %% _ # * ? ! ( ) , : = @ $ '",
                    deviceId);
        }
    }

    private static void requireSupportedType(@Nullable AttestationMechanism attestation) {
        if (attestation == null || attestation.type() == null) {
            throw bad("attestation is required, e.g. {\"type\":\"symmetricKey\"}");
        }
        if (attestation.type() != AttestationType.SYMMETRIC_KEY && attestation.type() != AttestationType.X509) {
            throw bad("attestation type '%s' is not supported by this server yet; use symmetricKey or x509",
                    attestation.type() == AttestationType.TPM ? "tpm" : attestation.type().name()
                            .toLowerCase(Locale.ROOT));
        }
    }

    /** The attestation to store for an individual enrollment (type already checked by {@link #common}). */
    AttestationMechanism resolveIndividual(String registrationId, AttestationMechanism in,
            @Nullable AttestationMechanism stored) {
        if (in.type() == AttestationType.X509) {
            return AttestationMechanism.x509(x509.individual(registrationId, in.x509(),
                    stored == null ? null : stored.x509()));
        }
        return resolveKeys(in, stored);
    }

    /** The attestation to store for a group (type already checked by {@link #common}). */
    AttestationMechanism resolveGroup(AttestationMechanism in, @Nullable AttestationMechanism stored) {
        if (in.type() == AttestationType.X509) {
            return AttestationMechanism.x509(x509.group(in.x509(), stored == null ? null : stored.x509()));
        }
        return resolveKeys(in, stored);
    }

    private static void policy(@Nullable String policy, @Nullable List<String> iotHubs) {
        if (policy == null) {
            return;
        }
        String p = policy.toLowerCase(Locale.ROOT);
        if (!KNOWN_POLICIES.contains(p)) {
            throw bad("unknown allocationPolicy '%s': use hashed, geoLatency, static or custom", policy);
        }
        if (!SUPPORTED_POLICIES.contains(p)) {
            throw bad("allocationPolicy '%s' is not supported by this server yet; use hashed or static", policy);
        }
        if (p.equals("static") && (iotHubs == null || iotHubs.size() != 1)) {
            throw bad("allocationPolicy static needs exactly one hub in iotHubs");
        }
    }

    private static void initialTwin(@Nullable JsonNode twin) {
        if (twin == null || twin.isNull()) {
            return;
        }
        if (!twin.isObject()) {
            throw bad("initialTwin must be an object like {\"tags\":{...},\"properties\":{\"desired\":{...}}}");
        }
        JsonNode tags = twin.get("tags");
        if (tags != null && !tags.isNull() && !tags.isObject()) {
            throw bad("initialTwin.tags must be an object");
        }
        JsonNode properties = twin.get("properties");
        if (properties != null && !properties.isNull()) {
            JsonNode desired = properties.get("desired");
            if (!properties.isObject() || desired != null && !desired.isNull() && !desired.isObject()) {
                throw bad("initialTwin.properties must be an object whose 'desired' is an object");
            }
        }
    }

    /** The keys to store: supplied ones validated, omitted ones generated or kept from {@code stored}. */
    static AttestationMechanism resolveKeys(AttestationMechanism in, @Nullable AttestationMechanism stored) {
        SymmetricKeyAttestation given = in.symmetricKey();
        SymmetricKeyAttestation old = stored == null ? null : stored.symmetricKey();
        String primary = key("primaryKey", given == null ? null : given.primaryKey(),
                old == null ? null : old.primaryKey());
        String secondary = key("secondaryKey", given == null ? null : given.secondaryKey(),
                old == null ? null : old.secondaryKey());
        return AttestationMechanism.symmetricKey(primary, secondary);
    }

    private static String key(String name, @Nullable String given, @Nullable String stored) {
        if (given == null || given.isEmpty()) {
            return stored != null ? stored : Keys.generate();
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(given);
        } catch (IllegalArgumentException e) {
            throw bad("symmetricKey.%s is not valid base64", name);
        }
        if (bytes.length < 16 || bytes.length > 64) {
            throw bad("symmetricKey.%s must decode to 16-64 bytes, got %d", name, bytes.length);
        }
        return given;
    }

    private String linkedHubs() {
        return String.join(", ", allocator.hubs().stream().map(h -> h.hostName()).toList());
    }

    static ProvisioningException bad(String message, Object... args) {
        return new ProvisioningException(ErrorCode.INVALID_ARGUMENT, message, args);
    }
}
