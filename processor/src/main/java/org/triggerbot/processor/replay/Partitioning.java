package org.triggerbot.processor.replay;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.decide.Keys;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.state.PushEvent;

/**
 * Which of the processor's decision tasks an input belongs to: the partition of {@code pulse.raw} it is (or would
 * be) in. The processor runs one task per partition, each with its own state, its own stream time and its share of
 * the global limits, so a replay of a multi-partition processor decides per partition too.
 *
 * <p>A record of a topic with exactly {@code partitions} partitions is in its own partition. Any other input is
 * placed as the bridge's producer places it: Kafka's default partitioner (murmur2 of the key) over the key the
 * bridge gives it, the push ({@link PulseEnvelope#recordKey}), else {@code _meta.routing_key} (the bridge has the
 * AMQP routing key, which Pulse sets to the same).
 *
 * @param partitions the processor's partitions (tasks), at least 1
 * @param ownPartitions whether topic records are in their own partition (the topic has {@code partitions})
 */
record Partitioning(int partitions, boolean ownPartitions) {

  static final Partitioning ONE = new Partitioning(1, false);

  Partitioning {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
  }

  /** For {@code partitions} tasks over {@code source} (a topic's records keep their partition when it matches). */
  static Partitioning of(int partitions, ReplaySource source) {
    return partitions == 1 ? ONE : new Partitioning(partitions, source.partitions() == partitions);
  }

  /** The task of {@code input}, parsed as {@code outcome} (null for a blank line). */
  int of(Input input, ParseOutcome outcome) {
    if (partitions == 1) {
      return 0;
    }
    if (ownPartitions && input.partition() >= 0) {
      return input.partition();
    }
    String key;
    if (outcome instanceof ParseOutcome.Accepted a) {
      PushEvent e = a.event();
      key = Keys.push(e.getBranch(), e.getRevision()); // what the envelope would read, without reading it again
    } else if (input.body() == null) {
      key = "";
    } else {
      PulseEnvelope envelope = PulseEnvelope.read(input.body());
      key = envelope.recordKey(envelope.routingKey() == null ? "" : envelope.routingKey());
    }
    return of(key);
  }

  /** Kafka's default partitioner for a record with a {@code String} key. */
  int of(String key) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }
}
