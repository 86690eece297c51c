package org.triggerbot.processor.topology;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.triggerbot.processor.policy.GlobalWindow;
import org.triggerbot.processor.policy.TriggerKind;

/**
 * {@link GlobalWindow} on a key-value store whose keys sort by kind, then event time: {@code K|time|id} with the
 * time zero-padded to 19 digits, so a window is one range scan. Event times before 1970 are not supported.
 */
final class StoreGlobalWindow implements GlobalWindow {

  private final KeyValueStore<String, Integer> store;

  StoreGlobalWindow(KeyValueStore<String, Integer> store) {
    this.store = store;
  }

  @Override
  public long jobs(TriggerKind kind, long fromExclusive, long toInclusive) {
    if (toInclusive <= fromExclusive || toInclusive < 0) {
      return 0;
    }
    long jobs = 0;
    try (KeyValueIterator<String, Integer> it =
        store.range(lower(kind, Math.max(0, fromExclusive + 1)), upper(kind, toInclusive))) {
      while (it.hasNext()) {
        jobs += it.next().value;
      }
    }
    return jobs;
  }

  @Override
  public void record(TriggerKind kind, long eventTime, String id, int jobs) {
    store.put(lower(kind, eventTime) + id, jobs);
  }

  /** Deletes entries of both kinds with event times before {@code before}. */
  void purgeBefore(long before) {
    if (before <= 0) {
      return;
    }
    for (TriggerKind kind : TriggerKind.values()) {
      java.util.List<String> old = new java.util.ArrayList<>();
      try (KeyValueIterator<String, Integer> it = store.range(lower(kind, 0), upper(kind, before - 1))) {
        while (it.hasNext()) {
          KeyValue<String, Integer> kv = it.next();
          old.add(kv.key);
        }
      }
      old.forEach(store::delete);
    }
  }

  private static String lower(TriggerKind kind, long time) {
    return kind.name().charAt(0) + "|" + String.format("%019d", time) + "|";
  }

  private static String upper(TriggerKind kind, long time) {
    return lower(kind, time) + '\uffff';
  }
}
