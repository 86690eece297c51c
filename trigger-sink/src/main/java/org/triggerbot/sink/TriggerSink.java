package org.triggerbot.sink;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.KafkaConnectivity;
import org.triggerbot.schemas.AvroSerde;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.sink.state.EntryState;
import org.triggerbot.sink.state.SinkEntry;
import org.triggerbot.sink.taskcluster.Actions;
import org.triggerbot.sink.taskcluster.TaskclusterClient;
import org.triggerbot.sink.taskcluster.TaskclusterRetriggers;

/**
 * Turns each {@code trigger.commands} record into at most one rebuild POST to buildapi and exactly one
 * {@code TriggerResult} (SPEC section 6).
 *
 * <p><b>Why no command is POSTed twice.</b> Every command has a journal entry on the compacted topic
 * {@code sink.journal.topic} (default {@code trigger.sink-journal}), changed only in Kafka transactions. Right
 * before a command's rebuild POST its entry becomes {@code POSTING} in a transaction that is <em>committed</em>
 * before the request is sent; its result and {@code DONE} are committed after the POST. A sink that starts (after
 * a crash anywhere) first fences its predecessor ({@code initTransactions}: a zombie's next commit fails, and
 * without that commit it sends no further POST), then reads the journal: a {@code POSTING} entry means the POST
 * may have happened, so that command is never POSTed again, only verified by lookup (buildapi lists more jobs for
 * the builder than before the POST → {@code SUBMITTED}, "confirmed by lookup"; still not after
 * {@code sink.retry.max} lookups → {@code GAVE_UP}, saying why). A POST that times out or loses its connection is
 * in doubt the same way (the JDK HTTP client resends a POST by itself only when
 * {@code jdk.httpclient.enableAllMethodRetry} is set, which it must never be here). So: at most one POST per
 * command.
 *
 * <p><b>What a crash can cost.</b> Due commands are looked up in batches of up to {@value #BATCH}; then each one
 * to rebuild gets its own {@code POSTING} commit, immediately followed by its own POST (the lookups' outcomes and
 * the previous POST's result ride in that same transaction). So a crash leaves at most one command in doubt: the
 * one whose {@code POSTING} entry committed last. If its POST had reached buildapi, the restarted sink's lookups
 * confirm it; only a crash between that commit and the request leaving loses its rebuild — it ends
 * {@code GAVE_UP}, saying the POST may not have arrived, because telling "never sent" from "sent, not yet listed"
 * is impossible and a second rebuild is never acceptable. The rest of the batch is still {@code PENDING} in the
 * journal and is looked up and POSTed normally after the restart. The price is one transaction per POST.
 *
 * <p><b>Why no command is lost.</b> A command is accepted by committing its {@code PENDING} entry and the
 * consumer offset in one transaction; every later state is journaled too, with the time of the next attempt. A
 * restarted sink resumes every pending lookup, retry and back-off from the journal: nothing waits in memory
 * alone. One slow or failing command never blocks others: each has its own schedule.
 *
 * <p>One sink runs per {@code transactional.id}; the global POST cap ({@code sink.max.posts.per.hour}) is
 * therefore exact. All work happens on the thread that calls {@link #run()}.
 *
 * <p>Metrics, in the {@link MeterRegistry} given: {@code triggerbot.sink.results} (Prometheus
 * {@code triggerbot_sink_results_total}), results committed to {@code trigger.results}, tagged {@code outcome}
 * (every outcome from the start, at 0); the gauge {@code triggerbot.sink.pending} ({@link #pending()}); the
 * buildapi client's meters (see {@link BuildapiClient}); and the Kafka consumer's and producer's own metrics
 * ({@code kafka_consumer_*}, consumer lag included, and {@code kafka_producer_*}, through Micrometer's
 * {@link KafkaClientMetrics}).
 */
public final class TriggerSink implements Runnable, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TriggerSink.class);
  /**
   * Also reads journal entries written before {@code priorJobs} (version 1) and the Taskcluster fields (version 2)
   * existed, so an upgrade resumes.
   */
  static final AvroSerde<SinkEntry> ENTRY = AvroSerde.of(SinkEntry.class,
      AvroSerde.olderSchema(SinkEntry.class, "history/SinkEntry-1.avsc"),
      AvroSerde.olderSchema(SinkEntry.class, "history/SinkEntry-2.avsc"));
  /** The journal's serdes; its name is {@code sink.journal.topic} (compacted, key = commandId). */
  private final Topic<String, SinkEntry> journal;
  /** Commands handled between two polls: at worst two calls each, every one waiting for its timeout. */
  private static final int BATCH = 20;
  private static final Duration WORK_BUDGET = Duration.ofSeconds(30);
  private static final long HOUR_MS = 3_600_000L;

  /**
   * Test seams, called on the worker thread. A hook that throws ends {@link #run()} there, with nothing more
   * committed: a crash at that point, as far as Kafka and buildapi can tell.
   */
  interface Hooks {
    Hooks NONE = new Hooks() {};

    /** Right after the command's {@code POSTING} entry committed, before its rebuild POST is sent. */
    default void beforePost(String commandId) {}

    /** Right after the command's rebuild POST returned, before its result is committed. */
    default void afterPost(String commandId) {}
  }

  private final SinkConfig config;
  private final BuildapiClient buildapi;
  /** Null unless {@code taskcluster.enabled}. */
  private final TaskclusterRetriggers taskcluster;
  private final Hooks hooks;
  private final Map<String, SinkEntry> active = new HashMap<>();
  private final Set<String> done = new HashSet<>();
  private final ArrayDeque<Long> postTimes = new ArrayDeque<>();
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch ready = new CountDownLatch(1);
  /** The consumer's connections to Kafka, for readiness; set once the consumer exists. */
  private volatile KafkaConnectivity connectivity;
  private volatile boolean running = true;
  /** From the end of the start-up (journal restored, subscribed) until {@link #run()} ends. */
  private volatile boolean serving;
  private final MeterRegistry registry;
  private final Map<TriggerOutcome, Counter> results = new EnumMap<>(TriggerOutcome.class);
  /** Outcomes of results sent in the open transaction; counted once it commits. Worker thread only. */
  private final List<TriggerOutcome> uncommitted = new ArrayList<>();

  /** A sink whose meters go nowhere in particular (a private {@link SimpleMeterRegistry}). */
  public TriggerSink(SinkConfig config) {
    this(config, Hooks.NONE);
  }

  /** A sink with its meters (see the class comment) in {@code registry}; one sink per registry. */
  public TriggerSink(SinkConfig config, MeterRegistry registry) {
    this(config, Hooks.NONE, registry);
  }

  TriggerSink(SinkConfig config, Hooks hooks) {
    this(config, hooks, new SimpleMeterRegistry());
  }

  TriggerSink(SinkConfig config, Hooks hooks, MeterRegistry registry) {
    this.config = config;
    this.hooks = hooks;
    this.registry = registry;
    this.buildapi = new BuildapiClient(config.buildapiUrl(), config.user(), config.password(), config.timeout(),
        registry);
    this.taskcluster = config.taskclusterEnabled() ? new TaskclusterRetriggers(new TaskclusterClient(
        config.taskclusterRootUrl(), config.taskclusterCredentials(), config.timeout(), registry)) : null;
    this.journal = new Topic<>(config.journalTopic(), Serdes.String(), ENTRY);
    for (TriggerOutcome outcome : TriggerOutcome.values()) {
      results.put(outcome, Counter.builder("triggerbot.sink.results")
          .description("results committed to trigger.results, by outcome")
          .tag("outcome", outcome.name())
          .register(registry));
    }
    Gauge.builder("triggerbot.sink.pending", this, TriggerSink::pending)
        .description("commands not yet done: pending lookups, retries, in-doubt POSTs")
        .register(registry);
  }

  /** Waits until the journal is restored and commands are consumed. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Whether the sink does its work now, for the admin server's readiness: ready from when the journal is restored
   * and commands are consumed until {@link #run()} ends, except while its consumer reaches no Kafka broker
   * ({@link KafkaConnectivity}): the sink then waits, and its state says nothing of it.
   */
  public AdminServer.Health readiness() {
    if (serving && running) {
      KafkaConnectivity c = connectivity;
      String kafka = c == null ? null : c.problem();
      return kafka == null ? AdminServer.Health.up(Map.of("pending", pending()))
          : AdminServer.Health.down(kafka, Map.of("pending", pending()));
    }
    if (stopped.getCount() == 0 || !running) {
      return AdminServer.Health.down("stopping or stopped");
    }
    return AdminServer.Health.down("starting: fencing the previous sink and restoring the journal");
  }

  /** Commands not yet DONE (pending lookups, retries, in-doubt POSTs). */
  public synchronized int pending() {
    return active.size();
  }

  @Override
  public void run() {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config.producerProperties(),
        new StringSerializer(), new ByteArraySerializer());
         KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config.consumerProperties(),
             new StringDeserializer(), new ByteArrayDeserializer());
         // Closed before the clients (resources close in reverse order): their meters leave with them.
         KafkaClientMetrics producerMetrics = new KafkaClientMetrics(producer);
         KafkaClientMetrics consumerMetrics = new KafkaClientMetrics(consumer)) {
      producerMetrics.bindTo(registry);
      consumerMetrics.bindTo(registry);
      connectivity = new KafkaConnectivity(consumer::metrics, KafkaConnectivity.CONSUMER);
      ensureJournal();
      producer.initTransactions(); // fences a predecessor and aborts its open transaction
      restore();
      consumer.subscribe(List.of(Topics.TRIGGER_COMMANDS.name()));
      LOG.info("trigger-sink ready: {} commands pending from the journal, buildapi {}{}", active.size(),
          config.buildapiUrl(), config.dryRun() ? " (dry run)" : "");
      serving = true;
      ready.countDown();
      while (running) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(pollMillis()));
        if (!records.isEmpty()) {
          accept(producer, consumer, records);
        }
        runDue(producer);
      }
    } finally {
      serving = false;
      ready.countDown();
      stopped.countDown();
    }
  }

  /** Stops after the current step; what is pending stays in the journal for the next start. */
  @Override
  public void close() {
    running = false;
    stopRequested.countDown();
  }

  public void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  // --- accepting commands ------------------------------------------------------------------------------------

  // The sends are transactional: commitTransaction fails if any of them failed, so their Futures add nothing.
  @SuppressWarnings("FutureReturnValueIgnored")
  private void accept(KafkaProducer<String, byte[]> producer, KafkaConsumer<String, byte[]> consumer,
      ConsumerRecords<String, byte[]> records) {
    long now = System.currentTimeMillis();
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    List<SinkEntry> accepted = new ArrayList<>();
    producer.beginTransaction();
    for (ConsumerRecord<String, byte[]> r : records) {
      offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
      TriggerCommand command;
      try {
        command = Topics.TRIGGER_COMMAND.decode(r.value(), "topic " + r.topic());
      } catch (SerializationException e) {
        LOG.error("unreadable command at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        producer.send(result(r.key() == null ? "" : r.key(), "unreadable-" + r.partition() + "-" + r.offset(),
            TriggerOutcome.REJECTED, null, null, 0, "unreadable command: " + e.getMessage()));
        uncommitted.add(TriggerOutcome.REJECTED);
        continue;
      }
      String id = command.getCommandId();
      if (done.contains(id) || active.containsKey(id) || accepted.stream().anyMatch(e -> e.getCommandId().equals(id))) {
        LOG.info("command {} seen before; ignored", id);
        continue;
      }
      SinkEntry entry = SinkEntry.newBuilder()
          .setCommandId(id)
          .setCommandKey(r.key() == null
              ? command.getBranch() + "/" + command.getRevision() + "/" + command.getBuilder() : r.key())
          .setBranch(command.getBranch())
          .setRevision(command.getRevision())
          .setBuilder(command.getBuilder())
          .setCount(command.getCount())
          .setPriorJobs(command.getPriorJobs())
          .setTaskId(command.getTaskId())
          .setTaskGroupId(command.getTaskGroupId())
          .setRequestedAt(command.getRequestedAt().toEpochMilli())
          .setState(EntryState.PENDING)
          .setNextAttemptAt(now)
          .build();
      producer.send(journal(entry));
      accepted.add(entry);
    }
    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
    producer.commitTransaction();
    countCommittedResults();
    synchronized (this) {
      accepted.forEach(e -> active.put(e.getCommandId(), e));
    }
  }

  // --- doing what is due -------------------------------------------------------------------------------------

  /** A rebuild POST to make, or (when {@code retrigger} is set) a Taskcluster hook to trigger. */
  private record Post(SinkEntry entry, boolean byBuild, long id, Actions.Retrigger retrigger, String note) {
    Post(SinkEntry entry, boolean byBuild, long id) {
      this(entry, byBuild, id, null, null);
    }
  }

  private void runDue(KafkaProducer<String, byte[]> producer) {
    long now = System.currentTimeMillis();
    List<SinkEntry> due;
    synchronized (this) {
      due = active.values().stream().filter(e -> e.getNextAttemptAt() <= now)
          .sorted(Comparator.comparingLong(SinkEntry::getNextAttemptAt)).limit(BATCH).toList();
    }
    if (due.isEmpty()) {
      return;
    }
    List<ProducerRecord<String, byte[]>> writes = new ArrayList<>();
    List<Post> posts = new ArrayList<>();
    // Bounded work between polls, far below max.poll.interval.ms, even when every call waits for its timeout.
    long stopBy = now + WORK_BUDGET.toMillis();
    for (SinkEntry e : due) {
      if (System.currentTimeMillis() > stopBy) {
        break;
      }
      SinkEntry entry = SinkEntry.newBuilder(e).build();
      boolean tc = entry.getTaskId() != null;
      if (config.dryRun()) {
        finish(entry, TriggerOutcome.DRY_RUN, null, null,
            tc ? "dry run: Taskcluster not called" : "dry run: buildapi not called", writes);
      } else if (tc && taskcluster == null) {
        finish(entry, TriggerOutcome.REJECTED, null, null,
            "a Taskcluster command (task " + entry.getTaskId() + ") but taskcluster.enabled=false", writes);
      } else if (entry.getState() == EntryState.POSTING) {
        if (tc) {
          verifyTaskcluster(entry, writes);
        } else {
          verify(entry, writes);
        }
      } else {
        Post post = tc ? prepareTaskcluster(entry, writes, posts.size()) : lookUp(entry, writes, posts.size());
        if (post != null) {
          posts.add(post);
        }
      }
    }
    for (Post p : posts) {
      // This command's POSTING entry must be durable before its POST leaves: that commit is the no-duplicate
      // guarantee. One command per commit, so a crash leaves at most this one command in doubt; what is already
      // decided (lookups, the previous POST's result) rides along in the same transaction.
      p.entry().setState(EntryState.POSTING);
      p.entry().setPostedAt(System.currentTimeMillis());
      writes.add(journal(p.entry()));
      commit(producer, writes);
      hooks.beforePost(p.entry().getCommandId());
      post(p, writes);
    }
    if (!writes.isEmpty()) {
      commit(producer, writes);
    }
  }

  /** Commits {@code writes} in one transaction and empties the list. */
  // commitTransaction fails if any send failed, so the sends' Futures add nothing.
  @SuppressWarnings("FutureReturnValueIgnored")
  private void commit(KafkaProducer<String, byte[]> producer, List<ProducerRecord<String, byte[]>> writes) {
    producer.beginTransaction();
    writes.forEach(producer::send);
    producer.commitTransaction();
    writes.clear();
    countCommittedResults();
  }

  /** Results count once their transaction committed: a result that a crash aborted is not one. */
  private void countCommittedResults() {
    uncommitted.forEach(outcome -> results.get(outcome).increment());
    uncommitted.clear();
  }

  /** A PENDING command: look it up, and either finish it, schedule it again, or return the POST to make. */
  private Post lookUp(SinkEntry entry, List<ProducerRecord<String, byte[]>> writes, int postsPlanned) {
    BuildapiClient.Reply reply = buildapi.lookup(entry.getBranch(), entry.getRevision());
    entry.setAttempts(entry.getAttempts() + 1);
    entry.setLastStatus(reply.status());
    if (reply.transientFailure()) {
      backOff(entry, reply, writes);
      return null;
    }
    entry.setTransientFailures(0);
    if (reply.status() == 404) {
      // buildapi answers 404 for a revision with no job yet, as well as for one it will never know: look again
      // like for a missing id, and call it NOT_FOUND only when the retries are spent.
      entry.setNoIdRetries(entry.getNoIdRetries() + 1);
      if (entry.getNoIdRetries() > config.retryMax()) {
        finish(entry, TriggerOutcome.NOT_FOUND, reply.status(), null, reply.message(), writes);
      } else {
        schedule(entry, config.retryDelay().toMillis(), writes);
      }
      return null;
    }
    if (!reply.ok()) {
      finish(entry, TriggerOutcome.REJECTED, reply.status(), null, reply.message(), writes);
      return null;
    }
    List<JsonNode> items = itemsFor(reply.body(), entry.getBuilder());
    // SPEC 6: more jobs than the count means this trigger happened before. A confirmation retrigger (SPEC 4b)
    // finds the jobs of the push's earlier triggers of the builder too, so those are added to the count.
    int expectedBefore = entry.getCount() + entry.getPriorJobs();
    if (items.size() > expectedBefore) {
      finish(entry, TriggerOutcome.ALREADY_PRESENT, reply.status(), null,
          "buildapi lists " + items.size() + " jobs of the builder, more than the " + entry.getCount() + " asked"
              + (entry.getPriorJobs() == 0 ? "" : " plus the " + entry.getPriorJobs() + " of earlier triggers"),
          writes);
      return null;
    }
    Optional<Long> buildId =
        items.stream().filter(i -> i.hasNonNull("build_id")).map(i -> i.get("build_id").asLong()).findFirst();
    Optional<Long> requestId = items.stream().filter(i -> !i.hasNonNull("build_id") && i.hasNonNull("request_id"))
        .map(i -> i.get("request_id").asLong()).findFirst();
    if (buildId.isEmpty() && requestId.isEmpty()) {
      entry.setNoIdRetries(entry.getNoIdRetries() + 1);
      if (entry.getNoIdRetries() > config.retryMax()) {
        finish(entry, TriggerOutcome.GAVE_UP, reply.status(), null, "buildapi listed no build_id or request_id for the "
            + "builder in " + entry.getNoIdRetries() + " lookups, " + config.retryDelay() + " apart", writes);
      } else {
        schedule(entry, config.retryDelay().toMillis(), writes);
      }
      return null;
    }
    long capFreeAt = capFreeAt(postsPlanned);
    if (capFreeAt > System.currentTimeMillis()) {
      LOG.warn("rebuild POST cap of {} per hour reached; command {} waits", config.maxPostsPerHour(),
          entry.getCommandId());
      entry.setNextAttemptAt(capFreeAt);
      writes.add(journal(entry));
      replace(entry);
      return null;
    }
    entry.setBaselineTotal(items.size());
    return new Post(entry, buildId.isPresent(), buildId.orElseGet(requestId::get));
  }

  private void post(Post p, List<ProducerRecord<String, byte[]>> writes) {
    if (p.retrigger() != null) {
      triggerTaskcluster(p, writes);
      return;
    }
    SinkEntry entry = p.entry();
    BuildapiClient.Reply reply = p.byBuild()
        ? buildapi.rebuildBuild(entry.getBranch(), p.id(), entry.getCount())
        : buildapi.rebuildRequest(entry.getBranch(), p.id(), entry.getCount());
    postTimes.addLast(System.currentTimeMillis());
    hooks.afterPost(entry.getCommandId());
    entry.setAttempts(entry.getAttempts() + 1);
    entry.setLastStatus(reply.status());
    if (reply.ok()) {
      JsonNode requestId = reply.body() == null ? null : reply.body().get("request_id");
      finish(entry, TriggerOutcome.SUBMITTED, reply.status(), requestId == null ? null : requestId.asText(), null,
          writes);
    } else if (reply.transientFailure()) {
      // In doubt: buildapi may have acted before the failure. Never POST again; verify by lookup later.
      entry.setLastError("rebuild POST in doubt: " + reply.message());
      schedule(entry, config.retryDelay().toMillis(), writes);
    } else {
      finish(entry, TriggerOutcome.REJECTED, reply.status(), null, reply.message(), writes);
    }
  }

  /** A POSTING command (a POST may have happened): never POST again, only confirm it by lookup. */
  private void verify(SinkEntry entry, List<ProducerRecord<String, byte[]>> writes) {
    BuildapiClient.Reply reply = buildapi.lookup(entry.getBranch(), entry.getRevision());
    entry.setAttempts(entry.getAttempts() + 1);
    entry.setLastStatus(reply.status());
    if (reply.transientFailure()) {
      backOff(entry, reply, writes);
      return;
    }
    if (!reply.ok()) {
      finish(entry, reply.status() == 404 ? TriggerOutcome.NOT_FOUND : TriggerOutcome.REJECTED, reply.status(), null,
          "verifying an earlier POST: " + reply.message(), writes);
      return;
    }
    int total = itemsFor(reply.body(), entry.getBuilder()).size();
    int before = entry.getBaselineTotal() == null ? 0 : entry.getBaselineTotal();
    if (total > before) {
      finish(entry, TriggerOutcome.SUBMITTED, reply.status(), null,
          "confirmed by lookup (" + before + " jobs before the "
              + "POST, " + total + " now); the sink restarted or the POST's answer was lost",
          writes);
      return;
    }
    entry.setVerifications(entry.getVerifications() + 1);
    if (entry.getVerifications() > config.retryMax()) {
      finish(entry, TriggerOutcome.GAVE_UP, reply.status(), null,
          "a rebuild POST may have been sent (the sink restarted "
              + "or the answer was lost) but buildapi lists no new job after " + entry.getVerifications()
              + " lookups; not sent again, to never rebuild twice",
          writes);
    } else {
      schedule(entry, config.retryDelay().toMillis(), writes);
    }
  }

  private void backOff(SinkEntry entry, BuildapiClient.Reply reply, List<ProducerRecord<String, byte[]>> writes) {
    backOff(entry, reply.status(), reply.message(), writes);
  }

  private void backOff(SinkEntry entry, int status, String message, List<ProducerRecord<String, byte[]>> writes) {
    int failures = entry.getTransientFailures() + 1;
    entry.setTransientFailures(failures);
    entry.setLastError(message);
    if (failures >= config.transientMax()) {
      finish(entry, TriggerOutcome.GAVE_UP, status, null,
          (entry.getTaskId() == null ? "buildapi" : "Taskcluster") + " failed " + failures + " times in a row; last: "
              + message
              + (entry.getState() == EntryState.POSTING ? " (an earlier POST may have been sent)" : ""),
          writes);
      return;
    }
    long delay = Math.min(config.backoffMax().toMillis(),
        config.backoffInitial().toMillis() << Math.min(failures - 1, 30));
    schedule(entry, delay, writes);
  }

  // --- Taskcluster (SPEC 6b) -----------------------------------------------------------------------------------

  /** A PENDING Taskcluster command: read the task and actions.json, and either finish it or return the trigger. */
  private Post prepareTaskcluster(SinkEntry entry, List<ProducerRecord<String, byte[]>> writes, int postsPlanned) {
    TaskclusterRetriggers.Step step = taskcluster.prepare(entry.getTaskId(), entry.getTaskGroupId(), entry.getCount());
    entry.setAttempts(entry.getAttempts() + 1);
    if (step instanceof TaskclusterRetriggers.Step.Transient t) {
      backOff(entry, t.status(), t.error(), writes);
      return null;
    }
    if (step instanceof TaskclusterRetriggers.Step.Finish f) {
      finish(entry, f.outcome(), f.status(), f.jobRequestId(), f.error(), writes);
      return null;
    }
    TaskclusterRetriggers.Step.Trigger t = (TaskclusterRetriggers.Step.Trigger) step; // prepare answers no NotYet
    entry.setTransientFailures(0);
    long capFreeAt = capFreeAt(postsPlanned);
    if (capFreeAt > System.currentTimeMillis()) {
      LOG.warn("trigger cap of {} per hour reached; command {} waits", config.maxPostsPerHour(),
          entry.getCommandId());
      entry.setNextAttemptAt(capFreeAt);
      writes.add(journal(entry));
      replace(entry);
      return null;
    }
    return new Post(entry, false, 0, t.retrigger(), t.note());
  }

  /** Triggers the hook of a command whose POSTING entry is committed: once, whatever the answer. */
  private void triggerTaskcluster(Post p, List<ProducerRecord<String, byte[]>> writes) {
    SinkEntry entry = p.entry();
    TaskclusterRetriggers.Step step = taskcluster.trigger(p.retrigger(), p.note());
    postTimes.addLast(System.currentTimeMillis());
    hooks.afterPost(entry.getCommandId());
    entry.setAttempts(entry.getAttempts() + 1);
    if (step instanceof TaskclusterRetriggers.Step.Finish f) {
      entry.setLastStatus(f.status());
      finish(entry, f.outcome(), f.status(), f.jobRequestId(), f.error(), writes);
    } else if (step instanceof TaskclusterRetriggers.Step.Transient t) {
      // In doubt: the hook may have fired before the failure. Never trigger again; verify by listing later.
      entry.setLastStatus(t.status());
      entry.setLastError(t.error());
      schedule(entry, config.retryDelay().toMillis(), writes);
    } else {
      throw new IllegalStateException("unexpected step " + step);
    }
  }

  /** A POSTING Taskcluster command (the hook may have fired): never trigger again, only look for the clone. */
  private void verifyTaskcluster(SinkEntry entry, List<ProducerRecord<String, byte[]>> writes) {
    TaskclusterRetriggers.Step step = taskcluster.verify(entry.getTaskId(), entry.getTaskGroupId(),
        entry.getBuilder(), java.time.Instant.ofEpochMilli(entry.getRequestedAt()));
    entry.setAttempts(entry.getAttempts() + 1);
    if (step instanceof TaskclusterRetriggers.Step.Transient t) {
      backOff(entry, t.status(), t.error(), writes);
    } else if (step instanceof TaskclusterRetriggers.Step.Finish f) {
      finish(entry, f.outcome(), f.status(), f.jobRequestId(),
          f.outcome() == TriggerOutcome.SUBMITTED ? f.error() : "verifying an earlier trigger: " + f.error(), writes);
    } else {
      TaskclusterRetriggers.Step.NotYet n = (TaskclusterRetriggers.Step.NotYet) step; // verify never triggers
      entry.setVerifications(entry.getVerifications() + 1);
      if (entry.getVerifications() > config.retryMax()) {
        finish(entry, TriggerOutcome.GAVE_UP, n.status(), null, "a hook trigger may have been sent (the sink "
            + "restarted or the answer was lost) but the task group lists no clone of " + entry.getBuilder()
            + " after " + entry.getVerifications() + " listings; not sent again, to never retrigger twice", writes);
      } else {
        schedule(entry, config.retryDelay().toMillis(), writes);
      }
    }
  }

  private void schedule(SinkEntry entry, long delayMillis, List<ProducerRecord<String, byte[]>> writes) {
    entry.setNextAttemptAt(System.currentTimeMillis() + delayMillis);
    writes.add(journal(entry));
    replace(entry);
  }

  private void finish(SinkEntry entry, TriggerOutcome outcome, Integer status, String jobRequestId, String error,
      List<ProducerRecord<String, byte[]>> writes) {
    entry.setState(EntryState.DONE);
    entry.setOutcome(outcome.name());
    entry.setLastError(error);
    writes.add(journal(entry));
    writes.add(
        result(entry.getCommandKey(), entry.getCommandId(), outcome, status, jobRequestId, entry.getAttempts(), error));
    uncommitted.add(outcome);
    LOG.info("command {} ({} x{} on {}/{}): {}{}", entry.getCommandId(), entry.getBuilder(), entry.getCount(),
        entry.getBranch(), entry.getRevision(), outcome, error == null ? "" : " - " + error);
    synchronized (this) {
      active.remove(entry.getCommandId());
      done.add(entry.getCommandId());
    }
  }

  private synchronized void replace(SinkEntry entry) {
    active.put(entry.getCommandId(), entry);
  }

  /** When one more POST may be made under the hourly cap, counting those planned in this batch (now if under). */
  private long capFreeAt(int planned) {
    long now = System.currentTimeMillis();
    while (!postTimes.isEmpty() && postTimes.peekFirst() <= now - HOUR_MS) {
      postTimes.removeFirst();
    }
    if (postTimes.size() + planned < config.maxPostsPerHour()) {
      return now;
    }
    // The oldest POST that must leave the window first (planned ones are newer than every recorded one).
    int mustLeave = postTimes.size() + planned - config.maxPostsPerHour();
    return mustLeave < postTimes.size() ? new ArrayList<>(postTimes).get(mustLeave) + HOUR_MS : now + HOUR_MS;
  }

  private long pollMillis() {
    long next;
    synchronized (this) {
      next = active.values().stream().mapToLong(SinkEntry::getNextAttemptAt).min().orElse(Long.MAX_VALUE);
    }
    return Math.max(0, Math.min(200, next - System.currentTimeMillis()));
  }

  /** Items of the lookup whose buildername equals the builder's, exactly. */
  static List<JsonNode> itemsFor(JsonNode body, String builder) {
    List<JsonNode> items = new ArrayList<>();
    if (body != null && body.isArray()) {
      body.forEach(i -> {
        if (builder.equals(i.path("buildername").asText(null))) {
          items.add(i);
        }
      });
    }
    return items;
  }

  // --- records -----------------------------------------------------------------------------------------------

  private ProducerRecord<String, byte[]> journal(SinkEntry entry) {
    return new ProducerRecord<>(journal.name(), entry.getCommandId(), ENTRY.encode(entry));
  }

  private static ProducerRecord<String, byte[]> result(String key, String commandId, TriggerOutcome outcome,
      Integer status, String jobRequestId, int attempts, String error) {
    TriggerResult r = TriggerResult.newBuilder()
        .setCommandId(commandId)
        .setOutcome(outcome)
        .setBuildapiStatus(status == null || status <= 0 ? null : status)
        .setJobRequestId(jobRequestId)
        .setAttempts(attempts)
        .setError(error)
        .build();
    return new ProducerRecord<>(Topics.TRIGGER_RESULTS.name(), key, Topics.TRIGGER_RESULT.encode(r));
  }

  // --- start-up ----------------------------------------------------------------------------------------------

  /** Creates the compacted journal topic if it is missing (like Kafka Streams' internal topics). */
  private void ensureJournal() {
    Properties p = new Properties();
    p.put("bootstrap.servers", config.getString(SinkConfig.BOOTSTRAP_SERVERS));
    try (Admin admin = Admin.create(p)) {
      NewTopic topic = new NewTopic(journal.name(), Optional.of(1), Optional.empty())
          .configs(Map.of("cleanup.policy", "compact"));
      admin.createTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
      LOG.info("created the journal topic {}", journal.name());
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("cannot create the journal topic " + journal.name() + ": " + e.getCause(), e);
      }
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException("cannot create the journal topic " + journal.name() + ": " + e, e);
    }
  }

  /** Reads the journal to its end (read_committed): the latest entry of each command is its state. */
  private void restore() {
    Properties p = config.consumerProperties();
    p.remove("group.id");
    try (KafkaConsumer<String, byte[]> reader =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : reader.partitionsFor(journal.name(), Duration.ofSeconds(60))) {
        partitions.add(new TopicPartition(info.topic(), info.partition()));
      }
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = reader.endOffsets(partitions);
      Map<String, SinkEntry> latest = new HashMap<>();
      while (partitions.stream().anyMatch(tp -> reader.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(200))) {
          latest.put(r.key(), ENTRY.decode(r.value(), "journal"));
        }
      }
      long hourAgo = System.currentTimeMillis() - HOUR_MS;
      List<Long> recentPosts = new ArrayList<>();
      synchronized (this) {
        latest.forEach((id, e) -> {
          if (e.getPostedAt() != null && e.getPostedAt() > hourAgo) {
            recentPosts.add(e.getPostedAt());
          }
          if (e.getState() == EntryState.DONE) {
            done.add(id);
          } else {
            active.put(id, e);
            if (e.getState() == EntryState.POSTING) {
              LOG.warn("command {} was being POSTed when the sink stopped; it will only be verified, never re-sent",
                  id);
            }
          }
        });
      }
      recentPosts.stream().sorted().forEach(postTimes::addLast);
    }
  }
}
