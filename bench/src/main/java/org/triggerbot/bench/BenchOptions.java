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
 */
record BenchOptions(boolean quick, int pushes, int jobs, List<Integer> rates, int latencySeconds, int warmupSeconds,
    Path output, String heap, List<String> processorJvmOptions, long seed) {

  static final String USAGE = """
      usage: triggerbot bench [--quick] [--output FILE] [--pushes N] [--jobs N] [--rates R1,R2]
                              [--latency-seconds S] [--heap SIZE] [--seed N]
                              [--processor-jvm-options "OPTS"]

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
      """;

  static BenchOptions parse(List<String> args) {
    boolean quick = args.contains("--quick");
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
      if (a.equals("--quick")) {
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
          default -> throw new IllegalArgumentException("unknown argument: " + a);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(a + " needs a number, got \"" + v + "\"");
      }
    }
    return new BenchOptions(quick, pushes != null ? pushes : quick ? 60 : 300, jobs, rates,
        latencySeconds != null ? latencySeconds : quick ? 20 : 60, quick ? 5 : 10, output, heap, jvmOptions, seed);
  }

  private static int positive(String option, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(option + " must be positive, got " + value);
    }
    return value;
  }
}
