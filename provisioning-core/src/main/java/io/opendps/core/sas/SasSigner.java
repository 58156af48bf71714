package io.opendps.core.sas;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Builds SAS tokens; used by the simulated device, the CLI and tests.
 *
 * <p>Stateless and thread-safe. All arguments are non-null unless marked {@link Nullable}. The HMAC is computed over
 * the resource exactly as written into the token, so any encoding the caller chooses verifies.
 */
public final class SasSigner {

  /** The {@code skn} value devices send, as the DPS documentation asks. */
  private static final String DEVICE_KEY_NAME = "registration";

  private SasSigner() {}

  /**
   * Signs {@code resourceAsWritten + "\n" + expiry} and writes the parameters in the order {@code sr}, {@code sig},
   * {@code se}, {@code skn}. The resource and key name are written as given; the base64 signature is percent-encoded
   * ({@code +}, {@code /}, {@code =} as {@code %2B}, {@code %2F}, {@code %3D}).
   *
   * @param resourceAsWritten the {@code sr} text, raw or already percent-encoded
   * @param expiryEpochSeconds the {@code se} value in Unix seconds
   * @param key the HMAC key bytes
   * @param keyName the {@code skn} value, or {@code null} to leave {@code skn} out
   * @return the whole token, starting with {@code "SharedAccessSignature "}
   * @throws IllegalArgumentException if the resource is empty, the resource or key name contains {@code '&'}, the
   *     expiry is negative, or the key is empty
   */
  public static String sign(String resourceAsWritten, long expiryEpochSeconds, byte[] key, @Nullable String keyName) {
    Objects.requireNonNull(resourceAsWritten, "resourceAsWritten");
    Objects.requireNonNull(key, "key");
    checkArguments(resourceAsWritten, expiryEpochSeconds, keyName);
    byte[] mac = Hmac.sha256(key, stringToSign(resourceAsWritten, expiryEpochSeconds));
    return token(resourceAsWritten, expiryEpochSeconds, mac, keyName);
  }

  /** The bytes a SAS signature covers: UTF-8 of {@code resourceAsWritten + "\n" + expiry}. */
  public static byte[] stringToSign(String resourceAsWritten, long expiryEpochSeconds) {
    return (resourceAsWritten + "\n" + expiryEpochSeconds).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Writes a token around a signature computed elsewhere (a TPM's {@code TPM2_HMAC} over {@link #stringToSign}),
   * in the same form as {@link #sign}.
   */
  public static String token(String resourceAsWritten, long expiryEpochSeconds, byte[] signature,
      @Nullable String keyName) {
    checkArguments(resourceAsWritten, expiryEpochSeconds, keyName);
    String sig = URLEncoder.encode(Base64.getEncoder().encodeToString(signature), StandardCharsets.UTF_8);
    String token = SasToken.PREFIX + "sr=" + resourceAsWritten + "&sig=" + sig + "&se=" + expiryEpochSeconds;
    return keyName == null ? token : token + "&skn=" + keyName;
  }

  /**
   * Builds a device registration token the way the Java device SDK does: raw
   * {@code sr={idScope}/registrations/{registrationId}}, with {@code skn=registration}.
   *
   * @param idScope the DPS ID scope
   * @param registrationId the registration id as the device presents it
   * @param deviceKey the device key bytes (individual key, or a derived group key)
   * @param expiry when the token expires; truncated to whole seconds
   * @return the whole token
   * @throws IllegalArgumentException as {@link #sign}
   */
  public static String deviceToken(String idScope, String registrationId, byte[] deviceKey, Instant expiry) {
    Objects.requireNonNull(idScope, "idScope");
    Objects.requireNonNull(registrationId, "registrationId");
    Objects.requireNonNull(expiry, "expiry");
    String resource = idScope + "/registrations/" + registrationId;
    return sign(resource, expiry.getEpochSecond(), deviceKey, DEVICE_KEY_NAME);
  }

  /**
   * Builds a service API token with {@code sr} = the host name as given and {@code skn} = the policy name.
   *
   * @param hostName the service host name, e.g. {@code contoso-dps.azure-devices-provisioning.net}
   * @param policyName the shared access policy name
   * @param policyKey the policy key bytes
   * @param expiry when the token expires; truncated to whole seconds
   * @return the whole token
   * @throws IllegalArgumentException as {@link #sign}
   */
  public static String serviceToken(String hostName, String policyName, byte[] policyKey, Instant expiry) {
    Objects.requireNonNull(hostName, "hostName");
    Objects.requireNonNull(policyName, "policyName");
    Objects.requireNonNull(expiry, "expiry");
    return sign(hostName, expiry.getEpochSecond(), policyKey, policyName);
  }

  private static void checkArguments(String resource, long expiryEpochSeconds, @Nullable String keyName) {
    if (resource.isEmpty() || resource.indexOf('&') >= 0) {
      throw new IllegalArgumentException("resource must be non-empty and must not contain '&'");
    }
    if (keyName != null && keyName.indexOf('&') >= 0) {
      throw new IllegalArgumentException("keyName must not contain '&'");
    }
    if (expiryEpochSeconds < 0) {
      throw new IllegalArgumentException("expiry must not be negative: " + expiryEpochSeconds);
    }
  }
}
