package org.triggerbot.processor.policy;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.DecisionNote;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.BuilderClassification;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;

/**
 * The retrigger policy of SPEC section 4, as a plain object: no Kafka, no clock, no I/O. The caller (the
 * topology, or a test) owns the state and hands it in; this class reads and updates it.
 *
 * <p>Contract for the caller, per valid started/finished message of a push, in this order:
 * <ol>
 *   <li>if the push exists and {@link #expired} says so, forget all its state (a new life begins);</li>
 *   <li>if the push already saw the message's routing key, stop: a duplicate changes nothing;</li>
 *   <li>otherwise call {@link #apply} with the push state ({@link #newPush} for a new life) and the builder's
 *       state ({@code null} if the push has not seen the builder), then persist both.</li>
 * </ol>
 * Event time is the only time: the same messages in the same order always give the same decisions.
 */
public final class Policy {

  private static final long HOUR_MS = 3_600_000L;

  private final PolicySettings settings;
  private final long ttlMillis;
  private final boolean keepDecisionNotes;

  public Policy(PolicySettings settings) {
    this(settings, true);
  }

  /**
   * @param keepDecisionNotes whether each builder keeps a note of its decisions: what the processor's HTTP view
   *     shows people. No rule reads them; an offline replay, which keeps the state of many pushes under many
   *     policies in memory, leaves them out.
   */
  public Policy(PolicySettings settings, boolean keepDecisionNotes) {
    this.settings = settings;
    this.ttlMillis = saturatedMillis(settings.pushTtl());
    this.keepDecisionNotes = keepDecisionNotes;
  }

  public PolicySettings settings() {
    return settings;
  }

  /** Rule 9: the push was last seen at least {@code push.ttl} before this message. */
  public boolean expired(PushState push, long eventTime) {
    return eventTime - push.getLastSeen() >= ttlMillis;
  }

  /** When a push last seen at {@code lastSeen} may be deleted by a sweep at stream time {@code streamTime}. */
  public boolean sweepable(long lastSeen, long streamTime, long graceMillis) {
    return streamTime - graceMillis - lastSeen >= ttlMillis;
  }

  /** State of a push whose first (valid, non-duplicate) message has event time {@code eventTime}. */
  public static PushState newPush(long eventTime) {
    return PushState.newBuilder().setLifeStart(eventTime).setLastSeen(eventTime).setTestBuilders(new HashMap<>())
        .build();
  }

  /**
   * What {@link #apply} returns: the builder's state after the message, the decision if it was evaluated, and
   * whether the push's verdict (a test builder's classification, or the push's state) changed with it.
   */
  public record Applied(BuilderState builder, Decision decision, boolean verdictChanged) {}

  /**
   * Applies one valid, non-duplicate message to its push: adds the builder to the push, reads the try line and
   * the pusher, records the run, evaluates the event if it is a trigger candidate (rules 3, 4 and 4b), then
   * classifies the builder and updates the push's verdict (SPEC 4.1). Mutates {@code push}; returns the
   * builder's new state (a new object when {@code builder} is null).
   *
   * @param window the global trigger window; a counted decision is recorded in it under {@code decisionId}
   */
  public Applied apply(PushState push, BuilderState builder, PushEvent event, GlobalWindow window, String decisionId) {
    long t = event.getEventTime();
    push.setLastSeen(Math.max(push.getLastSeen(), t));
    if (builder == null) {
      push.setBuildersSeen(push.getBuildersSeen() + 1);
      // Most builders have one or two runs: a small map, as a replay keeps many of them.
      builder = BuilderState.newBuilder().setTestJob(event.getTestJob()).setRuns(new HashMap<>(4))
          .setDecisions(new ArrayList<>()).setOrder(push.getBuildersSeen()).build();
    }
    if (!push.getTryLineSeen()) {
      TryOptions options = TryOptions.fromComments(event.getComments(), settings.requestedLimit());
      if (options != null) {
        push.setTryLineSeen(true);
        push.setRebuild(options.rebuild());
        push.setRebuildTalos(options.rebuildTalos());
        push.setNoRetry(options.noRetry());
      }
    }
    if (push.getPusher() == null && event.getWho() != null && !event.getWho().isEmpty()) {
      push.setPusher(event.getWho());
    }

    boolean firstStart = false;
    if (event.getEvent() == EventKind.STARTED) {
      firstStart = !builder.getStartSeen();
      builder.setStartSeen(true);
    } else {
      builder.getRuns().put(runKey(event), event.getResult());
    }
    Decision decision = null;
    if (event.getTestJob()) {
      // In confirmation is judged with the finishing run counted, before this event's own decision; only for an
      // event that is evaluated, or a finish that may be.
      if (event.getEvent() == EventKind.STARTED) {
        int requested = requestedCount(push, event.getBuilder());
        if (firstStart && requested > 0) {
          decision = decide(TriggerKind.REQUESTED, requested, inConfirmation(builder), push, builder, event, window,
              decisionId);
        }
      } else {
        boolean inConfirmation = inConfirmation(builder);
        if (isFailure(event.getResult()) || inConfirmation) {
          decision = decide(TriggerKind.FAILURE, settings.retryCount(), inConfirmation, push, builder, event,
              window, decisionId);
        }
      }
    }
    // Verdicts follow the builder (a test builder by its first message), so the push's counts and the builders
    // a verdict lists always agree.
    boolean verdictChanged = builder.getTestJob() && reclassify(push, builder, t);
    return new Applied(builder, decision, verdictChanged);
  }

  /**
   * Rule 4b: the builder has at least one and fewer than {@code confirm.max.retriggers} counted failure-retrigger
   * decisions, no counted requested one, none of its triggered runs outstanding, and is still UNCONFIRMED.
   */
  boolean inConfirmation(BuilderState builder) {
    return builder.getFailureTriggers() >= 1
        && builder.getFailureTriggers() < settings.confirmMaxRetriggers()
        && !builder.getRequestedTriggered()
        && !Verdicts.outstanding(builder)
        && Verdicts.classify(builder, settings) == BuilderClassification.UNCONFIRMED;
  }

  /**
   * Classifies a test builder after its message and keeps the push's count of builders per classification, so
   * that the push's verdict needs no scan of its builders. A builder new to the push counts as a change (it
   * enters the verdict). Answers whether the builder's classification or the push's verdict changed.
   */
  private boolean reclassify(PushState push, BuilderState builder, long eventTime) {
    String before = builder.getClassification();
    String after = Verdicts.classify(builder, settings).name();
    builder.setClassification(after);
    Map<String, Integer> counts = push.getTestBuilders();
    if (before != null) {
      counts.merge(before, -1, Integer::sum);
    }
    counts.merge(after, 1, Integer::sum);
    VerdictState verdict = Verdicts.pushVerdict(counts);
    String state = verdict == null ? null : verdict.name();
    boolean changed = !after.equals(before) || !Objects.equals(state, push.getVerdict());
    if (changed) {
      push.setVerdict(state);
      push.setVerdictUpdatedAt(eventTime);
    }
    return changed;
  }

  /** Rule 3: {@code --rebuild-talos N} for talos builders when N > 0, else {@code --rebuild N}. */
  static int requestedCount(PushState push, String builderName) {
    if (builderName.contains("talos") && push.getRebuildTalos() > 0) {
      return push.getRebuildTalos();
    }
    return push.getRebuild();
  }

  /**
   * The run of a finished event, as a key of {@code BuilderState.runs}: buildbot's build number in decimal, or a
   * Taskcluster run's {@code taskId/runId} (SPEC 3b: a run is (taskId, runId); clones of a task are other tasks).
   */
  public static String runKey(PushEvent event) {
    return event.getTaskId() == null ? Long.toString(event.getBuildNumber())
        : event.getTaskId() + "/" + event.getBuildNumber();
  }

  /** Only warnings (orange, 1) and failures (red, 2) are retriggerable. */
  public static boolean isFailure(Integer result) {
    return result != null && (result == 1 || result == 2);
  }

  private Decision decide(TriggerKind kind, int count, boolean inConfirmation, PushState push, BuilderState builder,
      PushEvent event, GlobalWindow window, String decisionId) {
    int f = push.getFailureTriggered();
    int j = push.getBuildersSeen();
    DecisionReason reason = reason(kind, count, inConfirmation, push, builder, event, window);
    Decision decision = new Decision(kind, reason, count, f, j, budgetLimit(j));
    if (decision.counts()) {
      builder.setTriggered(true);
      if (kind == TriggerKind.FAILURE) {
        if (builder.getFailureTriggers() == 0) {
          push.setFailureTriggered(f + 1); // f counts builders, once, at their first counted failure decision
        }
        builder.setFailureTriggers(builder.getFailureTriggers() + 1);
      } else {
        builder.setRequestedTriggered(true);
      }
      if (decision.issuesJobs()) {
        builder.setJobsIssued(builder.getJobsIssued() + count);
      }
      window.record(kind, event.getEventTime(), decisionId, count);
    }
    if (!keepDecisionNotes) {
      return decision;
    }
    builder.getDecisions().add(DecisionNote.newBuilder()
        .setDecisionId(decisionId)
        .setEvent(event.getEvent())
        .setBuildNumber(event.getBuildNumber())
        .setResult(event.getResult())
        .setReason(reason.name())
        .setCount(count)
        .setFailuresOnPush(f)
        .setJobsOnPush(j)
        .setEventTime(event.getEventTime())
        .build());
    return decision;
  }

  private DecisionReason reason(TriggerKind kind, int count, boolean inConfirmation, PushState push,
      BuilderState builder, PushEvent event, GlobalWindow window) {
    boolean failure = kind == TriggerKind.FAILURE;
    String pusher = push.getPusher();
    String name = event.getBuilder();
    if (pusher != null && settings.ignoreUsers().contains(pusher)) {
      return DecisionReason.SKIP_IGNORED_USER;
    }
    // SPEC 3b: Taskcluster try pushes ask for rebuilds when their graph is made; there is no try line to require.
    if (settings.requireTrySyntax() && !push.getTryLineSeen() && event.getTaskId() == null) {
      return DecisionReason.SKIP_NO_TRY_SYNTAX;
    }
    if (failure && push.getNoRetry()) {
      return DecisionReason.SKIP_NO_RETRY;
    }
    if (failure && push.getRebuild() > 0) {
      return DecisionReason.SKIP_REQUESTED_PUSH;
    }
    if (builder.getTriggered() && !inConfirmation) {
      return DecisionReason.SKIP_ALREADY_TRIGGERED;
    }
    if (settings.buildersDeny().stream().anyMatch(p -> p.matcher(name).find())) {
      return DecisionReason.SKIP_DENIED_BUILDER;
    }
    if (settings.buildersHidden().contains(name)) {
      return DecisionReason.SKIP_HIDDEN_BUILDER;
    }
    // The budget admits builders; an admitted builder's confirmations are bounded by confirm.max.retriggers.
    if (failure && builder.getFailureTriggers() == 0
        && pushBudgetRefuses(push.getFailureTriggered(), push.getBuildersSeen())) {
      return DecisionReason.SKIP_PUSH_BUDGET;
    }
    if (!settings.triggeringEnabled()) {
      return DecisionReason.SKIP_DISABLED;
    }
    long t = event.getEventTime();
    long max = failure ? settings.maxFailureTriggersPerHour() : settings.maxRequestedTriggersPerHour();
    if (window.jobs(kind, t - HOUR_MS, t) + count > max) {
      return DecisionReason.SKIP_GLOBAL_LIMIT;
    }
    boolean notATriggerUser = !settings.triggerUsers().isEmpty()
        && (pusher == null || !settings.triggerUsers().contains(pusher));
    if (settings.dryRun() || notATriggerUser) {
      return DecisionReason.DRY_RUN;
    }
    return failure ? DecisionReason.TRIGGER_FAILURE : DecisionReason.TRIGGER_REQUESTED;
  }

  /** Rule 5, exactly: refused when {@code f >= floor} and {@code f > J * ratio}, in decimal arithmetic. */
  boolean pushBudgetRefuses(int f, int j) {
    return f >= settings.budgetFloor()
        && BigDecimal.valueOf(f).compareTo(BigDecimal.valueOf(j).multiply(settings.budgetRatio())) > 0;
  }

  /** The number of builders rule 5 lets a push with J builders failure-retrigger: max(floor, floor(J*ratio)+1). */
  int budgetLimit(int j) {
    BigDecimal share = BigDecimal.valueOf(j).multiply(settings.budgetRatio()).setScale(0, RoundingMode.FLOOR);
    long byRatio = share.min(BigDecimal.valueOf(Integer.MAX_VALUE - 1L)).longValueExact() + 1;
    return (int) Math.max(settings.budgetFloor(), byRatio);
  }

  private static long saturatedMillis(java.time.Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
