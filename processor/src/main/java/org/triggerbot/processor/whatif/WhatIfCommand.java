package org.triggerbot.processor.whatif;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigException;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.replay.Arguments;
import org.triggerbot.processor.replay.ReplayEngine;
import org.triggerbot.processor.replay.ReplaySource;
import org.triggerbot.processor.replay.SourceOptions;
import org.triggerbot.processor.replay.StderrProgress;

/**
 * {@code triggerbot whatif}: the decisions and verdicts of many policies over one recorded feed, read and parsed
 * once (SPEC section 7). Exit codes: 0 success, 2 bad arguments (with usage), 1 failure.
 */
public final class WhatIfCommand {

  static final String USAGE = """
      usage: triggerbot whatif (--input FILE.jsonl | --from-topic TOPIC --bootstrap-servers HOST:PORT
                               [--from-time T] [--to-time T])
                               [--set key=value]... --grid key=v1,v2,... [--grid ...]
                               --output FILE.csv [--chart FILE.svg|FILE.png] [--report FILE.html]

      Replays a recorded Pulse feed under every policy of a grid (the cartesian product of the --grid values,
      on top of the defaults and --set; the first --grid varies slowest), reading and parsing the feed once,
      and writes one CSV row per policy: its decisions by reason, the jobs it would trigger, and the final
      verdicts of the pushes. The recorded runs are replayed, not invented: retriggers a policy would have made
      add no runs, so verdicts reflect the recorded evidence only.

      %s
        --set key=value        a policy key for every row (repeatable)
        --grid key=v1,v2,...   a policy key and its values to sweep (repeatable, any policy key; '\\,' is a
                               comma inside a value)
        --output FILE.csv      the table ('-' writes standard output)
        --chart FILE           trigger jobs against the share of pushes INTERMITTENT_ONLY/FAILING/UNKNOWN,
                               per policy (.svg or .png)
        --report FILE.html     one self-contained page: the input, the table and the chart
        --help                 this text

      Policy keys: %s
      """;

  private static final Set<String> OPTIONS = SourceOptions.withOptions("--set", "--grid", "--output", "--chart",
      "--report");

  private WhatIfCommand() {}

  public static int run(List<String> args, PrintStream stdout, PrintStream stderr) {
    SourceOptions source = new SourceOptions();
    Grid grid = new Grid();
    List<String> overrides = new ArrayList<>();
    String output = null;
    String chart = null;
    String report = null;
    TreeSet<String> keys = new TreeSet<>(PolicyConfig.DEFINITION.names());
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
            case "--set" -> overrides.add(value);
            case "--grid" -> grid.add(value, keys);
            case "--output" -> output = value;
            case "--chart" -> chart = value;
            default -> report = value;
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
    if (grid.keys().isEmpty()) {
      return badArguments(stderr, "--grid is required (a policy key and the values to sweep)");
    }
    if (output == null) {
      return badArguments(stderr, "--output is required");
    }
    if (chart != null) {
      String lower = chart.toLowerCase(Locale.ROOT);
      if (!lower.endsWith(".svg") && !lower.endsWith(".png")) {
        return badArguments(stderr, "--chart " + chart + ": the file must end in .svg or .png");
      }
    }
    List<Grid.Point> points = grid.points();
    List<PolicySettings> policies = new ArrayList<>();
    for (Grid.Point p : points) {
      List<String> assignments = new ArrayList<>(overrides);
      assignments.addAll(p.assignments());
      try {
        policies.add(PolicyConfig.fromAssignments(assignments));
      } catch (ConfigException e) {
        String where = overrides.isEmpty() ? "--grid " + p.label() : "--set/--grid " + String.join(" ", assignments);
        return badArguments(stderr, where + ": " + e.getMessage());
      }
    }

    try (ReplaySource in = source.open()) {
      long start = System.nanoTime();
      WhatIf.Result result = new WhatIf(ReplayEngine.defaultThreads(), new StderrProgress(stderr, "whatif"))
          .run(in, source.describe(), points.stream().map(Grid.Point::label).toList(), policies,
              source.partitions(in), (where, reason, error) -> stderr.println(where + ": " + reason + ": " + error));
      double seconds = (System.nanoTime() - start) / 1e9;
      writeCsv(output, result.rows(), stdout);
      if (chart != null) {
        WhatIfChart.write(result.rows(), Path.of(chart));
      }
      if (report != null) {
        WhatIfReport.write(result.rows(), result.input(), Path.of(report), Instant.now());
      }
      stderr.printf(Locale.ROOT, "whatif: %d policies over %d %s (%d rejected) in %.1f s (%.0f %s/s)%n",
          policies.size(), result.input().inputs(), source.fromTopic() ? "records" : "lines",
          result.input().rejected(), seconds, result.input().inputs() / Math.max(seconds, 1e-9),
          source.fromTopic() ? "records" : "lines");
      return 0;
    } catch (IOException | RuntimeException e) {
      stderr.println("whatif failed: " + e);
      return 1;
    }
  }

  private static void writeCsv(String output, List<WhatIfRow> rows, PrintStream stdout) throws IOException {
    StringBuilder csv = new StringBuilder(WhatIfCsv.header()).append('\n');
    rows.forEach(r -> csv.append(WhatIfCsv.row(r)).append('\n'));
    if (output.equals("-")) {
      stdout.print(csv);
      stdout.flush();
      return;
    }
    try (BufferedWriter w = Files.newBufferedWriter(Path.of(output), StandardCharsets.UTF_8)) {
      w.write(csv.toString());
    }
  }

  static String usage() {
    return USAGE.formatted(SourceOptions.USAGE.stripTrailing(),
        String.join(", ", new TreeSet<>(PolicyConfig.DEFINITION.names())));
  }

  private static int badArguments(PrintStream stderr, String problem) {
    stderr.println("triggerbot whatif: " + problem);
    stderr.print(usage());
    return 2;
  }
}
