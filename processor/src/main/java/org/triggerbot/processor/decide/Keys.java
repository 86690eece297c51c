package org.triggerbot.processor.decide;

import org.triggerbot.common.PushKey;

/**
 * Record and store keys. A push key is {@code branch/revision} with the revision exactly 12 hex characters, so
 * {@code push + "/"} is an unambiguous prefix of every builder and routing-key entry of that push, even for
 * branch names that contain {@code /}.
 */
public final class Keys {
  private Keys() {}

  /** The push key of an event's branch and (12-character) revision: {@link PushKey#of}, the key of pulse.raw. */
  public static String push(String branch, String revision) {
    return PushKey.of(branch, revision);
  }

  public static String under(String pushKey, String name) {
    return pushKey + "/" + name;
  }

  public static String prefix(String pushKey) {
    return pushKey + "/";
  }
}
