package org.triggerbot.processor.topology;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
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
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.triggerbot.processor.policy.Decision;
import org.triggerbot.processor.policy.Policy;
import org.triggerbot.processor.policy.Verdicts;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.AvroSerde;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.JobEvent;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.VerdictState;

/**
 * The stateful core: applies the {@link Policy} to each event of a push (records arrive keyed by
 * {@code branch/revision}, so one task owns a push) and forwards one {@code TriggerDecision} per evaluated event,
 * one {@code TriggerCommand} per real trigger, and the push's {@code PushVerdict} whenever a test builder's
 * classification or the push's verdict changed (SPEC 4.1).
 *
 * <p>State lives only in the four changelogged stores of {@link StoreNames}; a restart resumes exactly. A
 * stream-time punctuator deletes pushes whose TTL passed more than {@link #SWEEP_GRACE} ago, and global-window
 * entries older than an hour plus that grace, so the stores do not grow forever. The grace keeps state for
 * messages that arrive out of order by up to a day; the TTL rule itself is applied exactly, per message.
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

  static final Duration SWEEP_INTERVAL = Duration.ofHours(1);
  static final Duration SWEEP_GRACE = Duration.ofDays(1);

  /** Pushes whose verdict entries {@link #entries} keeps: a busy try day has tens of pushes running at once. */
  static final int VERDICT_CACHE_PUSHES = 256;

  private final Policy policy;
  private final boolean wallClock;
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
  private KeyValueStore<String, PushState> pushes;
  private KeyValueStore<String, BuilderState> builders;
  private KeyValueStore<String, Long> seen;
  private StoreGlobalWindow window;
  private final Map<DecisionReason, Sensor> decisionSensors = new EnumMap<>(DecisionReason.class);

  DecideProcessor(Policy policy, boolean wallClock, int cachedPushes) {
    this.policy = policy;
    this.wallClock = wallClock;
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
   */
  static ProcessorSupplier<String, PushEvent, String, SpecificRecord> supplier(Policy policy, boolean wallClock,
                                                                             int cachedPushes) {
    return new ProcessorSupplier<>() {
      @Override
      public Processor<String, PushEvent, String, SpecificRecord> get() {
        return new DecideProcessor(policy, wallClock, cachedPushes);
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
    this.pushes = context.getStateStore(StoreNames.PUSHES);
    this.builders = context.getStateStore(StoreNames.BUILDERS);
    this.seen = context.getStateStore(StoreNames.SEEN_EVENTS);
    this.window = new StoreGlobalWindow(context.getStateStore(StoreNames.GLOBAL_TRIGGERS));
    String task = context.taskId().toString();
    for (DecisionReason reason : DecisionReason.values()) {
      // One operation name per reason: Kafka Streams names a sensor by scope, entity and operation only, so
      // sensors that differed by a tag alone would be one sensor counting every reason.
      decisionSensors.put(reason, context.metrics().addRateTotalSensor("triggerbot", task, sensorName(reason),
          Sensor.RecordingLevel.INFO));
    }
    context.schedule(SWEEP_INTERVAL, PunctuationType.STREAM_TIME, this::sweep);
  }

  @Override
  public void process(Record<String, PushEvent> record) {
    PushEvent event = record.value();
    long t = event.getEventTime();
    String pushKey = Keys.push(event.getBranch(), event.getRevision());

    PushState push = pushes.get(pushKey);
    if (push != null && policy.expired(push, t)) {
      forget(pushKey);
      push = null;
    }
    String seenKey = Keys.under(pushKey, event.getRoutingKey());
    if (push != null && seen.get(seenKey) != null) {
      return; // a duplicate delivery: changes nothing, decides nothing
    }
    if (push == null) {
      push = Policy.newPush(t);
    }
    seen.put(seenKey, t);

    String builderKey = Keys.under(pushKey, event.getBuilder());
    String decisionId = decisionId(pushKey, push.getLifeStart(), event.getRoutingKey());
    Policy.Applied applied = policy.apply(push, builders.get(builderKey), event, window, decisionId);
    pushes.put(pushKey, push);
    builders.put(builderKey, applied.builder());
    Map<String, BuilderVerdict> cached = entries.get(pushKey);
    if (cached != null && applied.builder().getTestJob() && applied.builder().getClassification() != null) {
      // A new builder goes last, which is its order of appearance; a known one keeps its place.
      cached.put(event.getBuilder(), Verdicts.builderVerdict(event.getBuilder(), applied.builder()));
    }

    Decision d = applied.decision();
    if (d != null) {
      forwardDecision(d, event, push, applied.builder(), pushKey, builderKey, decisionId);
    }
    if (applied.verdictChanged()) {
      forwardVerdict(event, push, pushKey);
    }
  }

  private void forwardDecision(Decision d, PushEvent event, PushState push, BuilderState builder, String pushKey,
                               String builderKey, String decisionId) {
    long t = event.getEventTime();
    decisionSensors.get(d.reason()).record();
    TriggerDecision decision = TriggerDecision.newBuilder()
        .setDecisionId(decisionId)
        .setBranch(event.getBranch())
        .setRevision(event.getRevision())
        .setBuilder(event.getBuilder())
        .setEvent(event.getEvent() == EventKind.STARTED ? JobEvent.STARTED : JobEvent.FINISHED)
        .setResult(event.getResult())
        .setReason(d.reason())
        .setCount(d.count())
        .setFailuresOnPush(d.failuresOnPush())
        .setJobsOnPush(d.jobsOnPush())
        .setBudgetLimit(d.budgetLimit())
        .setPolicyVersion(policy.settings().version())
        .setUser(push.getPusher())
        .setEventTime(Instant.ofEpochMilli(t))
        .setDecidedAt(wallClock ? Instant.ofEpochMilli(context.currentSystemTimeMs()) : null)
        .setRoutingKey(event.getRoutingKey())
        .build();
    context.forward(new Record<String, SpecificRecord>(pushKey, decision, t));
    if (d.issuesJobs()) {
      TriggerCommand command = TriggerCommand.newBuilder()
          .setCommandId(decisionId)
          .setBranch(event.getBranch())
          .setRevision(event.getRevision())
          .setBuilder(event.getBuilder())
          .setCount(d.count())
          .setReason(d.reason())
          .setRequestedAt(Instant.ofEpochMilli(t))
          .setPriorJobs(builder.getJobsIssued() - d.count()) // the builder's state already counts this trigger
          .build();
      context.forward(new Record<String, SpecificRecord>(builderKey, command, t));
    }
  }

  /**
   * The push's verdict with every test builder, in order of first appearance: from {@link #entries}, or read
   * from the store (this message's builder was just written there) when the push is not cached.
   */
  private void forwardVerdict(PushEvent event, PushState push, String pushKey) {
    Map<String, BuilderVerdict> builderVerdicts = entries.get(pushKey);
    if (builderVerdicts == null) {
      builderVerdicts = readVerdictEntries(pushKey);
      entries.put(pushKey, builderVerdicts);
    }
    PushVerdict verdict = PushVerdict.newBuilder()
        .setBranch(event.getBranch())
        .setRevision(event.getRevision())
        .setState(VerdictState.valueOf(push.getVerdict()))
        .setBuilders(new ArrayList<>(builderVerdicts.values()))
        .setUpdatedAt(Instant.ofEpochMilli(push.getVerdictUpdatedAt()))
        .build();
    context.forward(new Record<String, SpecificRecord>(pushKey, verdict, event.getEventTime()));
  }

  /** The verdict entries of every test builder of the push, from the store, in order of first appearance. */
  private Map<String, BuilderVerdict> readVerdictEntries(String pushKey) {
    List<BuilderEntry> found = new ArrayList<>();
    String prefix = Keys.prefix(pushKey);
    try (KeyValueIterator<String, BuilderState> it = builders.prefixScan(prefix, new StringSerializer())) {
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

  /**
   * Deterministic: the push, the life of the push and the routing key identify an evaluated event, because a
   * routing key is evaluated at most once per life.
   */
  static String decisionId(String pushKey, long lifeStart, String routingKey) {
    return UUID.nameUUIDFromBytes((pushKey + "\n" + lifeStart + "\n" + routingKey).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  private void forget(String pushKey) {
    entries.remove(pushKey);
    pushes.delete(pushKey);
    deletePrefix(builders, Keys.prefix(pushKey));
    deletePrefix(seen, Keys.prefix(pushKey));
  }

  private static <V> void deletePrefix(KeyValueStore<String, V> store, String prefix) {
    List<String> keys = new ArrayList<>();
    try (KeyValueIterator<String, V> it = store.prefixScan(prefix, new StringSerializer())) {
      while (it.hasNext()) {
        keys.add(it.next().key);
      }
    }
    keys.forEach(store::delete);
  }

  private void sweep(long streamTime) {
    long grace = SWEEP_GRACE.toMillis();
    List<String> expired = new ArrayList<>();
    try (KeyValueIterator<String, PushState> it = pushes.all()) {
      while (it.hasNext()) {
        KeyValue<String, PushState> kv = it.next();
        if (policy.sweepable(kv.value.getLastSeen(), streamTime, grace)) {
          expired.add(kv.key);
        }
      }
    }
    expired.forEach(this::forget);
    window.purgeBefore(streamTime - Duration.ofHours(1).toMillis() - grace);
  }
}
