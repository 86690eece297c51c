package org.triggerbot.processor.whatif;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.whatif.WhatIfChartTest.row;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;

/** The what-if report: self-contained, the note, the table's columns and values, the input, escaping. */
class WhatIfReportTest {

  private static final Instant FIRST = Instant.parse("2013-04-11T14:06:42Z");
  private static final Instant LAST = FIRST.plus(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4));
  private static final Instant GENERATED = Instant.parse("2024-05-06T07:08:09Z");
  private static final InputSummary INPUT = new InputSummary("pulse-2013.jsonl", 12345, 2_500_000, 7, FIRST, LAST);
  private static final String HOSTILE = "ignore.users=<script>alert('x')</script>&\"";

  @TempDir
  Path dir;

  /** Rows whose every number differs, so that a value in the wrong column shows. */
  private static List<WhatIfRow> rows() {
    Map<VerdictState, Long> verdicts = new EnumMap<>(VerdictState.class);
    verdicts.put(VerdictState.PENDING, 11L);
    verdicts.put(VerdictState.GREEN, 501L);
    verdicts.put(VerdictState.INTERMITTENT_ONLY, 102L);
    verdicts.put(VerdictState.FAILING, 53L);
    verdicts.put(VerdictState.UNKNOWN, 4L);
    Map<DecisionReason, Long> reasons = new EnumMap<>(DecisionReason.class);
    for (DecisionReason reason : WhatIfRow.REASONS) {
      reasons.put(reason, decisionsFor(reason));
    }
    WhatIfRow first = new WhatIfRow(1, "confirm.failures=2 confirm.max.retriggers=1", "42b9f2505a34", 671, verdicts,
        9876, reasons, 2222, 2100, 122, 33, 17);
    return List.of(first, row(2, HOSTILE, 5, 10, 1, 2, 3));
  }

  /** The first row's decisions for {@code reason}: distinct per reason, by its column (its place in SPEC order). */
  private static long decisionsFor(DecisionReason reason) {
    return 1000L + WhatIfRow.REASONS.indexOf(reason);
  }

  private static String html() {
    return WhatIfReport.html(rows(), INPUT, GENERATED);
  }

  private static List<String> cells(String html, String tag) {
    List<String> found = new ArrayList<>();
    Matcher m = Pattern.compile("<" + tag + "[^>]*>(.*?)</" + tag + ">").matcher(html);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  /** The table of policies, and its rows (label cell first). */
  private static String table(String html) {
    int start = html.indexOf("<table class=\"rows\">");
    assertTrue(start >= 0, "no policy table");
    return html.substring(start, html.indexOf("</table>", start));
  }

  private static List<List<String>> bodyRows(String html) {
    String table = table(html);
    String body = table.substring(table.indexOf("<tbody>"));
    List<List<String>> rows = new ArrayList<>();
    for (String tr : cells(body, "tr")) {
      rows.add(cells(tr, "t[hd]"));
    }
    return rows;
  }

  @Test
  void isOneSelfContainedPage() {
    String html = html();
    assertTrue(html.startsWith("<!DOCTYPE html>"));
    assertTrue(html.contains("<meta charset=\"utf-8\">"));
    assertTrue(html.trim().endsWith("</html>"));
    String lower = html.toLowerCase(Locale.ROOT);
    assertFalse(lower.contains("<script"), "no JavaScript");
    assertFalse(lower.contains("http://") || lower.contains("https://"), "no URL at all, so no external asset");
    assertFalse(lower.contains("<link") || lower.contains(" src=") || lower.contains("url("), "no external asset");
    assertFalse(Pattern.compile("\\son[a-z]+=").matcher(lower).find(), "no event handler attributes");
  }

  @Test
  void containsTheNoteInAVisibleParagraph() {
    String html = html();
    assertTrue(html.contains("<p class=\"note\">" + "A what-if replays the recorded runs: runs that another policy "
        + "would have caused are not invented, so each policy's verdicts reflect the recorded evidence only. A policy "
        + "that would have retriggered more than the recorded history did cannot show the evidence those retriggers "
        + "would have produced.</p>"), html);
    assertFalse(html.contains(".note { display: none"));
  }

  @Test
  void inlinesTheChart() {
    String html = html();
    int svg = html.indexOf("<svg");
    assertTrue(svg > 0);
    assertTrue(html.indexOf("</svg>") > svg);
    assertEquals(2, html.split("class=\"point intermittent\"", -1).length - 1);
    assertTrue(html.contains(WhatIfChart.TITLE));
  }

  @Test
  void hasEveryColumnInOrder() {
    List<String> expected = new ArrayList<>(List.of("label", "policy", "policyVersion", "pushes", "GREEN",
        "INTERMITTENT_ONLY", "FAILING", "UNKNOWN", "PENDING", "decisions"));
    for (DecisionReason reason : WhatIfRow.REASONS) {
      expected.add(reason.name());
    }
    expected.addAll(List.of("triggerJobs", "failureTriggerJobs", "requestedTriggerJobs", "dryRunJobs",
        "budgetExhaustedPushes", "triggersPerPush"));
    String table = table(html());
    String head = table.substring(table.indexOf("<thead>"), table.indexOf("</thead>"));
    assertEquals(expected, cells(head, "th"));
  }

  @Test
  void hasEachRowsValuesInTheirColumns() {
    List<List<String>> rows = bodyRows(html());
    assertEquals(2, rows.size());
    List<String> expected = new ArrayList<>(List.of("P1", "confirm.failures=2 confirm.max.retriggers=1",
        "42b9f2505a34", "671", "501", "102", "53", "4", "11", "9876"));
    for (DecisionReason reason : WhatIfRow.REASONS) {
      expected.add(Long.toString(decisionsFor(reason)));
    }
    // 2222 jobs over 671 pushes.
    expected.addAll(List.of("2222", "2100", "122", "33", "17", "3.3115"));
    assertEquals(expected, rows.get(0));
    List<String> second = rows.get(1);
    assertEquals("P2", second.get(0));
    assertEquals("v2", second.get(2));
    assertEquals("0.5000", second.get(second.size() - 1));
    assertEquals(WhatIfReport.columns().size(), second.size());
  }

  @Test
  void describesTheInput() {
    String html = html();
    assertTrue(html.contains("pulse-2013.jsonl"));
    assertTrue(html.contains("<td>12345</td>"), "inputs read");
    assertTrue(html.contains("2.50 MB"), "bytes in MB");
    assertTrue(html.contains("<td>7</td>"), "rejected");
    assertTrue(html.contains("2013-04-11T14:06:42Z \u2192 2013-04-12T16:09:46Z"), "span in UTC ISO-8601");
    assertTrue(html.contains("1d 2h 3m 4s"), "span duration");
    assertTrue(html.contains("2024-05-06T07:08:09Z"), "generated at");
  }

  @Test
  void saysSoWhenNoInputHadAnEventTime() {
    InputSummary none = new InputSummary("-", 0, 0, 0, null, null);
    String html = WhatIfReport.html(List.of(), none, GENERATED);
    assertTrue(html.contains("no input had an event time"));
    assertTrue(html.contains("no policies"));
    assertFalse(html.contains("null"));
  }

  @Test
  void escapesHostileTexts() {
    InputSummary hostileSource = new InputSummary("<img src=x onerror=alert(1)>", 1, 1, 0, FIRST, LAST);
    String html = WhatIfReport.html(rows(), hostileSource, GENERATED);
    assertFalse(html.contains("<script"), "policy text raw");
    assertFalse(html.contains("<img"), "source raw");
    assertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    String escaped = "ignore.users=&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;";
    assertTrue(html.contains(escaped));
    assertEquals(escaped, bodyRows(html).get(1).get(1));
  }

  @Test
  void writesTheSamePageAsUtf8() throws Exception {
    Path file = dir.resolve("whatif.html");
    WhatIfReport.write(rows(), INPUT, file, GENERATED);
    assertEquals(WhatIfReport.html(rows(), INPUT, GENERATED), Files.readString(file, StandardCharsets.UTF_8));
    assertEquals(html(), Files.readString(file, StandardCharsets.UTF_8));
  }

  @Test
  void formatsDurationsAndSizes() {
    assertEquals("250ms", WhatIfReport.duration(Duration.ofMillis(250)));
    assertEquals("59s", WhatIfReport.duration(Duration.ofSeconds(59)));
    assertEquals("1h 0m 5s", WhatIfReport.duration(Duration.ofSeconds(3605)));
    assertEquals("2d 0h 0m 0s", WhatIfReport.duration(Duration.ofDays(2)));
    assertEquals("0.00 MB (0 bytes)", WhatIfReport.megabytes(0));
    assertEquals("1234.57 MB (1234567890 bytes)", WhatIfReport.megabytes(1_234_567_890L));
  }
}
