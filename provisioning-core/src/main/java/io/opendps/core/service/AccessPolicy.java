package io.opendps.core.service;

import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A shared access policy: a name, two base64 keys and a set of rights. Keys are secrets: never log them.
 */
public record AccessPolicy(String keyName, String primaryKey, String secondaryKey, Set<AccessRight> rights) {

    /** The policy every new service gets, with all rights. */
    public static final String OWNER = "provisioningserviceowner";

    public AccessPolicy {
        rights = rights.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(rights));
    }

    /** The owner policy with fresh random keys. */
    public static AccessPolicy newOwner() {
        return new AccessPolicy(OWNER, Keys.generate(), Keys.generate(), EnumSet.allOf(AccessRight.class));
    }

    /** The decoded keys, primary first. */
    public java.util.List<byte[]> keyBytes() {
        return java.util.List.of(Base64.getDecoder().decode(primaryKey), Base64.getDecoder().decode(secondaryKey));
    }

    /** The rights as Azure writes them: {@code "ServiceConfig, EnrollmentRead, ..."}. */
    public String rightsText() {
        return rights.stream().sorted().map(AccessRight::wireName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return "AccessPolicy[keyName=" + keyName + ", rights=" + rightsText() + "]";
    }
}
