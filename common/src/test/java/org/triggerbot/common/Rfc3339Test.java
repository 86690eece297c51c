package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link PulseEnvelope#rfc3339Millis} scans by hand; the pattern it replaced is the reference: on valid times,
 * every single-character mutation of them and random junk, both read the same instant or refuse alike.
 */
class Rfc3339Test {

  private static final Pattern RFC3339 = Pattern.compile(
      "^(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?([Zz]|[+-]\\d{2}:\\d{2})$");

  /** The pattern-based reading, as it was. */
  private static Long reference(String text) {
    Matcher m = RFC3339.matcher(text);
    if (!m.matches()) {
      return null;
    }
    try {
      int second = Integer.parseInt(m.group(6));
      LocalDateTime local = LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
          Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
          Math.min(second, 59));
      if (second == 60) {
        local = local.plusSeconds(1);
      }
      String fraction = m.group(7) == null ? "" : m.group(7);
      int millis = fraction.isEmpty() ? 0 : Integer.parseInt((fraction + "00").substring(0, 3));
      String zone = m.group(8);
      ZoneOffset offset = zone.equalsIgnoreCase("Z") ? ZoneOffset.UTC : ZoneOffset.of(zone);
      return local.toInstant(offset).toEpochMilli() + millis;
    } catch (DateTimeException | ArithmeticException e) {
      return null;
    }
  }

  @Test
  void readsExactlyAsThePatternDid() {
    String[] valid = {"2015-06-01T10:00:00Z", "2015-06-01t10:00:00z", "2015-06-30T23:59:60Z",
        "2015-06-01T10:00:00.9999999999Z", "2015-06-01T10:00:00.5+02:00", "1999-12-31T23:59:59-11:30",
        "2015-06-01T10:00:00.123456+00:00", "2016-02-29T00:00:00Z", "9999-12-31T23:59:59.999Z"};
    String alphabet = "0123456789-:TtZz.+ x٣\n";
    Random random = new Random(42);
    int compared = 0;
    for (String v : valid) {
      assertEquals(reference(v), PulseEnvelope.rfc3339Millis(v), v);
      for (int i = 0; i <= v.length(); i++) {
        for (int k = 0; k < alphabet.length(); k++) {
          char c = alphabet.charAt(k);
          String replaced = i < v.length() ? v.substring(0, i) + c + v.substring(i + 1) : v + c;
          String inserted = v.substring(0, i) + c + v.substring(i);
          String deleted = i < v.length() ? v.substring(0, i) + v.substring(i + 1) : v.substring(0, i - 1);
          for (String s : new String[] {replaced, inserted, deleted}) {
            assertEquals(reference(s), PulseEnvelope.rfc3339Millis(s), s);
            compared++;
          }
        }
      }
    }
    for (int i = 0; i < 20_000; i++) {
      StringBuilder s = new StringBuilder();
      int length = random.nextInt(30);
      for (int j = 0; j < length; j++) {
        s.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      assertEquals(reference(s.toString()), PulseEnvelope.rfc3339Millis(s.toString()), s.toString());
      compared++;
    }
    assertEquals(true, compared > 30_000);
  }
}
