package org.triggerbot.processor.topology;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.triggerbot.processor.policy.Policy;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;

/**
 * The processor's topology, as a pure function of its settings:
 *
 * <pre>
 * pulse.raw ─ parse-pulse ─┬─ rejected ─────────────────► pulse.rejected
 *                          └─ accepted ─ decide ─┬─► trigger.decisions
 *                                                ├─► trigger.commands
 *                                                └─► push.verdicts
 * </pre>
 *
 * One sub-topology, one task per partition of {@code pulse.raw}: the bridge keys every record by its push
 * (SPEC 5), so a push's messages are in order on one partition and {@code decide} reads them where they are, with
 * no repartition topic (which cost a produce, a consume and a transaction's share per message). With more than
 * one partition, {@code decide} refuses a record that is not keyed by its push ({@link MisroutedRecordException}):
 * its push's other messages may be on another task, whose state it cannot see.
 *
 * <p>Every processor and store is named, so names (and changelog topics) are stable across versions.
 */
public final class ProcessorTopology {

  private ProcessorTopology() {}

  public static Topology build(TopologySettings settings) {
    return build(settings, DecideProcessor.VERDICT_CACHE_PUSHES);
  }

  /** {@link #build(TopologySettings)} with {@code decide}'s verdict cache of that many pushes (tests: 0 = none). */
  static Topology build(TopologySettings settings, int verdictCachePushes) {
    PolicySettings policySettings = settings.policy();
    PulseParser parser = new PulseParser(policySettings.branches(), policySettings.pulseMaxBytes(),
        policySettings.taskclusterEnabled());
    Policy policy = new Policy(policySettings.sharedAmong(settings.partitions()));
    StreamsBuilder builder = new StreamsBuilder();

    Topic<String, byte[]> raw = Topics.PULSE_RAW_BYTES;
    KStream<String, SpecificRecord> parsed = builder
        .stream(raw.name(), Consumed.with(raw.keySerde(), raw.valueSerde()).withName("pulse-raw-source"))
        .processValues(() -> new ParsePulseProcessor(parser), Named.as("parse-pulse"));

    Map<String, KStream<String, SpecificRecord>> routes = parsed.split(Named.as("parsed-"))
        .branch((k, v) -> v instanceof RejectedMessage, Branched.as("rejected"))
        .defaultBranch(Branched.as("accepted"));

    routes.get("parsed-rejected")
        .mapValues(v -> (RejectedMessage) v, Named.as("as-rejected"))
        .to(Topics.PULSE_REJECTED.name(), produced(Topics.PULSE_REJECTED, "pulse-rejected-sink"));

    KStream<String, SpecificRecord> decided = routes.get("parsed-accepted")
        .mapValues(v -> (PushEvent) v, Named.as("as-event"))
        .process(DecideProcessor.supplier(policy, settings.wallClockDecisions(), verdictCachePushes,
            settings.partitions()), Named.as("decide"));

    decided.split(Named.as("decided-"))
        .branch((k, v) -> v instanceof TriggerDecision, Branched.withConsumer(s -> s
            .mapValues(v -> (TriggerDecision) v, Named.as("as-decision"))
            .to(Topics.TRIGGER_DECISIONS.name(), produced(Topics.TRIGGER_DECISIONS, "trigger-decisions-sink")),
            "decisions"))
        .branch((k, v) -> v instanceof TriggerCommand, Branched.withConsumer(s -> s
            .mapValues(v -> (TriggerCommand) v, Named.as("as-command"))
            .to(Topics.TRIGGER_COMMANDS.name(), produced(Topics.TRIGGER_COMMANDS, "trigger-commands-sink")),
            "commands"))
        .branch((k, v) -> v instanceof PushVerdict, Branched.withConsumer(s -> s
            .mapValues(v -> (PushVerdict) v, Named.as("as-verdict"))
            .to(Topics.PUSH_VERDICTS.name(), produced(Topics.PUSH_VERDICTS, "push-verdicts-sink")),
            "verdicts"))
        .noDefaultBranch();

    return builder.build();
  }

  private static <V> Produced<String, V> produced(Topic<String, V> topic, String name) {
    return Produced.with(topic.keySerde(), topic.valueSerde()).withName(name);
  }
}
