package io.opendps.core.sas;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class SasPropertiesTest {

  private static final long NOW = 1_800_000_000L;
  private static final SasVerifier VERIFIER =
      new SasVerifier(Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC), Duration.ofMinutes(5));
  private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

  @Property
  void deviceToken_signParseVerify_roundTrips(
      @ForAll("idScopes") String idScope,
      @ForAll("registrationIds") String registrationId,
      @ForAll("keys") byte[] key,
      @ForAll("keys") byte[] otherKey) {
    Instant expiry = Instant.ofEpochSecond(NOW + 3600);
    String text = SasSigner.deviceToken(idScope, registrationId, key, expiry);
    SasToken token = SasToken.parse(text);
    String resource = idScope + "/registrations/" + registrationId;

    assertThat(token.resource()).isEqualTo(resource);
    assertThat(token.expiryEpochSeconds()).isEqualTo(expiry.getEpochSecond());
    assertThat(token.keyName()).isEqualTo("registration");
    assertThat(token.toString()).doesNotContain(token.signature());
    assertThat(VERIFIER.verifyDevice(token, resource, List.of(key))).isEqualTo(SasOutcome.VALID);
    assertThat(VERIFIER.verifyDevice(token, resource, List.of(otherKey, key))).isEqualTo(SasOutcome.VALID);
    if (!Arrays.equals(key, otherKey)) {
      assertThat(VERIFIER.verifyDevice(token, resource, List.of(otherKey))).isEqualTo(SasOutcome.BAD_SIGNATURE);
    }
  }

  @Property
  void verifyDevice_rawOrPercentEncodedSrSignedAsWritten_isValid(
      @ForAll("idScopes") String idScope,
      @ForAll("registrationIds") String registrationId,
      @ForAll("keys") byte[] key) {
    String resource = idScope + "/registrations/" + registrationId;
    String upperHex = URLEncoder.encode(resource, StandardCharsets.UTF_8);
    String lowerHex = upperHex.replace("%2F", "%2f").replace("%3A", "%3a");

    for (String written : List.of(resource, upperHex, lowerHex)) {
      SasToken token = SasToken.parse(SasSigner.sign(written, NOW + 60, key, null));
      assertThat(token.decodedResource()).isEqualTo(resource);
      assertThat(VERIFIER.verifyDevice(token, resource.toUpperCase(Locale.ROOT), List.of(key)))
          .isEqualTo(SasOutcome.VALID);
    }
  }

  @Property(tries = 2000)
  void parse_arbitraryText_throwsOnlySasFormatException(@ForAll("tokenLikeTexts") String text) {
    SasToken token;
    try {
      token = SasToken.parse(text);
    } catch (SasFormatException e) {
      assertThat(e.getMessage()).isNotBlank();
      return;
    }
    assertThat(token.signatureBytes()).isNotNull();
    assertThat(token.decodedResource()).isNotNull();
    assertThat(token.expiryEpochSeconds()).isNotNegative();
    assertThat(token.toString()).doesNotContain("sig=");
  }

  @Provide
  Arbitrary<String> idScopes() {
    return Arbitraries.strings().withChars("0123456789ABCDEFabcdef").ofLength(8).map(s -> "0ne" + s);
  }

  @Provide
  Arbitrary<String> registrationIds() {
    Arbitrary<Character> edge = Arbitraries.of(ID_CHARS.toCharArray());
    Arbitrary<String> middle = Arbitraries.strings().withChars(ID_CHARS + ".:_-").ofMinLength(0).ofMaxLength(62);
    return Combinators.combine(edge, middle, edge).as((first, inner, last) -> first + inner + last);
  }

  @Provide
  Arbitrary<byte[]> keys() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(64);
  }

  @Provide
  Arbitrary<String> tokenLikeTexts() {
    Arbitrary<String> parameter = Arbitraries.strings().withChars("srigenk=&%+/2Ffz09AZ-. ").ofMaxLength(24);
    Arbitrary<String> structured = Combinators.combine(
            Arbitraries.of("sr=", "sig=", "se=", "skn=", "x=", ""),
            parameter,
            Arbitraries.of("sr=a", "sig=QUJD", "se=5", "se=-1", "sig=%2", "sr=%C3", ""),
            parameter)
        .as((k1, v1, p2, rest) -> "SharedAccessSignature " + k1 + v1 + "&" + p2 + "&" + rest);
    return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(80), structured);
  }
}
