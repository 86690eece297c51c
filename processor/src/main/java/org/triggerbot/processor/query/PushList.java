package org.triggerbot.processor.query;

import java.util.List;

/**
 * The answer of {@code GET /api/pushes}: the most recently seen pushes that have a verdict, newest first (by
 * {@code lastSeen}, then by {@code branch/revision}), from every instance's part of the state.
 *
 * @param state the filter asked for (null: every verdict)
 * @param limit the most pushes asked for
 * @param pushes at most {@code limit} pushes
 */
public record PushList(String state, int limit, List<PushSummary> pushes) {

  public PushList {
    pushes = List.copyOf(pushes);
  }
}
