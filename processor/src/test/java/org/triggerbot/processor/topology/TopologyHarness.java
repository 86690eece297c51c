package org.triggerbot.processor.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;

/** The real topology on a {@link TopologyTestDriver}: pipe Pulse bodies in, read decisions, commands, stores. */
public final class TopologyHarness implements AutoCloseable {

  final TopologyTestDriver driver;
  private final TestInputTopic<String, PulseMessage> input;
  private final TestOutputTopic<String, TriggerDecision> decisions;
  private final TestOutputTopic<String, TriggerCommand> commands;
  private final TestOutputTopic<String, RejectedMessage> rejected;
  private final TestOutputTopic<String, PushVerdict> verdicts;

  public TopologyHarness(List<String> policy, Path stateDir) {
    this(policy, stateDir, DecideProcessor.VERDICT_CACHE_PUSHES);
  }

  /** With {@code decide}'s verdict cache holding that many pushes (0: every verdict read from the store). */
  TopologyHarness(List<String> policy, Path stateDir, int verdictCachePushes) {
    this(policy, stateDir, verdictCachePushes, 1);
  }

  /** As the topology of a processor on {@code pulse.raw} with that many partitions. */
  TopologyHarness(List<String> policy, Path stateDir, int verdictCachePushes, int partitions) {
    PolicySettings settings = PolicyConfig.fromAssignments(policy);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "triggerbot-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    driver = new TopologyTestDriver(
        ProcessorTopology.build(new TopologySettings(settings, partitions, false), verdictCachePushes), props);
    input = driver.createInputTopic(Topics.PULSE_RAW.name(), Topics.PULSE_RAW.keySerde().serializer(),
        Topics.PULSE_RAW.valueSerde().serializer());
    decisions = driver.createOutputTopic(Topics.TRIGGER_DECISIONS.name(),
        Topics.TRIGGER_DECISIONS.keySerde().deserializer(), Topics.TRIGGER_DECISIONS.valueSerde().deserializer());
    commands = driver.createOutputTopic(Topics.TRIGGER_COMMANDS.name(),
        Topics.TRIGGER_COMMANDS.keySerde().deserializer(), Topics.TRIGGER_COMMANDS.valueSerde().deserializer());
    rejected = driver.createOutputTopic(Topics.PULSE_REJECTED.name(),
        Topics.PULSE_REJECTED.keySerde().deserializer(), Topics.PULSE_REJECTED.valueSerde().deserializer());
    verdicts = driver.createOutputTopic(Topics.PUSH_VERDICTS.name(),
        Topics.PUSH_VERDICTS.keySerde().deserializer(), Topics.PUSH_VERDICTS.valueSerde().deserializer());
  }

  /** What the offline replay of a stream decided: the uninterrupted run that live runs are compared with. */
  public record Replayed(List<TriggerDecision> decisions, List<TriggerCommand> commands,
      List<RejectedMessage> rejected, List<PushVerdict> verdicts) {}

  /** Pipes {@code bodies} through a fresh driver (state in {@code stateDir}) and answers everything it wrote. */
  public static Replayed replay(List<String> policy, Path stateDir, List<String> bodies) {
    try (TopologyHarness h = new TopologyHarness(policy, stateDir)) {
      h.pipe(bodies.toArray(String[]::new));
      return new Replayed(h.decisions(), h.commands(), h.rejected(), h.verdicts());
    }
  }

  /** Policy assignments, {@code key=value}, as {@code replay --set} takes them. */
  public static List<String> policy(String... keyValues) {
    return List.of(keyValues);
  }

  /**
   * Pipes Pulse bodies as the bridge would write them (key = the push, else the routing key; value =
   * PulseMessage).
   */
  public TopologyHarness pipe(String... bodies) {
    for (String body : bodies) {
      pipeKeyed(PulseEnvelope.read(body.getBytes(StandardCharsets.UTF_8)).recordKey(routingKeyOf(body)), body);
    }
    return this;
  }

  /** Pipes one Pulse body under {@code key}, whatever the bridge would have keyed it by. */
  TopologyHarness pipeKeyed(String key, String body) {
    return pipeBytes(key, routingKeyOf(body), body.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Pipes a body of any bytes (invalid UTF-8 included) as the bridge would write it: {@code key} and
   * {@code routingKey} as given, the record timestamp the body's {@code _meta.sent} if it has one, else 0.
   */
  TopologyHarness pipeBytes(String key, String routingKey, byte[] bytes) {
    Long sent = PulseEnvelope.read(bytes).sent();
    // As the bridge does: the record timestamp is the message's event time, so stream time is event time.
    input.pipeInput(key, PulseMessage.newBuilder()
        .setExchange("exchange/build/")
        .setRoutingKey(routingKey)
        .setBody(ByteBuffer.wrap(bytes))
        .setReceivedAt(Instant.EPOCH)
        .build(), sent == null ? 0L : sent);
    return this;
  }

  /** Pipes a raw record value (for values that are not PulseMessages at all). */
  void pipeRawValue(byte[] value) {
    driver.createInputTopic(Topics.PULSE_RAW_BYTES.name(), Topics.PULSE_RAW_BYTES.keySerde().serializer(),
        Topics.PULSE_RAW_BYTES.valueSerde().serializer()).pipeInput("k", value);
  }

  public List<TriggerDecision> decisions() {
    return decisions.readValuesToList();
  }

  public List<TriggerCommand> commands() {
    return commands.readValuesToList();
  }

  public List<PushVerdict> verdicts() {
    return verdicts.readValuesToList();
  }

  List<org.apache.kafka.streams.test.TestRecord<String, PushVerdict>> verdictRecords() {
    return verdicts.readRecordsToList();
  }

  List<org.apache.kafka.streams.test.TestRecord<String, TriggerCommand>> commandRecords() {
    return commands.readRecordsToList();
  }

  List<RejectedMessage> rejected() {
    return rejected.readValuesToList();
  }

  KeyValueStore<String, PushState> pushes() {
    return driver.getKeyValueStore(StoreNames.PUSHES);
  }

  KeyValueStore<String, BuilderState> builders() {
    return driver.getKeyValueStore(StoreNames.BUILDERS);
  }

  KeyValueStore<String, Long> seenEvents() {
    return driver.getKeyValueStore(StoreNames.SEEN_EVENTS);
  }

  private static String routingKeyOf(String body) {
    int at = body.indexOf("\"routing_key\":\"");
    if (at < 0) {
      return "unknown";
    }
    int start = at + "\"routing_key\":\"".length();
    return body.substring(start, body.indexOf('"', start));
  }

  @Override
  public void close() {
    driver.close();
  }
}
