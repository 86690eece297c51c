package org.triggerbot.processor.whatif;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/** {@code triggerbot whatif} as a user runs it: arguments, the CSV, the chart and report files, exit codes. */
class WhatIfCommandTest {

  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int whatif(String... args) {
    return WhatIfCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  /** What the command wrote to its standard error, decoded as it was encoded ({@link #whatif}'s UTF-8 stream). */
  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private Path feed() throws Exception {
    Path file = dir.resolve("feed.jsonl");
    Files.write(file, ScenarioStream.generate(5, 8, 10), StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void writesOneRowPerPolicyInGridOrderWithTheChartAndTheReport() throws Exception {
    Path csv = dir.resolve("out.csv");
    Path chart = dir.resolve("chart.svg");
    Path report = dir.resolve("report.html");
    assertEquals(0, whatif("--input", feed().toString(), "--set", "retry.count=2",
        "--grid", "budget.floor=1,3", "--grid", "confirm.max.retriggers=1,2,3",
        "--output", csv.toString(), "--chart", chart.toString(), "--report", report.toString()), stderr());

    List<String> lines = Files.readAllLines(csv);
    // SPEC section 7's columns, one per reason code of section 4: every name once.
    assertEquals("policy,policyVersion,pushes,GREEN,INTERMITTENT_ONLY,FAILING,UNKNOWN,PENDING,decisions,"
        + "SKIP_IGNORED_USER,SKIP_NO_TRY_SYNTAX,SKIP_NO_RETRY,SKIP_REQUESTED_PUSH,SKIP_ALREADY_TRIGGERED,"
        + "SKIP_DENIED_BUILDER,SKIP_HIDDEN_BUILDER,SKIP_PUSH_BUDGET,SKIP_DISABLED,SKIP_GLOBAL_LIMIT,DRY_RUN,"
        + "TRIGGER_REQUESTED,TRIGGER_FAILURE,triggerJobs,failureTriggerJobs,requestedTriggerJobs,dryRunJobs,"
        + "budgetExhaustedPushes,triggersPerPush", lines.get(0));
    for (String row : lines.subList(1, lines.size())) {
      String[] cells = row.split(",", -1);
      assertEquals(lines.get(0).split(",").length, cells.length, row);
      long verdicts = 0;
      for (int i = 3; i <= 7; i++) {
        verdicts += Long.parseLong(cells[i]);
      }
      assertEquals(Long.parseLong(cells[2]), verdicts, "every push with a verdict has one final verdict: " + row);
      long byReason = 0;
      for (int i = 9; i <= 21; i++) {
        byReason += Long.parseLong(cells[i]);
      }
      assertEquals(Long.parseLong(cells[8]), byReason, "every decision has one reason: " + row);
    }
    assertEquals(7, lines.size());
    assertTrue(lines.get(1).startsWith("budget.floor=1 confirm.max.retriggers=1,"), lines.get(1));
    assertTrue(lines.get(3).startsWith("budget.floor=1 confirm.max.retriggers=3,"), lines.get(3));
    assertTrue(lines.get(4).startsWith("budget.floor=3 confirm.max.retriggers=1,"), lines.get(4));
    assertTrue(Files.readString(chart).contains("<svg"));
    String html = Files.readString(report);
    assertTrue(html.contains("budget.floor=3 confirm.max.retriggers=2") && html.contains("not invented"), html);
  }

  @Test
  void theCsvCanGoToStandardOutput() throws Exception {
    assertEquals(0, whatif("--input", feed().toString(), "--grid", "dry.run=true,false", "--output", "-"));
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(3, lines.size());
    assertTrue(lines.get(1).startsWith("dry.run=true,"));
  }

  @Test
  void partitionsShareTheGlobalLimitAsAScaledOutProcessorDoes() throws Exception {
    String input = feed().toString();
    assertEquals(0, whatif("--input", input, "--set", "global.max.failure.triggers.per.hour=4", "--grid",
        "dry.run=false", "--output", "-"));
    String one = out.toString(StandardCharsets.UTF_8);
    out.reset();
    assertEquals(0, whatif("--input", input, "--set", "global.max.failure.triggers.per.hour=4", "--grid",
        "dry.run=false", "--output", "-", "--partitions", "4"));
    String four = out.toString(StandardCharsets.UTF_8);
    int column = List.of(one.lines().findFirst().orElseThrow().split(",")).indexOf("SKIP_GLOBAL_LIMIT");
    long limitedOnOne = Long.parseLong(one.lines().skip(1).findFirst().orElseThrow().split(",", -1)[column]);
    long limitedOnFour = Long.parseLong(four.lines().skip(1).findFirst().orElseThrow().split(",", -1)[column]);
    assertTrue(limitedOnFour > limitedOnOne, "a quarter of the limit per task binds more: " + limitedOnOne + " vs "
        + limitedOnFour);
  }

  @Test
  void badGridsExitTwoNamingWhatIsWrong() throws Exception {
    String input = feed().toString();
    assertEquals(2, whatif("--input", input, "--grid", "budget.floor", "--output", "-"));
    assertTrue(stderr().contains("--grid budget.floor: expected key=value1,value2"), stderr());
    assertEquals(2, whatif("--input", input, "--grid", "budget.flor=1,2", "--output", "-"));
    assertTrue(stderr().contains("unknown policy key 'budget.flor'"), stderr());
    assertEquals(2, whatif("--input", input, "--grid", "budget.floor=1,,2", "--output", "-"));
    assertTrue(stderr().contains("an empty value"), stderr());
    assertEquals(2, whatif("--input", input, "--grid", "budget.floor=1", "--grid", "budget.floor=2", "--output", "-"));
    assertTrue(stderr().contains("given twice"), stderr());
    assertEquals(2, whatif("--input", input, "--grid", "budget.ratio=0.1,lots", "--output", "-"));
    assertTrue(stderr().contains("budget.ratio"), stderr());
    assertEquals(2, whatif("--input", input, "--output", "-"));
    assertTrue(stderr().contains("--grid is required"), stderr());
    assertEquals(2, whatif("--input", input, "--grid", "dry.run=true", "--output", "-", "--chart", "c.jpg"));
    assertTrue(stderr().contains(".svg or .png"), stderr());
    assertEquals(2, whatif("--grid", "dry.run=true", "--output", "-"));
    assertTrue(stderr().contains("usage: triggerbot whatif"), stderr());
    assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing written on bad arguments");
  }

  @Test
  void helpExitsZero() {
    assertEquals(0, whatif("--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("usage: triggerbot whatif"));
  }
}
