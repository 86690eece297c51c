package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.query.StoreValues.decision;
import static org.triggerbot.processor.query.StoreValues.decisions;
import static org.triggerbot.processor.query.StoreValues.push;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.schemas.VerdictState;

/** The two HTML pages as text: what they show, and that nothing from the data reaches them unescaped. */
class HtmlPagesTest {

  private static final String EVIL = "<script>alert('x')</script> \"quoted\" & more";

  @Test
  void thePushPageLeadsWithTheVerdictAndShowsEachFailingBuilderWithRunsClassificationAndDecisions() {
    Map<String, BuilderState> builders = new LinkedHashMap<>();
    builders.put("Ubuntu VM 12.04 try opt test mochitest-1", StoreValues.builder(1, "INTERMITTENT", 0, 2, 1, 0)
        .setJobsIssued(1).setFailureTriggers(1)
        .setDecisions(decisions(decision("d-1", EventKind.FINISHED, 0, 2, "TRIGGER_FAILURE", 10))).build());
    builders.put("Ubuntu VM 12.04 try opt test xpcshell", StoreValues.builder(2, "CONSISTENT_FAILURE", 4, 1, 5, 1, 6, 2)
        .setJobsIssued(2).setFailureTriggers(2)
        .setDecisions(decisions(decision("d-2", EventKind.FINISHED, 4, 1, "TRIGGER_FAILURE", 11),
            decision("d-3", EventKind.FINISHED, 5, 1, "SKIP_PUSH_BUDGET", 21)))
        .build());
    builders.put("Ubuntu VM 12.04 try opt test reftest", StoreValues.builder(3, "PASS", 9, 0).build());
    builders.put("Ubuntu VM 12.04 try opt test crashtest", StoreValues.builder(4, "PENDING").build());
    PushView view = PushViews.push(new PushRef("try", "abcdef012345"), push("FAILING").setRebuild(3).build(), builders);

    String html = HtmlPages.push(view);

    assertTrue(html.startsWith("<!DOCTYPE html>"), html);
    assertTrue(html.contains("<span class=\"badge v-FAILING\">FAILING</span>"), "the verdict as a badge");
    assertTrue(html.contains("--rebuild 3"), "the try options");
    assertTrue(html.contains("dev@example.com"));
    assertTrue(html.contains("<h2>Failing builders (2)</h2>"), html);
    String mochitest = section(html, "Ubuntu VM 12.04 try opt test mochitest-1");
    assertTrue(mochitest.contains("badge c-INTERMITTENT"), mochitest);
    assertTrue(mochitest.contains("#0 failure") && mochitest.contains("#1 success"), "its runs: " + mochitest);
    assertTrue(mochitest.contains("<code>TRIGGER_FAILURE</code>"), "the decision's reason: " + mochitest);
    assertTrue(mochitest.contains("2015-06-01 10:10:00"), "the decision's event time: " + mochitest);
    String xpcshell = section(html, "Ubuntu VM 12.04 try opt test xpcshell");
    assertTrue(xpcshell.contains("<code>SKIP_PUSH_BUDGET</code>") && xpcshell.contains("budget is used up"),
        "every decision with what its reason means: " + xpcshell);
    assertTrue(xpcshell.contains("#4 warnings"), "an orange run (1) is failing too");
    assertTrue(html.contains("<h2>Other test builders (2)</h2>"), "the passing and pending ones, in brief");
    assertTrue(html.contains("Ubuntu VM 12.04 try opt test reftest") && html.contains("1 PASS")
        && html.contains("1 PENDING"), html);
    assertFalse(
        html.contains("<section class=\"card\"><div class=\"head\"><h3><span>Ubuntu VM 12.04 try opt test reftest"),
        "a passing builder gets no card of its own");
  }

  @Test
  void everythingFromTheDataIsEscapedOnThePushPage() {
    Map<String, BuilderState> builders = Map.of("test " + EVIL, StoreValues.builder(1, "PENDING", 0, 2)
        .setDecisions(decisions(decision("d-1", EventKind.FINISHED, 0, 2, EVIL, 10))).build(),
        "other " + EVIL, StoreValues.builder(2, EVIL, 1, 0).build());
    PushView view = PushViews.push(new PushRef("br<a>nch\"'", "abcdef012345"), push("PENDING").setPusher(EVIL).build(),
        builders);

    String html = HtmlPages.push(view);

    assertNoRawMarkupFromTheData(html);
    assertTrue(html.contains("test &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;quoted&quot; &amp; more"),
        "the failing builder's name, escaped");
    assertTrue(html.contains("br&lt;a&gt;nch&quot;&#39;/abcdef012345"), "the branch, escaped");
  }

  @Test
  void everythingFromTheDataIsEscapedOnTheIndexAndInLinks() {
    PushSummary summary = new PushSummary("br<a>nch\"' x", "abcdef012345", "GREEN", "2015-06-01T10:30:00Z",
        "2015-06-01T10:30:00Z", EVIL, 3, 0, new LinkedHashMap<>(Map.of(EVIL, 2)));
    String html = HtmlPages.index(new PushList(null, 50, List.of(summary)), ListQuery.defaults());
    assertNoRawMarkupFromTheData(html);
    assertTrue(html.contains("href=\"/pushes/br%3Ca%3Ench%22%27%20x/abcdef012345\""),
        "the link's branch percent-encoded: " + html);
  }

  @Test
  void theIndexListsEachPushWithItsVerdictLinkCountsAndTheFilterForm() {
    PushSummary failing = PushViews.summary(new PushRef("try", "aaaaaaaaaaaa"), push("FAILING")
        .setTestBuilders(new LinkedHashMap<>(Map.of("CONSISTENT_FAILURE", 1, "PASS", 2))).build());
    PushSummary green = PushViews.summary(new PushRef("releases/mozilla-beta", "bbbbbbbbbbbb"), push("GREEN").build());
    String html = HtmlPages.index(new PushList("FAILING", 20, List.of(failing, green)),
        new ListQuery(VerdictState.FAILING, 20));

    assertTrue(html.contains("<a class=\"mono nowrap\" href=\"/pushes/try/aaaaaaaaaaaa\">try/aaaaaaaaaaaa</a>"), html);
    assertTrue(html.contains("href=\"/pushes/releases/mozilla-beta/bbbbbbbbbbbb\""), html);
    assertTrue(html.contains("badge v-FAILING") && html.contains("badge v-GREEN"));
    assertTrue(html.contains("1 CONSISTENT_FAILURE") && html.contains("2 PASS"));
    assertFalse(html.contains("0 PENDING"), "zero counts are left out");
    assertTrue(html.contains("<option value=\"FAILING\" selected>"), "the form shows the filter in use");
    assertTrue(html.contains("value=\"20\""));
    assertTrue(html.contains("2 pushes, latest first."));
  }

  @Test
  void pagesHaveNoScriptAndNoExternalAsset() {
    PushView view = PushViews.push(new PushRef("try", "abcdef012345"), push("GREEN").build(), Map.of());
    for (String html : List.of(HtmlPages.push(view), HtmlPages.index(new PushList(null, 50, List.of()),
        ListQuery.defaults()), HtmlPages.error(404, "Push not found", "no push"))) {
      assertFalse(html.toLowerCase(Locale.ROOT).contains("<script"), html);
      assertFalse(html.contains("src="), html);
      assertFalse(html.contains("<link"), html);
      assertFalse(html.contains("http://") || html.contains("https://"), "nothing fetched from elsewhere: " + html);
      assertTrue(html.contains("<meta charset=\"utf-8\">"));
    }
  }

  @Test
  void anEmptyListSaysSoAndAnErrorPageEscapesItsMessage() {
    assertTrue(HtmlPages.index(new PushList(null, 50, List.of()), ListQuery.defaults())
        .contains("No push has a verdict yet."));
    String error = HtmlPages.error(400, "Bad request", "revision '" + EVIL + "' is malformed");
    assertNoRawMarkupFromTheData(error);
    assertTrue(error.contains("HTTP 400"));
    assertTrue(HtmlPages.error(503, "Not available right now", "restoring").contains("try again"));
  }

  /** The only tags are the page's own: no tag and no attribute-breaking quote comes from {@link #EVIL}. */
  private static void assertNoRawMarkupFromTheData(String html) {
    assertFalse(html.contains("<script>"), html);
    assertFalse(html.contains("alert('x')"), html);
    assertFalse(html.contains("\"quoted\""), html);
    assertFalse(html.contains("<a>"), html);
    // Every attribute value is a plain double-quoted string with no quote or angle bracket inside.
    Matcher attrs = Pattern.compile("=\"([^\"]*)\"").matcher(html);
    while (attrs.find()) {
      assertFalse(attrs.group(1).contains("<") || attrs.group(1).contains("'"), attrs.group());
    }
  }

  /** The card of one builder: from its name to the end of its section. */
  @Test
  void aTaskclusterRunIsNamedByItsTaskAndRun() {
    Map<String, BuilderState> builders = new LinkedHashMap<>();
    Map<String, Integer> runs = new LinkedHashMap<>();
    runs.put("KkDeSaLFSq-OFo1QGc-hGQ/0", 2); // SPEC 3b: a run is (taskId, runId)
    runs.put("NdzxKw8bS5Sw5DRhoiM14w/0", 0); // its clone
    builders.put("test-linux1804-64/opt-mochitest-1", StoreValues.builder(1, "INTERMITTENT").setRuns(runs)
        .setJobsIssued(1).build());
    PushView view = PushViews.push(new PushRef("try", "abcdef012345"), push("INTERMITTENT_ONLY").build(), builders);

    assertEquals(List.of(new PushView.Run(0, 2, "KkDeSaLFSq-OFo1QGc-hGQ"), new PushView.Run(0, 0,
        "NdzxKw8bS5Sw5DRhoiM14w")), view.builders().get(0).runs());
    String card = section(HtmlPages.push(view), "test-linux1804-64/opt-mochitest-1");
    assertTrue(
        card.contains("title=\"task KkDeSaLFSq-OFo1QGc-hGQ run 0, result 2\"") && card.contains("KkDeSa…/0 failure"),
        card);
    assertTrue(card.contains("NdzxKw…/0 success"), card);
  }

  private static String section(String html, String builder) {
    int start = html.indexOf("<span>" + builder + "</span>");
    assertTrue(start >= 0, builder + " has a card: " + html);
    int end = html.indexOf("</section>", start);
    return html.substring(start, end);
  }
}
