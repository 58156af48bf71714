package io.opendps.core.sas;

/**
 * Thrown when a text is not a well-formed shared access signature token.
 *
 * <p>The message says exactly what is wrong (missing prefix, missing or duplicate parameter, malformed value). It
 * never contains the signature or any key material, so it may be logged. Instances are immutable and therefore
 * thread-safe.
 */
public final class SasFormatException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with the given message.
   *
   * @param message what is wrong with the token; must not contain secrets
   */
  public SasFormatException(String message) {
    super(message);
  }
}
