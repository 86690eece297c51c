package org.triggerbot.processor.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.schemas.BuilderClassification;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.JobRun;
import org.triggerbot.schemas.VerdictState;

/**
 * SPEC section 4.1: what the runs of a test builder say (its classification) and what a push's builders say
 * together (the push's verdict). Pure functions of the stored state and the policy's {@code confirm.*} keys.
 */
public final class Verdicts {

  private Verdicts() {}

  /**
   * A test builder's classification, the first that applies: no failed run → PASS; {@code P >= confirm.passes}
   * and {@code P >= F} → INTERMITTENT; {@code F >= confirm.failures} → CONSISTENT_FAILURE; fewer finished runs
   * than 1 + the jobs its TRIGGER_* decisions issued → PENDING; otherwise UNCONFIRMED. Results 3-6 count as
   * finished runs that neither pass nor fail.
   */
  public static BuilderClassification classify(BuilderState builder, PolicySettings settings) {
    int failed = 0;
    int passed = 0;
    // Not values(): that view is kept by the map for good, and a replay holds a million of these maps.
    for (Map.Entry<String, Integer> run : builder.getRuns().entrySet()) {
      Integer result = run.getValue();
      if (Policy.isFailure(result)) {
        failed++;
      } else if (result != null && result == 0) {
        passed++;
      }
    }
    if (failed == 0) {
      return BuilderClassification.PASS;
    }
    if (passed >= settings.confirmPasses() && passed >= failed) {
      return BuilderClassification.INTERMITTENT;
    }
    if (failed >= settings.confirmFailures()) {
      return BuilderClassification.CONSISTENT_FAILURE;
    }
    if (outstanding(builder)) {
      return BuilderClassification.PENDING;
    }
    return BuilderClassification.UNCONFIRMED;
  }

  /** Some of the builder's triggered runs have not finished: fewer finished runs than 1 + jobs issued. */
  static boolean outstanding(BuilderState builder) {
    return builder.getRuns().size() < 1L + builder.getJobsIssued();
  }

  /**
   * A push's verdict from the number of its test builders per classification: FAILING if any is
   * CONSISTENT_FAILURE, else PENDING if any is PENDING, else UNKNOWN if any is UNCONFIRMED, else
   * INTERMITTENT_ONLY if any is INTERMITTENT, else GREEN. Null when the push has no test builder (no verdict).
   */
  public static VerdictState pushVerdict(Map<String, Integer> buildersByClassification) {
    if (count(buildersByClassification, null) == 0) {
      return null;
    }
    if (count(buildersByClassification, BuilderClassification.CONSISTENT_FAILURE) > 0) {
      return VerdictState.FAILING;
    }
    if (count(buildersByClassification, BuilderClassification.PENDING) > 0) {
      return VerdictState.PENDING;
    }
    if (count(buildersByClassification, BuilderClassification.UNCONFIRMED) > 0) {
      return VerdictState.UNKNOWN;
    }
    if (count(buildersByClassification, BuilderClassification.INTERMITTENT) > 0) {
      return VerdictState.INTERMITTENT_ONLY;
    }
    return VerdictState.GREEN;
  }

  /** Test builders of {@code classification}, or of any when it is null. */
  static int count(Map<String, Integer> byClassification, BuilderClassification classification) {
    if (classification == null) {
      return byClassification.values().stream().mapToInt(Integer::intValue).sum();
    }
    return byClassification.getOrDefault(classification.name(), 0);
  }

  /** The verdict entry of one test builder: its classification, its runs by build number, its jobs issued. */
  public static BuilderVerdict builderVerdict(String builder, BuilderState state) {
    return BuilderVerdict.newBuilder()
        .setBuilder(builder)
        .setClassification(BuilderClassification.valueOf(state.getClassification()))
        .setRuns(runs(state))
        .setJobsIssued(state.getJobsIssued())
        .build();
  }

  /**
   * A builder's finished runs: buildbot's sorted by build number, Taskcluster's by task id, then run id. The store
   * keeps them in a map keyed as {@link Policy#runKey} writes them: the decimal build number, or
   * {@code taskId/runId}.
   *
   * @throws NumberFormatException when a key is neither: a broken store
   */
  public static List<JobRun> runs(BuilderState state) {
    List<JobRun> runs = new ArrayList<>(state.getRuns().size());
    state.getRuns().forEach((key, result) -> {
      int slash = key.lastIndexOf('/');
      runs.add(slash < 0 ? new JobRun(Long.parseLong(key), result, null)
          : new JobRun(Long.parseLong(key.substring(slash + 1)), result, key.substring(0, slash)));
    });
    runs.sort(Comparator.comparing(JobRun::getTaskId, Comparator.nullsFirst(Comparator.naturalOrder()))
        .thenComparingLong(JobRun::getBuildNumber));
    return runs;
  }
}
