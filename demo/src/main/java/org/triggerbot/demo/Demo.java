package org.triggerbot.demo;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.processor.replay.Replay;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * {@code triggerbot demo [--input FILE.jsonl] [--set key=value]...}: runs the whole pipeline locally
 * ({@link LocalPipeline}), publishes a Pulse feed (a simulated CI day of try pushes with intermittent and real
 * failures, or the given file), and prints as it happens each decision with its reason, each rebuild buildapi
 * received and each result, then a summary. The feed's jobs are also registered in the buildapi simulator, as
 * CI would have them. Exit 0 when every decision and result arrived, 1 if not within the time limit, 2 on bad
 * arguments.
 */
public final class Demo {

  private static final Duration LIMIT = Duration.ofSeconds(90);

  private Demo() {}

  public static void main(String[] args) throws Exception {
    // The transcript on standard output is the demo; the embedded brokers' and services' INFO logs (hundreds of
    // lines) would bury it. Warnings and errors still show. Set before the first logger exists.
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
      System.setProperty("org.slf4j.simpleLogger.log.org.triggerbot", "warn");
    }
    System.exit(run(List.of(args), System.out, System.err));
  }

  static int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    List<String> assignments = new ArrayList<>();
    Path input = null;
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "--help", "-h" -> {
          out.println("usage: triggerbot demo [--input FILE.jsonl] [--set key=value]...\n"
              + "Runs Kafka, an AMQP broker, the buildapi simulator, bridge, processor and sink in one JVM, publishes a\n"
              + "Pulse feed and prints what triggerbot decides and what buildapi receives.");
          return 0;
        }
        case "--input", "--set" -> {
          if (i + 1 >= args.size()) {
            err.println("triggerbot demo: " + args.get(i) + " needs a value");
            return 2;
          }
          if (args.get(i).equals("--input")) {
            input = Path.of(args.get(++i));
          } else {
            assignments.add(args.get(++i));
          }
        }
        default -> {
          err.println("triggerbot demo: unknown argument '" + args.get(i) + "' (see --help)");
          return 2;
        }
      }
    }
    if (assignments.stream().noneMatch(a -> a.startsWith(PolicyConfig.BUDGET_FLOOR + "="))) {
      assignments.add(PolicyConfig.BUDGET_FLOOR + "=2"); // so that the demo shows a push running out of budget
    }
    PolicySettings policy;
    try {
      policy = PolicyConfig.fromAssignments(assignments);
    } catch (org.apache.kafka.common.config.ConfigException e) {
      err.println("triggerbot demo: " + e.getMessage());
      return 2;
    }
    List<String> feed = input == null ? ScenarioStream.generate(2015, 5, 20)
        : Files.readAllLines(input, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();

    // What the pipeline must produce: the same topology, replayed offline over the same feed.
    StringWriter replayed = new StringWriter();
    new Replay(policy).run(new BufferedReader(new StringReader(String.join("\n", feed))), replayed,
        new PrintStream(new java.io.ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    List<String> expectedDecisions = replayed.toString().lines().toList();
    long expectedCommands = expectedDecisions.stream().filter(l -> l.contains("\"reason\":\"TRIGGER_")).count();

    long started = System.nanoTime();
    out.println("starting Kafka (KRaft), an AMQP broker and the buildapi simulator...");
    try (LocalPipeline pipeline = LocalPipeline.startInfrastructure("demo-" + Long.toHexString(System.nanoTime()))) {
      Set<String> pushes = new java.util.TreeSet<>();
      int jobs = registerJobs(feed, policy, pipeline.buildapi(), pushes);
      Map<String, String> policyValues = new TreeMap<>();
      assignments.forEach(a -> policyValues.put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1)));
      pipeline.startServices(policyValues, Duration.ofSeconds(1));
      out.printf("pipeline up in %.1f s; buildapi knows %d jobs; publishing %d Pulse messages to %s%n",
          seconds(started), jobs, feed.size(), LocalPipeline.EXCHANGE);
      long published = pipeline.publish(feed);
      Watch watch = new Watch(pipeline, out);
      boolean complete = watch.until(expectedDecisions.size(), expectedCommands, LIMIT);
      watch.summary(published, pushes.size(), expectedDecisions.size(), expectedCommands, seconds(started));
      if (!complete) {
        err.printf("demo: only %d of %d decisions and %d of %d results within %s%n", watch.decisions, expectedDecisions.size(),
            watch.results, expectedCommands, LIMIT);
        return 1;
      }
      return 0;
    }
  }

  /** Registers the feed's finished jobs in the simulator, as CI would list them. */
  private static int registerJobs(List<String> feed, PolicySettings policy, BuildapiSimulator buildapi,
                                  Set<String> pushes) {
    PulseParser parser = new PulseParser(policy.branches(), policy.pulseMaxBytes());
    int jobs = 0;
    for (String line : feed) {
      if (parser.parse(line.getBytes(StandardCharsets.UTF_8)) instanceof ParseOutcome.Accepted a) {
        PushEvent e = a.event();
        pushes.add(e.getBranch() + "/" + e.getRevision());
        if (e.getEvent() == EventKind.FINISHED) {
          buildapi.addBuild(e.getBranch(), e.getRevision(), e.getBuilder(), e.getResult());
          jobs++;
        }
      }
    }
    return jobs;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Prints decisions, rebuild POSTs, results and rejections as they arrive, and counts them. */
  private static final class Watch {
    private final LocalPipeline pipeline;
    private final PrintStream out;
    private final Map<String, Integer> reasons = new TreeMap<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private long decisions;
    private long results;
    private long rejected;
    private int requestsSeen;
    private long posts;

    Watch(LocalPipeline pipeline, PrintStream out) {
      this.pipeline = pipeline;
      this.out = out;
    }

    boolean until(long expectedDecisions, long expectedResults, Duration limit) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.kafka().bootstrapServers());
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> parts = List.of(new TopicPartition(Topics.TRIGGER_DECISIONS.name(), 0),
            new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0), new TopicPartition(Topics.PULSE_REJECTED.name(), 0));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        long deadline = System.nanoTime() + limit.toNanos();
        while ((decisions < expectedDecisions || results < expectedResults) && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            print(r);
          }
          printPosts();
        }
        printPosts();
        return decisions >= expectedDecisions && results >= expectedResults;
      }
    }

    private void print(ConsumerRecord<String, byte[]> r) {
      if (r.topic().equals(Topics.TRIGGER_DECISIONS.name())) {
        TriggerDecision d = Topics.TRIGGER_DECISION.decode(r.value(), r.topic());
        decisions++;
        reasons.merge(d.getReason().name(), 1, Integer::sum);
        out.printf("decision  %-24s %-44s %-8s %-7s -> %-22s x%d  (f=%d of %d, J=%d)%n", r.key(), d.getBuilder(),
            d.getEvent(), d.getResult() == null ? "" : "result=" + d.getResult(), d.getReason(), d.getCount(),
            d.getFailuresOnPush(), d.getBudgetLimit(), d.getJobsOnPush());
      } else if (r.topic().equals(Topics.TRIGGER_RESULTS.name())) {
        TriggerResult t = Topics.TRIGGER_RESULT.decode(r.value(), r.topic());
        results++;
        outcomes.merge(t.getOutcome().name(), 1, Integer::sum);
        out.printf("result    %-69s %s%s%n", r.key(), t.getOutcome(),
            t.getError() == null ? (t.getJobRequestId() == null ? "" : " request_id=" + t.getJobRequestId())
                : " (" + t.getError() + ")");
      } else {
        RejectedMessage m = Topics.REJECTED_MESSAGE.decode(r.value(), r.topic());
        rejected++;
        out.printf("rejected  %s: %s%n", m.getReason(), m.getError());
      }
    }

    private void printPosts() {
      List<BuildapiSimulator.RecordedRequest> requests = pipeline.buildapi().requests();
      for (int i = requestsSeen; i < requests.size(); i++) {
        BuildapiSimulator.RecordedRequest q = requests.get(i);
        if (q.method().equals("POST")) {
          posts++;
          out.printf("buildapi  POST %s %s -> %d%n", q.path(), q.form(), q.status());
        }
      }
      requestsSeen = requests.size();
    }

    void summary(long published, int pushes, long expectedDecisions, long expectedCommands, double seconds) {
      out.println();
      out.printf("summary: %d Pulse messages published for %d pushes on enabled branches; %d rejected by the processor%n",
          published, pushes, rejected);
      out.printf("summary: %d decisions (replay expected %d): %s%n", decisions, expectedDecisions, reasons);
      out.printf("summary: %d rebuild POSTs received by buildapi; %d results (expected %d): %s%n", posts, results,
          expectedCommands, outcomes);
      out.printf("summary: done in %.1f s%n", seconds);
    }
  }
}
