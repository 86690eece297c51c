package org.triggerbot.processor.policy;

import org.triggerbot.schemas.DecisionReason;

/**
 * The outcome of one evaluated event.
 *
 * @param kind requested or failure trigger
 * @param reason the first rule that applied (SPEC section 4 table)
 * @param count the would-be count, also for a skip
 * @param failuresOnPush f before this decision
 * @param jobsOnPush J, this event's builder included
 * @param budgetLimit builders the push may have failure-retriggered at this J
 */
public record Decision(TriggerKind kind, DecisionReason reason, int count, int failuresOnPush, int jobsOnPush,
    int budgetLimit) {

  /** Reasons 11 and 12: the builder is marked triggered and the jobs count toward the budgets. */
  public boolean counts() {
    return reason == DecisionReason.DRY_RUN || issuesJobs();
  }

  /** A real trigger: a command is emitted. */
  public boolean issuesJobs() {
    return reason == DecisionReason.TRIGGER_REQUESTED || reason == DecisionReason.TRIGGER_FAILURE;
  }
}
