package org.triggerbot.buildapisim;

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
 * Strict decoding of request paths, query strings and form bodies, for both simulators.
 *
 * <p>Strict because the simulator exists to catch clients that encode badly: a malformed escape or
 * bytes that are not UTF-8 are rejected ({@link IllegalArgumentException}) rather than guessed at.
 */
public final class HttpCodec {

  private HttpCodec() {}

  /**
   * Splits a raw (still encoded) path on {@code /} and percent-decodes each segment as UTF-8.
   * Decoding after splitting keeps an encoded {@code %2F} inside its segment. {@code +} stays a
   * plus sign: it means space only in query strings and form bodies. The leading empty segment
   * of an absolute path is dropped; other empty segments (from {@code //} or a trailing
   * {@code /}) are kept, so that such paths match no route.
   */
  public static List<String> decodePathSegments(String rawPath) {
    String path = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
    List<String> segments = new ArrayList<>();
    for (String raw : path.split("/", -1)) {
      segments.add(percentDecode(raw));
    }
    return segments;
  }

  /** Percent-decodes one path segment as UTF-8; see {@link #decodePathSegments}. */
  public static String percentDecode(String raw) {
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
        // Anything else in a raw path is ASCII in practice; encode it back as UTF-8 regardless.
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

  /**
   * Decodes {@code application/x-www-form-urlencoded} text (a form body or a raw query string)
   * as UTF-8. A name given twice keeps its last value, as the Python frameworks buildapi ran on
   * did for {@code request.POST.get}. Returns an unmodifiable map in first-appearance order.
   */
  public static Map<String, String> decodeForm(String encoded) {
    if (encoded == null || encoded.isEmpty()) {
      return Map.of();
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String pair : encoded.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = equals < 0 ? pair : pair.substring(0, equals);
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      fields.put(formDecode(name), formDecode(value));
    }
    return Collections.unmodifiableMap(fields);
  }

  private static String formDecode(String raw) {
    // Not URLDecoder: it silently replaces bytes that are not UTF-8 instead of rejecting them.
    // '+' is replaced before decoding, so an encoded plus (%2B) stays a plus.
    return percentDecode(raw.replace('+', ' '));
  }
}
