package org.triggerbot.buildapisim.taskcluster;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Taskcluster task ids ("slugids"), made as the {@code slugid} library's {@code nice()} makes them, so that code
 * which validates or parses ids meets the real format.
 *
 * <p>A nice slugid is a random (version 4) UUID in URL-safe base64 without padding (22 characters) whose first
 * byte has its top bit cleared, so that the id never starts with {@code -} (a command-line option to many tools).
 */
public final class Slugid {

  /**
   * What every nice slugid matches: the first character from {@code [A-Za-f]} (top bit clear), the version nibble 4
   * in the ninth character, the variant bits {@code 10} in the eleventh, and the last character carrying only two
   * bits.
   */
  public static final Pattern NICE =
      Pattern.compile("^[A-Za-f][A-Za-z0-9_-]{7}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$");

  private static final SecureRandom RANDOM = new SecureRandom();

  private Slugid() {}

  /** A new random nice slugid. */
  public static String nice() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80); // IETF variant
    bytes[0] = (byte) (bytes[0] & 0x7f); // nice: never a leading '-'
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
