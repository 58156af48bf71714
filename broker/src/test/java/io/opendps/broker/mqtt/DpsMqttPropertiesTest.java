package io.opendps.broker.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.broker.mqtt.DpsTopics.Poll;
import io.opendps.broker.mqtt.DpsTopics.Register;
import io.opendps.broker.mqtt.DpsTopics.Request;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.jspecify.annotations.Nullable;

class DpsMqttPropertiesTest {

  private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  /** Characters a value may hold, including every character that needs encoding in a query. */
  private static final String VALUE_CHARS = ALNUM + " /&=%+?#;:()$\u00e9\u20ac-._~";

  @Property
  void parse_formattedUsername_roundTrips(@ForAll("usernames") DpsUsername username) {
    assertThat(DpsUsername.parse(format(username))).isEqualTo(username);
  }

  @Property
  void parse_rawUnencodedValues_roundTrip(
      @ForAll("registrationIds") String registrationId,
      @ForAll("rawValues") String apiVersion,
      @ForAll("rawValues") String clientVersion) {
    String text = "0ne00000001/registrations/" + registrationId + "/api-version=" + apiVersion
        + "&ClientVersion=" + clientVersion;

    DpsUsername username = DpsUsername.parse(text);

    assertThat(username.registrationId()).isEqualTo(registrationId);
    assertThat(username.apiVersion()).isEqualTo(apiVersion);
    assertThat(username.clientVersion()).isEqualTo(clientVersion);
  }

  @Property
  void parseRequest_formattedRegister_roundTripsAndEchoesRawRid(
      @ForAll("rids") String rid, @ForAll boolean encodeKey, @ForAll @IntRange(min = 1, max = 10) int retryAfter) {
    String rawRid = encode(rid);
    String topic = "$dps/registrations/PUT/iotdps-register/?" + (encodeKey ? "%24rid" : "$rid") + "=" + rawRid;

    Request request = DpsTopics.parseRequest(topic).orElseThrow();

    assertThat(request).isEqualTo(new Register(rawRid));
    assertThat(request.decodedRid()).isEqualTo(rid);
    assertThat(DpsTopics.responseTopic(202, request.rid(), OptionalInt.of(retryAfter)))
        .isEqualTo("$dps/registrations/res/202/?$rid=" + rawRid + "&retry-after=" + retryAfter);
  }

  @Property
  void parseRequest_formattedPoll_roundTripsInEitherOrder(
      @ForAll("rids") String rid, @ForAll("rids") String operationId, @ForAll boolean operationIdFirst) {
    String ridParameter = "$rid=" + encode(rid);
    String operationParameter = "operationId=" + encode(operationId);
    String query = operationIdFirst ? operationParameter + "&" + ridParameter : ridParameter + "&" + operationParameter;

    Request request = DpsTopics.parseRequest("$dps/registrations/GET/iotdps-get-operationstatus/?" + query)
        .orElseThrow();

    assertThat(request).isEqualTo(new Poll(encode(rid), operationId));
    assertThat(request.decodedRid()).isEqualTo(rid);
    assertThat(DpsTopics.responseTopic(200, request.rid(), OptionalInt.empty()))
        .isEqualTo("$dps/registrations/res/200/?$rid=" + encode(rid));
  }

  @Property(tries = 2000)
  void parse_arbitraryUsername_throwsOnlyIllegalArgumentException(@ForAll("usernameLikeTexts") String text) {
    try {
      DpsUsername username = DpsUsername.parse(text);
      assertThat(username.apiVersion()).isNotEmpty();
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  @Property(tries = 2000)
  void parseRequest_arbitraryTopic_throwsOnlyIllegalArgumentException(@ForAll("topicLikeTexts") String text) {
    try {
      DpsTopics.parseRequest(text).ifPresent(request ->
          assertThat(DpsTopics.responseTopic(200, request.rid(), OptionalInt.empty())).contains(request.rid()));
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  @Provide
  Arbitrary<DpsUsername> usernames() {
    Arbitrary<String> scopes = Arbitraries.strings().withChars(ALNUM).ofMinLength(1).ofMaxLength(16);
    Arbitrary<String> values = Arbitraries.strings().withChars(VALUE_CHARS).ofMaxLength(30);
    Arbitrary<String> apiVersions = values.filter(v -> !v.isEmpty());
    Arbitrary<@Nullable String> clientVersions = values.injectNull(0.3);
    Arbitrary<Map<String, String>> extras = Arbitraries.maps(apiVersions, values).ofMaxSize(3)
        .map(DpsMqttPropertiesTest::withoutKnownKeys);
    return Combinators.combine(scopes, registrationIds(), apiVersions, clientVersions, extras)
        .as(DpsMqttPropertiesTest::username);
  }

  @Provide
  Arbitrary<String> registrationIds() {
    Arbitrary<Character> first = Arbitraries.of(ALNUM.toCharArray());
    Arbitrary<String> middle = Arbitraries.strings().withChars(ALNUM + "._:-").ofMaxLength(126);
    Arbitrary<Character> last = Arbitraries.of((ALNUM + "-").toCharArray());
    Arbitrary<String> longIds = Combinators.combine(first, middle, last).as((f, m, l) -> f + m + l);
    return Arbitraries.oneOf(first.map(String::valueOf), longIds);
  }

  @Provide
  Arbitrary<String> rawValues() {
    return Arbitraries.strings().withChars(ALNUM + "/=:;() .-_").ofMinLength(1).ofMaxLength(30);
  }

  @Provide
  Arbitrary<String> rids() {
    Arbitrary<String> integers = Arbitraries.integers().between(1, 65_535).map(String::valueOf);
    Arbitrary<String> uuids = Arbitraries.create(() -> UUID.randomUUID().toString());
    Arbitrary<String> anything = Arbitraries.strings().withChars(VALUE_CHARS).ofMinLength(1).ofMaxLength(20);
    return Arbitraries.oneOf(integers, uuids, anything);
  }

  @Provide
  Arbitrary<String> usernameLikeTexts() {
    Arbitrary<String> noise = Arbitraries.strings().withChars("ab01/&=%-._:").ofMaxLength(12);
    Arbitrary<String> structured = Combinators.combine(noise, Arbitraries.of("registrations/", "registration/", ""),
            noise, Arbitraries.of("/api-version=", "/", "/ClientVersion=", ""), noise)
        .as((a, b, c, d, e) -> a + "/" + b + c + d + e);
    return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(80), structured);
  }

  @Provide
  Arbitrary<String> topicLikeTexts() {
    Arbitrary<String> noise = Arbitraries.strings().withChars("ab01&=%$#+?/-").ofMaxLength(12);
    Arbitrary<String> structured = Combinators.combine(
            Arbitraries.of("$dps/registrations/PUT/iotdps-register/", "$dps/registrations/GET/iotdps-get-operationstatus/",
                "$dps/registrations/res/", "$dps/registrations/"),
            Arbitraries.of("?", "", "?$rid=", "?operationId=", "?%24rid="), noise,
            Arbitraries.of("&operationId=", "&$rid=", "&", ""), noise)
        .as((a, b, c, d, e) -> a + b + c + d + e);
    return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(80), structured);
  }

  private static Map<String, String> withoutKnownKeys(Map<String, String> map) {
    return map.entrySet().stream()
        .filter(e -> !e.getKey().equals(DpsUsername.API_VERSION) && !e.getKey().equals(DpsUsername.CLIENT_VERSION))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  private static DpsUsername username(String scope, String registrationId, String apiVersion,
      @Nullable String clientVersion, Map<String, String> extras) {
    Map<String, String> parameters = new LinkedHashMap<>(extras);
    parameters.put(DpsUsername.API_VERSION, apiVersion);
    if (clientVersion != null) {
      parameters.put(DpsUsername.CLIENT_VERSION, clientVersion);
    }
    return new DpsUsername(scope, registrationId, apiVersion, clientVersion, parameters);
  }

  /** Formats a username the way Python does: every key and value percent-encoded. */
  private static String format(DpsUsername username) {
    String query = username.parameters().entrySet().stream()
        .map(e -> encode(e.getKey()) + "=" + encode(e.getValue()))
        .collect(Collectors.joining("&"));
    return username.idScope() + "/registrations/" + username.registrationId() + "/" + query;
  }

  /** Percent-encodes like Python's {@code quote(s, safe="")}: spaces become {@code %20}, never {@code +}. */
  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
