package org.triggerbot.processor.topology;

import org.triggerbot.processor.policy.PolicySettings;

/**
 * What {@link ProcessorTopology#build} needs besides Kafka's own settings.
 *
 * @param policy the retrigger policy
 * @param partitions partitions of {@code pulse.raw}, i.e. decision tasks (Kafka Streams makes one task per input
 *     partition). The global hourly limits are shared out: each task enforces {@code floor(limit / partitions)},
 *     so all tasks together never exceed the limit. With 1 the limit is exact, and records need not be keyed by
 *     push (one task sees everything in order); with more, each record must be keyed by its push (SPEC 5).
 * @param wallClockDecisions stamp {@code decidedAt} with the wall clock; {@code false} for replays, which must be
 *     deterministic (the field is then null)
 */
public record TopologySettings(PolicySettings policy, int partitions, boolean wallClockDecisions) {
  public TopologySettings {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
  }
}
