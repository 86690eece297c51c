package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.topology.BrokerTopics.assertSameSequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.AdminServer;
import org.triggerbot.processor.app.Main;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.ChildJvm;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * SPEC §8, reliability: kill -9 the processor mid-stream and restart it; no decision lost, none duplicated.
 *
 * <p>The processor runs as in production, in its own JVM through its real entry point ({@code Main processor
 * --config FILE}), against a real in-process KRaft broker, exactly-once on. A background feed writes a few
 * thousand Pulse lines into {@code pulse.raw} at a steady pace. Each run is killed with SIGKILL (no shutdown hook,
 * no commit) once it has restored its state and committed input of its own, while the feed is still writing and
 * while one of its transactions is open on the broker, then started again as an orchestrator restarts a
 * container: on the same state directory, except once on an empty one (a container without a volume), whose run
 * is killed too. The last run drains the stream; {@code trigger.decisions}, {@code trigger.commands},
 * {@code push.verdicts} and {@code pulse.rejected}, read with read_committed, must then equal the offline replay
 * of the same lines (the uninterrupted run) record for record: no verdict change lost or repeated.
 *
 * <p>Commits every second rather than Kafka Streams' 100 ms, so that a kill aborts a real amount of work: about
 * a second of input's changelog and output records, a few decisions among them, which restore and
 * read_committed readers must skip. (With 100 ms commits and {@code linger.ms} 100 ms, most of a killed
 * transaction is still in the producer's buffer, and the broker has little or nothing to abort.) Each kill also
 * waits, briefly, until the run has a transaction open on the broker, and the test requires that some kill really
 * left one behind.
 *
 * <p>Restart speed: a killed member stays in the consumer group until its session times out, so the session
 * timeout is the broker's minimum, 6 s, and each restart costs about that. A restart on the same state directory
 * keeps the Kafka Streams process id (stored there), hence its transactional id, so the new producer fences the
 * dead one and aborts its open transaction at once. After the restart on an empty directory, the dead transaction
 * holds back read_committed readers (and the new instance's offset fetch) until it times out:
 * {@link #TRANSACTION_TIMEOUT}, which the broker checks every second here.
 */
class ProcessorCrashTest {

  private static final String APPLICATION_ID = "triggerbot-crash";
  private static final List<String> POLICY =
      TopologyHarness.policy("budget.floor=2", "global.max.failure.triggers.per.hour=20");
  /** Pushes overlap in event time and span hours, so the hourly global limit and its window matter. */
  private static final long SEED = 2015;
  private static final int PUSHES = 64;
  private static final int TEST_JOBS_PER_PUSH = 18;
  /**
   * The feed's pace while runs are being killed: ~3,000 lines would take 75 s, so that four kill-restart cycles
   * (each the 6 s session timeout plus a JVM start and a restore: 8 s here, up to 15 s on a loaded machine) all land
   * while it is still writing. After the last kill, the rest is written at {@link #LINES_PER_SECOND_AFTER_KILLS}.
   */
  private static final int LINES_PER_SECOND = 40;
  private static final int LINES_PER_SECOND_AFTER_KILLS = 300;
  private static final Duration FEED_TICK = Duration.ofMillis(20);
  /** Kills; every run is restarted on the same state directory but the last killed one, which gets an empty one. */
  private static final int KILLS = 4;
  /** Input records a run must commit before it is killed: it restored its state and is processing. */
  private static final int PROGRESS_BEFORE_KILL = 100;

  private static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
  private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(6);
  /** One run: JVM start, waiting out the dead member's session, restoring, processing. */
  private static final Duration RUN_DEADLINE = Duration.ofSeconds(45);
  /** How long a run may go without an open transaction before it is killed anyway (and the kill says so). */
  private static final Duration OPEN_TRANSACTION_WAIT = Duration.ofSeconds(5);
  private static final Duration READ_DEADLINE = Duration.ofSeconds(30);
  /** The child JVM: small heap, quick start (C1 only), little CPU taken from the broker on a 2-core machine. */
  private static final List<String> CHILD_JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.streams=info");
  /** Kept after the test (target/, not a temporary directory), so a failure can be read in full. */
  private static final Path LOG = Path.of("target", "ProcessorCrashTest", "processor.log").toAbsolutePath();

  private static final TopicPartition INPUT = new TopicPartition(Topics.PULSE_RAW.name(), 0);

  @TempDir
  Path dir;

  /** What one kill hit: input written and committed then, and the transactions it left open on the broker. */
  record Kill(int run, boolean emptyStateDir, long msAfterStart, int written, long committedAtStart,
      long committedAtKill, List<String> openTransactions) {
    @Override
    public String toString() {
      return "kill " + run + (emptyStateDir ? " (run started on an empty state dir)" : "") + ": " + msAfterStart
          + " ms after start; input written " + written + ", committed " + committedAtStart + " -> " + committedAtKill
          + "; open transactions " + openTransactions;
    }
  }

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES) // a backstop only: every wait has its own deadline
  void killNineMidStreamLosesNoDecisionAndDuplicatesNone() throws Exception {
    List<String> lines = ScenarioStream.generate(SEED, PUSHES, TEST_JOBS_PER_PUSH);
    // The replay takes seconds of one core; the live part mostly waits for session timeouts meanwhile.
    CompletableFuture<TopologyHarness.Replayed> replay =
        CompletableFuture.supplyAsync(() -> TopologyHarness.replay(POLICY, dir.resolve("replay"), lines));
    Files.createDirectories(LOG.getParent());
    Files.deleteIfExists(LOG);

    // Aborting a dead instance's timed-out transaction is checked every 10 s by default: every second here.
    try (EmbeddedKafka kafka = EmbeddedKafka.start(
        Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000"));
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      BrokerTopics.createAll(kafka);
      List<Kill> kills = new ArrayList<>();
      Path kept = dir.resolve("state");
      Path empty = dir.resolve("state-empty");
      try (PacedFeed feed = PacedFeed.start(kafka.bootstrapServers(), lines, LINES_PER_SECOND)) {
        for (int run = 1; run <= KILLS; run++) {
          Kill kill = runAndKill(run, run < KILLS ? kept : empty, kafka, admin, feed);
          kills.add(kill);
          System.out.println(kill);
          // Mid-stream: the feed was still writing, and the processor had input it had not committed yet.
          assertTrue(kill.written() < lines.size() && kill.committedAtKill() < kill.written(),
              "each kill must land mid-stream, not on an idle processor: " + kill + ", of " + lines.size()
                  + " lines; log " + LOG);
        }
        feed.pace(LINES_PER_SECOND_AFTER_KILLS);
        String summary = String.join("\n", kills.stream().map(Kill::toString).toList());
        assertTrue(kills.stream().anyMatch(k -> !k.openTransactions().isEmpty()),
            "some kill must leave a transaction open on the broker, or nothing tested its abort:\n" + summary);

        try (ChildJvm last = startProcessor("run " + (KILLS + 1) + " (drains)", empty, kafka)) {
          awaitWhileAlive(last, "the feed to write all " + lines.size() + " lines", RUN_DEADLINE,
              () -> feed.written() == lines.size());
          awaitWhileAlive(last, "the last run to process every input record", RUN_DEADLINE,
              () -> drained(admin, lines.size()));
          TopologyHarness.Replayed expected = replay.get(RUN_DEADLINE.toSeconds(), TimeUnit.SECONDS);
          assertTrue(expected.decisions().size() > 300 && expected.commands().size() > 100,
              "the stream must decide a lot: " + lines.size() + " lines, " + expected.decisions().size()
                  + " decisions, " + expected.commands().size() + " commands");
          String where = " after " + KILLS + " kills:\n" + summary + "\nprocessor log " + LOG;
          List<TriggerDecision> decisions = BrokerTopics.withoutDecidedAt(
              BrokerTopics.readAllCommitted(kafka.bootstrapServers(), Topics.TRIGGER_DECISIONS, READ_DEADLINE));
          List<TriggerCommand> commands =
              BrokerTopics.readAllCommitted(kafka.bootstrapServers(), Topics.TRIGGER_COMMANDS, READ_DEADLINE);
          List<RejectedMessage> rejected =
              BrokerTopics.readAllCommitted(kafka.bootstrapServers(), Topics.PULSE_REJECTED, READ_DEADLINE);
          assertSameSequence(expected.decisions(), decisions, "trigger.decisions" + where);
          assertSameSequence(expected.commands(), commands, "trigger.commands" + where);
          assertSameSequence(expected.rejected(), rejected, "pulse.rejected" + where);
          assertTrue(expected.verdicts().size() > 100, "the stream must change verdicts a lot: "
              + expected.verdicts().size() + " verdict changes");
          List<PushVerdict> verdicts =
              BrokerTopics.readAllCommitted(kafka.bootstrapServers(), Topics.PUSH_VERDICTS, READ_DEADLINE);
          assertSameSequence(expected.verdicts(), verdicts, "push.verdicts" + where);
        }
      }
    } finally {
      replay.cancel(true);
    }
  }

  /**
   * Starts a run; once it has committed input of its own and has a transaction open on the broker (or after
   * {@link #OPEN_TRANSACTION_WAIT} without one), kills it with SIGKILL.
   */
  private Kill runAndKill(int run, Path stateDir, EmbeddedKafka kafka, Admin admin, PacedFeed feed) throws Exception {
    boolean fresh = !Files.exists(stateDir);
    try (ChildJvm child = startProcessor("run " + run, stateDir, kafka)) {
      long begin = System.nanoTime();
      Map<TopicPartition, Long> atStart = committedOffsets(admin);
      long from = atStart.getOrDefault(INPUT, 0L);
      // Input is decided in the transaction that commits it: committed input is decided input.
      awaitWhileAlive(child, "run " + run + " to commit " + PROGRESS_BEFORE_KILL + " input records past offset "
          + from, RUN_DEADLINE, () -> committedOffsets(admin).getOrDefault(INPUT, 0L) >= from + PROGRESS_BEFORE_KILL);
      try {
        Await.until("an open transaction", OPEN_TRANSACTION_WAIT, () -> !openTransactions(admin).isEmpty());
      } catch (IllegalStateException none) {
        // Killed anyway; the kill records that it left no transaction open.
      }
      int written = feed.written();
      long ms = Await.elapsedMillis(begin);
      child.kill();
      // Dead now: its committed offsets and open transactions stay as they are until the next run starts.
      long committed = committedOffsets(admin).getOrDefault(INPUT, 0L);
      return new Kill(run, fresh, ms, written, from, committed, openTransactions(admin));
    }
  }

  private ChildJvm startProcessor(String name, Path stateDir, EmbeddedKafka kafka) {
    Properties config = new Properties();
    POLICY.forEach(kv -> config.setProperty(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
    config.setProperty(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    config.setProperty(ProcessorConfig.APPLICATION_ID, APPLICATION_ID);
    config.setProperty(ProcessorConfig.STATE_DIR, stateDir.toString());
    config.setProperty(AdminServer.PORT, Integer.toString(AdminServer.DISABLED));
    config.setProperty(ProcessorConfig.STREAMS_PREFIX + "commit.interval.ms",
        Long.toString(COMMIT_INTERVAL.toMillis()));
    config.setProperty(ProcessorConfig.STREAMS_PREFIX + "consumer." + ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
        Long.toString(SESSION_TIMEOUT.toMillis()));
    config.setProperty(ProcessorConfig.STREAMS_PREFIX + "consumer." + ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
        "1000");
    config.setProperty(ProcessorConfig.STREAMS_PREFIX + "producer.transaction.timeout.ms",
        Long.toString(TRANSACTION_TIMEOUT.toMillis()));
    Path file = dir.resolve("processor-" + name.replaceAll("[^a-z0-9]+", "-") + ".properties");
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      config.store(out, "ProcessorCrashTest " + name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ChildJvm.start("processor " + name, Main.class.getName(), List.of("processor", "--config", file.toString()),
        CHILD_JVM_OPTIONS, Map.of(), LOG);
  }

  /**
   * Waits for {@code check} while the child lives; a child that died by itself, or a timeout, fails the test with
   * the end of its log.
   */
  static void awaitWhileAlive(ChildJvm child, String what, Duration timeout, Callable<Boolean> check) {
    try {
      Await.until(what, timeout, () -> {
        if (!child.isAlive()) {
          throw new AssertionError(child + " died while waiting for " + what + "; log " + child.log() + ":\n"
              + child.logTail(6_000));
        }
        return check.call();
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage() + "; log " + child.log() + ":\n" + child.logTail(6_000), e);
    }
  }

  /** The application's committed offsets (under exactly-once, committed with its transactions). */
  private static Map<TopicPartition, Long> committedOffsets(Admin admin) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(APPLICATION_ID)
        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
    Map<TopicPartition, Long> out = new HashMap<>();
    offsets.forEach((tp, om) -> {
      if (om != null) {
        out.put(tp, om.offset());
      }
    });
    return out;
  }

  /** Transactional ids of the application with a transaction open right now. */
  private static List<String> openTransactions(Admin admin) throws Exception {
    Set<String> ids = new TreeSet<>();
    for (TransactionListing t : admin.listTransactions(new ListTransactionsOptions()
        .filterStates(List.of(TransactionState.ONGOING))).all().get(10, TimeUnit.SECONDS)) {
      if (t.transactionalId().startsWith(APPLICATION_ID)) {
        ids.add(t.transactionalId());
      }
    }
    return List.copyOf(ids);
  }

  /**
   * Whether the application has processed everything: all input committed. Decisions are written in the
   * transactions that commit their input, so nothing is left that could still produce one, and the outputs read
   * now are final.
   */
  private static boolean drained(Admin admin, int inputs) throws Exception {
    return committedOffsets(admin).getOrDefault(INPUT, 0L) >= inputs;
  }

  /**
   * Writes the lines to {@code pulse.raw} in order at a steady pace from a timer thread, as the bridge would under
   * a steady Pulse feed; counts the lines the broker acknowledged.
   */
  static final class PacedFeed implements AutoCloseable {
    private final KafkaProducer<String, PulseMessage> producer;
    private final ScheduledExecutorService timer;
    private final List<String> lines;
    private volatile double perTick;
    /** Lines owed by the ticks so far (a pace need not be a whole number of lines per tick). */
    private double due;
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private int next;
    /** The periodic {@link #tick}; set by {@link #start} (only the test thread reads it). */
    private ScheduledFuture<?> ticks;

    private PacedFeed(String bootstrapServers, List<String> lines, int perSecond) {
      this.producer = BrokerTopics.pulseProducer(bootstrapServers);
      this.lines = lines;
      pace(perSecond);
      this.timer = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "crash-test-feed"));
    }

    static PacedFeed start(String bootstrapServers, List<String> lines, int perSecond) {
      PacedFeed feed = new PacedFeed(bootstrapServers, lines, perSecond);
      feed.ticks = feed.timer.scheduleAtFixedRate(feed::tick, 0, FEED_TICK.toMillis(), TimeUnit.MILLISECONDS);
      return feed;
    }

    /** On the timer thread only. Once everything is written (or a write failed), the remaining ticks do nothing. */
    @SuppressWarnings("FutureReturnValueIgnored") // a send's outcome goes to its callback; its future adds nothing
    private void tick() {
      if (next == lines.size() || failure.get() != null) {
        return;
      }
      try {
        due += perTick;
        int until = Math.min(lines.size(), next + (int) due);
        due -= (int) due;
        for (; next < until; next++) {
          producer.send(BrokerTopics.pulseRecord(lines.get(next)), (metadata, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            } else {
              acknowledged.incrementAndGet();
            }
          });
        }
        if (next == lines.size()) {
          producer.flush();
        }
      } catch (RuntimeException e) {
        failure.compareAndSet(null, e);
      }
    }

    /** Changes the pace from the next tick on. */
    void pace(int linesPerSecond) {
      perTick = linesPerSecond * FEED_TICK.toMillis() / 1000.0;
    }

    /** Lines the broker has acknowledged; fails the test if a write failed or the feed stopped on an error. */
    int written() {
      Exception e = failure.get();
      if (e != null) {
        throw new AssertionError("the feed could not write to pulse.raw", e);
      }
      if (ticks.isDone() && !ticks.isCancelled()) {
        // A periodic task ends only by throwing; tick() records exceptions itself, so this is an Error.
        throw new AssertionError("the feed stopped", causeOf(ticks));
      }
      return acknowledged.get();
    }

    /** What a completed (so non-blocking) periodic task threw. */
    private static Throwable causeOf(ScheduledFuture<?> done) {
      try {
        done.get();
        return null;
      } catch (ExecutionException ex) {
        return ex.getCause();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return ex;
      }
    }

    @Override
    public void close() {
      timer.shutdownNow();
      producer.close(Duration.ofSeconds(10));
    }
  }
}
