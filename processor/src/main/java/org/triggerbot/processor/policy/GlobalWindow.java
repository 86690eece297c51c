package org.triggerbot.processor.policy;

/**
 * The jobs triggered (or dry-run triggered) across all pushes, by kind and event time: what the global hourly
 * limits (SPEC section 4, rule 6) are checked against.
 */
public interface GlobalWindow {

  /** Jobs of {@code kind} recorded with event times in {@code (fromExclusive, toInclusive]}. */
  long jobs(TriggerKind kind, long fromExclusive, long toInclusive);

  /** Records {@code jobs} jobs of {@code kind} at {@code eventTime}; {@code id} makes the entry unique. */
  void record(TriggerKind kind, long eventTime, String id, int jobs);
}
