package io.opendps.core.sas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SasVerifierTest {

  private static final long NOW = 1_800_000_000L;
  private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC);
  private static final Duration SKEW = Duration.ofMinutes(5);
  private static final String RESOURCE = "0ne00000001/registrations/my-device-01";
  private static final byte[] KEY = Base64.getDecoder().decode("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=");
  private static final byte[] OTHER_KEY = "another-key-another-key-another!".getBytes(StandardCharsets.US_ASCII);
  private static final String JAVA_SIG = "rjO0pgKsRV2UyzVnds5FSmJifDBbpLse2MFkhe0vlCA%3D";
  private static final String HOST = "contoso-dps.azure-devices-provisioning.net";

  private final SasVerifier verifier = new SasVerifier(CLOCK, SKEW);

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "0ne00000001/registrations/my-device-01     | rjO0pgKsRV2UyzVnds5FSmJifDBbpLse2MFkhe0vlCA%3D",
      "0ne00000001%2Fregistrations%2Fmy-device-01 | y9gFgoMKj2X8LE%2BthyYql6fZ7oq%2BMPqXAo%2FlZR1mzck%3D",
      "0ne00000001%2fregistrations%2fmy-device-01 | 8NZzlSArAbpuJ81b92HKbuMz8Pi36VFAILIqkFA7Z50%3D"})
  void verifyDevice_protocolTestVectors_areValid(String sr, String sig) {
    SasToken token = SasToken.parse("SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=1893456000");

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      // Java: sr, sig, se, skn (empty)
      "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=" + JAVA_SIG + "&se=1893456000&skn=",
      // Node symmetric: sr, sig, skn, se
      "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=" + JAVA_SIG
          + "&skn=registration&se=1893456000",
      // no skn at all
      "SharedAccessSignature sr=0ne00000001/registrations/my-device-01&sig=" + JAVA_SIG + "&se=1893456000",
      // skn=registration last, unknown key in between
      "SharedAccessSignature se=1893456000&x=y&sr=0ne00000001/registrations/my-device-01&sig=" + JAVA_SIG
          + "&skn=registration",
      // Node TPM: encoded sr, skn=registration
      "SharedAccessSignature sr=0ne00000001%2Fregistrations%2Fmy-device-01"
          + "&sig=y9gFgoMKj2X8LE%2BthyYql6fZ7oq%2BMPqXAo%2FlZR1mzck%3D&se=1893456000&skn=registration",
      // C SDK: lower-case hex in both sr and sig
      "SharedAccessSignature sr=0ne00000001%2fregistrations%2fmy-device-01"
          + "&sig=8NZzlSArAbpuJ81b92HKbuMz8Pi36VFAILIqkFA7Z50%3d&se=1893456000&skn=registration",
      "SharedAccessSignature sr=0ne00000001%2Fregistrations%2Fmy-device-01"
          + "&sig=y9gFgoMKj2X8LE%2bthyYql6fZ7oq%2bMPqXAo%2flZR1mzck%3d&se=1893456000&skn=registration"})
  void verifyDevice_clientVariants_areValid(String text) {
    assertThat(verifier.verifyDevice(SasToken.parse(text), RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_expectedResourceInOtherCase_isValid() {
    SasToken token = deviceToken(RESOURCE, NOW + 3600, KEY);

    assertThat(verifier.verifyDevice(token, "0NE00000001/Registrations/MY-DEVICE-01", List.of(KEY)))
        .isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_expiredBeyondSkew_isExpired() {
    SasToken token = deviceToken(RESOURCE, NOW - SKEW.toSeconds() - 1, KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.EXPIRED);
  }

  @Test
  void verifyDevice_expiredWithinSkew_isValid() {
    SasToken token = deviceToken(RESOURCE, NOW - SKEW.toSeconds() + 1, KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_expiryExactlyAtSkewLimit_isValid() {
    SasToken token = deviceToken(RESOURCE, NOW - SKEW.toSeconds(), KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_zeroSkewAndPastExpiry_isExpired() {
    SasVerifier strict = new SasVerifier(CLOCK, Duration.ZERO);

    assertThat(strict.verifyDevice(deviceToken(RESOURCE, NOW - 1, KEY), RESOURCE, List.of(KEY)))
        .isEqualTo(SasOutcome.EXPIRED);
    assertThat(strict.verifyDevice(deviceToken(RESOURCE, NOW, KEY), RESOURCE, List.of(KEY)))
        .isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_maximalExpiry_isValid() {
    SasToken token = deviceToken(RESOURCE, Long.MAX_VALUE, KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_wrongKey_isBadSignature() {
    SasToken token = deviceToken(RESOURCE, NOW + 3600, OTHER_KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.BAD_SIGNATURE);
  }

  @Test
  void verifyDevice_noCandidateKeys_isBadSignature() {
    SasToken token = deviceToken(RESOURCE, NOW + 3600, KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of())).isEqualTo(SasOutcome.BAD_SIGNATURE);
  }

  @Test
  void verifyDevice_emptyCandidateKey_neverMatches() {
    SasToken token = deviceToken(RESOURCE, NOW + 3600, KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(new byte[0]))).isEqualTo(SasOutcome.BAD_SIGNATURE);
    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(new byte[0], KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_signedWithSecondaryKey_isValid() {
    SasToken token = deviceToken(RESOURCE, NOW + 3600, OTHER_KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY, OTHER_KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyDevice_signatureTamperedByOneBit_isBadSignature() {
    SasToken valid = deviceToken(RESOURCE, NOW + 3600, KEY);
    byte[] bytes = valid.signatureBytes();
    bytes[0] ^= 1;
    SasToken tampered = new SasToken(valid.resource(), Base64.getEncoder().encodeToString(bytes), valid.expiry(),
        null);

    assertThat(verifier.verifyDevice(tampered, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.BAD_SIGNATURE);
  }

  @Test
  void verifyDevice_expiryChangedAfterSigning_isBadSignature() {
    SasToken valid = deviceToken(RESOURCE, NOW + 3600, KEY);
    SasToken extended = new SasToken(valid.resource(), valid.signature(), Long.toString(NOW + 7200), null);

    assertThat(verifier.verifyDevice(extended, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.BAD_SIGNATURE);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "0ne00000001/registrations/other-device",
      "0ne00000002/registrations/my-device-01",
      "0ne00000001/registrations/my-device-01/extra",
      "0ne00000001/registrations/my-device-0"})
  void verifyDevice_otherResource_isWrongAudience(String resource) {
    SasToken token = deviceToken(resource, NOW + 3600, KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.WRONG_AUDIENCE);
  }

  @Test
  void verifyDevice_expiredAndWrongAudience_isExpired() {
    SasToken token = deviceToken("0ne00000002/registrations/x", NOW - 3600, OTHER_KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.EXPIRED);
  }

  @Test
  void verifyDevice_wrongAudienceAndWrongKey_isWrongAudience() {
    SasToken token = deviceToken("0ne00000002/registrations/x", NOW + 3600, OTHER_KEY);

    assertThat(verifier.verifyDevice(token, RESOURCE, List.of(KEY))).isEqualTo(SasOutcome.WRONG_AUDIENCE);
  }

  @Test
  void verifyDevice_derivedGroupKey_isValidAndGroupKeyItselfIsNot() {
    byte[] groupKey = Base64.getDecoder().decode("Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm");
    byte[] derived = DerivedKeys.derive(groupKey, "my-device-01");

    assertThat(verifier.verifyDevice(deviceToken(RESOURCE, NOW + 60, derived), RESOURCE, List.of(derived)))
        .isEqualTo(SasOutcome.VALID);
    assertThat(verifier.verifyDevice(deviceToken(RESOURCE, NOW + 60, groupKey), RESOURCE, List.of(derived)))
        .isEqualTo(SasOutcome.BAD_SIGNATURE);
  }

  @Test
  void verifyService_workedExample_isValid() {
    SasToken token = SasToken.parse("SharedAccessSignature sr=contoso-dps.azure-devices-provisioning.net"
        + "&sig=lrDh2Y80ptCNFIH5rT5T2mxr%2Fvrw8UbA7lwJDvOUWTk%3D&se=1735689600&skn=provisioningserviceowner");
    SasVerifier past = new SasVerifier(Clock.fixed(Instant.ofEpochSecond(1_735_680_000L), ZoneOffset.UTC), SKEW);

    assertThat(past.verifyService(token, Set.of(HOST), List.of(bytes0To31()))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void serviceToken_workedExample_matchesDocumentedHeader() {
    String token = SasSigner.serviceToken(HOST, "provisioningserviceowner", bytes0To31(),
        Instant.ofEpochSecond(1_735_689_600L));

    assertThat(token).isEqualTo("SharedAccessSignature sr=contoso-dps.azure-devices-provisioning.net"
        + "&sig=lrDh2Y80ptCNFIH5rT5T2mxr%2Fvrw8UbA7lwJDvOUWTk%3D&se=1735689600&skn=provisioningserviceowner");
  }

  @Test
  void verifyService_lowerCasedPercentEncodedSr_isValid() {
    // The Java service SDK lower-cases the resource, URL-encodes it and signs what it sends.
    String sr = URLEncoder.encode((HOST + "/enrollments").toLowerCase(Locale.ROOT), StandardCharsets.UTF_8);
    SasToken token = SasToken.parse(SasSigner.sign(sr, NOW + 3600, KEY, "provisioningserviceowner"));

    assertThat(sr).contains("%2F");
    assertThat(verifier.verifyService(token, Set.of("Contoso-DPS.azure-devices-provisioning.net"), List.of(KEY)))
        .isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyService_signedOverDecodedSr_isValid() {
    String decoded = HOST + "/enrollments";
    SasToken token = tokenSignedOver(decoded, URLEncoder.encode(decoded, StandardCharsets.UTF_8), KEY);

    assertThat(verifier.verifyService(token, Set.of(HOST), List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyService_signedOverLowerCasedDecodedSr_isValid() {
    String sent = "Contoso-DPS.azure-devices-provisioning.net%2FEnrollments";
    SasToken token = tokenSignedOver(HOST + "/enrollments", sent, KEY);

    assertThat(verifier.verifyService(token, Set.of(HOST), List.of(KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyService_secondaryPolicyKey_isValid() {
    SasToken token = SasToken.parse(SasSigner.sign(HOST, NOW + 60, OTHER_KEY, "policy"));

    assertThat(verifier.verifyService(token, Set.of(HOST), List.of(KEY, OTHER_KEY))).isEqualTo(SasOutcome.VALID);
  }

  @Test
  void verifyService_wrongKey_isBadSignature() {
    SasToken token = SasToken.parse(SasSigner.sign(HOST, NOW + 60, OTHER_KEY, "policy"));

    assertThat(verifier.verifyService(token, Set.of(HOST), List.of(KEY))).isEqualTo(SasOutcome.BAD_SIGNATURE);
  }

  @Test
  void verifyService_secondHostName_isValid() {
    SasToken token = SasToken.parse(SasSigner.sign("dps.example.org", NOW + 60, KEY, "policy"));

    assertThat(verifier.verifyService(token, List.of(HOST, "DPS.example.org"), List.of(KEY)))
        .isEqualTo(SasOutcome.VALID);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "other-dps.azure-devices-provisioning.net",
      "contoso-dps.azure-devices-provisioning.net.evil.example",
      "contoso-dps.azure-devices-provisioning.netx/enrollments",
      "contoso-dps.azure-devices-provisioning"})
  void verifyService_otherHost_isWrongAudience(String sr) {
    SasToken token = SasToken.parse(SasSigner.sign(sr, NOW + 60, KEY, "policy"));

    assertThat(verifier.verifyService(token, Set.of(HOST), List.of(KEY))).isEqualTo(SasOutcome.WRONG_AUDIENCE);
  }

  @Test
  void verifyService_expired_isExpired() {
    SasToken token = SasToken.parse(SasSigner.sign(HOST, NOW - 3600, KEY, "policy"));

    assertThat(verifier.verifyService(token, Set.of(HOST), List.of(KEY))).isEqualTo(SasOutcome.EXPIRED);
  }

  @Test
  void constructor_negativeSkew_throws() {
    assertThatThrownBy(() -> new SasVerifier(CLOCK, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("clockSkew");
  }

  private static SasToken deviceToken(String resource, long expiry, byte[] key) {
    return SasToken.parse(SasSigner.sign(resource, expiry, key, "registration"));
  }

  private static SasToken tokenSignedOver(String signedResource, String sentResource, byte[] key) {
    SasToken signed = SasToken.parse(SasSigner.sign(signedResource, NOW + 60, key, null));
    return new SasToken(sentResource, signed.signature(), signed.expiry(), "policy");
  }

  static byte[] bytes0To31() {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) i;
    }
    return key;
  }
}
