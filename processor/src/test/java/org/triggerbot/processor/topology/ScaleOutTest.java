package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.AdminServer;
import org.triggerbot.processor.app.Main;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.processor.app.ProcessorService;
import org.triggerbot.processor.decide.DecisionRecords;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.replay.ReplayEngine;
import org.triggerbot.processor.replay.ReplaySource;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.ChildJvm;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * SPEC 2 and 5, scale-out: {@code pulse.raw} with 4 partitions, keyed by push, and two processor instances of one
 * application on a real KRaft broker, exactly-once on. One instance runs in its own JVM through the real entry
 * point, the other in this one. Their decisions, commands and verdicts, read with read_committed, must equal the
 * offline replay of the same feed as a processor on 4 partitions (one task each, with a quarter of the global
 * limits, which the policy makes tight enough to bind): first with both instances running, then after the child
 * is killed with SIGKILL mid-stream and the survivor has taken its partitions over, restoring their state from the
 * changelogs. Outputs of different partitions interleave on the output topics, so they are compared push by push
 * (a push's records are all in one partition's order) and counted whole (nothing lost, nothing twice).
 */
class ScaleOutTest {

  private static final String APPLICATION_ID = "triggerbot-scale";
  private static final int PARTITIONS = 4;
  /** The global limits bind: a task gets a quarter of them, which the replay must model exactly. */
  private static final List<String> POLICY = List.of("budget.floor=2", "global.max.failure.triggers.per.hour=8");
  private static final long SEED = 4;
  private static final int PUSHES = 48;
  private static final int TEST_JOBS_PER_PUSH = 14;
  private static final int LINES_PER_SECOND = 50;
  private static final int PROGRESS_BEFORE_KILL = 120;

  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
  private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(6);
  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static final Duration READ_DEADLINE = Duration.ofSeconds(30);
  private static final List<String> CHILD_JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1");
  private static final Path LOG = Path.of("target", "ScaleOutTest", "processor.log").toAbsolutePath();

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES) // a backstop only: every wait has its own deadline
  void twoInstancesOnFourPartitionsDecideAsTheReplayAndTheSurvivorOfAKillFinishesTheStream() throws Exception {
    List<String> lines = ScenarioStream.generate(SEED, PUSHES, TEST_JOBS_PER_PUSH);
    List<String> firstHalf = lines.subList(0, lines.size() / 2);
    Outputs expectedFirstHalf = replay(firstHalf);
    Outputs expected = replay(lines);
    assertTrue(expected.decisions.values().stream().flatMap(List::stream)
        .anyMatch(d -> d.getReason().name().equals("SKIP_GLOBAL_LIMIT")),
        "the global limits must bind, so that their share per task is tested");
    assertTrue(expected.commandCount > 50 && expected.verdictCount > 100, "the stream must decide a lot: "
        + expected.commandCount + " commands, " + expected.verdictCount + " verdicts");
    Files.createDirectories(LOG.getParent());
    Files.deleteIfExists(LOG);

    try (EmbeddedKafka kafka = EmbeddedKafka.start(
        Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000"));
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      BrokerTopics.createAll(kafka, PARTITIONS);
      try (ChildJvm child = startChild(kafka);
           ProcessorService survivor = ProcessorService.start(ProcessorConfig.of(config(kafka, dir.resolve("b"))))) {
        ProcessorCrashTest.awaitWhileAlive(child, "two partitions each", DEADLINE,
            () -> owned(survivor).size() == PARTITIONS / 2 && survivor.streams().state() == KafkaStreams.State.RUNNING);

        BrokerTopics.produce(kafka.bootstrapServers(), firstHalf);
        ProcessorCrashTest.awaitWhileAlive(child, "the first half decided", DEADLINE, () -> drained(admin));
        assertEquals(expectedFirstHalf, read(kafka), "two instances, four partitions");

        try (ProcessorCrashTest.PacedFeed feed = ProcessorCrashTest.PacedFeed.start(kafka.bootstrapServers(),
            lines.subList(firstHalf.size(), lines.size()), LINES_PER_SECOND)) {
          long before = committed(admin);
          ProcessorCrashTest.awaitWhileAlive(child, "both instances to commit " + PROGRESS_BEFORE_KILL
              + " more records", DEADLINE, () -> committed(admin) >= before + PROGRESS_BEFORE_KILL);
          int writtenAtKill = feed.written();
          child.kill();
          long committedAtKill = committed(admin);
          assertTrue(writtenAtKill < lines.size() - firstHalf.size(),
              "the kill must land while the feed writes: " + writtenAtKill);
          Await.until("the survivor to own every partition", DEADLINE,
              () -> owned(survivor).size() == PARTITIONS && survivor.streams().state() == KafkaStreams.State.RUNNING);
          Await.until("the feed to write every line", DEADLINE,
              () -> feed.written() == lines.size() - firstHalf.size());
          Await.until("the survivor to decide every line", DEADLINE, () -> drained(admin));
          System.out.printf("scale-out: killed the child after %d of %d second-half lines written, %d committed; "
              + "the survivor took over its partitions and drained %d lines%n", writtenAtKill,
              lines.size() - firstHalf.size(), committedAtKill, lines.size());
        }
        assertEquals(expected, read(kafka), "after one of two instances was killed mid-stream");
      }
    }
  }

  /**
   * Decisions, commands and verdicts: per push in order, and all of them counted (a record that is lost or written
   * twice changes a push's list).
   */
  record Outputs(Map<String, List<TriggerDecision>> decisions, Map<String, List<TriggerCommand>> commands,
      Map<String, List<PushVerdict>> verdicts, int decisionCount, int commandCount, int verdictCount) {
    static Outputs of(List<TriggerDecision> d, List<TriggerCommand> c, List<PushVerdict> v) {
      return new Outputs(byPush(d, x -> x.getBranch() + "/" + x.getRevision()),
          byPush(c, x -> x.getBranch() + "/" + x.getRevision()), byPush(v, x -> x.getBranch() + "/" + x.getRevision()),
          d.size(), c.size(), v.size());
    }
  }

  /** The offline replay of {@code lines} as a processor on {@link #PARTITIONS} partitions would decide them. */
  private static Outputs replay(List<String> lines) throws IOException {
    PolicySettings policy = PolicyConfig.fromAssignments(POLICY);
    List<TriggerDecision> decisions = new ArrayList<>();
    List<TriggerCommand> commands = new ArrayList<>();
    List<PushVerdict> verdicts = new ArrayList<>();
    ReplayEngine.PolicyRun run = new ReplayEngine.PolicyRun(policy, PARTITIONS, true, (o, event, state) -> {
      if (o.decision() != null) {
        decisions.add(DecisionRecords.decision(o, event, policy.version(), null));
        if (o.decision().issuesJobs()) {
          commands.add(DecisionRecords.command(o, event));
        }
      }
      if (o.verdictChanged()) {
        verdicts.add(DecisionRecords.verdict(event, o.push(), state.verdictEntries(o.pushKey())));
      }
    });
    byte[] feed = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
    try (ReplaySource source = ReplaySource.lines(new ByteArrayInputStream(feed), feed.length)) {
      new ReplayEngine(2, ReplayEngine.Progress.NONE).run(source, List.of(run), (input, reason, error) -> {});
    }
    return Outputs.of(decisions, commands, verdicts);
  }

  private static Outputs read(EmbeddedKafka kafka) {
    String servers = kafka.bootstrapServers();
    return Outputs.of(BrokerTopics.withoutDecidedAt(
        BrokerTopics.readAllCommitted(servers, Topics.TRIGGER_DECISIONS, READ_DEADLINE)),
        BrokerTopics.readAllCommitted(servers, Topics.TRIGGER_COMMANDS, READ_DEADLINE),
        BrokerTopics.readAllCommitted(servers, Topics.PUSH_VERDICTS, READ_DEADLINE));
  }

  private static <T> Map<String, List<T>> byPush(List<T> records, Function<T, String> push) {
    Map<String, List<T>> out = new LinkedHashMap<>();
    for (T r : records) {
      out.computeIfAbsent(push.apply(r), k -> new ArrayList<>()).add(r);
    }
    return new java.util.TreeMap<>(out);
  }

  private Map<String, String> config(EmbeddedKafka kafka, Path stateDir) {
    Map<String, String> values = new HashMap<>();
    POLICY.forEach(kv -> values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, APPLICATION_ID);
    values.put(ProcessorConfig.STATE_DIR, stateDir.toString());
    values.put(AdminServer.PORT, Integer.toString(AdminServer.DISABLED));
    values.put(ProcessorConfig.STREAMS_PREFIX + "commit.interval.ms", "200");
    values.put(ProcessorConfig.STREAMS_PREFIX + "consumer." + ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
        Long.toString(SESSION_TIMEOUT.toMillis()));
    values.put(ProcessorConfig.STREAMS_PREFIX + "consumer." + ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
    values.put(ProcessorConfig.STREAMS_PREFIX + "producer.transaction.timeout.ms",
        Long.toString(TRANSACTION_TIMEOUT.toMillis()));
    return values;
  }

  private ChildJvm startChild(EmbeddedKafka kafka) throws IOException {
    Properties p = new Properties();
    p.putAll(config(kafka, dir.resolve("a")));
    Path file = dir.resolve("child.properties");
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "ScaleOutTest child");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ChildJvm.start("processor child", Main.class.getName(), List.of("processor", "--config", file.toString()),
        CHILD_JVM_OPTIONS, Map.of(), LOG);
  }

  /** The pulse.raw partitions whose active task runs in {@code service} now. */
  private static Set<Integer> owned(ProcessorService service) {
    Set<Integer> owned = new TreeSet<>();
    for (ThreadMetadata thread : service.streams().metadataForLocalThreads()) {
      for (TaskMetadata task : thread.activeTasks()) {
        task.topicPartitions().stream().filter(tp -> tp.topic().equals(Topics.PULSE_RAW.name()))
            .forEach(tp -> owned.add(tp.partition()));
      }
    }
    return owned;
  }

  /** The application's committed input, over every partition (committed with its transactions). */
  private static long committed(Admin admin) throws Exception {
    long sum = 0;
    for (OffsetAndMetadata om : admin.listConsumerGroupOffsets(APPLICATION_ID).partitionsToOffsetAndMetadata()
        .get(10, TimeUnit.SECONDS).values()) {
      sum += om == null ? 0 : om.offset();
    }
    return sum;
  }

  /** Whether every partition's input is committed up to its end: every decision of it is written and committed. */
  private static boolean drained(Admin admin) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      latest.put(new TopicPartition(Topics.PULSE_RAW.name(), p), OffsetSpec.latest());
    }
    var ends = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(APPLICATION_ID)
        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
    for (var end : ends.entrySet()) {
      OffsetAndMetadata om = committed.get(end.getKey());
      if ((om == null ? 0 : om.offset()) < end.getValue().offset()) {
        return false;
      }
    }
    return true;
  }
}
