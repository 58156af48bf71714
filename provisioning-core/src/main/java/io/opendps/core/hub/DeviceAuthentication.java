package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a hub device authenticates, in IoT Hub's {@code authentication} shape.
 *
 * <p>Decisions: a symmetric-key device gets exactly the key it proved to DPS as its primary key (the individual
 * enrollment's primary or secondary key, or the group-derived key); no secondary key is invented. An X.509 device of
 * an individual enrollment is {@code selfSigned} with the SHA-256 thumbprint of the leaf it provisioned with; one of
 * a group is {@code certificateAuthority} and also carries that leaf's thumbprint: DPS is where the chain was
 * validated against the group's anchors, and the built-in hub pins the leaf DPS accepted (a renewed certificate
 * provisions again first, which is also what Azure recommends for certificate roll-over).
 *
 * @param type {@code sas}, {@code selfSigned} or {@code certificateAuthority}
 * @param symmetricKey the device key (base64) for {@code sas}, else null
 * @param x509Thumbprint the leaf's SHA-256 thumbprint (upper-case hex) for the X.509 types, else null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DeviceAuthentication(Type type, @Nullable SymmetricKey symmetricKey,
        @Nullable X509Thumbprint x509Thumbprint) {

    /** The authentication types. */
    public enum Type {
        @JsonProperty("sas") SAS,
        @JsonProperty("selfSigned") SELF_SIGNED,
        @JsonProperty("certificateAuthority") CERTIFICATE_AUTHORITY
    }

    /** Device keys, base64. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SymmetricKey(String primaryKey, @Nullable String secondaryKey) {
    }

    /** Certificate thumbprints (SHA-256, upper-case hex). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record X509Thumbprint(String primaryThumbprint, @Nullable String secondaryThumbprint) {
    }

    public DeviceAuthentication {
        Objects.requireNonNull(type, "type");
        if (type == Type.SAS && symmetricKey == null) {
            throw new IllegalArgumentException("sas authentication needs a symmetric key");
        }
        if (type != Type.SAS && x509Thumbprint == null) {
            throw new IllegalArgumentException(type + " authentication needs a certificate thumbprint");
        }
    }

    /** A device that signs SAS tokens with {@code key} (base64). */
    public static DeviceAuthentication sas(String key) {
        return new DeviceAuthentication(Type.SAS, new SymmetricKey(key, null), null);
    }

    /** An X.509 device pinned to the leaf with this SHA-256 thumbprint. */
    public static DeviceAuthentication x509(String sha256Thumbprint, boolean caSigned) {
        return new DeviceAuthentication(caSigned ? Type.CERTIFICATE_AUTHORITY : Type.SELF_SIGNED, null,
                new X509Thumbprint(sha256Thumbprint, null));
    }
}
