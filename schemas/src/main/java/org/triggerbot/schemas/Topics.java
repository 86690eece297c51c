package org.triggerbot.schemas;

import java.util.List;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The one registry of triggerbot's external topics (SPEC section 5) and how each is encoded. Keys are strings;
 * values are Avro single-object encoded records ({@link AvroSerde}).
 *
 * <p>{@code pulse.raw} values are read as raw bytes by the processor (see {@link #PULSE_RAW_BYTES}) so that a
 * value that is not a readable {@code PulseMessage} becomes a {@code pulse.rejected} record instead of a
 * deserialization failure that stops a stream thread.
 */
public final class Topics {

  public static final AvroSerde<PulseMessage> PULSE_MESSAGE = AvroSerde.of(PulseMessage.class);
  public static final AvroSerde<RejectedMessage> REJECTED_MESSAGE = AvroSerde.of(RejectedMessage.class);
  public static final AvroSerde<TriggerDecision> TRIGGER_DECISION = AvroSerde.of(TriggerDecision.class);
  /**
   * Also reads commands written before {@code priorJobs} (version 1) and before the Taskcluster fields (version 2)
   * existed, still in the topic after an upgrade.
   */
  public static final AvroSerde<TriggerCommand> TRIGGER_COMMAND = AvroSerde.of(TriggerCommand.class,
      AvroSerde.olderSchema(Topics.class, "history/TriggerCommand-1.avsc"),
      AvroSerde.olderSchema(Topics.class, "history/TriggerCommand-2.avsc"));
  public static final AvroSerde<TriggerResult> TRIGGER_RESULT = AvroSerde.of(TriggerResult.class);
  /** Also reads verdicts written before runs had a {@code taskId} (version 1): the topic is compacted, kept. */
  public static final AvroSerde<PushVerdict> PUSH_VERDICT = AvroSerde.of(PushVerdict.class,
      AvroSerde.olderSchema(Topics.class, "history/PushVerdict-1.avsc"));

  /** Pulse deliveries copied by the bridge; key = the push, {@code branch/revision} (else the routing key). */
  public static final Topic<String, PulseMessage> PULSE_RAW =
      new Topic<>("pulse.raw", Serdes.String(), PULSE_MESSAGE);
  /** The same topic, values undecoded: what the processor consumes. */
  public static final Topic<String, byte[]> PULSE_RAW_BYTES =
      new Topic<>(PULSE_RAW.name(), Serdes.String(), Serdes.ByteArray());
  /** Input that could not be read, with why; key = key of the input record. */
  public static final Topic<String, RejectedMessage> PULSE_REJECTED =
      new Topic<>("pulse.rejected", Serdes.String(), REJECTED_MESSAGE);
  /** Every decision; key = branch/revision. */
  public static final Topic<String, TriggerDecision> TRIGGER_DECISIONS =
      new Topic<>("trigger.decisions", Serdes.String(), TRIGGER_DECISION);
  /** Retriggers to perform; key = branch/revision/builder. */
  public static final Topic<String, TriggerCommand> TRIGGER_COMMANDS =
      new Topic<>("trigger.commands", Serdes.String(), TRIGGER_COMMAND);
  /** What the sink did with each command; key = as the command. */
  public static final Topic<String, TriggerResult> TRIGGER_RESULTS =
      new Topic<>("trigger.results", Serdes.String(), TRIGGER_RESULT);
  /** Latest verdict per push (compacted); key = branch/revision. */
  public static final Topic<String, PushVerdict> PUSH_VERDICTS =
      new Topic<>("push.verdicts", Serdes.String(), PUSH_VERDICT);

  /** Every external topic, for tools that create or list them. */
  public static final List<Topic<String, ?>> ALL = List.of(
      PULSE_RAW, PULSE_REJECTED, TRIGGER_DECISIONS, TRIGGER_COMMANDS, TRIGGER_RESULTS, PUSH_VERDICTS);

  private Topics() {}
}
