package io.opendps.core.sas;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict percent-decoding ({@code %XX}, hex in either case) of SAS token values. A {@code '+'} stays a
 * {@code '+'}; it is never turned into a space. Stateless and thread-safe.
 */
final class PercentDecoding {

  private PercentDecoding() {}

  /**
   * Decodes {@code text}; escaped bytes are read as UTF-8, other characters are kept as they are.
   *
   * @throws IllegalArgumentException if a {@code '%'} is not followed by two hex digits or the escaped bytes are
   *     not valid UTF-8; the message does not repeat the text
   */
  static String decode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    ByteArrayOutputStream pending = new ByteArrayOutputStream();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '%') {
        pending.write(escapedByte(text, i));
        i += 3;
      } else {
        flush(pending, out);
        out.append(c);
        i++;
      }
    }
    flush(pending, out);
    return out.toString();
  }

  private static int escapedByte(String text, int percentIndex) {
    if (percentIndex + 2 >= text.length()) {
      throw new IllegalArgumentException("'%' at index " + percentIndex + " is not followed by two hex digits");
    }
    int high = hexValue(text.charAt(percentIndex + 1));
    int low = hexValue(text.charAt(percentIndex + 2));
    if (high < 0 || low < 0) {
      throw new IllegalArgumentException("'%' at index " + percentIndex + " is not followed by two hex digits");
    }
    return high << 4 | low;
  }

  private static int hexValue(char c) {
    return c < 0x80 ? Character.digit(c, 16) : -1;
  }

  private static void flush(ByteArrayOutputStream pending, StringBuilder out) {
    if (pending.size() == 0) {
      return;
    }
    try {
      out.append(StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(pending.toByteArray())));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("percent-escaped bytes are not valid UTF-8", e);
    }
    pending.reset();
  }
}
