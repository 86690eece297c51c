package org.triggerbot.processor.whatif;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.triggerbot.processor.decide.Decider;
import org.triggerbot.processor.decide.MemoryDecideState;
import org.triggerbot.processor.policy.Decision;
import org.triggerbot.processor.replay.ReplayEngine;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;

/**
 * Counts one policy's decisions as they are made, and keeps each push's latest verdict, so that a what-if needs
 * no decision records at all. A push's verdict is that of its latest life: a new life drops the old verdict until
 * the new life has one of its own. Memory: one entry per push seen, not per input.
 */
final class WhatIfTally implements ReplayEngine.Listener {

  private final Map<String, VerdictState> finalVerdicts = new HashMap<>();
  private final Set<String> budgetExhausted = new HashSet<>();
  private final Map<DecisionReason, Long> reasons = new EnumMap<>(DecisionReason.class);
  private long decisions;
  private long failureTriggerJobs;
  private long requestedTriggerJobs;
  private long dryRunJobs;

  @Override
  public void outcome(Decider.Outcome o, PushEvent event, MemoryDecideState state) {
    if (o.newLife()) {
      finalVerdicts.remove(o.pushKey());
    }
    if (o.verdictChanged()) {
      finalVerdicts.put(o.pushKey(), VerdictState.valueOf(o.push().getVerdict()));
    }
    Decision d = o.decision();
    if (d == null) {
      return;
    }
    decisions++;
    reasons.merge(d.reason(), 1L, Long::sum);
    switch (d.reason()) {
      case TRIGGER_FAILURE -> failureTriggerJobs += d.count();
      case TRIGGER_REQUESTED -> requestedTriggerJobs += d.count();
      case DRY_RUN -> dryRunJobs += d.count();
      case SKIP_PUSH_BUDGET -> budgetExhausted.add(o.pushKey());
      default -> {}
    }
  }

  /** The row of this tally's policy. */
  WhatIfRow row(int index, String policy, String policyVersion) {
    Map<VerdictState, Long> verdicts = new EnumMap<>(VerdictState.class);
    for (VerdictState s : VerdictState.values()) {
      verdicts.put(s, 0L);
    }
    finalVerdicts.values().forEach(s -> verdicts.merge(s, 1L, Long::sum));
    Map<DecisionReason, Long> byReason = new EnumMap<>(DecisionReason.class);
    for (DecisionReason r : WhatIfRow.REASONS) {
      byReason.put(r, reasons.getOrDefault(r, 0L));
    }
    return new WhatIfRow(index, policy, policyVersion, finalVerdicts.size(), verdicts, decisions, byReason,
        failureTriggerJobs + requestedTriggerJobs, failureTriggerJobs, requestedTriggerJobs, dryRunJobs,
        budgetExhausted.size());
  }
}
