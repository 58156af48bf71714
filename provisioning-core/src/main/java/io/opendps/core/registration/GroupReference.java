package io.opendps.core.registration;

import org.jspecify.annotations.Nullable;

/**
 * The attestation sub-object of a registration result: {@code "symmetricKey":{}} for an individual enrollment,
 * {@code "symmetricKey":{"enrollmentGroupId":"grp-1"}} for a group member ({@code SymmetricKeyRegistrationResult}).
 */
public record GroupReference(@Nullable String enrollmentGroupId) {

    /** The empty object of an individual enrollment. */
    public static final GroupReference INDIVIDUAL = new GroupReference(null);
}
