package org.triggerbot.processor.whatif;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;

/**
 * One policy's line of a what-if (SPEC section 7): what it decided over the input, and the final verdicts of the
 * pushes (latest life of each push).
 *
 * @param index the policy's place in the grid, from 1 (the chart's labels)
 * @param policy the row's grid assignments, {@code key=value} separated by single spaces
 * @param policyVersion the policy's version, as its decisions carry it
 * @param pushes pushes with a verdict
 * @param verdicts final verdicts per state (every state present, 0 when none)
 * @param decisions all decisions
 * @param reasons decisions per reason code (every code of {@link #REASONS} present, 0 when none)
 * @param triggerJobs jobs of TRIGGER_* decisions
 * @param failureTriggerJobs jobs of TRIGGER_FAILURE decisions
 * @param requestedTriggerJobs jobs of TRIGGER_REQUESTED decisions
 * @param dryRunJobs would-be jobs of DRY_RUN decisions
 * @param budgetExhaustedPushes pushes with at least one SKIP_PUSH_BUDGET decision
 */
public record WhatIfRow(int index, String policy, String policyVersion, long pushes, Map<VerdictState, Long> verdicts,
    long decisions, Map<DecisionReason, Long> reasons, long triggerJobs, long failureTriggerJobs,
    long requestedTriggerJobs, long dryRunJobs, long budgetExhaustedPushes) {

  /**
   * The reason codes of SPEC section 4, in their order: one column each. The schema's {@code UNKNOWN} symbol is
   * only what a reader older than a new code reads it as; nothing decides it, and a column of that name would
   * clash with the verdict column {@code UNKNOWN}.
   */
  public static final List<DecisionReason> REASONS = Arrays.stream(DecisionReason.values())
      .filter(r -> r != DecisionReason.UNKNOWN).toList();

  /** Trigger jobs per push with a verdict; 0 when no push has one. */
  public double triggersPerPush() {
    return pushes == 0 ? 0 : (double) triggerJobs / pushes;
  }

  /** The share of pushes with a verdict whose final verdict is {@code state}, 0 to 1 (0 when there are none). */
  public double share(VerdictState state) {
    return pushes == 0 ? 0 : (double) verdicts.getOrDefault(state, 0L) / pushes;
  }

  /** The row's label on charts: {@code P1}, {@code P2}, ... */
  public String label() {
    return "P" + index;
  }
}
