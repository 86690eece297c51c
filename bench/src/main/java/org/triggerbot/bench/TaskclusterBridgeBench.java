package org.triggerbot.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.triggerbot.bridge.BridgeConfig;
import org.triggerbot.bridge.PulseBridge;
import org.triggerbot.buildapisim.taskcluster.AmqpTarget;
import org.triggerbot.buildapisim.taskcluster.Outcome;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.PushKey;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.EmbeddedQpid;

/**
 * {@code triggerbot bench --taskcluster-bridge}: how many Taskcluster task results a second the real bridge copies
 * from AMQP into {@code pulse.raw}, enriching each with its task's definition fetched over HTTP (SPEC 3b), as a
 * function of the queue's answer latency and of {@code tc.task.fetch.concurrency}.
 *
 * <p>An embedded AMQP broker (Qpid Broker-J), an in-process KRaft Kafka broker and the Taskcluster simulator, whose
 * {@linkplain TaskclusterSimulator#setLatency latency} delays every HTTP answer. Each case has its own project (the
 * bridge's {@code branches}) and queue: a first bridge declares and binds the queue and is closed; N test tasks of
 * one push are run to {@code failed}, so that their N results wait in the queue; then a new bridge (its meters in a
 * {@link SimpleMeterRegistry}) is timed from its start until a plain consumer has seen all N records in
 * {@code pulse.raw}. The figure is therefore the bridge's drain rate, not the publisher's. Every record must be keyed
 * by the push and carry a {@code task} object (the enrichment), one per task: otherwise the benchmark fails.
 *
 * <p>Each task is distinct and each bridge new, so every definition is fetched (the cache never answers): one
 * fetch at a time, a case with latency L cannot beat 1000/L results a second, the sequential bound reported beside
 * the 20 ms cases.
 */
final class TaskclusterBridgeBench {

  /** The queue's answer latencies measured. */
  static final List<Duration> LATENCIES = List.of(Duration.ZERO, Duration.ofMillis(20));
  /** The values of {@code tc.task.fetch.concurrency} measured; 1 is one fetch at a time. */
  static final List<Integer> CONCURRENCIES = List.of(1, 16);
  /** Task results per case without {@code --tc-tasks}: at no latency, and with some. */
  static final int DEFAULT_TASKS_NO_LATENCY = 2000;
  static final int DEFAULT_TASKS_WITH_LATENCY = 500;
  /** Results of the warm-up runs (not reported), one per concurrency, so that JIT compilation is not measured. */
  static final int WARMUP_TASKS = 200;

  private static final String PULSE_RAW = Topics.PULSE_RAW.name();
  private static final String OWNER = "bench@example.com";
  private static final String LABEL = "test-linux1804-64/opt-mochitest-browser-chrome-";
  private static final Map<String, String> RETAINED = Map.of("retention.ms", "-1");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One measured combination: {@code tasks} results, the queue answering after {@code latency}. */
  record Case(Duration latency, int concurrency, int tasks) {}

  /**
   * What one case measured: {@code records} in {@code pulse.raw} (all enriched: {@link #measure} fails otherwise),
   * {@code seconds} from the bridge's start to the last record seen, of which {@code startupMs} until it consumed;
   * the bridge's task-definition meters; and how fast the simulator published the results beforehand.
   */
  record Result(Case c, int records, double seconds, long startupMs, long fetched, long cached, long unavailable,
      long fetchFailures, long rejected, int prefetch, double publishPerSecond) {

    double rate() {
      return c.tasks() / seconds;
    }

    /** 1000/latency: the most a bridge fetching one definition at a time can write; null at no latency. */
    Double sequentialBound() {
      return c.latency().isZero() ? null : 1000.0 / c.latency().toMillis();
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("latencyMs", c.latency().toMillis());
      m.put("concurrency", c.concurrency());
      m.put("tasks", c.tasks());
      m.put("records", records);
      m.put("enriched", true);
      m.put("seconds", round3(seconds));
      m.put("startupMs", startupMs);
      m.put("messagesPerSecond", (double) Math.round(rate()));
      if (sequentialBound() != null) {
        m.put("sequentialBoundRate", sequentialBound());
        m.put("ratioToSequentialBound", round2(rate() / sequentialBound()));
      }
      m.put("definitionsFetched", fetched);
      m.put("definitionsCached", cached);
      m.put("definitionsUnavailable", unavailable);
      m.put("fetchFailures", fetchFailures);
      m.put("rejected", rejected);
      m.put("amqpPrefetch", prefetch);
      m.put("publishPerSecond", (double) Math.round(publishPerSecond));
      return m;
    }
  }

  private final EmbeddedKafka kafka;
  private final EmbeddedQpid amqp;
  private final TaskclusterSimulator sim;
  private final PrintStream log;
  private final Random random;
  private int runs;

  private TaskclusterBridgeBench(EmbeddedKafka kafka, EmbeddedQpid amqp, TaskclusterSimulator sim, PrintStream log,
      long seed) {
    this.kafka = kafka;
    this.amqp = amqp;
    this.sim = sim;
    this.log = log;
    this.random = new Random(seed);
  }

  /** Task results per case at {@code latency}: {@code tcTasks} when given, else the defaults. */
  static int tasks(Integer tcTasks, Duration latency) {
    if (tcTasks != null) {
      return tcTasks;
    }
    return latency.isZero() ? DEFAULT_TASKS_NO_LATENCY : DEFAULT_TASKS_WITH_LATENCY;
  }

  /**
   * Runs every case, writes the results as JSON to {@code options.output()} and prints a table on {@code out};
   * progress goes to {@code log}. Answers the results.
   *
   * @throws IllegalStateException when a record is not enriched, a count is wrong, or the bridge stalls
   */
  static Map<String, Object> run(BenchOptions options, PrintStream log, PrintStream out) throws Exception {
    long begin = System.nanoTime();
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("benchmark", "taskcluster-bridge");
    results.put("machine", Bench.machine());
    List<Result> cases = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
         EmbeddedQpid amqp = EmbeddedQpid.start();
         TaskclusterSimulator sim = TaskclusterSimulator.start("127.0.0.1",
             AmqpTarget.of(amqp.host(), amqp.port(), amqp.virtualHost(), amqp.username(), amqp.password()))) {
      kafka.createTopic(PULSE_RAW, 1, RETAINED);
      kafka.createTopic(Topics.PULSE_REJECTED.name(), 1, RETAINED);
      TaskclusterBridgeBench bench = new TaskclusterBridgeBench(kafka, amqp, sim, log, options.seed());
      int warmup = Math.min(WARMUP_TASKS, tasks(options.tcTasks(), Duration.ZERO));
      for (int concurrency : CONCURRENCIES) {
        Result w = bench.measure(new Case(Duration.ZERO, concurrency, warmup));
        log.printf("warm-up (not counted): %d results at 0 ms, concurrency %d: %.0f msg/s%n", warmup, concurrency,
            w.rate());
      }
      for (Duration latency : LATENCIES) {
        for (int concurrency : CONCURRENCIES) {
          Result r = bench.measure(new Case(latency, concurrency, tasks(options.tcTasks(), latency)));
          cases.add(r);
          log.printf("latency %d ms, concurrency %d: %d results in %.2f s (%d ms to consume), %.0f msg/s, %d "
              + "definitions fetched%n", latency.toMillis(), concurrency, r.c().tasks(), r.seconds(), r.startupMs(),
              r.rate(), r.fetched());
        }
      }
    }
    List<Map<String, Object>> maps = new ArrayList<>();
    for (Result r : cases) {
      Map<String, Object> m = r.toMap();
      Double speedup = speedup(r, cases);
      if (speedup != null) {
        m.put("speedupOverConcurrency1", speedup);
      }
      maps.add(m);
    }
    results.put("cases", maps);
    for (Result r : cases) {
      results.put("rate" + r.c().latency().toMillis() + "msConcurrency" + r.c().concurrency(),
          (double) Math.round(r.rate()));
    }
    results.put("allEnriched", true); // measure() fails otherwise
    results.put("benchSeconds", Math.round(Await.elapsedMillis(begin) / 1000.0));
    JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(options.output().toFile(), results);
    table(out, results, cases, options);
    return results;
  }

  /** The case's rate over the rate of concurrency 1 at the same latency; null without such a case. */
  private static Double speedup(Result r, List<Result> cases) {
    for (Result base : cases) {
      if (base.c().latency().equals(r.c().latency()) && base.c().concurrency() == 1) {
        return round2(r.rate() / base.rate());
      }
    }
    return null;
  }

  private static void table(PrintStream out, Map<String, Object> results, List<Result> cases,
      BenchOptions options) {
    out.println();
    out.printf("%-20s %s%n", "machine", results.get("machine"));
    out.println("Taskcluster bridge: results from AMQP to pulse.raw, each enriched with its task definition fetched "
        + "over HTTP");
    out.printf("%8s %12s %7s %9s %9s %8s %11s %8s %11s%n", "latency", "concurrency", "tasks", "seconds", "msg/s",
        "fetched", "sequential", "speedup", "enriched");
    out.printf("%8s %12s %7s %9s %9s %8s %11s %8s %11s%n", "", "", "", "", "", "", "bound msg/s", "vs c=1", "");
    for (Result r : cases) {
      Double bound = r.sequentialBound();
      Double speedup = speedup(r, cases);
      out.printf("%5d ms %12d %7d %9.2f %9.0f %8d %11s %8s %11s%n", r.c().latency().toMillis(), r.c().concurrency(),
          r.c().tasks(), r.seconds(), r.rate(), r.fetched(), bound == null ? "-" : String.format("%.0f", bound),
          speedup == null ? "-" : String.format("%.2f", speedup), r.records() + "/" + r.c().tasks());
    }
    out.printf("%-20s %s%n", "results", options.output().toAbsolutePath());
  }

  /**
   * One case: a fresh project and queue, the results queued first, then a new bridge timed from its start until
   * every record is in {@code pulse.raw}; the records checked. Answers the case's figures.
   */
  Result measure(Case c) throws Exception {
    int run = ++runs;
    String project = "tcbench" + run + "-" + HexFormat.of().formatHex(bytes(3));
    BridgeConfig config = config("tc-bench-" + project, project, c.concurrency());
    String queue = config.queueName();
    // The queue must exist and be bound before the results are published, as a running bridge would have left it;
    // this bridge is closed before they are, so that they wait in the queue and the timed bridge drains them.
    try (PulseBridge declare = new PulseBridge(config).start()) {
      if (!declare.awaitConsuming(Duration.ofSeconds(60))) {
        throw new IllegalStateException("the bridge did not consume " + queue + ": " + declare.readiness().reason());
      }
    }
    TaskclusterSimulator.Push push = sim.addPush(project, HexFormat.of().formatHex(bytes(20)), OWNER);
    Set<String> taskIds = new LinkedHashSet<>();
    for (int i = 0; i < c.tasks(); i++) {
      taskIds.add(sim.addTestTask(push, LABEL + (i + 1), "mochitest"));
    }
    long publishErrors = sim.publishErrors();
    long publishStart = System.nanoTime();
    for (String taskId : taskIds) {
      sim.runTask(taskId, Outcome.FAILED);
    }
    double publishSeconds = (System.nanoTime() - publishStart) / 1e9;
    if (sim.publishErrors() != publishErrors) {
      throw new IllegalStateException((sim.publishErrors() - publishErrors) + " task results of " + project
          + " were not published");
    }
    Await.until(c.tasks() + " results in " + queue, Duration.ofSeconds(30),
        () -> amqp.readyMessages(queue) >= c.tasks());
    if (amqp.readyMessages(queue) != c.tasks()) {
      throw new IllegalStateException(queue + " holds " + amqp.readyMessages(queue) + " messages, not " + c.tasks());
    }

    log.printf("%s: %d results queued in %s (published at %.0f/s); timing a bridge at latency %d ms, concurrency "
        + "%d%n", project, c.tasks(), queue, c.tasks() / publishSeconds, c.latency().toMillis(), c.concurrency());
    String pushKey = PushKey.of(project, push.revision());
    MeterRegistry registry = new SimpleMeterRegistry();
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>(c.tasks());
    long startNanos;
    long consumingNanos;
    long lastNanos;
    try (KafkaConsumer<String, byte[]> consumer = consumer()) {
      TopicPartition raw = new TopicPartition(PULSE_RAW, 0);
      consumer.assign(List.of(raw));
      consumer.seekToEnd(List.of(raw));
      consumer.position(raw); // resolve the end now: every record after it is this case's
      sim.setLatency(c.latency());
      // Generous: 1 minute, plus twice the time of the fetches one at a time.
      long deadline = Await.deadlineIn(Duration.ofMinutes(1).plus(c.latency().multipliedBy(2L * c.tasks())));
      PulseBridge bridge = new PulseBridge(config, registry);
      try {
        startNanos = System.nanoTime();
        bridge.start();
        if (!bridge.awaitConsuming(Duration.ofSeconds(60))) {
          throw new IllegalStateException("the timed bridge did not consume " + queue + ": "
              + bridge.readiness().reason());
        }
        consumingNanos = System.nanoTime();
        lastNanos = consumingNanos;
        while (records.size() < c.tasks()) {
          ConsumerRecords<String, byte[]> polled = consumer.poll(Duration.ofMillis(20));
          if (!polled.isEmpty()) {
            lastNanos = System.nanoTime();
            polled.forEach(records::add);
            continue;
          }
          AdminServer.Health health = bridge.readiness();
          if (System.nanoTime() > deadline || (!health.ready() && health.reason().startsWith("failed"))) {
            throw new IllegalStateException("the bridge wrote " + records.size() + " of " + c.tasks() + " records"
                + " of " + project + " to " + PULSE_RAW + " (latency " + c.latency().toMillis() + " ms, concurrency "
                + c.concurrency() + "); readiness: " + (health.ready() ? "ready" : health.reason()) + "; meters: "
                + meters(registry));
          }
        }
      } finally {
        bridge.close();
        sim.setLatency(Duration.ZERO);
      }
    }
    check(c, project, pushKey, taskIds, records, registry);

    return new Result(c, records.size(), (lastNanos - startNanos) / 1e9,
        Math.round((consumingNanos - startNanos) / 1e6),
        Math.round(count(registry, "triggerbot.bridge.task.definitions", "fetched")),
        Math.round(count(registry, "triggerbot.bridge.task.definitions", "cached")),
        Math.round(count(registry, "triggerbot.bridge.task.definitions", "unavailable")),
        Math.round(count(registry, "triggerbot.bridge.task.fetch.failures", null)),
        Math.round(functionCount(registry, "triggerbot.bridge.rejected")), config.prefetch(),
        c.tasks() / publishSeconds);
  }

  /**
   * Every record is this case's push's, carries its task's definition (a {@code task} object) and names one of the
   * case's tasks, each exactly once; nothing was rejected. Fails loudly otherwise.
   */
  private static void check(Case c, String project, String pushKey, Set<String> taskIds,
      List<ConsumerRecord<String, byte[]>> records, MeterRegistry registry) throws IOException {
    List<String> problems = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int notEnriched = 0;
    for (ConsumerRecord<String, byte[]> r : records) {
      String where = PULSE_RAW + " offset " + r.offset();
      PulseMessage message = Topics.PULSE_MESSAGE.decode(r.value(), where);
      ByteBuffer buffer = message.getBody().duplicate();
      byte[] body = new byte[buffer.remaining()];
      buffer.get(body);
      JsonNode json = JSON.readTree(body);
      JsonNode task = json == null ? null : json.get("task");
      if (task == null || !task.isObject()) {
        notEnriched++;
        problems.add(where + ": no \"task\" object (not enriched), routing key " + message.getRoutingKey());
      }
      if (!pushKey.equals(r.key())) {
        problems.add(where + ": keyed " + r.key() + ", not by the push " + pushKey);
      }
      String taskId = json == null ? "" : json.at("/payload/status/taskId").asText();
      if (!taskIds.contains(taskId)) {
        problems.add(where + ": task " + taskId + " is not one of the case's");
      } else if (!seen.add(taskId)) {
        problems.add(where + ": task " + taskId + " written twice");
      }
    }
    if (records.size() != c.tasks() || seen.size() != c.tasks()) {
      problems.add(records.size() + " records for " + seen.size() + " of the " + c.tasks() + " tasks");
    }
    double rejected = functionCount(registry, "triggerbot.bridge.rejected");
    if (rejected != 0) {
      problems.add(Math.round(rejected) + " results sent to " + Topics.PULSE_REJECTED.name()
          + " (task definition unavailable)");
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("NOT ENRICHED OR MISCOUNTED: " + notEnriched + " of " + records.size()
          + " records of " + project + " (latency " + c.latency().toMillis() + " ms, concurrency " + c.concurrency()
          + ") lack their task definition, " + problems.size() + " problems; the first: "
          + String.join("; ", problems.subList(0, Math.min(10, problems.size()))) + "; meters: " + meters(registry));
    }
  }

  private BridgeConfig config(String queue, String project, int concurrency) {
    Map<String, String> values = new HashMap<>();
    values.put(BridgeConfig.AMQP_URI, amqp.uri());
    values.put(BridgeConfig.AMQP_CONNECTION_NAME, "triggerbot-bench-bridge");
    values.put(BridgeConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(BridgeConfig.PULSE_QUEUE, queue);
    values.put(BridgeConfig.PULSE_BINDINGS, ""); // Taskcluster alone, as on today's Pulse
    values.put(BridgeConfig.TASKCLUSTER_ENABLED, "true");
    values.put(BridgeConfig.TASKCLUSTER_ROOT_URL, sim.rootUrl());
    values.put(BridgeConfig.BRANCHES, project);
    values.put(BridgeConfig.TC_TASK_FETCH_CONCURRENCY, Integer.toString(concurrency));
    return BridgeConfig.of(values);
  }

  private KafkaConsumer<String, byte[]> consumer() {
    return new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.CLIENT_ID_CONFIG, "bench-taskcluster-bridge",
        // A fetch that finds nothing comes back after this long: the moment the last record arrives is known
        // to about this.
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10),
        new StringDeserializer(), new ByteArrayDeserializer());
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** A counter's count (tagged {@code outcome}, when given); 0 when the bridge registered none. */
  private static double count(MeterRegistry registry, String name, String outcome) {
    var search = registry.find(name);
    Counter counter = (outcome == null ? search : search.tag("outcome", outcome)).counter();
    return counter == null ? 0 : counter.count();
  }

  private static double functionCount(MeterRegistry registry, String name) {
    FunctionCounter counter = registry.find(name).functionCounter();
    return counter == null ? 0 : counter.count();
  }

  /** The bridge's own meters, for a failure's message. */
  private static String meters(MeterRegistry registry) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (String name : List.of("delivered", "written", "acked", "requeued", "rejected")) {
      m.put(name, Math.round(functionCount(registry, "triggerbot.bridge." + name)));
    }
    for (String outcome : List.of("fetched", "cached", "unavailable")) {
      m.put("definitions." + outcome, Math.round(count(registry, "triggerbot.bridge.task.definitions", outcome)));
    }
    m.put("fetch.failures", Math.round(count(registry, "triggerbot.bridge.task.fetch.failures", null)));
    return m.toString();
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
