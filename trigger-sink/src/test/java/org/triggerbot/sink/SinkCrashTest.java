package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.buildapisim.BuildapiSimulator.RecordedRequest;
import org.triggerbot.buildapisim.BuildapiSimulator.ResponseHold;
import org.triggerbot.buildapisim.SimulatorOptions;
import org.triggerbot.common.AdminServer;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.ChildJvm;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * SPEC section 8: kill -9 the sink mid-stream and restart it; no command lost, none with two results, no second
 * rebuild POST. The sink runs as {@code triggerbot sink --config FILE} ({@link Main}) in its own JVM and is killed
 * with SIGKILL three times, each time at a point chosen through the buildapi simulator's
 * {@linkplain BuildapiSimulator#holdResponses response hold}, so the sink is known to be blocked on buildapi when
 * the signal lands:
 * <ol>
 *   <li>a rebuild POST has taken effect in buildapi and its answer has not been sent: the command is in doubt
 *       (POSTING in the journal) and must be confirmed by lookup, never POSTed again;</li>
 *   <li>the restarted sink's verifying lookup of that very command is in flight: a crash during the recovery
 *       from the first one;</li>
 *   <li>whatever buildapi call comes next (lookup or POST) once a second wave of commands, produced while the
 *       sink was down, is partly done.</li>
 * </ol>
 * Every command's builder exists, so each command's one correct outcome is {@code SUBMITTED}. A moment between a
 * POSTING commit and its POST leaving is deliberately not a kill point here: a kill there loses that rebuild
 * (GAVE_UP, no POST), which {@code TriggerSinkIntegrationTest} documents in process.
 *
 * <p>Restarts are quick because the sink's consumer has a 6 s session timeout (the broker's minimum), so the
 * killed consumer leaves the group soon, and the same {@code transactional.id} lets each new sink fence its
 * predecessor and abort whatever it left open.
 */
class SinkCrashTest {

  private static final Logger LOG = LoggerFactory.getLogger(SinkCrashTest.class);
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final int FIRST_WAVE = 200;
  private static final int SECOND_WAVE = 100;
  private static final String BRANCH = "try";

  private final List<ChildJvm> sinks = new ArrayList<>();
  /** Committed results so far, by command id, in the order read. */
  private final Map<String, List<TriggerResult>> results = new LinkedHashMap<>();
  /** Every command, by the build_id its rebuild POST must name. */
  private final Map<Long, TriggerCommand> byBuild = new HashMap<>();
  private KafkaConsumer<String, TriggerResult> resultReader;
  private final TopicPartition resultPartition = new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0);

  @Test
  void killNineMidStreamNeverPostsTwiceAndLosesNoCommand(@TempDir Path dir) throws Exception {
    long begin = System.nanoTime();
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
         BuildapiSimulator sim = BuildapiSimulator.start(SimulatorOptions.defaults());
         KafkaConsumer<String, TriggerResult> reader = resultReader(kafka)) {
      kafka.createTopic(Topics.TRIGGER_COMMANDS.name(), 1);
      kafka.createTopic(Topics.TRIGGER_RESULTS.name(), 1);
      resultReader = reader;
      resultReader.assign(List.of(resultPartition));
      resultReader.seekToBeginning(List.of(resultPartition));
      try {
        killThreeTimesAndDrain(kafka, sim, writeConfig(dir, kafka, sim), dir.resolve("sink.log"), begin);
      } finally {
        sinks.forEach(ChildJvm::close); // before the broker goes: no sink left retrying against nothing
      }
    }
  }

  private void killThreeTimesAndDrain(EmbeddedKafka kafka, BuildapiSimulator sim, Path config, Path log, long begin)
      throws Exception {
    produce(kafka, sim, 0, FIRST_WAVE);
    ChildJvm sink = startSink(config, log);

    // Kill 1: a rebuild POST took effect in buildapi; the sink waits for the answer.
    await(sink, "20 results from the first sink", () -> readResults() >= 20);
    TriggerCommand inDoubt;
    try (ResponseHold hold = sim.holdResponses(r -> r.method().equals("POST"))) {
      await(sink, "a rebuild POST to be held", () -> !hold.held().isEmpty());
      inDoubt = commandOf(hold.held().get(0));
      killMidStream(sink, FIRST_WAVE);
    }
    assertEquals(1, postsOf(sim, inDoubt), "the held POST took effect");
    assertFalse(results.containsKey(inDoubt.getCommandId()), "the sink died before the POST's result" + tail(sink));
    LOG.info("kill 1 after {} ms: POST of {} held, {} results", Await.elapsedMillis(begin), inDoubt.getBuilder(),
        results.size());

    // Kill 2: the restarted sink is verifying that in-doubt POST by lookup.
    String inDoubtPath = "/" + BRANCH + "/rev/" + inDoubt.getRevision();
    try (ResponseHold hold = sim.holdResponses(r -> r.method().equals("GET") && r.path().equals(inDoubtPath))) {
      sink = startSink(config, log);
      await(sink, "the lookup verifying the in-doubt POST to be held", () -> !hold.held().isEmpty());
      killMidStream(sink, FIRST_WAVE);
    }
    assertTrue(Files.readString(log).contains(inDoubt.getCommandId() + " was being POSTed when the sink stopped"),
        "the restarted sink found the command POSTING in its journal" + tail(sink));
    assertFalse(results.containsKey(inDoubt.getCommandId()), "still in doubt: its verification was cut short"
        + tail(sink));
    assertEquals(1, postsOf(sim, inDoubt), "verified, not POSTed again" + tail(sink));
    LOG.info("kill 2 after {} ms: its verifying lookup held, {} results", Await.elapsedMillis(begin),
        results.size());

    // Kill 3: new commands arrived while the sink was down; kill at whatever call comes once some are done.
    List<String> secondWave = produce(kafka, sim, FIRST_WAVE, SECOND_WAVE);
    sink = startSink(config, log);
    await(sink, "25 results of the second wave", () -> {
      readResults();
      return secondWave.stream().filter(results::containsKey).count() >= 25;
    });
    RecordedRequest third;
    try (ResponseHold hold = sim.holdResponses(r -> true)) {
      await(sink, "the next buildapi call to be held", () -> !hold.held().isEmpty());
      third = hold.held().get(0);
      killMidStream(sink, FIRST_WAVE + SECOND_WAVE);
    }
    TriggerCommand cut = third.method().equals("POST") ? commandOf(third) : byBuild.values().stream()
        .filter(c -> third.path().equals("/" + BRANCH + "/rev/" + c.getRevision())).findFirst().orElseThrow();
    assertFalse(results.containsKey(cut.getCommandId()), "killed while " + cut.getBuilder() + " was unfinished"
        + tail(sink));
    LOG.info("kill 3 after {} ms: {} {} held, {} results", Await.elapsedMillis(begin), third.method(), third.path(),
        results.size());

    // The last sink drains everything; a clean stop, then nothing more may appear.
    sink = startSink(config, log);
    int all = FIRST_WAVE + SECOND_WAVE;
    await(sink, "a result for every command", () -> readResults() >= all);
    sink.stop(30);
    readResults();
    LOG.info("all {} results after {} ms", all, Await.elapsedMillis(begin));

    String tail = tail(sink);
    assertEquals(all, results.size(), "one result per command" + tail);
    results.forEach((id, list) -> assertEquals(1, list.size(), "exactly one result for " + id + ": " + list + tail));
    results.forEach((id, list) -> assertEquals(TriggerOutcome.SUBMITTED, list.get(0).getOutcome(),
        id + ": " + list.get(0).getError() + tail));
    String confirmation = results.get(inDoubt.getCommandId()).get(0).getError();
    assertTrue(confirmation != null && confirmation.contains("confirmed by lookup"), confirmation + tail);

    List<RecordedRequest> posts = sim.requests().stream().filter(r -> r.method().equals("POST")).toList();
    assertEquals(all, posts.size(), "one rebuild POST per command, no more" + tail);
    assertEquals(all, sim.rebuildPosts());
    Map<String, Long> perBuild = posts.stream()
        .collect(Collectors.groupingBy(r -> r.form().get("build_id"), Collectors.counting()));
    assertEquals(all, perBuild.size(), "every command's build rebuilt" + tail);
    assertTrue(perBuild.values().stream().allMatch(n -> n == 1), "no build rebuilt twice: " + perBuild + tail);
    assertTrue(byBuild.keySet().stream().allMatch(id -> perBuild.containsKey(Long.toString(id))));
  }

  // --- the sink process ------------------------------------------------------------------------------------

  private static Path writeConfig(Path dir, EmbeddedKafka kafka, BuildapiSimulator sim) throws Exception {
    Path password = dir.resolve("buildapi-password");
    Files.writeString(password, "sim-password\n", StandardCharsets.UTF_8);
    String id = "sink-crash-" + UUID.randomUUID();
    Properties p = new Properties();
    p.setProperty(SinkConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    p.setProperty(SinkConfig.BUILDAPI_URL, sim.baseUrl());
    p.setProperty(SinkConfig.BUILDAPI_USER, "triggerbot");
    p.setProperty(SinkConfig.BUILDAPI_PASSWORD_FILE, password.toString());
    // Longer than any wait here, so a held call is still waiting when SIGKILL lands.
    p.setProperty(SinkConfig.BUILDAPI_TIMEOUT, "PT60S");
    p.setProperty(SinkConfig.RETRY_DELAY, "PT0.2S");
    p.setProperty(SinkConfig.BACKOFF_INITIAL, "PT0.05S");
    p.setProperty(SinkConfig.BACKOFF_MAX, "PT0.5S");
    // The same ids on every restart: the consumer group resumes, the transactional id fences the killed sink.
    p.setProperty(SinkConfig.GROUP_ID, id);
    p.setProperty(SinkConfig.TRANSACTIONAL_ID, id);
    p.setProperty(SinkConfig.JOURNAL_TOPIC, id + "-journal");
    // A killed consumer stays in the group until its session times out: 6 s (the broker's minimum), not 45 s.
    p.setProperty(SinkConfig.CONSUMER_PREFIX + ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
    p.setProperty(SinkConfig.CONSUMER_PREFIX + ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
    p.setProperty(AdminServer.PORT, "0");
    p.setProperty(AdminServer.BIND, "127.0.0.1");
    Path file = dir.resolve("sink.properties");
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "SinkCrashTest");
    }
    return file;
  }

  private ChildJvm startSink(Path config, Path log) {
    ChildJvm sink = ChildJvm.start("sink-" + (sinks.size() + 1), Main.class.getName(),
        List.of("--config", config.toString()),
        // Small and quick to start: four of these run one after another on a 2-core machine.
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), Map.of(), log);
    sinks.add(sink);
    return sink;
  }

  /** SIGKILL while the sink is alive and commands are unfinished (the sink is blocked on a held call). */
  private void killMidStream(ChildJvm sink, int produced) {
    assertTrue(sink.isAlive(), "the sink runs until it is killed" + tail(sink));
    sink.kill();
    int done = readResults();
    assertTrue(done < produced, "killed with commands unfinished: " + done + " of " + produced + " done" + tail(sink));
  }

  private static String tail(ChildJvm sink) {
    return "\n" + sink + " log tail:\n" + sink.logTail(6000);
  }

  private static void await(ChildJvm sink, String what, Callable<Boolean> condition) {
    try {
      Await.until(what, DEADLINE, () -> {
        if (!sink.isAlive()) {
          throw new AssertionError(sink + " ended by itself while waiting for " + what + tail(sink));
        }
        return condition.call();
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage() + tail(sink), e);
    }
  }

  // --- commands, results, POSTs ----------------------------------------------------------------------------

  /** Commands {@code from} to {@code from + n - 1}, each on its own revision with its build in buildapi. */
  private List<String> produce(EmbeddedKafka kafka, BuildapiSimulator sim, int from, int n) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    List<String> ids = new ArrayList<>();
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<String, TriggerCommand> producer = new KafkaProducer<>(p,
        Topics.TRIGGER_COMMANDS.keySerde().serializer(), Topics.TRIGGER_COMMANDS.valueSerde().serializer())) {
      for (int i = from; i < from + n; i++) {
        String revision = String.format("%012x", 0xc0ffee000000L + i);
        String builder = "Ubuntu VM 12.04 try opt test mochitest-" + (i % 20);
        TriggerCommand c = TriggerCommand.newBuilder()
            .setCommandId(UUID.randomUUID().toString())
            .setBranch(BRANCH).setRevision(revision).setBuilder(builder).setCount(1)
            .setReason(DecisionReason.TRIGGER_FAILURE).setRequestedAt(Instant.now())
            .build();
        byBuild.put(sim.addBuild(BRANCH, revision, builder, 2), c);
        sent.add(producer.send(
            new ProducerRecord<>(Topics.TRIGGER_COMMANDS.name(), BRANCH + "/" + revision + "/" + builder, c)));
        ids.add(c.getCommandId());
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(); // done after the flush; throws if a command was not written
      }
    }
    return ids;
  }

  private TriggerCommand commandOf(RecordedRequest post) {
    TriggerCommand c = byBuild.get(Long.parseLong(post.form().get("build_id")));
    assertTrue(c != null, "a POST of one of this test's builds: " + post);
    return c;
  }

  private long postsOf(BuildapiSimulator sim, TriggerCommand command) {
    return sim.requests().stream().filter(r -> r.method().equals("POST"))
        .filter(r -> command.equals(byBuild.get(Long.parseLong(r.form().get("build_id"))))).count();
  }

  private static KafkaConsumer<String, TriggerResult> resultReader(EmbeddedKafka kafka) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(p, Topics.TRIGGER_RESULTS.keySerde().deserializer(),
        Topics.TRIGGER_RESULTS.valueSerde().deserializer());
  }

  /** Reads the committed results up to the last stable offset (read_committed); answers how many commands have one. */
  private int readResults() {
    long end = resultReader.endOffsets(List.of(resultPartition)).get(resultPartition);
    long deadline = Await.deadlineIn(DEADLINE);
    while (resultReader.position(resultPartition) < end) {
      assertTrue(System.nanoTime() - deadline < 0, "reading trigger.results up to offset " + end + " took too long");
      for (ConsumerRecord<String, TriggerResult> r : resultReader.poll(Duration.ofMillis(100))) {
        results.computeIfAbsent(r.value().getCommandId(), id -> new ArrayList<>()).add(r.value());
      }
    }
    return results.size();
  }
}
