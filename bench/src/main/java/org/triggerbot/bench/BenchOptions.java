package org.triggerbot.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code triggerbot bench} measures and how big: {@code --quick} is the small run (under five minutes on a
 * 2-core machine), the default the full one.
 *
 * @param pushes pushes in the preloaded load
 * @param jobs test jobs per push
 * @param rates input rates (messages/s) of the latency runs
 * @param latencySeconds how long each latency run produces, after {@code warmupSeconds} not counted
 * @param heap the processor JVM's maximum heap ({@code -Xmx})
 * @param taskclusterBridge run only the bridge's Taskcluster enrichment benchmark ({@link TaskclusterBridgeBench})
 * @param tcTasks task results per case of that benchmark; null for its defaults (2000 at 0 ms, 500 at 20 ms)
 */
record BenchOptions(boolean quick, int pushes, int jobs, List<Integer> rates, int latencySeconds, int warmupSeconds,
    Path output, String heap, List<String> processorJvmOptions, long seed, boolean taskclusterBridge,
    Integer tcTasks) {

  static final String USAGE = """
      usage: triggerbot bench [--quick] [--output FILE] [--pushes N] [--jobs N] [--rates R1,R2]
                              [--latency-seconds S] [--heap SIZE] [--seed N]
                              [--processor-jvm-options "OPTS"]
             triggerbot bench --taskcluster-bridge [--tc-tasks N] [--output FILE]

      Benchmarks the processor on this machine with an in-process KRaft broker, the processor in its own JVM:
        1. generates a realistic Pulse load (several-KB buildbot bodies, ~130 test jobs a push) and replays it
           offline (lines/s; its decisions are the reference the live runs must reproduce);
        2. preloads it into pulse.raw (keyed by push, as the bridge writes it) and reads it with a plain
           KafkaConsumer (the physical limit), then runs the engine floor over it: a minimal exactly-once Kafka
           Streams application in its own JVM (one RocksDB put and one output a message), timed as the processor;
        3. runs the processor over it with exactly_once_v2, then at_least_once (input messages/s from Kafka
           Streams RUNNING to the last decision: start-up excluded), checks its decisions equal the replay's,
           and measures its heap after GC and its state size;
        4. on a fresh broker, feeds the running processor at fixed rates and measures decision latency
           (message timestamp to decision visible to a read_committed consumer), p50/p95/p99.
      Writes the results as JSON to --output (default bench-results.json) and prints a table.

        --quick              60 pushes, 100 and 1000 msg/s for 20 s each: about 3 minutes
        --heap SIZE          the processor JVM's -Xmx (default 1g)
        --processor-jvm-options "OPTS"
                             more options for the processor JVMs, e.g. a flight recording to profile them
        (default)            300 pushes, 100 and 1000 msg/s for 60 s each: about 10 minutes

        --taskcluster-bridge runs only the bridge's Taskcluster enrichment benchmark (SPEC 3b), instead of the
                             above: the real bridge between an embedded AMQP broker and an in-process KRaft broker,
                             the Taskcluster simulator answering the task definitions over HTTP. For each queue
                             answer latency (0 and 20 ms) and tc.task.fetch.concurrency (1 and 16), N results of
                             N distinct tasks are queued first, then a new bridge is timed from its start until
                             all N records are in pulse.raw (records/s), each checked to carry its task definition.
                             Under 2 minutes. Writes its JSON to --output and prints a table.
        --tc-tasks N         task results per case (default 2000 at 0 ms, 500 at 20 ms)
      """;

  static BenchOptions parse(List<String> args) {
    boolean quick = args.contains("--quick");
    boolean taskclusterBridge = args.contains("--taskcluster-bridge");
    Integer tcTasks = null;
    Integer pushes = null;
    int jobs = 130;
    List<Integer> rates = List.of(100, 1000);
    Integer latencySeconds = null;
    Path output = Path.of("bench-results.json");
    String heap = "1g";
    List<String> jvmOptions = List.of();
    long seed = 1;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--quick") || a.equals("--taskcluster-bridge")) {
        continue;
      }
      if (i + 1 >= args.size()) {
        throw new IllegalArgumentException("unknown argument or missing value: " + a);
      }
      String v = args.get(++i);
      try {
        switch (a) {
          case "--pushes" -> pushes = positive(a, Integer.parseInt(v));
          case "--jobs" -> jobs = positive(a, Integer.parseInt(v));
          case "--rates" -> {
            List<Integer> r = new ArrayList<>();
            for (String s : v.split(",", -1)) { // "100,,200" is an error, not 100 and 200
              r.add(positive(a, Integer.parseInt(s.trim())));
            }
            rates = List.copyOf(r);
          }
          case "--latency-seconds" -> latencySeconds = positive(a, Integer.parseInt(v));
          case "--output" -> output = Path.of(v);
          case "--heap" -> heap = v;
          case "--processor-jvm-options" -> jvmOptions = List.of(v.trim().split("\\s+"));
          case "--seed" -> seed = Long.parseLong(v);
          case "--tc-tasks" -> tcTasks = positive(a, Integer.parseInt(v));
          default -> throw new IllegalArgumentException("unknown argument: " + a);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(a + " needs a number, got \"" + v + "\"");
      }
    }
    if (tcTasks != null && !taskclusterBridge) {
      throw new IllegalArgumentException("--tc-tasks applies to --taskcluster-bridge only");
    }
    return new BenchOptions(quick, pushes != null ? pushes : quick ? 60 : 300, jobs, rates,
        latencySeconds != null ? latencySeconds : quick ? 20 : 60, quick ? 5 : 10, output, heap, jvmOptions, seed,
        taskclusterBridge, tcTasks);
  }

  private static int positive(String option, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(option + " must be positive, got " + value);
    }
    return value;
  }
}
