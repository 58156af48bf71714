package io.opendps.core.sas;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code SharedAccessSignature sr=..&sig=..&se=..[&skn=..]} token. The fields are the raw texts exactly as
 * sent, because the signature is computed over the literal {@code sr} and {@code se} texts.
 *
 * <p>Every instance is well-formed: the canonical constructor checks what {@link #parse(String)} checks (a
 * non-empty {@code sr} that is valid percent-encoding, a {@code sig} that is percent-encoded base64, a non-negative
 * integer {@code se}) and throws {@link SasFormatException} otherwise, so the accessors never fail. Immutable and
 * thread-safe. {@link #toString()} never shows the signature.
 *
 * @param resource the {@code sr} value as sent (raw or percent-encoded)
 * @param signature the {@code sig} value as sent (percent-encoded base64)
 * @param expiry the {@code se} value as sent (decimal Unix seconds)
 * @param keyName the {@code skn} value as sent; {@code null} when the token has none
 */
public record SasToken(String resource, String signature, String expiry, @Nullable String keyName) {

  /** The literal prefix of every token, including its single space. */
  static final String PREFIX = "SharedAccessSignature ";

  /**
   * Checks that the parts form a well-formed token.
   *
   * @throws NullPointerException if {@code resource}, {@code signature} or {@code expiry} is null
   * @throws SasFormatException if a part is malformed
   */
  public SasToken {
    Objects.requireNonNull(resource, "resource");
    Objects.requireNonNull(signature, "signature");
    Objects.requireNonNull(expiry, "expiry");
    checkResource(resource);
    decodeSignature(signature);
    parseExpiry(expiry);
  }

  /**
   * Parses a token. Parameter keys are lower-case and may come in any order; unknown keys are ignored; {@code skn}
   * may be absent, empty or any value.
   *
   * @param text the whole token, starting with {@code "SharedAccessSignature "}
   * @return the parsed token
   * @throws SasFormatException if the prefix is missing, a parameter has no {@code '='}, a key repeats,
   *     {@code sr}/{@code sig}/{@code se} is missing or malformed; the message names the problem but never the
   *     signature
   */
  public static SasToken parse(String text) {
    Objects.requireNonNull(text, "text");
    if (!text.startsWith(PREFIX)) {
      throw new SasFormatException("SAS token does not start with \"SharedAccessSignature \"");
    }
    Map<String, String> parameters = parameters(text.substring(PREFIX.length()));
    return new SasToken(
        required(parameters, "sr"), required(parameters, "sig"), required(parameters, "se"), parameters.get("skn"));
  }

  /**
   * The expiry as Unix seconds.
   *
   * @return the numeric value of {@code se}
   */
  public long expiryEpochSeconds() {
    return parseExpiry(expiry);
  }

  /**
   * The resource with percent-escapes ({@code %XX}, hex in either case) decoded; {@code '+'} stays {@code '+'}.
   *
   * @return the decoded {@code sr}
   */
  public String decodedResource() {
    return PercentDecoding.decode(resource);
  }

  /**
   * The signature bytes: {@code sig} percent-decoded, then base64-decoded.
   *
   * @return a fresh array on every call
   */
  public byte[] signatureBytes() {
    return decodeSignature(signature);
  }

  /**
   * Shows {@code sr}, {@code se} and {@code skn}, never the signature, so tokens can appear in diagnostics.
   *
   * @return a description without secrets
   */
  @Override
  public String toString() {
    return "SasToken[sr=" + resource + ", se=" + expiry + ", skn=" + keyName + "]";
  }

  private static Map<String, String> parameters(String query) {
    Map<String, String> parameters = new HashMap<>();
    String[] pieces = query.split("&", -1);
    for (int i = 0; i < pieces.length; i++) {
      String parameter = pieces[i];
      int equals = parameter.indexOf('=');
      if (equals < 0) {
        // The text itself is not quoted: it might be a signature that lost its "sig=".
        throw new SasFormatException("SAS token parameter " + (i + 1) + " has no '='");
      }
      String key = parameter.substring(0, equals);
      if (parameters.putIfAbsent(key, parameter.substring(equals + 1)) != null) {
        throw new SasFormatException("SAS token has duplicate key \"" + abbreviate(key) + "\"");
      }
    }
    return parameters;
  }

  private static String required(Map<String, String> parameters, String key) {
    String value = parameters.get(key);
    if (value == null) {
      throw new SasFormatException("SAS token is missing \"" + key + "\"");
    }
    return value;
  }

  private static void checkResource(String resource) {
    if (resource.isEmpty()) {
      throw new SasFormatException("SAS token \"sr\" is empty");
    }
    try {
      PercentDecoding.decode(resource);
    } catch (IllegalArgumentException e) {
      throw new SasFormatException("SAS token \"sr\" is not valid percent-encoding: " + e.getMessage());
    }
  }

  private static byte[] decodeSignature(String signature) {
    if (signature.isEmpty()) {
      throw new SasFormatException("SAS token \"sig\" is empty");
    }
    String base64;
    try {
      base64 = PercentDecoding.decode(signature);
    } catch (IllegalArgumentException e) {
      throw new SasFormatException("SAS token \"sig\" is not valid percent-encoding: " + e.getMessage());
    }
    try {
      return Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new SasFormatException("SAS token \"sig\" is not valid base64 after percent-decoding");
    }
  }

  private static long parseExpiry(String expiry) {
    if (expiry.isEmpty() || !expiry.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new SasFormatException("SAS token \"se\" is not a non-negative integer: \"" + abbreviate(expiry) + "\"");
    }
    try {
      return Long.parseLong(expiry);
    } catch (NumberFormatException e) {
      throw new SasFormatException("SAS token \"se\" is out of range: \"" + abbreviate(expiry) + "\"");
    }
  }

  /** Quotes at most 32 characters of untrusted text so messages stay short. */
  private static String abbreviate(String text) {
    return text.length() <= 32 ? text : text.substring(0, 32) + "...";
  }
}
