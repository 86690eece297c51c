package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.triggerbot.processor.topology.TopologyHarness.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * SPEC rule 4b (confirmation retriggers) and section 4.1 (verdicts) on the real topology, under the default
 * policy ({@code confirm.passes=1 confirm.failures=3 confirm.max.retriggers=3}) unless a scenario says
 * otherwise: for each scenario the decisions (reason, result, count) and the sequence of {@code push.verdicts}
 * records.
 *
 * <p>Notation: {@code TRIGGER_FAILURE/0x1} is a decision with reason TRIGGER_FAILURE on a run with result 0 and
 * count 1 ({@code -} for a start). A verdict reads {@code PENDING a=PENDING[0:2]/1}: the push's state, then each
 * test builder (suite name) with its classification, its runs ({@code buildNumber:result}) and its jobs issued.
 */
class ConfirmationScenariosTest {

  private static final String PUSH = "try/abcdef012345";
  private static final String PREFIX = "Ubuntu VM 12.04 try opt test ";

  @TempDir
  Path stateDir;

  private TopologyHarness harness;

  private TopologyHarness run(String... keyValues) {
    harness = new TopologyHarness(policy(keyValues), stateDir);
    return harness;
  }

  @AfterEach
  void close() {
    if (harness != null) {
      harness.close();
    }
  }

  /** A finished run {@code number} of test suite {@code suite} with {@code result}, {@code minute} after T0. */
  private static String fin(String suite, long number, int result) {
    return PulseJson.test(suite).number(number).atMinutes(number).finished(result);
  }

  private static List<String> decisions(List<TriggerDecision> ds) {
    return ds.stream()
        .map(d -> d.getReason() + "/" + (d.getResult() == null ? "-" : d.getResult()) + "x" + d.getCount())
        .toList();
  }

  private static List<String> verdicts(List<PushVerdict> vs) {
    return vs.stream().map(ConfirmationScenariosTest::describe).toList();
  }

  static String describe(PushVerdict v) {
    return v.getState() + " " + v.getBuilders().stream().map(ConfirmationScenariosTest::describe)
        .collect(Collectors.joining(" "));
  }

  private static String describe(BuilderVerdict b) {
    String name = b.getBuilder().startsWith(PREFIX) ? b.getBuilder().substring(PREFIX.length()) : b.getBuilder();
    return name + "=" + b.getClassification() + b.getRuns().stream()
        .map(r -> r.getBuildNumber() + ":" + r.getResult()).collect(Collectors.joining(",", "[", "]"))
        + "/" + b.getJobsIssued();
  }

  // --- the paths of rule 4b ------------------------------------------------------------------------------------

  @Test
  void failThenPassIsIntermittentAndAsksForNoMoreRuns() {
    TopologyHarness h = run();
    PulseJson a = PulseJson.test("a");
    h.pipe(a.number(0).started(), a.number(0).finished(2), a.number(1).started(), a.number(1).finished(0));

    assertEquals(List.of("TRIGGER_FAILURE/2x1"), decisions(h.decisions()));
    assertEquals(List.of(
        "GREEN a=PASS[]/0",
        "PENDING a=PENDING[0:2]/1",
        "INTERMITTENT_ONLY a=INTERMITTENT[0:2,1:0]/1"), verdicts(h.verdicts()));
  }

  @Test
  void threeFailuresAreConsistent() {
    TopologyHarness h = run();
    h.pipe(fin("a", 0, 2), fin("a", 1, 2), fin("a", 2, 2));

    List<TriggerDecision> ds = h.decisions();
    assertEquals(List.of("TRIGGER_FAILURE/2x1", "TRIGGER_FAILURE/2x1", "SKIP_ALREADY_TRIGGERED/2x1"), decisions(ds));
    assertEquals(List.of(0, 1, 1), ds.stream().map(TriggerDecision::getFailuresOnPush).toList(),
        "f counts the builder once, at its first counted failure decision");
    assertEquals(List.of(0, 1), h.commands().stream().map(c -> c.getPriorJobs()).toList(),
        "the confirmation's command says one job of the builder was issued before it, for the sink's check");
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/1",
        "FAILING a=CONSISTENT_FAILURE[0:2,1:2,2:2]/2"), verdicts(h.verdicts()));
  }

  @Test
  void aConfirmationCanBeDecidedOnAPass() {
    TopologyHarness h = run();
    h.pipe(fin("a", 0, 2), fin("a", 1, 2), fin("a", 2, 0), fin("a", 3, 0));

    assertEquals(List.of("TRIGGER_FAILURE/2x1", "TRIGGER_FAILURE/2x1", "TRIGGER_FAILURE/0x1"),
        decisions(h.decisions()));
    assertEquals(3, h.commands().size());
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/1",
        "INTERMITTENT_ONLY a=INTERMITTENT[0:2,1:2,2:0,3:0]/3"), verdicts(h.verdicts()));
  }

  @Test
  void exceptionRetryAndCancelledRunsAreNeitherAndExhaustTheConfirmationsToUnconfirmed() {
    TopologyHarness h = run();
    h.pipe(fin("a", 0, 2), fin("a", 1, 4), fin("a", 2, 5), fin("a", 3, 6));

    assertEquals(List.of("TRIGGER_FAILURE/2x1", "TRIGGER_FAILURE/4x1", "TRIGGER_FAILURE/5x1"),
        decisions(h.decisions()), "the third counted decision is the last; the cancelled run is not evaluated");
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/1",
        "UNKNOWN a=UNCONFIRMED[0:2,1:4,2:5,3:6]/3"), verdicts(h.verdicts()));
  }

  @Test
  void aFailureWhileARetriggerIsOutstandingIsAlreadyTriggered() {
    TopologyHarness h = run("retry.count=2");
    h.pipe(fin("a", 0, 2), fin("a", 1, 2), fin("a", 2, 0));

    assertEquals(List.of("TRIGGER_FAILURE/2x2", "SKIP_ALREADY_TRIGGERED/2x2", "TRIGGER_FAILURE/0x2"),
        decisions(h.decisions()), "once both retriggers are back and the builder is undecided, it is confirmed");
    assertEquals(List.of("PENDING a=PENDING[0:2]/2"), verdicts(h.verdicts()),
        "PENDING throughout: the classification never changed");
  }

  @Test
  void retryCountTwoWithOneOfTwoRetriggersBack() {
    TopologyHarness h = run("retry.count=2");
    h.pipe(fin("a", 0, 2), fin("a", 1, 0), fin("a", 2, 2));

    assertEquals(List.of("TRIGGER_FAILURE/2x2", "TRIGGER_FAILURE/2x2"), decisions(h.decisions()));
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/2",
        "INTERMITTENT_ONLY a=INTERMITTENT[0:2,1:0]/2",
        "PENDING a=PENDING[0:2,1:0,2:2]/4"), verdicts(h.verdicts()),
        "a pass decides INTERMITTENT although a retrigger is out; its failure turns it back and asks for more");
  }

  @Test
  void anAdmittedBuilderIsConfirmedWhileThePushBudgetIsExhausted() {
    TopologyHarness h = run("budget.floor=1", "budget.ratio=0");
    h.pipe(fin("a", 0, 2), fin("b", 0, 2), fin("a", 1, 2));

    List<TriggerDecision> ds = h.decisions();
    assertEquals(List.of("TRIGGER_FAILURE/2x1", "SKIP_PUSH_BUDGET/2x1", "TRIGGER_FAILURE/2x1"), decisions(ds));
    assertEquals(List.of(0, 1, 1), ds.stream().map(TriggerDecision::getFailuresOnPush).toList());
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/1",
        "PENDING a=PENDING[0:2]/1 b=UNCONFIRMED[0:2]/0"), verdicts(h.verdicts()));
  }

  @Test
  void aConfirmationRefusedByTheGlobalLimitLeavesTheBuilderInConfirmation() {
    TopologyHarness h = run("global.max.failure.triggers.per.hour=1");
    PulseJson a = PulseJson.test("a");
    h.pipe(a.number(0).atMinutes(0).finished(2), a.number(1).atMinutes(30).finished(2),
        a.number(2).atMinutes(61).finished(0));

    assertEquals(List.of("TRIGGER_FAILURE/2x1", "SKIP_GLOBAL_LIMIT/2x1", "TRIGGER_FAILURE/0x1"),
        decisions(h.decisions()), "an hour after the first trigger the window has room again");
    // The refused confirmation issued nothing, so the third run (a developer's own retrigger) is evidence the
    // count already expected: 3 finished runs = 1 + 2 jobs issued, nothing outstanding, still UNCONFIRMED.
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/1",
        "UNKNOWN a=UNCONFIRMED[0:2,1:2]/1"), verdicts(h.verdicts()));
  }

  @Test
  void dryRunsConfirmWithoutCommandsAndLeaveTheBuilderUnconfirmedUntilRunsArrive() {
    TopologyHarness h = run("dry.run=true");
    h.pipe(fin("a", 0, 2), fin("a", 1, 2), fin("a", 2, 0), fin("a", 3, 0));

    List<TriggerDecision> ds = h.decisions();
    assertEquals(List.of("DRY_RUN/2x1", "DRY_RUN/2x1", "DRY_RUN/0x1"), decisions(ds));
    assertEquals(List.of(0, 1, 1), ds.stream().map(TriggerDecision::getFailuresOnPush).toList());
    assertEquals(List.of(), h.commands());
    assertEquals(List.of(
        "UNKNOWN a=UNCONFIRMED[0:2]/0",
        "INTERMITTENT_ONLY a=INTERMITTENT[0:2,1:2,2:0,3:0]/0"), verdicts(h.verdicts()));
  }

  @Test
  void aRebuildTalosBuilderIsNeverConfirmed() {
    TopologyHarness h = run();
    PulseJson t = PulseJson.talos("tp5o").comments("try: -b o -p linux -t all --rebuild-talos 2");
    h.pipe(t.number(0).started(), t.number(0).finished(2), t.number(1).finished(0), t.number(2).finished(2),
        t.number(3).finished(0));

    assertEquals(List.of("TRIGGER_REQUESTED/-x2", "SKIP_ALREADY_TRIGGERED/2x1", "SKIP_ALREADY_TRIGGERED/2x1"),
        decisions(h.decisions()), "failures are evaluated (rule 4), passes never: no counted failure decision");
    List<String> states = h.verdicts().stream().map(v -> v.getState() + " " + v.getBuilders().get(0)
        .getClassification() + "/" + v.getBuilders().get(0).getJobsIssued()).toList();
    assertEquals(List.of("GREEN PASS/2", "PENDING PENDING/2", "INTERMITTENT_ONLY INTERMITTENT/2",
        "UNKNOWN UNCONFIRMED/2", "INTERMITTENT_ONLY INTERMITTENT/2"), states);
  }

  // --- verdicts beyond rule 4b -----------------------------------------------------------------------------------

  @Test
  void theLegacyPolicyCallsTwoFailuresFailing() {
    TopologyHarness h = run(DecisionScenariosTest.LEGACY.toArray(String[]::new));
    h.pipe(fin("a", 0, 2), fin("a", 1, 2));
    assertEquals(List.of("TRIGGER_FAILURE/2x1", "SKIP_ALREADY_TRIGGERED/2x1"), decisions(h.decisions()));
    assertEquals(List.of("PENDING a=PENDING[0:2]/1", "FAILING a=CONSISTENT_FAILURE[0:2,1:2]/1"),
        verdicts(h.verdicts()));
  }

  @Test
  void aLaterFailureTurnsIntermittentOnlyIntoFailing() {
    TopologyHarness h = run();
    h.pipe(fin("a", 0, 2), fin("a", 1, 0), fin("b", 0, 2), fin("b", 1, 2), fin("b", 2, 2));
    assertEquals(List.of(
        "PENDING a=PENDING[0:2]/1",
        "INTERMITTENT_ONLY a=INTERMITTENT[0:2,1:0]/1",
        "PENDING a=INTERMITTENT[0:2,1:0]/1 b=PENDING[0:2]/1",
        "FAILING a=INTERMITTENT[0:2,1:0]/1 b=CONSISTENT_FAILURE[0:2,1:2,2:2]/2"), verdicts(h.verdicts()));
  }

  @Test
  void buildJobsAreNotPartOfVerdictsAndAPushWithoutTestJobsHasNone() {
    TopologyHarness h = run();
    h.pipe(PulseJson.build("linux64").started(), PulseJson.build("linux64").finished(2));
    assertEquals(List.of(), h.verdicts());
    assertNull(h.pushes().get(PUSH).getVerdict());

    h.pipe(PulseJson.test("a").started());
    List<PushVerdict> vs = h.verdicts();
    assertEquals(List.of("GREEN a=PASS[]/0"), verdicts(vs), "the build job is not listed");
  }

  @Test
  void verdictsAreKeyedByPushStampedWithEventTimeAndListBuildersInOrderOfAppearance() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("zeta").atMinutes(1).started(), PulseJson.test("alpha").atMinutes(2).started(),
        PulseJson.test("zeta").atMinutes(3).finished(1));
    var records = h.verdictRecords();
    assertEquals(3, records.size());
    var last = records.get(2);
    assertEquals(PUSH, last.key());
    assertEquals(PulseJson.T0.plusSeconds(180), last.getRecordTime());
    assertEquals(PulseJson.T0.plusSeconds(180), last.value().getUpdatedAt());
    assertEquals("try", last.value().getBranch());
    assertEquals("abcdef012345", last.value().getRevision());
    assertEquals("PENDING zeta=PENDING[0:1]/1 alpha=PASS[]/0", describe(last.value()));
  }

  @Test
  void duplicatesAndLogUploadedEmitNoVerdict() {
    TopologyHarness h = run();
    PulseJson a = PulseJson.test("a");
    h.pipe(a.finished(2), a.finished(2), a.logUploaded(2));
    assertEquals(1, h.verdicts().size());
  }

  @Test
  void aNewLifeOfThePushStartsItsVerdictAfresh() {
    TopologyHarness h = run("push.ttl=PT1H");
    PulseJson a = PulseJson.test("a");
    h.pipe(a.number(0).atMinutes(0).finished(2), a.number(1).atMinutes(60).finished(0));
    assertEquals(List.of("PENDING a=PENDING[0:2]/1", "GREEN a=PASS[1:0]/0"), verdicts(h.verdicts()));
  }

  @Test
  void theBuilderStateKeepsEveryDecisionForPeople() {
    TopologyHarness h = run();
    h.pipe(fin("a", 0, 2), fin("a", 1, 2));
    BuilderState a = h.builders().get(PUSH + "/" + PREFIX + "a");
    List<String> notes = new ArrayList<>();
    a.getDecisions().forEach(n -> notes.add(n.getBuildNumber() + ":" + n.getReason() + " f=" + n.getFailuresOnPush()));
    assertEquals(List.of("0:TRIGGER_FAILURE f=0", "1:TRIGGER_FAILURE f=1"), notes);
    assertEquals(2, a.getFailureTriggers());
    assertEquals("PENDING", a.getClassification());
    assertEquals(1, a.getOrder());
  }
}
