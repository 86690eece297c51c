package org.triggerbot.processor.topology;

import org.triggerbot.processor.policy.PolicySettings;

/**
 * What {@link ProcessorTopology#build} needs besides Kafka's own settings.
 *
 * @param policy the retrigger policy
 * @param decisionPartitions partitions of the by-push repartition topic, i.e. decision tasks. The global hourly
 *     limits are shared out: each task enforces {@code floor(limit / decisionPartitions)}, so all tasks together
 *     never exceed the limit. With 1 (the default) the limit is exact.
 * @param wallClockDecisions stamp {@code decidedAt} with the wall clock; {@code false} for replays, which must be
 *     deterministic (the field is then null)
 */
public record TopologySettings(PolicySettings policy, int decisionPartitions, boolean wallClockDecisions) {
  public TopologySettings {
    if (decisionPartitions < 1) {
      throw new IllegalArgumentException("decisionPartitions must be >= 1, was " + decisionPartitions);
    }
  }
}
