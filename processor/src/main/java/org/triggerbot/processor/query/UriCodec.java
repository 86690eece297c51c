package org.triggerbot.processor.query;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Percent-encoding of URL paths and query strings (RFC 3986), strict both ways. Not {@link java.net.URLDecoder}:
 * that one reads {@code +} as a space, which is right for a query string but wrong for a path, where {@code +} is
 * itself (a branch may contain one), and it replaces malformed UTF-8 silently where a 400 is the honest answer.
 */
final class UriCodec {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private UriCodec() {}

  /** Decodes one path segment (or several joined by {@code /}): {@code %XX} escapes, UTF-8; {@code +} stays. */
  static String decodePath(String raw) throws BadRequest {
    return decode(raw, false);
  }

  /** Decodes a query-string name or value: as {@link #decodePath}, and {@code +} is a space (HTML forms). */
  static String decodeQuery(String raw) throws BadRequest {
    return decode(raw, true);
  }

  /**
   * Encodes {@code text} as one path segment: everything but the unreserved characters
   * ({@code A-Z a-z 0-9 - . _ ~}) as {@code %XX} of its UTF-8 bytes, so a {@code /} inside it stays inside it.
   */
  static String encodeSegment(String text) {
    StringBuilder out = new StringBuilder(text.length() + 8);
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
          || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return out.toString();
  }

  /**
   * Encodes a branch for a path: each {@code /}-separated part as a segment, the {@code /} kept, so links read
   * {@code /pushes/releases/mozilla-beta/0123456789ab} (the push page takes the last segment as the revision).
   */
  static String encodeBranch(String branch) {
    StringBuilder out = new StringBuilder(branch.length() + 8);
    int start = 0;
    while (true) {
      int slash = branch.indexOf('/', start);
      out.append(encodeSegment(slash < 0 ? branch.substring(start) : branch.substring(start, slash)));
      if (slash < 0) {
        return out.toString();
      }
      out.append('/');
      start = slash + 1;
    }
  }

  private static String decode(String raw, boolean plusIsSpace) throws BadRequest {
    if (raw.indexOf('%') < 0 && !(plusIsSpace && raw.indexOf('+') >= 0)) {
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int lo = hi < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
        if (lo < 0) {
          throw new BadRequest("malformed percent-encoding in " + BadRequest.quote(raw)
              + ": % must be followed by two hex digits");
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else if (c == '+' && plusIsSpace) {
        bytes.write(' ');
      } else {
        // A character sent unencoded (ASCII as a rule; a whole code point, so a surrogate pair stays one).
        int cp = raw.codePointAt(i);
        byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        bytes.write(utf8, 0, utf8.length);
        i += Character.charCount(cp) - 1;
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw new BadRequest("the percent-encoded bytes of " + BadRequest.quote(raw) + " are not UTF-8");
    }
  }
}
