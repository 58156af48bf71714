package io.opendps.core.enrollment;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.service.Keys;
import java.util.Base64;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The validation rules of enrollment writes, each failing with a 400 ({@link ErrorCode#INVALID_ARGUMENT}) whose
 * message names the offending field by its JSON path. Every rule runs before anything is written, so a refused
 * write leaves the stored enrollment (or its absence) untouched.
 *
 * <p>What is checked where: ids and {@code deviceId} here; hubs, {@code allocationPolicy} and
 * {@code customAllocationDefinition} in {@link AllocationRules}; {@code initialTwin} and
 * {@code optionalDeviceInformation} in {@link TwinRules}; X.509 in {@link X509Rules}; symmetric and TPM keys here.
 * Shape problems found while reading the JSON (a wrong type, an unknown enum value, a {@code reprovisionPolicy}
 * without both flags) are reported by the JSON layer instead ({@link ErrorCode#INVALID_REQUEST_BODY}, also naming
 * the path). {@code capabilities}, {@code provisioningStatus} and the preview fields have no rules beyond their
 * JSON type.
 *
 * <p>Also resolves the attestation to store: symmetric keys generated on create when omitted and kept on update
 * when omitted; X.509 certificates parsed and described; TPM keys checked ({@link TpmAttestation}) and stored as
 * sent, an update with another endorsement key simply replacing it. Only the sub-object matching {@code type} is
 * stored. TPM is allowed on individual enrollments only.
 */
final class EnrollmentRules {

    /** Registration ids and group ids ({@code dps-service-api.md} §11.2). */
    static final Pattern ID = Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$");
    /** IoT Hub device ids: up to 128 ASCII alphanumerics and {@code - . + % _ # * ? ! ( ) , : = @ $ '}. */
    private static final Pattern DEVICE_ID = Pattern.compile("^[A-Za-z0-9\\-.+%_#*?!(),:=@$']{1,128}$");

    private final AllocationRules allocation;
    private final X509Rules x509;

    EnrollmentRules(Allocator allocator, CaCertificateService cas) {
        this.allocation = new AllocationRules(allocator);
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

    /** The checks of an individual enrollment that need no stored state (attestation contents come later). */
    void individual(IndividualEnrollment body) {
        requireType(body.attestation(), false);
        deviceId(body.deviceId());
        allocation.check(body.iotHubHostName(), body.iotHubs(), body.allocationPolicy(),
                body.customAllocationDefinition());
        TwinRules.initialTwin(body.initialTwin());
        TwinRules.optionalDeviceInformation(body.optionalDeviceInformation());
    }

    /** The checks of a group that need no stored state (attestation contents come later). */
    void group(EnrollmentGroup body) {
        requireType(body.attestation(), true);
        allocation.check(body.iotHubHostName(), body.iotHubs(), body.allocationPolicy(),
                body.customAllocationDefinition());
        TwinRules.initialTwin(body.initialTwin());
    }

    static void deviceId(@Nullable String deviceId) {
        if (deviceId != null && !DEVICE_ID.matcher(deviceId).matches()) {
            throw bad("invalid deviceId '%s': use 1-128 ASCII letters, digits or - . + %% _ # * ? ! ( ) , : = @ $ '",
                    deviceId);
        }
    }

    private static void requireType(@Nullable AttestationMechanism attestation, boolean group) {
        if (attestation == null) {
            throw bad("attestation is required, e.g. {\"type\":\"symmetricKey\"}");
        }
        String allowed = group ? "x509 or symmetricKey" : "tpm, x509 or symmetricKey";
        if (attestation.type() == null) {
            throw bad("attestation.type is required: %s", allowed);
        }
        if (attestation.type() == AttestationType.NONE) {
            throw bad("attestation.type 'none' cannot be enrolled: use %s", allowed);
        }
        if (group && attestation.type() == AttestationType.TPM) {
            throw bad("TPM is not supported for enrollment groups (attestation.type tpm): enroll each TPM device "
                    + "individually, or give the group x509 or symmetricKey attestation");
        }
    }

    /** The attestation to store for an individual enrollment (type already checked by {@link #individual}). */
    AttestationMechanism resolveIndividual(String registrationId, AttestationMechanism in,
            @Nullable AttestationMechanism stored) {
        return switch (in.type() == null ? AttestationType.NONE : in.type()) {
            case X509 -> AttestationMechanism.x509(x509.individual(registrationId, in.x509(),
                    stored == null ? null : stored.x509()));
            case TPM -> resolveTpm(in.tpm());
            default -> resolveKeys(in, stored);
        };
    }

    /** The attestation to store for a group (type already checked by {@link #group}). */
    AttestationMechanism resolveGroup(AttestationMechanism in, @Nullable AttestationMechanism stored) {
        if (in.type() == AttestationType.X509) {
            return AttestationMechanism.x509(x509.group(in.x509(), stored == null ? null : stored.x509()));
        }
        return resolveKeys(in, stored);
    }

    /** A checked TPM attestation: endorsement key required and a TPM2B_PUBLIC, storage root key base64 if given. */
    static AttestationMechanism resolveTpm(@Nullable TpmAttestation tpm) {
        if (tpm == null) {
            throw bad("attestation.tpm is required for type tpm, e.g. {\"endorsementKey\":\"AToAAQAL...\"}");
        }
        String ek = tpm.endorsementKey();
        if (ek == null || ek.isEmpty()) {
            throw bad("attestation.tpm.endorsementKey is required: the base64 TPM2B_PUBLIC of the device TPM's "
                    + "endorsement key");
        }
        String problem = TpmAttestation.endorsementKeyProblem(ek);
        if (problem != null) {
            throw bad("attestation.tpm.endorsementKey %s", problem);
        }
        String srk = tpm.storageRootKey();
        if (srk != null && !srk.isEmpty()) {
            try {
                Base64.getDecoder().decode(srk);
            } catch (IllegalArgumentException e) {
                throw bad("attestation.tpm.storageRootKey is not valid base64 (standard alphabet, with padding)");
            }
        }
        return AttestationMechanism.tpm(ek, srk == null || srk.isEmpty() ? null : srk);
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
            throw bad("attestation.symmetricKey.%s is not valid base64", name);
        }
        if (bytes.length < 16 || bytes.length > 64) {
            throw bad("attestation.symmetricKey.%s must decode to 16-64 bytes, got %d", name, bytes.length);
        }
        return given;
    }

    static ProvisioningException bad(String message, Object... args) {
        return new ProvisioningException(ErrorCode.INVALID_ARGUMENT, message, args);
    }
}
