package io.opendps.broker.mqtt;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The DPS MQTT request topics (register and poll) and response topics.
 *
 * <p>Request ids: {@link Request#rid()} is the <em>raw</em> {@code $rid} text exactly as it appeared in the request
 * topic, because the response must echo it byte-for-byte ({@code responseTopic(status, request.rid(), ..)});
 * {@link Request#decodedRid()} gives the percent-decoded form for logging or matching. The poll's
 * {@link Poll#operationId()} is percent-decoded, since it is looked up, never echoed.
 *
 * <p>Stateless and thread-safe; all arguments and results are non-null. Malformed register or poll topics and
 * invalid response arguments raise {@link IllegalArgumentException}.
 */
public final class DpsTopics {

  /** The only subscription filter DPS clients use. */
  public static final String RESPONSE_FILTER = "$dps/registrations/res/#";

  private static final String DPS_PREFIX = "$dps/registrations/";
  private static final String REGISTER_PATH = "$dps/registrations/PUT/iotdps-register/";
  private static final String POLL_PATH = "$dps/registrations/GET/iotdps-get-operationstatus/";
  private static final String RESPONSE_PREFIX = "$dps/registrations/res/";
  private static final String RID = "$rid";
  private static final String OPERATION_ID = "operationId";

  private DpsTopics() {}

  /**
   * A device request: a register or a poll. Exhaustive, so callers can switch over it.
   */
  public sealed interface Request permits Register, Poll {

    /**
     * The request id exactly as the client wrote it in the topic (possibly percent-encoded); echo this.
     *
     * @return the raw, non-empty {@code $rid} text
     */
    String rid();

    /**
     * The request id percent-decoded ({@code '+'} stays {@code '+'}, malformed escapes kept as written).
     *
     * @return the decoded {@code $rid}
     */
    default String decodedRid() {
      return PercentDecoding.decode(rid());
    }
  }

  /**
   * A register request, {@code $dps/registrations/PUT/iotdps-register/?$rid={rid}}.
   *
   * @param rid the raw {@code $rid} text as sent; non-empty and free of {@code & # +} and NUL
   */
  public record Register(String rid) implements Request {

    /**
     * Checks the request id.
     *
     * @throws IllegalArgumentException if {@code rid} is empty or cannot be echoed in a topic
     */
    public Register {
      checkRawRid(rid);
    }
  }

  /**
   * A poll request, {@code $dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={id}}.
   *
   * @param rid the raw {@code $rid} text as sent; non-empty and free of {@code & # +} and NUL
   * @param operationId the percent-decoded operation id; non-empty
   */
  public record Poll(String rid, String operationId) implements Request {

    /**
     * Checks the request id and the operation id.
     *
     * @throws IllegalArgumentException if either is empty or {@code rid} cannot be echoed in a topic
     */
    public Poll {
      checkRawRid(rid);
      if (Objects.requireNonNull(operationId, "operationId").isEmpty()) {
        throw new IllegalArgumentException("poll operationId is empty");
      }
    }
  }

  /**
   * Parses a register or poll topic. Query parameters may come in any order; keys are percent-decoded; unknown
   * parameters are ignored.
   *
   * @param topic a PUBLISH topic name
   * @return the request, or empty for any other topic (including other {@code $dps} topics)
   * @throws IllegalArgumentException if a register or poll topic lacks {@code $rid} (or, for a poll,
   *     {@code operationId}), has it empty or repeated, or has a {@code $rid} that cannot be echoed
   */
  public static Optional<Request> parseRequest(String topic) {
    Objects.requireNonNull(topic, "topic");
    Optional<String> registerQuery = queryAfter(topic, REGISTER_PATH);
    if (registerQuery.isPresent()) {
      Map<String, String> query = query(registerQuery.get(), "register");
      return Optional.of(new Register(required(query, RID, "register")));
    }
    Optional<String> pollQuery = queryAfter(topic, POLL_PATH);
    if (pollQuery.isPresent()) {
      Map<String, String> query = query(pollQuery.get(), "poll");
      String rid = required(query, RID, "poll");
      String operationId = PercentDecoding.decode(required(query, OPERATION_ID, "poll"));
      return Optional.of(new Poll(rid, operationId));
    }
    return Optional.empty();
  }

  /**
   * Whether a topic lies in the DPS namespace, i.e. starts with {@code $dps/registrations/}.
   *
   * @param topic a topic name
   * @return {@code true} for any {@code $dps/registrations/...} topic
   */
  public static boolean isDpsRequestTopic(String topic) {
    return topic.startsWith(DPS_PREFIX);
  }

  /**
   * Builds {@code $dps/registrations/res/{status}/?$rid={rid}}, followed by {@code &retry-after={n}} when a retry
   * interval is given. {@code $rid} comes first, as Python and .NET clients require.
   *
   * @param status the HTTP-style status, 100-599
   * @param rawRid the request id exactly as the client sent it ({@link Request#rid()}); echoed byte-for-byte
   * @param retryAfterSeconds the retry interval, 1-10 seconds, or empty
   * @return the response topic name
   * @throws IllegalArgumentException if the status or retry interval is out of range, or the rid is empty or
   *     contains {@code & # +} or NUL
   */
  public static String responseTopic(int status, String rawRid, OptionalInt retryAfterSeconds) {
    Objects.requireNonNull(retryAfterSeconds, "retryAfterSeconds");
    checkRawRid(rawRid);
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status must be 100-599: " + status);
    }
    String topic = RESPONSE_PREFIX + status + "/?" + RID + "=" + rawRid;
    if (retryAfterSeconds.isEmpty()) {
      return topic;
    }
    int retryAfter = retryAfterSeconds.getAsInt();
    if (retryAfter < 1 || retryAfter > 10) {
      throw new IllegalArgumentException("retry-after must be 1-10 seconds: " + retryAfter);
    }
    return topic + "&retry-after=" + retryAfter;
  }

  /** The query text when {@code topic} is {@code path} alone or {@code path?query}; empty for other topics. */
  private static Optional<String> queryAfter(String topic, String path) {
    if (!topic.startsWith(path)) {
      return Optional.empty();
    }
    String rest = topic.substring(path.length());
    if (rest.isEmpty()) {
      return Optional.of("");
    }
    return rest.charAt(0) == '?' ? Optional.of(rest.substring(1)) : Optional.empty();
  }

  /** Raw values by decoded key; {@code $rid} and {@code operationId} must not repeat. */
  private static Map<String, String> query(String query, String kind) {
    Map<String, String> values = new HashMap<>();
    for (String parameter : query.split("&", -1)) {
      int equals = parameter.indexOf('=');
      String key = PercentDecoding.decode(equals < 0 ? parameter : parameter.substring(0, equals));
      String value = equals < 0 ? "" : parameter.substring(equals + 1);
      boolean repeated = values.putIfAbsent(key, value) != null;
      if (repeated && (key.equals(RID) || key.equals(OPERATION_ID))) {
        throw new IllegalArgumentException(kind + " topic repeats " + key);
      }
    }
    return values;
  }

  private static String required(Map<String, String> query, String key, String kind) {
    String value = query.get(key);
    if (value == null) {
      throw new IllegalArgumentException(kind + " topic has no " + key);
    }
    if (value.isEmpty()) {
      throw new IllegalArgumentException(kind + " topic has an empty " + key);
    }
    return value;
  }

  private static void checkRawRid(String rawRid) {
    if (Objects.requireNonNull(rawRid, "rid").isEmpty()) {
      throw new IllegalArgumentException("$rid is empty");
    }
    for (int i = 0; i < rawRid.length(); i++) {
      char c = rawRid.charAt(i);
      if (c == '&' || c == '#' || c == '+' || c == '\0') {
        throw new IllegalArgumentException("$rid contains '" + (c == '\0' ? "NUL" : c) + "', which cannot be echoed");
      }
    }
  }
}
