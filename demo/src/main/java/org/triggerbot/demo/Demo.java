package org.triggerbot.demo;

import java.io.PrintStream;
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
import org.triggerbot.processor.query.PushRef;
import org.triggerbot.processor.replay.FastReplay;
import org.triggerbot.processor.replay.JsonLinesOutput;
import org.triggerbot.processor.replay.ReplaySource;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.schemas.BuilderClassification;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.schemas.VerdictState;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * {@code triggerbot demo [--input FILE.jsonl] [--set key=value]...}: runs the whole pipeline locally
 * ({@link LocalPipeline}), publishes a Pulse feed (a simulated CI day of try pushes with intermittent and real
 * failures, or the given file), and prints as it happens each decision with its reason, each rebuild buildapi
 * received, each result and each change of a push's verdict, then a summary and the URL of the most interesting
 * push's page. The feed's jobs are also registered in the buildapi simulator, as
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
      // Known, harmless warnings of a fresh embedded broker and of the offline replays in a temp directory
      // (first metadata fetch before the internal topic exists, bootstrap of an empty metadata log).
      for (String noisy : List.of("org.apache.kafka.clients.NetworkClient",
          "org.apache.kafka.controller.QuorumController",
          "org.apache.kafka.streams.processor.internals.StateDirectory", "org.apache.kafka.streams.StreamsConfig")) {
        System.setProperty("org.slf4j.simpleLogger.log." + noisy, "error");
      }
    }
    System.exit(run(List.of(args), System.out, System.err));
  }

  static int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    List<String> assignments = new ArrayList<>();
    Path input = null;
    Boolean serve = null;
    String ciKind = "buildbot";
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "--help", "-h" -> {
          out.print("""
              usage: triggerbot demo [--ci buildbot|taskcluster] [--input FILE.jsonl] [--set key=value]...
                                     [--serve|--no-serve]
              Runs Kafka, an AMQP broker, the buildapi simulator, bridge, processor and sink in one JVM, publishes a
              Pulse feed and prints what triggerbot decides, what buildapi receives and each push's verdict.
                --ci taskcluster  a simulated Taskcluster day instead: the Taskcluster simulator runs try pushes'
                            test tasks and publishes their results; the sink retriggers through the push's
                            retrigger action hook; clones close the loop (--input is for buildbot feeds)
                --serve     afterwards keep the pipeline and its web pages up until Ctrl-C (the default on a terminal)
                --no-serve  stop once everything arrived (the default when output is not a terminal)
              """);
          return 0;
        }
        case "--serve" -> serve = true;
        case "--no-serve" -> serve = false;
        case "--ci" -> {
          if (i + 1 >= args.size() || !List.of("buildbot", "taskcluster").contains(args.get(i + 1))) {
            err.println("triggerbot demo: --ci needs buildbot or taskcluster");
            return 2;
          }
          ciKind = args.get(++i);
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
    if (ciKind.equals("taskcluster")) {
      if (input != null) {
        err.println("triggerbot demo: --input is a buildbot Pulse feed; --ci taskcluster simulates its own day");
        return 2;
      }
      return TaskclusterDemo.run(assignments, serve, out, err);
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
    List<String> feed = input == null ? ScenarioStream.generate(2015, 5, 20, false)
        : Files.readAllLines(input, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    PulseParser parser = new PulseParser(policy.branches(), policy.pulseMaxBytes());
    SimulatedCi ci = new SimulatedCi(feed, parser);

    long started = System.nanoTime();
    out.println("starting Kafka (KRaft), an AMQP broker and the buildapi simulator...");
    try (LocalPipeline pipeline = LocalPipeline.startInfrastructure("demo-" + Long.toHexString(System.nanoTime()))) {
      Set<String> pushes = new java.util.TreeSet<>();
      int jobs = registerJobs(feed, parser, pipeline.buildapi(), pushes);
      pipeline.startServices(PolicyConfig.values(assignments), Duration.ofSeconds(1));
      out.printf("pipeline up in %.1f s; buildapi knows %d jobs; publishing %d Pulse messages to %s%n",
          seconds(started), jobs, feed.size(), LocalPipeline.EXCHANGE);
      pipeline.publish(feed);
      Watch watch = new Watch(pipeline, out, policy, ci, feed);
      boolean complete = watch.until(LIMIT);
      watch.summary(pushes.size(), seconds(started));
      if (!complete) {
        err.printf("demo: within %s only %d of %d decisions, %d of %d results and %d of %d verdicts arrived%n", LIMIT,
            watch.decisions, watch.expected.decisions(), watch.results, watch.expected.commands(), watch.verdicts,
            watch.expected.verdicts());
        return 1;
      }
      String page = watch.mostInterestingPush()
          .map(v -> pipeline.processorUrl() + "/pushes/" + new PushRef(v.getBranch(), v.getRevision()).path())
          .orElse(pipeline.processorUrl() + "/");
      out.println("push page: " + page);
      if (serve == null ? onTerminal() : serve) {
        out.println("serving " + pipeline.processorUrl() + "/ until Ctrl-C");
        // Ctrl-C runs shutdown hooks, not this method's close: stop the services and brokers there.
        Runtime.getRuntime().addShutdownHook(new Thread(pipeline::close, "demo-shutdown"));
        new java.util.concurrent.CountDownLatch(1).await();
      }
      return 0;
    }
  }

  /**
   * What the pipeline must produce for the messages published so far: the same topology replayed offline over
   * the same messages in the same order (one partition keeps the order).
   */
  record Expected(long decisions, long commands, long verdicts) {
    static Expected replay(PolicySettings policy, List<String> published) throws java.io.IOException {
      StringWriter decisions = new StringWriter();
      StringWriter verdicts = new StringWriter();
      new FastReplay(policy).run(
          ReplaySource.lines(new java.io.ByteArrayInputStream(String.join("\n", published)
              .getBytes(StandardCharsets.UTF_8)), -1),
          new JsonLinesOutput(decisions, verdicts),
          new PrintStream(java.io.OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
      List<String> lines = decisions.toString().lines().toList();
      return new Expected(lines.size(), lines.stream().filter(l -> l.contains("\"reason\":\"TRIGGER_")).count(),
          verdicts.toString().lines().count());
    }
  }

  /** Registers the feed's finished jobs in the simulator, as CI would list them. */
  private static int registerJobs(List<String> feed, PulseParser parser, BuildapiSimulator buildapi,
      Set<String> pushes) {
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

  /**
   * Prints decisions, rebuild POSTs, results, verdict changes and rejections as they arrive, and counts them; has
   * the simulated CI run every rebuild buildapi accepted, publishing its runs' messages.
   */
  private static final class Watch {
    private final LocalPipeline pipeline;
    private final PrintStream out;
    private final PolicySettings policy;
    private final SimulatedCi ci;
    /** Every message published so far, in order. */
    private final List<String> published;
    private final Map<String, TriggerCommand> commands = new java.util.HashMap<>();
    /** Submitted commands whose runs CI has not made yet (their command record may not have been read yet). */
    private final Set<String> submitted = new java.util.LinkedHashSet<>();
    private Expected expected;
    private int expectedFor;
    private long reruns;
    private final Map<String, Integer> reasons = new TreeMap<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    /** The latest verdict of each push, in order of first verdict. */
    private final Map<String, PushVerdict> latest = new java.util.LinkedHashMap<>();
    private final Map<String, String> printed = new java.util.HashMap<>();
    private long verdicts;
    private long decisions;
    private long results;
    private long rejected;
    private int requestsSeen;
    private long posts;

    Watch(LocalPipeline pipeline, PrintStream out, PolicySettings policy, SimulatedCi ci, List<String> feed)
        throws java.io.IOException {
      this.pipeline = pipeline;
      this.out = out;
      this.policy = policy;
      this.ci = ci;
      this.published = new ArrayList<>(feed);
      this.expected = Expected.replay(policy, published);
      this.expectedFor = published.size();
    }

    private boolean caughtUp() {
      return decisions >= expected.decisions() && results >= expected.commands() && verdicts >= expected.verdicts();
    }

    /**
     * Until everything published has been decided, every command has its result and every rerun CI made has been
     * published and decided in turn; or until {@code limit}.
     */
    boolean until(Duration limit) throws Exception {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.kafka().bootstrapServers());
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      try (KafkaConsumer<String, byte[]> consumer =
          new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> parts = List.of(new TopicPartition(Topics.TRIGGER_DECISIONS.name(), 0),
            new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0), new TopicPartition(Topics.PULSE_REJECTED.name(), 0),
            new TopicPartition(Topics.PUSH_VERDICTS.name(), 0), new TopicPartition(Topics.TRIGGER_COMMANDS.name(), 0));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            print(r);
          }
          printPosts();
          runSubmitted();
          if (caughtUp() && expectedFor < published.size()) {
            // Reruns were published since the expectation was computed: they decide and change verdicts too.
            expected = Expected.replay(policy, published);
            expectedFor = published.size();
          }
          if (caughtUp() && expectedFor == published.size() && submitted.isEmpty()) {
            return true;
          }
        }
        printPosts();
        return false;
      }
    }

    /** CI runs what buildapi accepted: publish the runs of every submitted command whose record was read. */
    private void runSubmitted() throws Exception {
      List<String> runs = new ArrayList<>();
      for (java.util.Iterator<String> it = submitted.iterator(); it.hasNext();) {
        TriggerCommand command = commands.get(it.next());
        if (command != null) {
          List<String> lines = ci.runsFor(command);
          runs.addAll(lines);
          reruns += lines.size() / 2;
          out.printf("ci        %-69s %d run(s) -> %s%n", command.getBranch() + "/" + command.getRevision() + "/"
              + command.getBuilder(), lines.size() / 2,
              ci.broken(command.getBranch(), command.getRevision(), command.getBuilder()) ? "fail" : "pass");
          it.remove();
        }
      }
      if (!runs.isEmpty()) {
        pipeline.publish(runs);
        published.addAll(runs);
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
        if (t.getOutcome() == TriggerOutcome.SUBMITTED) {
          submitted.add(t.getCommandId());
        }
        out.printf("result    %-69s %s%s%n", r.key(), t.getOutcome(),
            t.getError() == null ? (t.getJobRequestId() == null ? "" : " request_id=" + t.getJobRequestId())
                : " (" + t.getError() + ")");
      } else if (r.topic().equals(Topics.TRIGGER_COMMANDS.name())) {
        TriggerCommand c = Topics.TRIGGER_COMMAND.decode(r.value(), r.topic());
        commands.put(c.getCommandId(), c);
      } else if (r.topic().equals(Topics.PUSH_VERDICTS.name())) {
        verdict(r.key(), Topics.PUSH_VERDICT.decode(r.value(), r.topic()));
      } else {
        RejectedMessage m = Topics.REJECTED_MESSAGE.decode(r.value(), r.topic());
        rejected++;
        out.printf("rejected  %s: %s%n", m.getReason(), m.getError());
      }
    }

    /**
     * Counts every verdict record, but prints only what a developer would notice: the push's state or its
     * number of intermittent or failing builders changed. A record for each new passing builder would bury it.
     */
    private void verdict(String push, PushVerdict v) {
      verdicts++;
      latest.put(push, v);
      String line = String.format("verdict   %-24s %-17s (%s)", push, v.getState(), counts(v));
      if (!line.equals(printed.put(push, line))) {
        out.println(line);
      }
    }

    private static String counts(PushVerdict v) {
      Map<BuilderClassification, Integer> n = new java.util.EnumMap<>(BuilderClassification.class);
      v.getBuilders().forEach(b -> n.merge(b.getClassification(), 1, Integer::sum));
      StringBuilder s = new StringBuilder()
          .append(n.getOrDefault(BuilderClassification.INTERMITTENT, 0)).append(" intermittent, ")
          .append(n.getOrDefault(BuilderClassification.CONSISTENT_FAILURE, 0)).append(" failing");
      if (n.containsKey(BuilderClassification.PENDING)) {
        s.append(", ").append(n.get(BuilderClassification.PENDING)).append(" pending");
      }
      if (n.containsKey(BuilderClassification.UNCONFIRMED)) {
        s.append(", ").append(n.get(BuilderClassification.UNCONFIRMED)).append(" unconfirmed");
      }
      return s.toString();
    }

    /** The push a developer would look at first: FAILING, else UNKNOWN, else INTERMITTENT_ONLY, else any. */
    java.util.Optional<PushVerdict> mostInterestingPush() {
      for (VerdictState state : List.of(VerdictState.FAILING, VerdictState.UNKNOWN, VerdictState.INTERMITTENT_ONLY,
          VerdictState.PENDING, VerdictState.GREEN)) {
        for (PushVerdict v : latest.values()) {
          if (v.getState() == state) {
            return java.util.Optional.of(v);
          }
        }
      }
      return java.util.Optional.empty();
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

    void summary(int pushes, double seconds) {
      out.println();
      out.printf("summary: %d Pulse messages published for %d pushes on enabled branches (%d of them for the %d runs "
          + "the simulated CI made of the rebuilds); %d rejected by the processor%n", published.size(), pushes,
          reruns * 2, reruns, rejected);
      out.printf("summary: %d decisions (replay expected %d): %s%n", decisions, expected.decisions(), reasons);
      out.printf("summary: %d rebuild POSTs received by buildapi; %d results (expected %d): %s%n", posts, results,
          expected.commands(), outcomes);
      Map<String, Integer> finals = new TreeMap<>();
      latest.values().forEach(v -> finals.merge(v.getState().name(), 1, Integer::sum));
      out.printf("summary: %d verdict records (replay expected %d); final verdicts of %d pushes: %s%n", verdicts,
          expected.verdicts(), latest.size(), finals);
      out.printf("summary: done in %.1f s%n", seconds);
    }
  }

  /**
   * Whether standard input and output are a terminal. Until JDK 21 that is {@code System.console() != null}; from
   * JDK 22 a console exists even when the output is redirected, and {@code Console.isTerminal()} (JDK 22) tells.
   * This code is built for Java 17 but may run on a newer JVM, so it asks reflectively.
   */
  // The null check is the pre-22 answer, and isTerminal is asked where it exists: what the check warns about.
  @SuppressWarnings("SystemConsoleNull")
  static boolean onTerminal() {
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException e) {
      return true; // before JDK 22: a console exists only on a terminal
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }
}
