package org.triggerbot.demo;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.triggerbot.buildapisim.taskcluster.Outcome;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.query.PushRef;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.schemas.VerdictState;

/**
 * {@code triggerbot demo --ci taskcluster}: a simulated Taskcluster day end to end (SPEC 3b, 6b). The Taskcluster
 * simulator runs the test tasks of a few try pushes and publishes their results to the AMQP broker; the bridge
 * enriches them from the simulator's queue; the processor decides; the sink triggers the push's {@code retrigger}
 * action hook; the simulator's clones run (intermittent failures pass, a broken test fails again) and are decided in
 * turn; the verdicts follow. Prints each decision, hook trigger, result and verdict change as it happens, then a
 * summary that compares the decisions with an offline replay of {@code pulse.raw}.
 */
final class TaskclusterDemo {

  private static final Duration LIMIT = Duration.ofMinutes(2);
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  /** A label with this in it is broken: its clones fail too. */
  static final String BROKEN = "-broken-";

  /** What the demo did, for its test. */
  record Result(boolean complete, Map<String, VerdictState> verdicts, List<TriggerDecision> decisions,
      List<TriggerResult> results, List<TaskclusterSimulator.Trigger> triggers, long expectedDecisions,
      String processorUrl) {}

  private TaskclusterDemo() {}

  static int run(List<String> assignments, Boolean serve, PrintStream out, PrintStream err) throws Exception {
    List<String> all = new ArrayList<>(assignments);
    all.add(PolicyConfig.TASKCLUSTER_ENABLED + "=true");
    PolicySettings policy;
    try {
      policy = PolicyConfig.fromAssignments(all);
    } catch (org.apache.kafka.common.config.ConfigException e) {
      err.println("triggerbot demo: " + e.getMessage());
      return 2;
    }
    Map<String, String> policyValues = PolicyConfig.values(all);
    out.println("starting Kafka (KRaft), an AMQP broker and the Taskcluster simulator...");
    try (LocalPipeline pipeline =
        LocalPipeline.startInfrastructure("demo-" + Long.toHexString(System.nanoTime()), true)) {
      Result result = run(pipeline, policy, policyValues, out);
      if (!result.complete()) {
        err.printf("demo: within %s the decisions, results and clones did not all arrive%n", LIMIT);
        return 1;
      }
      if (serve == null ? Demo.onTerminal() : serve) {
        out.println("serving " + pipeline.processorUrl() + "/ until Ctrl-C");
        Runtime.getRuntime().addShutdownHook(new Thread(pipeline::close, "demo-shutdown"));
        new java.util.concurrent.CountDownLatch(1).await();
      }
      return 0;
    }
  }

  /** Starts the services on {@code pipeline} (Taskcluster on), runs the simulated day and watches it to its end. */
  static Result run(LocalPipeline pipeline, PolicySettings policy, Map<String, String> policyValues, PrintStream out)
      throws Exception {
    long started = System.nanoTime();
    TaskclusterSimulator tc = pipeline.taskcluster();
    tc.setCloneLag(Duration.ofMillis(300));
    tc.setCloneRule((label, cloneIndex) -> label.contains(BROKEN) ? Outcome.FAILED : Outcome.COMPLETED);
    pipeline.startServices(policyValues, Duration.ofMillis(500));
    out.printf("pipeline up in %.1f s; Taskcluster simulator at %s%n", (System.nanoTime() - started) / 1e9,
        tc.rootUrl());

    // A day of try pushes: most tests pass, some fail intermittently (their clones pass), one is broken (its clones
    // fail), one run is cancelled, one is retried by the queue after its worker went away.
    Random random = new Random(2019);
    List<String> pending = new ArrayList<>();
    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    for (int p = 0; p < 4; p++) {
      String revision = String.format("%040x", new java.math.BigInteger(160, random));
      TaskclusterSimulator.Push push = tc.addPush("try", revision, "dev" + p + "@example.com");
      for (int t = 0; t < 8; t++) {
        boolean broken = p == 2 && t == 5;
        String label = "test-linux1804-64/opt-" + (broken ? "xpcshell" + BROKEN : "mochitest-") + (t + 1);
        String taskId = tc.addTestTask(push, label, t % 2 == 0 ? "mochitest" : "xpcshell");
        Outcome outcome = broken || (p != 3 && random.nextInt(6) == 0) ? Outcome.FAILED
            : p == 1 && t == 2 ? Outcome.EXCEPTION_CANCELED
            : p == 3 && t == 4 ? Outcome.retryThen(Outcome.COMPLETED) : Outcome.COMPLETED;
        outcomes.put(taskId, outcome);
        pending.add(taskId);
      }
    }
    out.printf("running %d test tasks of 4 try pushes%n", pending.size());
    for (String taskId : pending) {
      tc.runTask(taskId, outcomes.get(taskId));
    }
    Watch watch = new Watch(pipeline, policy, out);
    boolean complete = watch.until(LIMIT);
    watch.summary((System.nanoTime() - started) / 1e9);
    String page = watch.verdicts.values().stream().filter(v -> v.getState() == VerdictState.INTERMITTENT_ONLY)
        .findFirst().or(() -> watch.verdicts.values().stream().findFirst())
        .map(v -> pipeline.processorUrl() + "/pushes/" + new PushRef(v.getBranch(), v.getRevision()).path())
        .orElse(pipeline.processorUrl() + "/");
    out.println("push page: " + page);
    Map<String, VerdictState> states = new LinkedHashMap<>();
    watch.verdicts.forEach((k, v) -> states.put(k, v.getState()));
    return new Result(complete, states, watch.decisions, watch.results, tc.triggers(), watch.expectedDecisions,
        pipeline.processorUrl());
  }

  /** Prints what arrives, and knows when everything has. */
  private static final class Watch {
    private final LocalPipeline pipeline;
    private final PolicySettings policy;
    private final PrintStream out;
    private final List<TriggerDecision> decisions = new ArrayList<>();
    private final List<TriggerResult> results = new ArrayList<>();
    private final Map<String, PushVerdict> verdicts = new LinkedHashMap<>();
    private final Map<String, String> printed = new HashMap<>();
    private final List<String> raw = new ArrayList<>();
    /** The tasks of the results in {@code raw}. */
    private final java.util.Set<String> rawTasks = new java.util.HashSet<>();
    private final Map<String, Integer> reasons = new TreeMap<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private long commands;
    private long rejected;
    private int triggersSeen;
    private long expectedDecisions = -1;

    Watch(LocalPipeline pipeline, PolicySettings policy, PrintStream out) {
      this.pipeline = pipeline;
      this.policy = policy;
      this.out = out;
    }

    /**
     * Until every published task result is in {@code pulse.raw}, every clone has run, every command has its result
     * and the decisions are as many as an offline replay of {@code pulse.raw} makes; or until {@code limit}.
     */
    boolean until(Duration limit) throws Exception {
      TaskclusterSimulator tc = pipeline.taskcluster();
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.kafka().bootstrapServers());
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      try (KafkaConsumer<String, byte[]> consumer =
          new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> parts = List.of(new TopicPartition(Topics.PULSE_RAW.name(), 0),
            new TopicPartition(Topics.TRIGGER_DECISIONS.name(), 0),
            new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0),
            new TopicPartition(Topics.PULSE_REJECTED.name(), 0), new TopicPartition(Topics.PUSH_VERDICTS.name(), 0),
            new TopicPartition(Topics.TRIGGER_COMMANDS.name(), 0));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            print(r);
          }
          printTriggers(tc);
          // A clone's result is published once it ran: every clone's result must be in pulse.raw.
          boolean clonesRan = tc.triggers().stream().flatMap(t -> t.cloneTaskIds().stream())
              .allMatch(rawTasks::contains);
          // The action tasks' own results are published too; only test tasks' are decided on, but all reach pulse.raw.
          boolean allRaw = raw.size() + rejected >= tc.pulseMessages().size();
          if (clonesRan && allRaw && results.size() >= commands && triggersSeen == tc.triggerCount()) {
            expectedDecisions = Demo.Expected.replay(policy, raw).decisions();
            if (decisions.size() >= expectedDecisions) {
              return true;
            }
          }
        }
        return false;
      }
    }

    private void print(ConsumerRecord<String, byte[]> r) {
      String topic = r.topic();
      if (topic.equals(Topics.PULSE_RAW.name())) {
        PulseMessage m = Topics.PULSE_MESSAGE.decode(r.value(), topic);
        String body = StandardCharsets.UTF_8.decode(m.getBody()).toString();
        raw.add(body);
        try {
          rawTasks.add(JSON.readTree(body).path("payload").path("status").path("taskId").asText());
        } catch (java.io.IOException e) {
          // not JSON: the processor rejects it, and it is no clone's result
        }
      } else if (topic.equals(Topics.TRIGGER_DECISIONS.name())) {
        TriggerDecision d = Topics.TRIGGER_DECISION.decode(r.value(), topic);
        decisions.add(d);
        reasons.merge(d.getReason().name(), 1, Integer::sum);
        out.printf("decision  %-17s %-44s result=%d -> %-22s x%d  (%s)%n", r.key(), d.getBuilder(), d.getResult(),
            d.getReason(), d.getCount(), d.getRoutingKey());
      } else if (topic.equals(Topics.TRIGGER_COMMANDS.name())) {
        commands++;
      } else if (topic.equals(Topics.TRIGGER_RESULTS.name())) {
        TriggerResult t = Topics.TRIGGER_RESULT.decode(r.value(), topic);
        results.add(t);
        outcomes.merge(t.getOutcome().name(), 1, Integer::sum);
        out.printf("result    %-62s %s%s%s%n", r.key(), t.getOutcome(),
            t.getJobRequestId() == null ? "" : " action task " + t.getJobRequestId(),
            t.getError() == null ? "" : " (" + t.getError() + ")");
      } else if (topic.equals(Topics.PUSH_VERDICTS.name())) {
        PushVerdict v = Topics.PUSH_VERDICT.decode(r.value(), topic);
        verdicts.put(r.key(), v);
        String line = String.format("verdict   %-17s %s", r.key(), v.getState());
        if (!line.equals(printed.put(r.key(), line))) {
          out.println(line);
        }
      } else {
        RejectedMessage m = Topics.REJECTED_MESSAGE.decode(r.value(), topic);
        rejected++;
        out.printf("rejected  %s: %s%n", m.getReason(), m.getError());
      }
    }

    private void printTriggers(TaskclusterSimulator tc) {
      List<TaskclusterSimulator.Trigger> triggers = tc.triggers();
      for (int i = triggersSeen; i < triggers.size(); i++) {
        TaskclusterSimulator.Trigger t = triggers.get(i);
        out.printf("hook      %s/%s by %s: retrigger %s x%s -> action task %s, clones %s%n", t.hookGroupId(),
            t.hookId(), t.clientId(), t.payload().path("user").path("taskId").asText(),
            t.payload().path("user").path("input").path("times").asText(), t.actionTaskId(), t.cloneTaskIds());
      }
      triggersSeen = triggers.size();
    }

    void summary(double seconds) {
      out.println();
      out.printf("summary: %d task results in pulse.raw, %d rejected%n", raw.size(), rejected);
      out.printf("summary: %d decisions (an offline replay of pulse.raw makes %d): %s%n", decisions.size(),
          expectedDecisions, reasons);
      out.printf("summary: %d hook triggers; %d results: %s%n", triggersSeen, results.size(), outcomes);
      Map<String, Integer> finals = new TreeMap<>();
      verdicts.values().forEach(v -> finals.merge(v.getState().name(), 1, Integer::sum));
      out.printf("summary: final verdicts of %d pushes: %s%n", verdicts.size(), finals);
      out.printf("summary: done in %.1f s%n", seconds);
    }
  }
}
