package org.triggerbot.processor.query;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.DecisionNote;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.AvroSerde;

/** Store values written by hand, as the decide processor writes them, for the tests of the views and pages. */
final class StoreValues {

  static final Instant T0 = Instant.parse("2015-06-01T10:00:00Z");

  static {
    // Avro 1.12 builds a record's defaults (the empty decisions array) by instantiating DecisionNote, which it
    // refuses for untrusted classes; the project's serde is what trusts its own generated classes, as the
    // processor's stores do before any value is built.
    AvroSerde.of(BuilderState.class);
  }

  private StoreValues() {}

  static long minutes(long m) {
    return T0.plusSeconds(60 * m).toEpochMilli();
  }

  static PushState.Builder push(String verdict) {
    return PushState.newBuilder()
        .setLifeStart(minutes(0)).setLastSeen(minutes(30))
        .setTryLineSeen(true).setRebuild(0).setRebuildTalos(0).setNoRetry(false)
        .setPusher("dev@example.com").setBuildersSeen(3).setFailureTriggered(1)
        .setVerdict(verdict).setVerdictUpdatedAt(minutes(30))
        .setTestBuilders(new LinkedHashMap<>(Map.of("INTERMITTENT", 1, "PASS", 1)));
  }

  /** A test builder with the given runs (build number, result, build number, result, ...). */
  static BuilderState.Builder builder(int order, String classification, int... runs) {
    Map<String, Integer> r = new LinkedHashMap<>();
    for (int i = 0; i < runs.length; i += 2) {
      r.put(Integer.toString(runs[i]), runs[i + 1]);
    }
    return BuilderState.newBuilder().setTestJob(true).setStartSeen(true).setOrder(order)
        .setClassification(classification).setRuns(r).setDecisions(new ArrayList<>());
  }

  static DecisionNote decision(String id, EventKind event, long build, Integer result, String reason, long minute) {
    return DecisionNote.newBuilder().setDecisionId(id).setEvent(event).setBuildNumber(build).setResult(result)
        .setReason(reason).setCount(1).setFailuresOnPush(0).setJobsOnPush(3).setEventTime(minutes(minute)).build();
  }

  static List<DecisionNote> decisions(DecisionNote... notes) {
    return new ArrayList<>(List.of(notes));
  }
}
