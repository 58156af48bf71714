package io.opendps.core.sas;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256 with a fresh {@link Mac} per call, so it is thread-safe. */
final class Hmac {

  private static final String ALGORITHM = "HmacSHA256";

  private Hmac() {}

  /**
   * Computes HMAC-SHA256.
   *
   * @throws IllegalArgumentException if {@code key} is empty
   */
  static byte[] sha256(byte[] key, byte[] message) {
    if (key.length == 0) {
      throw new IllegalArgumentException("HMAC key is empty");
    }
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
      return mac.doFinal(message);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
