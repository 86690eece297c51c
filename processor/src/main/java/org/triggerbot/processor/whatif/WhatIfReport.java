package org.triggerbot.processor.whatif;

import static org.triggerbot.processor.whatif.ChartCanvas.escape;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;

/**
 * The what-if as one HTML page: what was read, the chart, every policy's numbers, and what a what-if cannot tell.
 *
 * <p>The page is self-contained (inline CSS and SVG, no JavaScript, no external assets) so that it can be attached to
 * a ticket, mailed or opened offline years later and still show the same thing; and every text that comes from the
 * input or the command line is escaped, because policy texts and sources are user-supplied.
 */
public final class WhatIfReport {

  /** What a replay-based what-if cannot show; a reader comparing policies must see it next to the numbers. */
  static final String NOTE = "A what-if replays the recorded runs: runs that another policy would have caused are not "
      + "invented, so each policy's verdicts reflect the recorded evidence only. A policy that would have retriggered "
      + "more than the recorded history did cannot show the evidence those retriggers would have produced.";

  /** The verdict columns, in the table's order (GREEN first: the outcome a policy should not spoil). */
  private static final List<VerdictState> VERDICT_COLUMNS = List.of(VerdictState.GREEN,
      VerdictState.INTERMITTENT_ONLY, VerdictState.FAILING, VerdictState.UNKNOWN, VerdictState.PENDING);

  private static final String CSS = """
      body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #222; margin: 24px; line-height: 1.4; }
      h1 { font-size: 1.5em; margin: 0 0 4px 0; }
      h2 { font-size: 1.15em; margin: 28px 0 8px 0; }
      .generated { color: #666; margin: 0; }
      .note { border-left: 4px solid #e69f00; background: #fff8e6; padding: 8px 12px; max-width: 60em; }
      table { border-collapse: collapse; font-size: 0.85em; }
      th, td { border: 1px solid #d0d0d0; padding: 3px 6px; vertical-align: top; }
      th { background: #f2f2f2; text-align: left; }
      table.input th { width: 12em; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
      td.policy { min-width: 18em; max-width: 40em; overflow-wrap: anywhere;
                  font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
      tbody tr:nth-child(even) { background: #fafafa; }
      .scroll { overflow-x: auto; }
      figure { margin: 0; }
      figure svg { max-width: 100%; height: auto; }
      """;

  private WhatIfReport() {}

  /** Writes {@link #html} to {@code file} as UTF-8. */
  public static void write(List<WhatIfRow> rows, InputSummary input, Path file, Instant generatedAt)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Files.writeString(file, html(rows, input, generatedAt), StandardCharsets.UTF_8);
  }

  /**
   * The report page, as {@link #write} writes it.
   *
   * @param generatedAt when the report was made; passed in (not read from the clock) so that a report is reproducible
   */
  public static String html(List<WhatIfRow> rows, InputSummary input, Instant generatedAt) {
    Objects.requireNonNull(rows, "rows");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(generatedAt, "generatedAt");
    StringBuilder out = new StringBuilder(64 * 1024);
    out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>triggerbot what-if: ").append(escape(orNone(input.source()))).append("</title>\n")
        .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
    out.append("<h1>triggerbot what-if: policy sweep</h1>\n");
    out.append("<p class=\"generated\">Generated ").append(escape(generatedAt.toString())).append(" (UTC), ")
        .append(rows.size()).append(rows.size() == 1 ? " policy" : " policies").append(".</p>\n");

    appendInput(out, input);

    out.append("<h2>Cost against outcome</h2>\n<figure>\n").append(WhatIfChart.svg(rows, false))
        .append("</figure>\n");

    out.append("<h2>Policies</h2>\n");
    // A constant with no markup characters, written as is so that it reads (and greps) exactly as worded.
    out.append("<p class=\"note\">").append(NOTE).append("</p>\n");
    appendTable(out, rows);
    out.append("</body>\n</html>\n");
    return out.toString();
  }

  private static void appendInput(StringBuilder out, InputSummary input) {
    out.append("<h2>Input</h2>\n<table class=\"input\">\n<tbody>\n");
    inputRow(out, "source", orNone(input.source()));
    inputRow(out, "inputs read", Long.toString(input.inputs()));
    inputRow(out, "bytes read", megabytes(input.bytes()));
    inputRow(out, "rejected", Long.toString(input.rejected()));
    Instant first = input.firstEvent();
    Instant last = input.lastEvent();
    if (first == null && last == null) {
      inputRow(out, "event time", "no input had an event time");
    } else {
      // Instant.toString is ISO-8601 in UTC ("2013-04-11T14:06:42Z").
      inputRow(out, "event time", (first == null ? "?" : first.toString()) + " \u2192 "
          + (last == null ? "?" : last.toString()));
      if (first != null && last != null) {
        inputRow(out, "event time span", duration(Duration.between(first, last)));
      }
    }
    out.append("</tbody>\n</table>\n");
  }

  private static void inputRow(StringBuilder out, String name, String value) {
    out.append("<tr><th scope=\"row\">").append(escape(name)).append("</th><td>").append(escape(value))
        .append("</td></tr>\n");
  }

  /** The table's column headers, in order (the first is the chart's label). */
  static List<String> columns() {
    List<String> columns = new ArrayList<>(List.of("label", "policy", "policyVersion", "pushes"));
    VERDICT_COLUMNS.forEach(state -> columns.add(state.name()));
    columns.add("decisions");
    for (DecisionReason reason : WhatIfRow.REASONS) {
      columns.add(reason.name());
    }
    columns.addAll(List.of("triggerJobs", "failureTriggerJobs", "requestedTriggerJobs", "dryRunJobs",
        "budgetExhaustedPushes", "triggersPerPush"));
    return columns;
  }

  private static void appendTable(StringBuilder out, List<WhatIfRow> rows) {
    out.append("<div class=\"scroll\">\n<table class=\"rows\">\n<thead>\n<tr>");
    for (String column : columns()) {
      out.append("<th scope=\"col\">").append(escape(column)).append("</th>");
    }
    out.append("</tr>\n</thead>\n<tbody>\n");
    for (WhatIfRow row : rows) {
      out.append("<tr><th scope=\"row\">").append(escape(row.label())).append("</th>");
      out.append("<td class=\"policy\">").append(escape(row.policy())).append("</td>");
      out.append("<td>").append(escape(row.policyVersion())).append("</td>");
      num(out, row.pushes(), null);
      Map<VerdictState, Long> verdicts = orEmpty(row.verdicts());
      for (VerdictState state : VERDICT_COLUMNS) {
        // The share is in the tooltip: the chart plots shares, the table keeps the counts exact.
        num(out, verdicts.getOrDefault(state, 0L),
            String.format(Locale.ROOT, "%.1f%% of pushes", row.share(state) * 100));
      }
      num(out, row.decisions(), null);
      Map<DecisionReason, Long> reasons = orEmpty(row.reasons());
      for (DecisionReason reason : WhatIfRow.REASONS) {
        num(out, reasons.getOrDefault(reason, 0L), null);
      }
      num(out, row.triggerJobs(), null);
      num(out, row.failureTriggerJobs(), null);
      num(out, row.requestedTriggerJobs(), null);
      num(out, row.dryRunJobs(), null);
      num(out, row.budgetExhaustedPushes(), null);
      out.append("<td class=\"num\">").append(String.format(Locale.ROOT, "%.4f", row.triggersPerPush()))
          .append("</td></tr>\n");
    }
    if (rows.isEmpty()) {
      out.append("<tr><td colspan=\"").append(columns().size()).append("\">no policies</td></tr>\n");
    }
    out.append("</tbody>\n</table>\n</div>\n");
  }

  private static void num(StringBuilder out, Long value, String title) {
    out.append("<td class=\"num\"");
    if (title != null) {
      out.append(" title=\"").append(escape(title)).append('"');
    }
    out.append('>').append(value == null ? 0 : value).append("</td>");
  }

  private static <K> Map<K, Long> orEmpty(Map<K, Long> map) {
    return map == null ? Collections.emptyMap() : map;
  }

  private static String orNone(String text) {
    return text == null || text.isEmpty() ? "(none)" : text;
  }

  /** Decimal megabytes (what file managers show), with the exact count for anyone who needs it. */
  static String megabytes(long bytes) {
    return String.format(Locale.ROOT, "%.2f MB (%d bytes)", bytes / 1_000_000.0, bytes);
  }

  /** A span as {@code 3d 4h 5m 6s} (whole seconds; the milliseconds when under a second). */
  static String duration(Duration span) {
    String sign = span.isNegative() ? "-" : "";
    Duration d = span.abs();
    if (d.toSeconds() == 0) {
      return sign + d.toMillis() + "ms";
    }
    StringBuilder out = new StringBuilder(sign);
    if (d.toDays() > 0) {
      out.append(d.toDays()).append("d ");
    }
    if (d.toDays() > 0 || d.toHoursPart() > 0) {
      out.append(d.toHoursPart()).append("h ");
    }
    if (d.toHours() > 0 || d.toMinutesPart() > 0) {
      out.append(d.toMinutesPart()).append("m ");
    }
    return out.append(d.toSecondsPart()).append('s').toString();
  }
}
