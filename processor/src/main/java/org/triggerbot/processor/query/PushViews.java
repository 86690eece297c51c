package org.triggerbot.processor.query;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.triggerbot.processor.policy.Verdicts;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.DecisionNote;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.BuilderClassification;

/**
 * From the processor's store values to what the HTTP interface shows: pure functions, no Kafka, so the shapes
 * are tested on hand-made {@link PushState}s and {@link BuilderState}s. Reading the stores is {@link LocalStores};
 * the HTTP and the HTML are elsewhere.
 */
final class PushViews {

  /**
   * The order of the list: latest {@code lastSeen} first, then by key, so that every instance sorts the same
   * pushes the same way and merged parts are stable.
   */
  static final Comparator<PushSummary> NEWEST_FIRST = Comparator
      .comparing((PushSummary s) -> Instant.parse(s.lastSeen())).reversed()
      .thenComparing(PushSummary::key);

  private PushViews() {}

  /**
   * The view of one push.
   *
   * @param builders the push's builders by name (the part of the store key after {@code branch/revision/}); build
   *     jobs ({@code testJob == false}) are left out here
   */
  static PushView push(PushRef ref, PushState push, Map<String, BuilderState> builders) {
    List<PushView.BuilderView> tests = new ArrayList<>();
    builders.forEach((name, b) -> {
      if (b.getTestJob()) {
        tests.add(builder(name, b));
      }
    });
    tests.sort(Comparator.comparingInt(PushView.BuilderView::order).thenComparing(PushView.BuilderView::builder));
    String verdict = push.getVerdict();
    return new PushView(ref.branch(), ref.revision(), verdict,
        verdict == null ? null : time(push.getVerdictUpdatedAt()),
        new PushView.TryOptions(push.getTryLineSeen(), push.getRebuild(), push.getRebuildTalos(), push.getNoRetry()),
        push.getPusher(), push.getBuildersSeen(), push.getFailureTriggered(), time(push.getLifeStart()),
        time(push.getLastSeen()), tests);
  }

  /** One builder: runs sorted by build number, decisions in the order they were taken. */
  static PushView.BuilderView builder(String name, BuilderState b) {
    List<PushView.Run> runs;
    try {
      runs = Verdicts.runs(b).stream().map(r -> new PushView.Run(r.getBuildNumber(), r.getResult(), r.getTaskId()))
          .toList();
    } catch (NumberFormatException e) {
      // The processor writes Long.toString(buildNumber); anything else is a broken store, not a request problem.
      throw new IllegalStateException("builder " + name + " has a run that is not a build number: "
          + e.getMessage(), e);
    }
    List<PushView.DecisionView> decisions = b.getDecisions().stream().map(PushViews::decision).toList();
    return new PushView.BuilderView(name, b.getOrder(), b.getClassification(), runs, b.getJobsIssued(),
        b.getFailureTriggers(), decisions);
  }

  static PushView.DecisionView decision(DecisionNote d) {
    return new PushView.DecisionView(d.getDecisionId(), d.getEvent().name(), d.getBuildNumber(), d.getResult(),
        d.getReason(), d.getCount(), d.getFailuresOnPush(), d.getJobsOnPush(), time(d.getEventTime()));
  }

  /**
   * The list entry of a push: its counts per classification come from {@link PushState#getTestBuilders()}, so a
   * list needs no scan of the builders. Every classification is listed, in the schema's order (then any symbol
   * a newer processor wrote that this one does not know).
   */
  static PushSummary summary(PushRef ref, PushState push) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (BuilderClassification c : BuilderClassification.values()) {
      counts.put(c.name(), push.getTestBuilders().getOrDefault(c.name(), 0));
    }
    push.getTestBuilders().entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> counts.putIfAbsent(e.getKey(), e.getValue()));
    String verdict = push.getVerdict();
    return new PushSummary(ref.branch(), ref.revision(), verdict,
        verdict == null ? null : time(push.getVerdictUpdatedAt()), time(push.getLastSeen()), push.getPusher(),
        push.getBuildersSeen(), push.getFailureTriggered(), counts);
  }

  /** Whether a push belongs in the list {@code query} asks for: it has a verdict, and the one asked for if any. */
  static boolean listed(PushState push, ListQuery query) {
    return push.getVerdict() != null && (query.state() == null || query.state().name().equals(push.getVerdict()));
  }

  /**
   * The push of a store key {@code branch/revision} (the revision is the 12 characters after the last
   * {@code /}; a branch may contain {@code /}).
   */
  static PushRef refOfKey(String key) {
    int slash = key.lastIndexOf('/');
    return new PushRef(key.substring(0, slash), key.substring(slash + 1));
  }

  /**
   * The newest {@code limit} of {@code pushes} in {@link #NEWEST_FIRST} order; one entry per push (should two
   * parts both hold a push, during a hand-over, the one seen later wins).
   */
  static List<PushSummary> newest(Collection<PushSummary> pushes, int limit) {
    Map<String, PushSummary> byKey = pushes.stream().collect(Collectors.toMap(PushSummary::key, Function.identity(),
        (a, b) -> NEWEST_FIRST.compare(a, b) <= 0 ? a : b, LinkedHashMap::new));
    return byKey.values().stream().sorted(NEWEST_FIRST).limit(limit).toList();
  }

  /** Keeps the newest {@code limit} summaries offered to it, for scanning a store without holding all of it. */
  static final class Newest {
    private final int limit;
    /** Oldest first, so the head is the one to drop. */
    private final PriorityQueue<PushSummary> kept = new PriorityQueue<>(NEWEST_FIRST.reversed());

    Newest(int limit) {
      this.limit = limit;
    }

    void offer(PushSummary s) {
      kept.add(s);
      if (kept.size() > limit) {
        kept.poll();
      }
    }

    List<PushSummary> sorted() {
      return kept.stream().sorted(NEWEST_FIRST).toList();
    }
  }

  /** An event time (epoch milliseconds) as an ISO-8601 instant, e.g. {@code 2015-06-01T10:00:00Z}. */
  static String time(long epochMillis) {
    return Instant.ofEpochMilli(epochMillis).toString();
  }
}
