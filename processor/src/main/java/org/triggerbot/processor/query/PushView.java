package org.triggerbot.processor.query;

import java.util.List;

/**
 * One push as people and programs read it: the JSON of {@code GET /api/pushes/{branch}/{revision}} and what the
 * push page shows. Built from the processor's stores by {@link PushViews}; times are ISO-8601 instants (UTC) of
 * event time, never the wall clock.
 *
 * @param branch the push's branch
 * @param revision its revision, 12 characters
 * @param verdict the SPEC 4.1 verdict ({@code PENDING}, {@code GREEN}, {@code INTERMITTENT_ONLY}, {@code FAILING},
 *     {@code UNKNOWN}); null while the push has no test builder
 * @param verdictUpdatedAt when the verdict last changed; null with no verdict
 * @param tryOptions what the push's try line asked for
 * @param pusher who pushed (null when no message carried it)
 * @param jobsOnPush {@code J}: builders seen on the push
 * @param failuresOnPush {@code f}: builders failure-retriggered (or dry-run) on the push
 * @param lifeStart the first event of this life of the push (a push seen again after {@code push.ttl} starts anew)
 * @param lastSeen its latest event
 * @param builders every test builder, in the order it first appeared on the push
 */
public record PushView(String branch, String revision, String verdict, String verdictUpdatedAt,
    TryOptions tryOptions, String pusher, int jobsOnPush, int failuresOnPush, String lifeStart,
    String lastSeen, List<BuilderView> builders) {

  public PushView {
    builders = builders == null ? List.of() : List.copyOf(builders);
  }

  /**
   * The try options of a push (SPEC 4, rule 2).
   *
   * @param trySyntaxSeen whether any message of the push carried a {@code try: } line
   * @param rebuild {@code --rebuild N} (0 when absent)
   * @param rebuildTalos {@code --rebuild-talos N} (0 when absent)
   * @param noRetry {@code --no-retry}
   */
  public record TryOptions(boolean trySyntaxSeen, int rebuild, int rebuildTalos, boolean noRetry) {}

  /**
   * One test builder of the push.
   *
   * @param builder the buildername
   * @param order 1 for the first builder seen on the push, 2 for the next, ...
   * @param classification the SPEC 4.1 classification ({@code PASS}, {@code INTERMITTENT},
   *     {@code CONSISTENT_FAILURE}, {@code PENDING}, {@code UNCONFIRMED}); null if not classified yet
   * @param runs its finished runs, by build number
   * @param jobsIssued jobs triggered for it by {@code TRIGGER_*} decisions
   * @param failureTriggers its counted failure-retrigger decisions (the first and the confirmations)
   * @param decisions every decision taken on it, in order
   */
  public record BuilderView(String builder, int order, String classification, List<Run> runs, int jobsIssued,
      int failureTriggers, List<DecisionView> decisions) {

    public BuilderView {
      runs = runs == null ? List.of() : List.copyOf(runs);
      decisions = decisions == null ? List.of() : List.copyOf(decisions);
    }

    /** Whether any run failed (buildbot result 1, warnings/orange, or 2, failure/red): what the page leads with. */
    public boolean failing() {
      return runs.stream().anyMatch(r -> r.result() == 1 || r.result() == 2);
    }
  }

  /**
   * A finished run: build number and buildbot result (0 success ... 6 cancelled); for Taskcluster (SPEC 3b) the run
   * id of task {@code taskId}, which is null (and left out of the JSON) for buildbot.
   */
  public record Run(long buildNumber, int result,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) String taskId) {}

  /**
   * A decision on a builder, with the numbers behind it (as on {@code trigger.decisions}).
   *
   * @param decisionId the decision's id (as on {@code trigger.decisions})
   * @param event {@code STARTED} or {@code FINISHED}
   * @param buildNumber the run the event was about
   * @param result the run's result; null for a start
   * @param reason the {@code DecisionReason} symbol
   * @param count jobs the decision would trigger (also when it is a skip)
   * @param failuresOnPush {@code f} before the decision
   * @param jobsOnPush {@code J} at the decision
   * @param eventTime the event's time
   */
  public record DecisionView(String decisionId, String event, long buildNumber, Integer result, String reason,
      int count, int failuresOnPush, int jobsOnPush, String eventTime) {}
}
