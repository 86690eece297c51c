package org.triggerbot.processor.replay;

import java.io.BufferedReader;
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
import org.apache.kafka.common.config.ConfigException;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;

/**
 * {@code triggerbot replay --input FILE.jsonl --output FILE.jsonl [--verdicts FILE.jsonl] [--set key=value]...}
 * (SPEC section 7).
 * Exit codes: 0 success, 2 bad arguments (with usage), 1 failure.
 */
public final class ReplayCommand {

  static final String USAGE = """
      usage: triggerbot replay --input FILE.jsonl --output FILE.jsonl|- [--verdicts FILE.jsonl|-] [--set key=value]...

      Runs the processor topology over a Pulse JSON Lines file (one mozillapulse message per line) with no
      broker and writes one decision per line, as JSON with the TriggerDecision field names, in decision order.
      Never issues a trigger. Malformed lines are reported on standard error (line number, reason) and skipped.

        --input FILE    Pulse JSON Lines to replay ('-' reads standard input)
        --output FILE   where to write decisions ('-' writes standard output)
        --verdicts FILE also write the push.verdicts records (one PushVerdict JSON per line, in emission
                        order; '-' writes standard output, which then needs --output to be a file)
        --set key=value override a policy key (repeatable), e.g. --set budget.floor=3 --set dry.run=true
        --help          this text

      Policy keys: %s
      """;

  private ReplayCommand() {}

  /** Runs the command; returns the exit code. */
  public static int run(List<String> args, PrintStream stdout, PrintStream stderr) {
    String input = null;
    String output = null;
    String verdicts = null;
    List<String> overrides = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      switch (arg) {
        case "--help", "-h" -> {
          stdout.print(usage());
          return 0;
        }
        case "--input", "--output", "--verdicts", "--set" -> {
          if (i + 1 >= args.size()) {
            return badArguments(stderr, arg + " needs a value");
          }
          String value = args.get(++i);
          if (arg.equals("--input")) {
            input = value;
          } else if (arg.equals("--output")) {
            output = value;
          } else if (arg.equals("--verdicts")) {
            verdicts = value;
          } else {
            overrides.add(value);
          }
        }
        default -> {
          return badArguments(stderr, "unknown argument '" + arg + "'");
        }
      }
    }
    if (input == null || output == null) {
      return badArguments(stderr, input == null ? "--input is required" : "--output is required");
    }
    PolicySettings policy;
    try {
      policy = PolicyConfig.fromAssignments(overrides);
    } catch (ConfigException e) {
      return badArguments(stderr, "--set: " + e.getMessage());
    }
    if (!input.equals("-") && !Files.isReadable(Path.of(input))) {
      return badArguments(stderr, "--input " + input + ": no such readable file");
    }
    if ("-".equals(verdicts) && output.equals("-")) {
      return badArguments(stderr, "--output and --verdicts cannot both be standard output");
    }
    if (verdicts != null && !verdicts.equals("-") && !output.equals("-")
        && Path.of(verdicts).toAbsolutePath().normalize().equals(Path.of(output).toAbsolutePath().normalize())) {
      return badArguments(stderr, "--output and --verdicts name the same file");
    }

    try (BufferedReader in = input.equals("-")
            ? new BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
            : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8);
         Writer out = open(output, stdout);
         Writer verdictsOut = verdicts == null ? null : open(verdicts, stdout)) {
      long start = System.nanoTime();
      Replay.Summary s = new Replay(policy).run(in, out, verdictsOut, stderr);
      double seconds = (System.nanoTime() - start) / 1e9;
      stderr.printf("replayed %d lines (%d blank, %d rejected) into %d decisions and %d verdicts in %.1f s "
              + "(%.0f lines/s), policy %s%n",
          s.lines(), s.blank(), s.rejected(), s.decisions(), s.verdicts(), seconds,
          s.lines() / Math.max(seconds, 1e-9), policy.version());
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
    return USAGE.formatted(String.join(", ", new java.util.TreeSet<>(PolicyConfig.DEFINITION.names())));
  }

  private static int badArguments(PrintStream stderr, String problem) {
    stderr.println("triggerbot replay: " + problem);
    stderr.print(usage());
    return 2;
  }
}
