package org.triggerbot.processor.decide;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import org.triggerbot.processor.policy.Decision;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.JobEvent;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.VerdictState;

/** The output records of a {@link Decider.Outcome}, as the processor emits them and the replay writes them. */
public final class DecisionRecords {

  private DecisionRecords() {}

  /**
   * The {@code trigger.decisions} record of an evaluated event.
   *
   * @param decidedAt wall-clock time of the decision, or null (a replay is deterministic)
   */
  public static TriggerDecision decision(Decider.Outcome o, PushEvent event, String policyVersion, Instant decidedAt) {
    Decision d = o.decision();
    return TriggerDecision.newBuilder()
        .setDecisionId(o.decisionId())
        .setBranch(event.getBranch())
        .setRevision(event.getRevision())
        .setBuilder(event.getBuilder())
        .setEvent(event.getEvent() == EventKind.STARTED ? JobEvent.STARTED : JobEvent.FINISHED)
        .setResult(event.getResult())
        .setReason(d.reason())
        .setCount(d.count())
        .setFailuresOnPush(d.failuresOnPush())
        .setJobsOnPush(d.jobsOnPush())
        .setBudgetLimit(d.budgetLimit())
        .setPolicyVersion(policyVersion)
        .setUser(o.push().getPusher())
        .setEventTime(Instant.ofEpochMilli(event.getEventTime()))
        .setDecidedAt(decidedAt)
        .setRoutingKey(event.getRoutingKey())
        .build();
  }

  /** The {@code trigger.commands} record of a real trigger ({@link Decision#issuesJobs()}). */
  public static TriggerCommand command(Decider.Outcome o, PushEvent event) {
    Decision d = o.decision();
    return TriggerCommand.newBuilder()
        .setCommandId(o.decisionId())
        .setBranch(event.getBranch())
        .setRevision(event.getRevision())
        .setBuilder(event.getBuilder())
        .setCount(d.count())
        .setReason(d.reason())
        .setRequestedAt(Instant.ofEpochMilli(event.getEventTime()))
        .setPriorJobs(o.builder().getJobsIssued() - d.count()) // the builder's state already counts this trigger
        .setTaskId(event.getTaskId())
        .setTaskGroupId(event.getTaskGroupId())
        .build();
  }

  /**
   * The {@code push.verdicts} record of a push whose verdict changed.
   *
   * @param builders the verdict entry of every test builder of the push, in order of first appearance
   */
  public static PushVerdict verdict(PushEvent event, PushState push, Collection<BuilderVerdict> builders) {
    return PushVerdict.newBuilder()
        .setBranch(event.getBranch())
        .setRevision(event.getRevision())
        .setState(VerdictState.valueOf(push.getVerdict()))
        .setBuilders(new ArrayList<>(builders))
        .setUpdatedAt(Instant.ofEpochMilli(push.getVerdictUpdatedAt()))
        .build();
  }
}
