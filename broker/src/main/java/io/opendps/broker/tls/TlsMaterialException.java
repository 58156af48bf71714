package io.opendps.broker.tls;

/**
 * Thrown when TLS material cannot be read, parsed, written or assembled: a corrupt or unreadable PEM file, a private
 * key that does not match its certificate, a failing crypto provider.
 *
 * <p>The message names the file (when there is one) and what is wrong with it. It never contains key material or
 * whole certificates, so it may be logged. Instances are immutable and therefore thread-safe.
 */
public final class TlsMaterialException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with the given message.
   *
   * @param message what is wrong, naming the file; must not contain secrets
   */
  public TlsMaterialException(String message) {
    super(message);
  }

  /**
   * Creates an exception with the given message and cause.
   *
   * @param message what is wrong, naming the file; must not contain secrets
   * @param cause the underlying failure
   */
  public TlsMaterialException(String message, Throwable cause) {
    super(message, cause);
  }
}
