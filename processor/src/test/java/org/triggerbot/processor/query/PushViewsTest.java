package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.query.StoreValues.decision;
import static org.triggerbot.processor.query.StoreValues.decisions;
import static org.triggerbot.processor.query.StoreValues.minutes;
import static org.triggerbot.processor.query.StoreValues.push;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.VerdictState;

/** From hand-made store values to the views the HTTP interface serves: no Kafka. */
class PushViewsTest {

  private static final PushRef REF = new PushRef("try", "abcdef012345");

  @Test
  void aPushShowsItsVerdictTryOptionsCountsAndOnlyItsTestBuildersInOrderOfAppearance() {
    Map<String, BuilderState> builders = new LinkedHashMap<>();
    builders.put("Ubuntu VM 12.04 try opt test z-last-seen-first", StoreValues.builder(1, "PASS", 7, 0).build());
    builders.put("Linux x86-64 try build", BuilderState.newBuilder().setTestJob(false).setOrder(2)
        .setRuns(Map.of("3", 0)).build());
    builders.put("Ubuntu VM 12.04 try opt test a-seen-second",
        StoreValues.builder(3, "INTERMITTENT", 12, 0, 2, 2, 10, 0)
            .setJobsIssued(1).setFailureTriggers(1)
            .setDecisions(decisions(decision("d-1", EventKind.FINISHED, 2, 2, "TRIGGER_FAILURE", 10))).build());
    PushState state = push("INTERMITTENT_ONLY").setRebuild(2).setNoRetry(true).build();

    PushView view = PushViews.push(REF, state, builders);

    assertEquals("try", view.branch());
    assertEquals("abcdef012345", view.revision());
    assertEquals("INTERMITTENT_ONLY", view.verdict());
    assertEquals("2015-06-01T10:30:00Z", view.verdictUpdatedAt());
    assertEquals(new PushView.TryOptions(true, 2, 0, true), view.tryOptions());
    assertEquals("dev@example.com", view.pusher());
    assertEquals(3, view.jobsOnPush());
    assertEquals(1, view.failuresOnPush());
    assertEquals("2015-06-01T10:00:00Z", view.lifeStart());
    assertEquals("2015-06-01T10:30:00Z", view.lastSeen());
    assertEquals(
        List.of("Ubuntu VM 12.04 try opt test z-last-seen-first", "Ubuntu VM 12.04 try opt test a-seen-second"),
        view.builders().stream().map(PushView.BuilderView::builder).toList(), "test builders by order; no build job");

    PushView.BuilderView second = view.builders().get(1);
    assertEquals("INTERMITTENT", second.classification());
    assertEquals(List.of(new PushView.Run(2, 2, null), new PushView.Run(10, 0, null), new PushView.Run(12, 0, null)),
        second.runs(),
        "runs by build number as a number (10 after 2), not as text");
    assertEquals(1, second.jobsIssued());
    assertEquals(1, second.failureTriggers());
    assertEquals(List.of(new PushView.DecisionView("d-1", "FINISHED", 2, 2, "TRIGGER_FAILURE", 1, 0, 3,
        "2015-06-01T10:10:00Z")), second.decisions());
    assertTrue(second.failing());
    assertFalse(view.builders().get(0).failing());
  }

  @Test
  void aPushWithoutATestBuilderHasNoVerdictAndNoVerdictTime() {
    PushView view = PushViews.push(REF, push(null).setTestBuilders(Map.of()).build(), Map.of());
    assertNull(view.verdict());
    assertNull(view.verdictUpdatedAt());
    assertEquals(List.of(), view.builders());
  }

  @Test
  void onlyResultsOneAndTwoMakeABuilderFailing() {
    for (int result = 0; result <= 6; result++) {
      PushView.BuilderView b = PushViews.builder("b", StoreValues.builder(1, "PENDING", 1, result).build());
      assertEquals(result == 1 || result == 2, b.failing(), "result " + result);
    }
  }

  @Test
  void theSummaryCountsEveryClassificationInTheSchemasOrder() {
    PushState state = push("FAILING").setTestBuilders(new LinkedHashMap<>(Map.of("CONSISTENT_FAILURE", 1,
        "PASS", 4))).build();
    PushSummary s = PushViews.summary(new PushRef("releases/mozilla-beta", "0123456789ab"), state);
    assertEquals("releases/mozilla-beta", s.branch());
    assertEquals("FAILING", s.verdict());
    assertEquals("2015-06-01T10:30:00Z", s.lastSeen());
    assertEquals(List.of("PASS", "INTERMITTENT", "CONSISTENT_FAILURE", "PENDING", "UNCONFIRMED"),
        new ArrayList<>(s.classifications().keySet()));
    assertEquals(List.of(4, 0, 1, 0, 0), new ArrayList<>(s.classifications().values()));
  }

  @Test
  void aStoreKeyIsSplitAtItsLastSlashSoBranchesMayContainSlashes() {
    assertEquals(new PushRef("releases/mozilla-beta", "0123456789ab"),
        PushViews.refOfKey("releases/mozilla-beta/0123456789ab"));
    assertEquals(new PushRef("try", "0123456789ab"), PushViews.refOfKey("try/0123456789ab"));
  }

  @Test
  void listedMeansAVerdictAndTheOneAskedFor() {
    PushState failing = push("FAILING").build();
    PushState none = push(null).build();
    assertTrue(PushViews.listed(failing, ListQuery.defaults()));
    assertFalse(PushViews.listed(none, ListQuery.defaults()), "no verdict, not listed");
    assertTrue(PushViews.listed(failing, new ListQuery(VerdictState.FAILING, 5)));
    assertFalse(PushViews.listed(failing, new ListQuery(VerdictState.GREEN, 5)));
  }

  @Test
  void theListIsNewestFirstTiesByKeyAndCutToTheLimit() {
    List<PushSummary> pushes = List.of(
        summary("try", "aaaaaaaaaaaa", 10), summary("try", "bbbbbbbbbbbb", 30), summary("try", "cccccccccccc", 30),
        summary("central", "dddddddddddd", 20), summary("try", "eeeeeeeeeeee", 5));
    assertEquals(List.of("try/bbbbbbbbbbbb", "try/cccccccccccc", "central/dddddddddddd"),
        PushViews.newest(pushes, 3).stream().map(PushSummary::key).toList());

    PushViews.Newest newest = new PushViews.Newest(2);
    pushes.forEach(newest::offer);
    assertEquals(List.of("try/bbbbbbbbbbbb", "try/cccccccccccc"),
        newest.sorted().stream().map(PushSummary::key).toList(),
        "scanning keeps the same newest ones");
  }

  @Test
  void aPushInTwoPartsIsListedOnceTheLaterSeenWins() {
    List<PushSummary> merged = PushViews.newest(List.of(summary("try", "aaaaaaaaaaaa", 10),
        summary("try", "aaaaaaaaaaaa", 20)), 10);
    assertEquals(1, merged.size());
    assertEquals(PushViews.time(minutes(20)), merged.get(0).lastSeen());
  }

  @Test
  void theJsonHasTheDocumentedFieldNamesAndReadsBackTheSame() throws Exception {
    Map<String, BuilderState> builders = Map.of("mochitest-1", StoreValues.builder(1, "PENDING", 0, 2).setJobsIssued(1)
        .setDecisions(decisions(decision("d-1", EventKind.FINISHED, 0, 2, "TRIGGER_FAILURE", 10),
            decision("d-0", EventKind.STARTED, 0, null, "TRIGGER_REQUESTED", 1)))
        .build());
    PushView view = PushViews.push(REF, push("PENDING").build(), builders);
    byte[] bytes = Json.bytes(view);
    JsonNode json = Json.MAPPER.readTree(bytes);
    assertEquals(List.of("branch", "revision", "verdict", "verdictUpdatedAt", "tryOptions", "pusher", "jobsOnPush",
        "failuresOnPush", "lifeStart", "lastSeen", "builders"), fieldNames(json));
    assertEquals(List.of("trySyntaxSeen", "rebuild", "rebuildTalos", "noRetry"), fieldNames(json.get("tryOptions")));
    JsonNode b = json.get("builders").get(0);
    assertEquals(List.of("builder", "order", "classification", "runs", "jobsIssued", "failureTriggers", "decisions"),
        fieldNames(b), "no derived 'failing' field");
    assertEquals(List.of("buildNumber", "result"), fieldNames(b.get("runs").get(0)));
    assertEquals(List.of("decisionId", "event", "buildNumber", "result", "reason", "count", "failuresOnPush",
        "jobsOnPush", "eventTime"), fieldNames(b.get("decisions").get(0)));
    assertTrue(b.get("decisions").get(1).get("result").isNull(), "a start has a null result");
    assertEquals(view, Json.MAPPER.readValue(bytes, PushView.class), "what a forwarding instance reads back");
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static PushSummary summary(String branch, String revision, long lastSeenMinute) {
    return new PushSummary(branch, revision, "GREEN", PushViews.time(minutes(0)),
        PushViews.time(minutes(lastSeenMinute)),
        "dev", 1, 0, Map.of("PASS", 1));
  }
}
