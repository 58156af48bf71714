package io.opendps.broker.mqtt;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The DPS MQTT CONNECT username
 * {@code {idScope}/registrations/{registrationId}/api-version={v}[&ClientVersion=..][&k=v...]}.
 *
 * <p>Immutable and thread-safe. The canonical constructor checks the ID scope (non-empty, no {@code '/'}), the
 * registration id (DPS identifier rules: 1-128 characters of {@code A-Z a-z 0-9 - . _ :}, starting alphanumeric,
 * ending alphanumeric or {@code '-'}) and the API version (non-empty), and throws {@link IllegalArgumentException}
 * otherwise.
 *
 * @param idScope the ID scope, as sent
 * @param registrationId the registration id, as sent (case preserved)
 * @param apiVersion the percent-decoded {@code api-version} value
 * @param clientVersion the percent-decoded {@code ClientVersion} value; {@code null} when absent
 * @param parameters every query parameter, keys and values percent-decoded, including {@code api-version} and
 *     {@code ClientVersion}; unmodifiable
 */
public record DpsUsername(
    String idScope,
    String registrationId,
    String apiVersion,
    @Nullable String clientVersion,
    Map<String, String> parameters) {

  /** The query key of the API version; matched case-sensitively, as every client sends it. */
  static final String API_VERSION = "api-version";
  /** The query key of the client version; matched case-sensitively, as every client sends it. */
  static final String CLIENT_VERSION = "ClientVersion";
  private static final String REGISTRATIONS = "registrations/";
  private static final Pattern REGISTRATION_ID =
      Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$");

  /**
   * Checks and copies the components.
   *
   * @throws IllegalArgumentException if the ID scope, registration id or API version is invalid
   */
  public DpsUsername {
    checkIdScope(Objects.requireNonNull(idScope, "idScope"));
    checkRegistrationId(Objects.requireNonNull(registrationId, "registrationId"));
    if (Objects.requireNonNull(apiVersion, "apiVersion").isEmpty()) {
      throw new IllegalArgumentException("DPS username has an empty api-version");
    }
    parameters = Map.copyOf(Objects.requireNonNull(parameters, "parameters"));
  }

  /**
   * Parses a username: the ID scope is the text before the first {@code '/'}, then the literal
   * {@code registrations/}, then the registration id up to the next {@code '/'}; the remainder is an
   * {@code &}-separated query whose values may contain raw {@code '/'}. Keys and values are percent-decoded
   * ({@code '+'} stays {@code '+'}; malformed escapes are kept as written); a parameter without {@code '='} has an
   * empty value; unknown keys are kept in {@link #parameters()} and otherwise ignored.
   *
   * @param username the MQTT CONNECT username
   * @return the parsed username
   * @throws IllegalArgumentException naming the missing or invalid part: no {@code '/'}, no {@code registrations/}
   *     segment, no query after the registration id, an empty ID scope, an invalid registration id, a repeated
   *     parameter, or a missing or empty {@code api-version}
   */
  public static DpsUsername parse(String username) {
    Objects.requireNonNull(username, "username");
    int scopeEnd = username.indexOf('/');
    if (scopeEnd < 0) {
      throw new IllegalArgumentException(
          "DPS username has no '/' (expected {idScope}/registrations/{registrationId}/api-version=...)");
    }
    String idScope = username.substring(0, scopeEnd);
    checkIdScope(idScope);
    String rest = username.substring(scopeEnd + 1);
    if (!rest.startsWith(REGISTRATIONS)) {
      throw new IllegalArgumentException("DPS username lacks \"registrations/\" after the ID scope");
    }
    rest = rest.substring(REGISTRATIONS.length());
    int idEnd = rest.indexOf('/');
    String registrationId = idEnd < 0 ? rest : rest.substring(0, idEnd);
    checkRegistrationId(registrationId);
    if (idEnd < 0) {
      throw new IllegalArgumentException("DPS username lacks \"/api-version=...\" after the registration id");
    }
    Map<String, String> parameters = query(rest.substring(idEnd + 1));
    String apiVersion = parameters.get(API_VERSION);
    if (apiVersion == null) {
      throw new IllegalArgumentException("DPS username is missing api-version");
    }
    return new DpsUsername(idScope, registrationId, apiVersion, parameters.get(CLIENT_VERSION), parameters);
  }

  private static Map<String, String> query(String query) {
    Map<String, String> parameters = new LinkedHashMap<>();
    for (String parameter : query.split("&", -1)) {
      if (parameter.isEmpty()) {
        continue;
      }
      int equals = parameter.indexOf('=');
      String key = PercentDecoding.decode(equals < 0 ? parameter : parameter.substring(0, equals));
      String value = equals < 0 ? "" : PercentDecoding.decode(parameter.substring(equals + 1));
      if (parameters.putIfAbsent(key, value) != null) {
        throw new IllegalArgumentException(
            "DPS username repeats parameter \"" + PercentDecoding.abbreviate(key) + "\"");
      }
    }
    return parameters;
  }

  private static void checkIdScope(String idScope) {
    if (idScope.isEmpty()) {
      throw new IllegalArgumentException("DPS username has an empty ID scope");
    }
    if (idScope.indexOf('/') >= 0) {
      throw new IllegalArgumentException("ID scope must not contain '/'");
    }
  }

  private static void checkRegistrationId(String registrationId) {
    if (registrationId.isEmpty()) {
      throw new IllegalArgumentException("DPS username has an empty registration id");
    }
    if (!REGISTRATION_ID.matcher(registrationId).matches()) {
      throw new IllegalArgumentException("invalid registration id \"" + PercentDecoding.abbreviate(registrationId)
          + "\": 1-128 characters of A-Z a-z 0-9 - . _ :, starting alphanumeric, ending alphanumeric or '-'");
    }
  }
}
