package io.opendps.core.sas;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * Derives a device key from a symmetric-key enrollment group key:
 * {@code HMAC-SHA256(key = groupKey, message = UTF8(registrationId))}. The registration id is used as the device
 * presents it (case preserved).
 *
 * <p>Stateless and thread-safe. All arguments are non-null. Exception messages never contain key material.
 */
public final class DerivedKeys {

  private DerivedKeys() {}

  /**
   * Derives the device key bytes.
   *
   * @param groupKey the group key bytes (already base64-decoded)
   * @param registrationId the registration id as the device presents it
   * @return the 32-byte derived key
   * @throws IllegalArgumentException if {@code groupKey} is empty
   */
  public static byte[] derive(byte[] groupKey, String registrationId) {
    Objects.requireNonNull(groupKey, "groupKey");
    Objects.requireNonNull(registrationId, "registrationId");
    if (groupKey.length == 0) {
      throw new IllegalArgumentException("group key is empty");
    }
    return Hmac.sha256(groupKey, registrationId.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Derives the device key in the base64 form the Azure SDKs and portal use.
   *
   * @param groupKeyBase64 the group key, base64 (standard alphabet)
   * @param registrationId the registration id as the device presents it
   * @return the derived key, base64 (standard alphabet, padded)
   * @throws IllegalArgumentException if {@code groupKeyBase64} is not valid base64 or decodes to no bytes
   */
  public static String deriveBase64(String groupKeyBase64, String registrationId) {
    Objects.requireNonNull(groupKeyBase64, "groupKeyBase64");
    byte[] groupKey;
    try {
      groupKey = Base64.getDecoder().decode(groupKeyBase64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("group key is not valid base64 (standard alphabet expected)", e);
    }
    return Base64.getEncoder().encodeToString(derive(groupKey, registrationId));
  }
}
