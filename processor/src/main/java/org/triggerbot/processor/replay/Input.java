package org.triggerbot.processor.replay;

import java.nio.charset.StandardCharsets;

/**
 * One message to replay: a line of a JSON Lines file or a record of a topic.
 *
 * @param body the Pulse body, verbatim bytes (null when the record held no readable {@code PulseMessage})
 * @param partition the topic partition it came from, or -1 for a line of a file
 * @param position the line number (from 1), or the record's offset
 * @param rawValue a topic record's value as stored, when it is not a readable {@code PulseMessage}; else null
 * @param undecodable why the record held no readable body, or null
 */
// A carrier from a source to the replay engine, read field by field and never compared or hashed as a whole, so
// the record's identity-based equality on the arrays is never used.
@SuppressWarnings("ArrayRecordComponent")
public record Input(byte[] body, int partition, long position, byte[] rawValue, String undecodable) {

  static Input line(long number, byte[] body) {
    return new Input(body, -1, number, null, null);
  }

  static Input record(int partition, long offset, byte[] body, byte[] rawValue, String undecodable) {
    return new Input(body, partition, offset, rawValue, undecodable);
  }

  /** Where it came from, for people: {@code line 12}, {@code partition 0 offset 41} (made only when asked). */
  public String where() {
    return partition < 0 ? "line " + position : "partition " + partition + " offset " + position;
  }

  /** A line of a file: a blank one is skipped silently; a topic's record is never skipped. */
  boolean skipIfBlank() {
    return partition < 0;
  }

  /** Whether the body is empty or only white space, as {@link String#isBlank()} reads it. */
  boolean blank() {
    if (!skipIfBlank() || body == null) {
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
