package io.opendps.core.sas;

/**
 * The result of verifying a well-formed SAS token: an expected outcome, never an exception.
 *
 * <p>Checks run in the order expiry, audience, signature; the first failing check decides the outcome.
 */
public enum SasOutcome {
  /** Not expired, for the expected audience, and signed with one of the candidate keys. */
  VALID,
  /** The {@code se} expiry lies before the current time minus the allowed clock skew. */
  EXPIRED,
  /** The {@code sr} resource does not name the expected registration or host. */
  WRONG_AUDIENCE,
  /** No candidate key produces the presented signature. */
  BAD_SIGNATURE
}
