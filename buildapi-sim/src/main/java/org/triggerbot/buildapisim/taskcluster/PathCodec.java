package org.triggerbot.buildapisim.taskcluster;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict decoding of request paths and query strings: a malformed escape or bytes that are not UTF-8 are rejected
 * ({@link IllegalArgumentException}), so that a client that encodes badly is caught rather than guessed at.
 */
final class PathCodec {

  private PathCodec() {}

  /**
   * Splits a raw path on {@code /} and then percent-decodes each segment, so that an encoded {@code %2F} (a hook id
   * such as {@code in-tree-action-1-generic%2Fbb2dee27f9}) stays inside its segment. The leading {@code /} is
   * dropped; empty segments (from {@code //} or a trailing {@code /}) are kept and match no route.
   */
  static List<String> segments(String rawPath) {
    String path = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
    List<String> segments = new ArrayList<>();
    for (String raw : path.split("/", -1)) {
      segments.add(decode(raw));
    }
    return segments;
  }

  /** A raw query string's parameters ({@code +} is a space; the last value of a name wins); empty for null. */
  static Map<String, String> query(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return Map.of();
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = equals < 0 ? pair : pair.substring(0, equals);
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      fields.put(decode(name.replace('+', ' ')), decode(value.replace('+', ' ')));
    }
    return Collections.unmodifiableMap(fields);
  }

  /** Percent-decodes {@code raw} as UTF-8 ({@code +} stays a plus sign). */
  static String decode(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          throw new IllegalArgumentException("truncated percent escape in '" + raw + "'");
        }
        int high = Character.digit(raw.charAt(i + 1), 16);
        int low = Character.digit(raw.charAt(i + 2), 16);
        if (high < 0 || low < 0) {
          throw new IllegalArgumentException("invalid percent escape in '" + raw + "'");
        }
        bytes.write(high << 4 | low);
        i += 2;
      } else {
        byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        bytes.write(encoded, 0, encoded.length);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("percent escapes in '" + raw + "' are not UTF-8", e);
    }
  }
}
