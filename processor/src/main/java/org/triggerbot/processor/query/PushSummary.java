package org.triggerbot.processor.query;

import java.util.Map;

/**
 * One push in the list of recent pushes ({@code GET /api/pushes}): the push's headline without its builders.
 *
 * @param branch the push's branch
 * @param revision its revision, 12 characters
 * @param verdict its SPEC 4.1 verdict (never null: the list shows pushes with a verdict only)
 * @param verdictUpdatedAt when the verdict last changed
 * @param lastSeen the push's latest event: the list is newest first by this
 * @param pusher who pushed (may be null)
 * @param jobsOnPush {@code J}
 * @param failuresOnPush {@code f}
 * @param classifications test builders per classification, every classification listed (0 when none)
 */
public record PushSummary(String branch, String revision, String verdict, String verdictUpdatedAt, String lastSeen,
    String pusher, int jobsOnPush, int failuresOnPush, Map<String, Integer> classifications) {

  /** The push's key, {@code branch/revision}: the tie-breaker of the list's order. */
  public String key() {
    return branch + "/" + revision;
  }
}
