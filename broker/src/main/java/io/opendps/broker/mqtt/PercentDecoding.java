package io.opendps.broker.mqtt;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Lenient percent-decoding for MQTT usernames and topic queries. {@code %XX} (hex in either case) sequences are
 * decoded as UTF-8 (invalid UTF-8 becomes U+FFFD); a {@code '%'} not followed by two hex digits is kept as written,
 * because some clients (Embedded C with a raw user agent) send unencoded values. {@code '+'} stays {@code '+'}.
 * Never throws; stateless and thread-safe.
 */
final class PercentDecoding {

  private PercentDecoding() {}

  static String decode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    ByteArrayOutputStream pending = new ByteArrayOutputStream();
    int i = 0;
    while (i < text.length()) {
      int escaped = escapedByteAt(text, i);
      if (escaped >= 0) {
        pending.write(escaped);
        i += 3;
      } else {
        flush(pending, out);
        out.append(text.charAt(i));
        i++;
      }
    }
    flush(pending, out);
    return out.toString();
  }

  /** The byte escaped at {@code index}, or -1 when no well-formed {@code %XX} starts there. */
  private static int escapedByteAt(String text, int index) {
    if (text.charAt(index) != '%' || index + 2 >= text.length()) {
      return -1;
    }
    int high = hexValue(text.charAt(index + 1));
    int low = hexValue(text.charAt(index + 2));
    return high < 0 || low < 0 ? -1 : high << 4 | low;
  }

  private static int hexValue(char c) {
    return c < 0x80 ? Character.digit(c, 16) : -1;
  }

  private static void flush(ByteArrayOutputStream pending, StringBuilder out) {
    if (pending.size() > 0) {
      out.append(new String(pending.toByteArray(), StandardCharsets.UTF_8));
      pending.reset();
    }
  }

  /** Abbreviates untrusted text for exception messages. */
  static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }
}
