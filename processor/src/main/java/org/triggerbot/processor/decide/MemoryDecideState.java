package org.triggerbot.processor.decide;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongPredicate;
import org.triggerbot.processor.policy.GlobalWindow;
import org.triggerbot.processor.policy.TriggerKind;
import org.triggerbot.processor.policy.Verdicts;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.BuilderVerdict;

/**
 * {@link DecideState} in plain maps, for an offline replay: the states are kept as the objects the policy
 * mutates, never serialized. Memory is bounded by the pushes alive at once (the sweep forgets the others), not by
 * the input's length.
 *
 * <p>With {@code keepVerdictEntries}, it also keeps each push's verdict entries (one per test builder, in order
 * of first appearance) up to date as builders are written, so that a verdict record costs no scan of the push.
 */
public final class MemoryDecideState implements DecideState {

  private static final class Push {
    PushState state;
    final Map<String, BuilderState> builders = new HashMap<>();
    final Set<String> seen = new HashSet<>();
    final Map<String, BuilderVerdict> verdictEntries = new LinkedHashMap<>();
  }

  private final Map<String, Push> pushes = new HashMap<>();
  private final MemoryWindow window = new MemoryWindow();
  private final boolean keepVerdictEntries;
  /** No push was last seen before this: a sweep that would delete none of them need not look. */
  private long earliestLastSeen = Long.MAX_VALUE;

  public MemoryDecideState(boolean keepVerdictEntries) {
    this.keepVerdictEntries = keepVerdictEntries;
  }

  /** Forgets everything, the global window included. */
  public void clear() {
    pushes.clear();
    window.purgeBefore(Long.MAX_VALUE);
    earliestLastSeen = Long.MAX_VALUE;
  }

  /**
   * The verdict entry of every test builder of the push, in order of first appearance (kept only with
   * {@code keepVerdictEntries}).
   */
  public Collection<BuilderVerdict> verdictEntries(String pushKey) {
    if (!keepVerdictEntries) {
      throw new IllegalStateException("this state does not keep verdict entries");
    }
    Push p = pushes.get(pushKey);
    return p == null ? List.of() : p.verdictEntries.values();
  }

  @Override
  public PushState push(String pushKey) {
    Push p = pushes.get(pushKey);
    return p == null ? null : p.state;
  }

  @Override
  public void putPush(String pushKey, PushState push) {
    pushes.computeIfAbsent(pushKey, k -> new Push()).state = push;
    earliestLastSeen = Math.min(earliestLastSeen, push.getLastSeen()); // a push's last-seen time only grows
  }

  @Override
  public BuilderState builder(String pushKey, String builder) {
    Push p = pushes.get(pushKey);
    return p == null ? null : p.builders.get(builder);
  }

  @Override
  public void putBuilder(String pushKey, String builder, BuilderState state) {
    Push p = pushes.computeIfAbsent(pushKey, k -> new Push());
    p.builders.put(builder, state);
    if (keepVerdictEntries && state.getTestJob() && state.getClassification() != null) {
      // A new builder goes last, which is its order of appearance; a known one keeps its place.
      p.verdictEntries.put(builder, Verdicts.builderVerdict(builder, state));
    }
  }

  @Override
  public boolean seen(String pushKey, String routingKey) {
    Push p = pushes.get(pushKey);
    return p != null && p.seen.contains(routingKey);
  }

  @Override
  public void markSeen(String pushKey, String routingKey, long eventTime) {
    pushes.computeIfAbsent(pushKey, k -> new Push()).seen.add(routingKey);
  }

  @Override
  public void forget(String pushKey) {
    pushes.remove(pushKey);
  }

  @Override
  public List<String> pushesLastSeen(LongPredicate lastSeen) {
    List<String> found = new ArrayList<>();
    if (pushes.isEmpty() || !lastSeen.test(earliestLastSeen)) {
      return found; // the sweep runs every stream hour; most find nothing, and need not scan every push to know
    }
    long earliest = Long.MAX_VALUE;
    for (Map.Entry<String, Push> e : pushes.entrySet()) {
      PushState state = e.getValue().state;
      if (state != null && lastSeen.test(state.getLastSeen())) {
        found.add(e.getKey());
      } else if (state != null) {
        earliest = Math.min(earliest, state.getLastSeen());
      }
    }
    earliestLastSeen = earliest;
    return found;
  }

  @Override
  public GlobalWindow window() {
    return window;
  }

  @Override
  public void purgeWindowBefore(long before) {
    window.purgeBefore(before);
  }

  /** Jobs per kind and event time; entries at the same time add up (each id is recorded once). */
  private static final class MemoryWindow implements GlobalWindow {
    private final Map<TriggerKind, NavigableMap<Long, Long>> byKind = new EnumMap<>(TriggerKind.class);

    MemoryWindow() {
      for (TriggerKind kind : TriggerKind.values()) {
        byKind.put(kind, new TreeMap<>());
      }
    }

    @Override
    public long jobs(TriggerKind kind, long fromExclusive, long toInclusive) {
      if (toInclusive <= fromExclusive || toInclusive < 0) {
        return 0;
      }
      long jobs = 0;
      // As the store's window: event times before 1970 are never counted.
      for (long j : byKind.get(kind).subMap(Math.max(-1, fromExclusive), false, toInclusive, true).values()) {
        jobs += j;
      }
      return jobs;
    }

    @Override
    public void record(TriggerKind kind, long eventTime, String id, int jobs) {
      byKind.get(kind).merge(eventTime, (long) jobs, Long::sum);
    }

    void purgeBefore(long before) {
      for (NavigableMap<Long, Long> times : byKind.values()) {
        times.headMap(before, false).clear();
      }
    }
  }
}
