package org.triggerbot.processor.topology;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.triggerbot.processor.decide.Decider;
import org.triggerbot.processor.decide.DecisionRecords;
import org.triggerbot.processor.decide.Keys;
import org.triggerbot.processor.policy.Policy;
import org.triggerbot.processor.policy.Verdicts;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.AvroSerde;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.DecisionReason;

/**
 * The stateful core: applies the {@link Policy} to each event of a push through a {@link Decider} on the task's
 * stores (records arrive keyed by {@code branch/revision}, so one task owns a push) and forwards one
 * {@code TriggerDecision} per evaluated event, one {@code TriggerCommand} per real trigger, and the push's
 * {@code PushVerdict} whenever a test builder's classification or the push's verdict changed (SPEC 4.1).
 *
 * <p>State lives only in the four changelogged stores of {@link StoreNames}; a restart resumes exactly. A
 * stream-time punctuator runs {@link Decider#sweep} every {@link Decider#SWEEP_INTERVAL}, so the stores do not
 * grow forever.
 *
 * <p>Metrics: one Kafka Streams rate/total sensor per {@link DecisionReason}, operation
 * {@code decision-<reason in kebab case>}: metrics {@code decision-trigger-failure-total} and
 * {@code decision-trigger-failure-rate} in the group {@code stream-triggerbot-metrics}, tagged with the thread and
 * the task (exported as {@code kafka_stream_triggerbot_decision_trigger_failure_total}). They live in the Kafka
 * Streams application's own metrics (whatever exports those exports them), so the topology stays a pure function
 * of its settings. Every reason's sensor is created when the task starts, so a reason that never happened reads 0
 * rather than missing.
 */
final class DecideProcessor implements Processor<String, PushEvent, String, SpecificRecord> {

  /**
   * The stores' serdes also read the state schemas of the release before verdicts (version 1), so that a processor
   * upgraded in place restores its changelogs. Pushes in flight at the upgrade have no classification counts for
   * the builders seen before it; their verdicts count only the builders that had a message since.
   */
  static final AvroSerde<PushState> PUSH_STATE = AvroSerde.of(PushState.class,
      AvroSerde.olderSchema(PushState.class, "history/PushState-1.avsc"));
  static final AvroSerde<BuilderState> BUILDER_STATE = AvroSerde.of(BuilderState.class,
      AvroSerde.olderSchema(BuilderState.class, "history/BuilderState-1.avsc"));

  /** Pushes whose verdict entries {@link #entries} keeps: a busy try day has tens of pushes running at once. */
  static final int VERDICT_CACHE_PUSHES = 256;

  private final Policy policy;
  private final boolean wallClock;
  /** Partitions of {@code pulse.raw}: with more than one, every record must be keyed by its push. */
  private final int partitions;
  /**
   * The verdict entries of the test builders of recently changed pushes, in order of appearance: derived from
   * {@code builder-state}, never a source of truth. Every write of a test builder's state updates it, a forgotten
   * push leaves it, and {@link #init} empties it (Kafka Streams initialises the processor again whenever a task's
   * stores are rebuilt, e.g. after an aborted transaction), so it always equals what a scan of the store would
   * read. It spares each verdict a scan and decode of all the push's builders, which cost a quarter of the
   * replay's time; a push not in it is read from the store.
   */
  private final Map<String, Map<String, BuilderVerdict>> entries;
  private ProcessorContext<String, SpecificRecord> context;
  private StoreDecideState state;
  private Decider decider;
  private final Map<DecisionReason, Sensor> decisionSensors = new EnumMap<>(DecisionReason.class);

  DecideProcessor(Policy policy, boolean wallClock, int cachedPushes, int partitions) {
    this.policy = policy;
    this.wallClock = wallClock;
    this.partitions = partitions;
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Map<String, BuilderVerdict>> eldest) {
        return size() > cachedPushes;
      }
    };
  }

  /**
   * Supplies the processor with its stores attached.
   *
   * @param cachedPushes how many pushes' verdict entries to keep in memory (0: read every verdict from the store)
   * @param partitions partitions of {@code pulse.raw}; with more than one, a record not keyed by its push is refused
   *     ({@link MisroutedRecordException}): its push may be decided on another task too
   */
  static ProcessorSupplier<String, PushEvent, String, SpecificRecord> supplier(Policy policy, boolean wallClock,
      int cachedPushes, int partitions) {
    return new ProcessorSupplier<>() {
      @Override
      public Processor<String, PushEvent, String, SpecificRecord> get() {
        return new DecideProcessor(policy, wallClock, cachedPushes, partitions);
      }

      @Override
      public Set<StoreBuilder<?>> stores() {
        return Set.of(
            Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.PUSHES),
                Serdes.String(), PUSH_STATE),
            Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BUILDERS),
                Serdes.String(), BUILDER_STATE),
            Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.SEEN_EVENTS),
                Serdes.String(), Serdes.Long()),
            Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.GLOBAL_TRIGGERS),
                Serdes.String(), Serdes.Integer()));
      }
    };
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    entries.clear(); // the stores may have been rebuilt: nothing derived from them before holds
    this.state = new StoreDecideState(context, entries::remove);
    this.decider = new Decider(policy, state);
    String task = context.taskId().toString();
    for (DecisionReason reason : DecisionReason.values()) {
      // One operation name per reason: Kafka Streams names a sensor by scope, entity and operation only, so
      // sensors that differed by a tag alone would be one sensor counting every reason.
      decisionSensors.put(reason, context.metrics().addRateTotalSensor("triggerbot", task, sensorName(reason),
          Sensor.RecordingLevel.INFO));
    }
    context.schedule(Decider.SWEEP_INTERVAL, PunctuationType.STREAM_TIME, decider::sweep);
  }

  @Override
  public void process(Record<String, PushEvent> record) {
    PushEvent event = record.value();
    String key = Keys.push(event.getBranch(), event.getRevision());
    if (partitions > 1 && !key.equals(record.key())) {
      throw new MisroutedRecordException(context.recordMetadata()
          .map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()).orElse("(offset unknown)"),
          record.key(), key, partitions);
    }
    Decider.Outcome o = decider.decide(event, key);
    if (o == null) {
      return; // a duplicate delivery: changes nothing, decides nothing
    }
    String pushKey = o.pushKey();
    Map<String, BuilderVerdict> cached = entries.get(pushKey);
    if (cached != null && o.builder().getTestJob() && o.builder().getClassification() != null) {
      // A new builder goes last, which is its order of appearance; a known one keeps its place.
      cached.put(event.getBuilder(), Verdicts.builderVerdict(event.getBuilder(), o.builder()));
    }
    long t = event.getEventTime();
    if (o.decision() != null) {
      decisionSensors.get(o.decision().reason()).record();
      Instant decidedAt = wallClock ? Instant.ofEpochMilli(context.currentSystemTimeMs()) : null;
      context.forward(new Record<String, SpecificRecord>(pushKey,
          DecisionRecords.decision(o, event, policy.settings().version(), decidedAt), t));
      if (o.decision().issuesJobs()) {
        context.forward(new Record<String, SpecificRecord>(Keys.under(pushKey, event.getBuilder()),
            DecisionRecords.command(o, event), t));
      }
    }
    if (o.verdictChanged()) {
      // From the cache, or from the store (this message's builder was just written there) for a push not in it.
      Map<String, BuilderVerdict> builderVerdicts = entries.get(pushKey);
      if (builderVerdicts == null) {
        builderVerdicts = readVerdictEntries(pushKey);
        entries.put(pushKey, builderVerdicts);
      }
      context.forward(new Record<String, SpecificRecord>(pushKey,
          DecisionRecords.verdict(event, o.push(), builderVerdicts.values()), t));
    }
  }

  /** The verdict entries of every test builder of the push, from the store, in order of first appearance. */
  private Map<String, BuilderVerdict> readVerdictEntries(String pushKey) {
    List<BuilderEntry> found = new ArrayList<>();
    String prefix = Keys.prefix(pushKey);
    try (KeyValueIterator<String, BuilderState> it = state.builders().prefixScan(prefix, new StringSerializer())) {
      while (it.hasNext()) {
        KeyValue<String, BuilderState> kv = it.next();
        if (kv.value.getTestJob() && kv.value.getClassification() != null) {
          found.add(new BuilderEntry(kv.value.getOrder(), kv.key.substring(prefix.length()), kv.value));
        }
      }
    }
    found.sort(Comparator.comparingInt(BuilderEntry::order));
    Map<String, BuilderVerdict> byName = new LinkedHashMap<>();
    found.forEach(e -> byName.put(e.name(), Verdicts.builderVerdict(e.name(), e.state())));
    return byName;
  }

  private record BuilderEntry(int order, String name, BuilderState state) {}

  /** The operation name of a reason's sensor: {@code decision-} and the reason in kebab case. */
  static String sensorName(DecisionReason reason) {
    return "decision-" + reason.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
