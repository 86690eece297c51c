package org.triggerbot.processor.replay;

import java.nio.charset.StandardCharsets;

/**
 * One message to replay: a line of a JSON Lines file or a record of a topic.
 *
 * @param body the Pulse body, verbatim bytes (null when the record held no readable {@code PulseMessage})
 * @param where where it came from, for people: {@code line 12}, {@code partition 0 offset 41}
 * @param skipIfBlank whether a blank body is skipped silently (lines of a file), rather than rejected
 * @param rawValue a topic record's value as stored, when it is not a readable {@code PulseMessage}; else null
 * @param undecodable why the record held no readable body, or null
 */
public record Input(byte[] body, String where, boolean skipIfBlank, byte[] rawValue, String undecodable) {

  static Input line(long number, byte[] body) {
    return new Input(body, "line " + number, true, null, null);
  }

  /** Whether the body is empty or only white space, as {@link String#isBlank()} reads it. */
  boolean blank() {
    if (!skipIfBlank || body == null) {
      return false;
    }
    for (byte b : body) {
      if (b < 0) {
        return new String(body, StandardCharsets.UTF_8).isBlank(); // non-ASCII: decode to judge, as a reader would
      }
      if (!Character.isWhitespace(b)) {
        return false;
      }
    }
    return true;
  }
}
