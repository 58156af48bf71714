package io.opendps.core.sas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies parsed SAS tokens against candidate keys: expiry first, then audience, then signature.
 *
 * <p>Thread-safe: holds only a {@link Clock} and a clock-skew allowance, and uses a fresh MAC per computation.
 * All arguments are non-null. Signatures are compared in constant time ({@link MessageDigest#isEqual}), and every
 * candidate key is tried even after a match so timing does not reveal which key matched. Empty candidate keys never
 * match. Failures are returned as {@link SasOutcome} values, never thrown.
 */
public final class SasVerifier {

  private final Clock clock;
  private final Duration clockSkew;

  /**
   * Creates a verifier.
   *
   * @param clock the source of the current time
   * @param clockSkew how long after {@code se} a token is still accepted; must not be negative
   * @throws IllegalArgumentException if {@code clockSkew} is negative
   */
  public SasVerifier(Clock clock, Duration clockSkew) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.clockSkew = Objects.requireNonNull(clockSkew, "clockSkew");
    if (clockSkew.isNegative()) {
      throw new IllegalArgumentException("clockSkew must not be negative: " + clockSkew);
    }
  }

  /**
   * Verifies a device token (registration SAS). The audience matches when the decoded {@code sr} equals
   * {@code expectedResource} ignoring case; the signature is HMAC-SHA256 over the raw {@code sr}, {@code "\n"} and
   * the raw {@code se}.
   *
   * @param token the parsed token
   * @param expectedResource {@code {idScope}/registrations/{registrationId}} taken from the username or URL path
   * @param candidateKeys the keys that may have signed (e.g. primary and secondary, or derived group keys)
   * @return {@link SasOutcome#EXPIRED}, {@link SasOutcome#WRONG_AUDIENCE}, {@link SasOutcome#BAD_SIGNATURE} or
   *     {@link SasOutcome#VALID}, checked in that order
   */
  public SasOutcome verifyDevice(SasToken token, String expectedResource, List<byte[]> candidateKeys) {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(expectedResource, "expectedResource");
    Objects.requireNonNull(candidateKeys, "candidateKeys");
    if (isExpired(token)) {
      return SasOutcome.EXPIRED;
    }
    if (!token.decodedResource().equalsIgnoreCase(expectedResource)) {
      return SasOutcome.WRONG_AUDIENCE;
    }
    return verifySignature(token, Set.of(token.resource()), candidateKeys);
  }

  /**
   * Verifies a service token (service API SAS). The audience matches when the decoded, lower-cased {@code sr}
   * equals a host name (compared lower-case) or starts with a host name followed by {@code '/'}. The signature is
   * tried over the raw {@code sr}, then the decoded {@code sr}, then the lower-cased decoded {@code sr}, because
   * clients sign different encodings than they send. Looking up the keys by {@code skn} is the caller's job.
   *
   * @param token the parsed token
   * @param hostNames the host names this service answers to
   * @param candidateKeys the keys of the policy named by the token
   * @return {@link SasOutcome#EXPIRED}, {@link SasOutcome#WRONG_AUDIENCE}, {@link SasOutcome#BAD_SIGNATURE} or
   *     {@link SasOutcome#VALID}, checked in that order
   */
  public SasOutcome verifyService(SasToken token, Collection<String> hostNames, List<byte[]> candidateKeys) {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(hostNames, "hostNames");
    Objects.requireNonNull(candidateKeys, "candidateKeys");
    if (isExpired(token)) {
      return SasOutcome.EXPIRED;
    }
    String decoded = token.decodedResource();
    if (!isServiceAudience(decoded.toLowerCase(Locale.ROOT), hostNames)) {
      return SasOutcome.WRONG_AUDIENCE;
    }
    Set<String> signedResources = new LinkedHashSet<>();
    signedResources.add(token.resource());
    signedResources.add(decoded);
    signedResources.add(decoded.toLowerCase(Locale.ROOT));
    return verifySignature(token, signedResources, candidateKeys);
  }

  private boolean isExpired(SasToken token) {
    long expiry = Math.min(token.expiryEpochSeconds(), Instant.MAX.getEpochSecond());
    return Instant.ofEpochSecond(expiry).isBefore(clock.instant().minus(clockSkew));
  }

  private static boolean isServiceAudience(String audience, Collection<String> hostNames) {
    for (String hostName : hostNames) {
      String host = hostName.toLowerCase(Locale.ROOT);
      if (audience.equals(host) || audience.startsWith(host + "/")) {
        return true;
      }
    }
    return false;
  }

  private static SasOutcome verifySignature(SasToken token, Set<String> signedResources, List<byte[]> keys) {
    byte[] presented = token.signatureBytes();
    boolean matched = false;
    for (String resource : signedResources) {
      byte[] message = (resource + "\n" + token.expiry()).getBytes(StandardCharsets.UTF_8);
      for (byte[] key : keys) {
        matched |= key.length > 0 && MessageDigest.isEqual(Hmac.sha256(key, message), presented);
      }
    }
    return matched ? SasOutcome.VALID : SasOutcome.BAD_SIGNATURE;
  }
}
