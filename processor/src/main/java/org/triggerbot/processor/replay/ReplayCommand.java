package org.triggerbot.processor.replay;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigException;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;

/**
 * {@code triggerbot replay (--input FILE.jsonl | --from-topic ...) (--output FILE.jsonl [--verdicts FILE.jsonl] |
 * --to-topics PREFIX) [--set key=value]... [--engine fast|topology]} (SPEC section 7).
 * Exit codes: 0 success, 2 bad arguments (with usage), 1 failure.
 */
public final class ReplayCommand {

  static final String USAGE = """
      usage: triggerbot replay (--input FILE.jsonl | --from-topic TOPIC --bootstrap-servers HOST:PORT
                               [--from-time T] [--to-time T])
                               (--output FILE.jsonl|- [--verdicts FILE.jsonl|-] | --to-topics PREFIX)
                               [--set key=value]... [--engine fast|topology]

      Decides a recorded Pulse feed as the processor would, with no running processor, and writes one decision
      per line, as JSON with the TriggerDecision field names, in decision order. Never issues a trigger.
      Malformed inputs are reported on standard error (where, reason) and skipped.

      %s
        --output FILE          where to write decisions ('-' writes standard output)
        --verdicts FILE        also write the push.verdicts records (one PushVerdict JSON per line, in emission
                               order; '-' writes standard output, which then needs --output to be a file)
        --to-topics PREFIX     write to the topics PREFIX.trigger.decisions and PREFIX.push.verdicts instead
                               (created when missing), with the schemas' serdes
        --set key=value        override a policy key (repeatable), e.g. --set budget.floor=3 --set dry.run=true
        --engine ENGINE        fast (default): parse on every core, decide in memory;
                               topology: the processor's Kafka Streams topology on TopologyTestDriver (slower;
                               the reference the fast engine is tested against; one partition only)
        --help                 this text

      Policy keys: %s
      """;

  private static final Set<String> OPTIONS = SourceOptions.withOptions("--output", "--verdicts", "--set",
      "--to-topics", "--engine");

  private ReplayCommand() {}

  /** Runs the command; returns the exit code. */
  public static int run(List<String> args, PrintStream stdout, PrintStream stderr) {
    SourceOptions source = new SourceOptions();
    String output = null;
    String verdicts = null;
    String toTopics = null;
    String engine = "fast";
    List<String> overrides = new ArrayList<>();
    Arguments parsed = Arguments.parse(args, OPTIONS);
    if (parsed.help()) {
      stdout.print(usage());
      return 0;
    }
    if (parsed.problem() != null) {
      return badArguments(stderr, parsed.problem());
    }
    for (Map.Entry<String, String> option : parsed.options()) {
      String value = option.getValue();
      try {
        if (!source.accept(option.getKey(), value)) {
          switch (option.getKey()) {
            case "--output" -> output = value;
            case "--verdicts" -> verdicts = value;
            case "--to-topics" -> toTopics = value;
            case "--engine" -> engine = value;
            default -> overrides.add(value);
          }
        }
      } catch (IllegalArgumentException e) {
        return badArguments(stderr, e.getMessage());
      }
    }
    String problem = source.problem();
    if (problem != null) {
      return badArguments(stderr, problem);
    }
    if (!engine.equals("fast") && !engine.equals("topology")) {
      return badArguments(stderr, "--engine " + engine + ": expected fast or topology");
    }
    if (toTopics != null && (output != null || verdicts != null)) {
      return badArguments(stderr, "--to-topics writes topics: it cannot be combined with --output or --verdicts");
    }
    if (toTopics != null && !source.fromTopic()) {
      return badArguments(stderr, "--to-topics needs --from-topic (its --bootstrap-servers is the cluster written)");
    }
    if (toTopics == null && output == null) {
      return badArguments(stderr, "--output (or --to-topics) is required");
    }
    PolicySettings policy;
    try {
      policy = PolicyConfig.fromAssignments(overrides);
    } catch (ConfigException e) {
      return badArguments(stderr, "--set: " + e.getMessage());
    }
    if (output != null && "-".equals(verdicts) && output.equals("-")) {
      return badArguments(stderr, "--output and --verdicts cannot both be standard output");
    }
    if (verdicts != null && !verdicts.equals("-") && !output.equals("-")
        && Path.of(verdicts).toAbsolutePath().normalize().equals(Path.of(output).toAbsolutePath().normalize())) {
      return badArguments(stderr, "--output and --verdicts name the same file");
    }

    try (ReplaySource in = source.open();
         Writer out = output == null ? null : open(output, stdout);
         Writer verdictsOut = verdicts == null ? null : open(verdicts, stdout);
         ReplayOutput sink = toTopics != null
             ? TopicOutput.open(source.bootstrapServers(), toTopics, 1, source.kafkaConfig())
             : new JsonLinesOutput(out, verdictsOut)) {
      int partitions = source.partitions(in);
      if (engine.equals("topology") && partitions > 1) {
        return badArguments(stderr, "--engine topology decides as a processor on one partition, and this replay "
            + "is of " + partitions + (source.partitionsGiven() ? " (--partitions)" : " (the topic's)")
            + ": use the fast engine, or --partitions 1");
      }
      long start = System.nanoTime();
      Replay.Summary s = engine.equals("topology")
          ? new Replay(policy).run(in, sink, stderr)
          : new FastReplay(policy, partitions, ReplayEngine.defaultThreads(), new StderrProgress(stderr, "replay"))
              .run(in, sink, stderr);
      double seconds = (System.nanoTime() - start) / 1e9;
      stderr.printf("replayed %d %s (%d blank, %d rejected) into %d decisions and %d verdicts in %.1f s "
          + "(%.0f %s/s, engine %s, %d partition%s), policy %s%n",
          s.lines(), source.fromTopic() ? "records" : "lines", s.blank(), s.rejected(), s.decisions(), s.verdicts(),
          seconds, s.lines() / Math.max(seconds, 1e-9), source.fromTopic() ? "records" : "lines", engine,
          partitions, partitions == 1 ? "" : "s", policy.version());
      return 0;
    } catch (IOException | RuntimeException e) {
      stderr.println("replay failed: " + e);
      return 1;
    }
  }

  private static Writer open(String path, PrintStream stdout) throws IOException {
    return path.equals("-")
        ? new BufferedWriter(new OutputStreamWriter(stdout, StandardCharsets.UTF_8), 1 << 16)
        : Files.newBufferedWriter(Path.of(path), StandardCharsets.UTF_8);
  }

  static String usage() {
    return USAGE.formatted(SourceOptions.USAGE.stripTrailing(),
        String.join(", ", new TreeSet<>(PolicyConfig.DEFINITION.names())));
  }

  private static int badArguments(PrintStream stderr, String problem) {
    stderr.println("triggerbot replay: " + problem);
    stderr.print(usage());
    return 2;
  }
}
