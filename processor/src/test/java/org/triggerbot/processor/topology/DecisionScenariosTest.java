package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.topology.TopologyHarness.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.JobEvent;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * Given these Pulse messages, expect these decisions: SPEC section 4 on the real topology, under trigger-bot
 * 2015's single retrigger ({@code confirm.failures=2 confirm.max.retriggers=1}, see {@link #LEGACY}), with which
 * every scenario here must decide exactly as it did before confirmation retriggers existed.
 * {@link ConfirmationScenariosTest} covers rule 4b and the verdicts under the defaults.
 */
class DecisionScenariosTest {

  private static final String PUSH = "try/abcdef012345";

  @TempDir
  Path stateDir;

  private TopologyHarness harness;

  /** trigger-bot 2015's confirmation settings; a scenario's own keys come after them and may override them. */
  static final List<String> LEGACY = List.of("confirm.failures=2", "confirm.max.retriggers=1");

  private TopologyHarness run(List<String> policy) {
    List<String> all = new ArrayList<>(LEGACY);
    all.addAll(policy);
    harness = new TopologyHarness(all, stateDir);
    return harness;
  }

  private TopologyHarness run(String... keyValues) {
    return run(policy(keyValues));
  }

  @AfterEach
  void close() {
    if (harness != null) {
      harness.close();
    }
  }

  private static List<DecisionReason> reasons(List<TriggerDecision> decisions) {
    return decisions.stream().map(TriggerDecision::getReason).toList();
  }

  // --- trigger-bot's historical scenarios -------------------------------------------------------------------

  @Test
  void requestedRebuildTriggersTheBuilderNTimesOnItsFirstStart() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("mochitest-1").comments("try: -b o -p linux -u mochitest-1 --rebuild 5");
    h.pipe(job.started());

    List<TriggerDecision> decisions = h.decisions();
    assertEquals(1, decisions.size());
    TriggerDecision d = decisions.get(0);
    assertEquals(DecisionReason.TRIGGER_REQUESTED, d.getReason());
    assertEquals(5, d.getCount());
    assertEquals(JobEvent.STARTED, d.getEvent());
    assertNull(d.getResult());
    assertEquals("try", d.getBranch());
    assertEquals("abcdef012345", d.getRevision());
    assertEquals("Ubuntu VM 12.04 try opt test mochitest-1", d.getBuilder());
    assertEquals(1, d.getJobsOnPush());
    assertEquals("dev@example.com", d.getUser());

    List<TriggerCommand> commands = h.commands();
    assertEquals(1, commands.size());
    assertEquals(5, commands.get(0).getCount());
    assertEquals(d.getDecisionId(), commands.get(0).getCommandId());
    assertEquals(DecisionReason.TRIGGER_REQUESTED, commands.get(0).getReason());
  }

  @Test
  void laterStartsOfARequestedBuilderAreNotEvaluatedAndItsFailuresAreNotRetriggered() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("mochitest-1").comments("try: --rebuild 5");
    h.pipe(job.started(), job.number(1).started(), job.number(2).started(), job.number(1).finished(2));

    assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.SKIP_REQUESTED_PUSH), reasons(h.decisions()));
    assertEquals(1, h.commands().size());
  }

  @Test
  void oneFailureGivesOneRetrigger() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("mochitest-1");
    h.pipe(job.started(), job.finished(2));

    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(1, decisions.get(0).getCount());
    assertEquals(2, decisions.get(0).getResult());
    assertEquals(0, decisions.get(0).getFailuresOnPush());

    var commands = h.commandRecords();
    assertEquals(1, commands.size());
    assertEquals(PUSH + "/Ubuntu VM 12.04 try opt test mochitest-1", commands.get(0).key());
    assertEquals(1, commands.get(0).value().getCount());
  }

  @Test
  void warningsAreRetriggerableToo() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("mochitest-1").finished(1));
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
  }

  @ParameterizedTest(name = "result {0}")
  @ValueSource(ints = {0, 3, 4, 5, 6})
  void passingSkippedExceptionRetryAndCancelledResultsAreNotDecisions(int result) {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("mochitest-1").started(), PulseJson.test("mochitest-1").finished(result));
    assertEquals(List.of(), h.decisions());
    assertEquals(List.of(), h.commands());
  }

  @Test
  void buildJobsAreNeverRetriggeredButCountAsJobsOnThePush() {
    TopologyHarness h = run();
    h.pipe(PulseJson.build("linux64").started(), PulseJson.build("linux64").finished(2),
        PulseJson.build("win32").started(), PulseJson.test("mochitest-1").finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(3, decisions.get(0).getJobsOnPush(), "two build builders and the test builder");
  }

  @Test
  void noRetryPushGetsNoFailureRetrigger() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("mochitest-1").comments("try: -b o -p all --no-retry").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_NO_RETRY), reasons(h.decisions()));
    assertEquals(List.of(), h.commands());
  }

  // --- each reason isolated ----------------------------------------------------------------------------------

  @Test
  void ignoredUser() {
    TopologyHarness h = run("ignore.users=someone@example.com, dev@example.com");
    h.pipe(PulseJson.test("mochitest-1").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_IGNORED_USER), reasons(h.decisions()));
  }

  @Test
  void noTrySyntax() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("mochitest-1").comments("Bug 1 - fix the thing. r=me").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_NO_TRY_SYNTAX), reasons(h.decisions()));
  }

  @Test
  void noTrySyntaxIsFineWhenNotRequired() {
    TopologyHarness h = run("require.try.syntax=false");
    h.pipe(PulseJson.test("mochitest-1").comments("Bug 1 - fix the thing. r=me").finished(2));
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
  }

  @Test
  void alreadyTriggeredBuilderIsNotRetriggeredAgain() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("mochitest-1");
    h.pipe(job.number(0).finished(2), job.number(1).finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.SKIP_ALREADY_TRIGGERED), reasons(decisions));
    assertEquals(1, decisions.get(1).getFailuresOnPush());
  }

  @Test
  void deniedBuilderMatchesAnywhereInTheName() {
    TopologyHarness h = run("builders.deny=mochitest-[0-9]");
    h.pipe(PulseJson.test("mochitest-1").finished(2), PulseJson.test("reftest").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_DENIED_BUILDER, DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
  }

  @Test
  void hiddenBuilderMatchesTheWholeName() {
    TopologyHarness h = run("builders.hidden=Ubuntu VM 12.04 try opt test mochitest-1,Ubuntu VM 12.04 try opt test");
    h.pipe(PulseJson.test("mochitest-1").finished(2), PulseJson.test("mochitest-10").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_HIDDEN_BUILDER, DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
  }

  @Test
  void killSwitchRefusesEveryTriggerWithoutStoppingDecisions() {
    TopologyHarness h = run("triggering.enabled=false");
    h.pipe(PulseJson.test("mochitest-1").finished(2), PulseJson.test("mochitest-2").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_DISABLED, DecisionReason.SKIP_DISABLED), reasons(h.decisions()));
    assertEquals(List.of(), h.commands());
    // A refused trigger does not mark the builder: with the switch off nothing counts.
    assertEquals(false, h.builders().get(PUSH + "/Ubuntu VM 12.04 try opt test mochitest-1").getTriggered());
  }

  @Test
  void dryRunDecidesAndCountsButEmitsNoCommand() {
    TopologyHarness h = run("dry.run=true", "budget.floor=1", "budget.ratio=0");
    PulseJson a = PulseJson.test("mochitest-1");
    h.pipe(a.number(0).finished(2), a.number(1).finished(2), PulseJson.test("mochitest-2").finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(
        List.of(DecisionReason.DRY_RUN, DecisionReason.SKIP_ALREADY_TRIGGERED, DecisionReason.SKIP_PUSH_BUDGET),
        reasons(decisions));
    assertEquals(1, decisions.get(2).getFailuresOnPush(), "the dry run counted toward the push budget");
    assertEquals(List.of(), h.commands());
  }

  @Test
  void pushersOutsideTriggerUsersGetDryRuns() {
    TopologyHarness h = run("trigger.users=sheriff@example.com");
    h.pipe(PulseJson.test("mochitest-1").finished(2),
        PulseJson.test("mochitest-1").rev("1234567890ab").who("sheriff@example.com").finished(2));
    assertEquals(List.of(DecisionReason.DRY_RUN, DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
    assertEquals(1, h.commands().size());
  }

  @Test
  void unknownPusherIsNotATriggerUser() {
    TopologyHarness h = run("trigger.users=sheriff@example.com");
    h.pipe(PulseJson.test("mochitest-1").who(null).finished(2));
    assertEquals(List.of(DecisionReason.DRY_RUN), reasons(h.decisions()));
  }

  // --- push budget: both sides of each boundary ---------------------------------------------------------------

  @Test
  void pushBudgetFloorBoundary() {
    TopologyHarness h = run("budget.floor=3", "budget.ratio=0");
    for (int i = 0; i < 4; i++) {
      h.pipe(PulseJson.test("suite-" + i).finished(2));
    }
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.TRIGGER_FAILURE,
        DecisionReason.TRIGGER_FAILURE, DecisionReason.SKIP_PUSH_BUDGET), reasons(decisions));
    assertEquals(List.of(0, 1, 2, 3), decisions.stream().map(TriggerDecision::getFailuresOnPush).toList());
    assertEquals(3, decisions.get(3).getBudgetLimit());
  }

  @Test
  void pushBudgetRatioBoundaryIsExactDecimal() {
    // 100 builders seen and ratio 0.29: J * ratio = 29 exactly (28.999999999999996 in binary floating point).
    // f = 29 is allowed (29 > 29 is false), f = 30 is refused.
    TopologyHarness h = run("budget.floor=0", "budget.ratio=0.29");
    for (int i = 0; i < 100; i++) {
      h.pipe(PulseJson.test("suite-" + i).started());
    }
    for (int i = 0; i < 31; i++) {
      h.pipe(PulseJson.test("suite-" + i).finished(2));
    }
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(31, decisions.size());
    for (int f = 0; f <= 29; f++) {
      assertEquals(DecisionReason.TRIGGER_FAILURE, decisions.get(f).getReason(), "f=" + f);
      assertEquals(f, decisions.get(f).getFailuresOnPush());
      assertEquals(100, decisions.get(f).getJobsOnPush());
    }
    assertEquals(DecisionReason.SKIP_PUSH_BUDGET, decisions.get(30).getReason());
    assertEquals(30, decisions.get(30).getFailuresOnPush());
    assertEquals(30, decisions.get(30).getBudgetLimit());
  }

  @Test
  void pushBudgetDefaultsAllowFiveThenTheRatio() {
    // trigger-bot 2015: floor 5, ratio ~1/33. With 10 builders seen, the sixth failing builder is refused.
    TopologyHarness h = run();
    for (int i = 0; i < 10; i++) {
      h.pipe(PulseJson.test("suite-" + i).started());
    }
    for (int i = 0; i < 6; i++) {
      h.pipe(PulseJson.test("suite-" + i).finished(2));
    }
    List<DecisionReason> reasons = reasons(h.decisions());
    assertEquals(DecisionReason.SKIP_PUSH_BUDGET, reasons.get(5));
    assertEquals(5, reasons.stream().filter(r -> r == DecisionReason.TRIGGER_FAILURE).count());
  }

  // --- global limits -----------------------------------------------------------------------------------------

  @Test
  void globalFailureLimitIsARollingHourOfEventTimeAcrossPushes() {
    TopologyHarness h = run("global.max.failure.triggers.per.hour=2");
    h.pipe(PulseJson.test("a").rev("aaaaaaaaaaaa").atMinutes(0).finished(2),
        PulseJson.test("a").rev("bbbbbbbbbbbb").atMinutes(10).finished(2),
        PulseJson.test("a").rev("cccccccccccc").atMinutes(59).finished(2),
        // exactly one hour after the first: the first is out of (t - 1h, t]
        PulseJson.test("a").rev("dddddddddddd").atMinutes(60).finished(2));
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.TRIGGER_FAILURE,
        DecisionReason.SKIP_GLOBAL_LIMIT, DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
  }

  @Test
  void globalRequestedLimitRefusesATriggerWholeAndDoesNotStarveFailures() {
    TopologyHarness h = run("global.max.requested.triggers.per.hour=5", "global.max.failure.triggers.per.hour=1");
    h.pipe(PulseJson.test("a").comments("try: --rebuild 3").started(),
        PulseJson.test("b").comments("try: --rebuild 3").started(),
        PulseJson.test("c").rev("1234567890ab").finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.SKIP_GLOBAL_LIMIT,
        DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(3, decisions.get(1).getCount(), "a skip still says the would-be count");
  }

  // --- precedence --------------------------------------------------------------------------------------------

  @Test
  void ignoredUserBeatsNoTrySyntax() {
    TopologyHarness h = run("ignore.users=dev@example.com");
    h.pipe(PulseJson.test("a").comments("no try line").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_IGNORED_USER), reasons(h.decisions()));
  }

  @Test
  void noTrySyntaxBeatsNoRetryAndNoRetryBeatsRequestedPush() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("a").comments("try: --no-retry --rebuild 2").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_NO_RETRY), reasons(h.decisions()));
  }

  @Test
  void requestedPushBeatsAlreadyTriggered() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("a").comments("try: --rebuild 2");
    h.pipe(job.started(), job.finished(2));
    assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.SKIP_REQUESTED_PUSH), reasons(h.decisions()));
  }

  @Test
  void alreadyTriggeredBeatsDeniedAndDeniedBeatsHidden() {
    TopologyHarness h = run("builders.deny=reftest", "builders.hidden=Ubuntu VM 12.04 try opt test reftest");
    PulseJson talos = PulseJson.talos("tp5o").comments("try: --rebuild-talos 2");
    h.pipe(talos.started(), talos.finished(2), PulseJson.test("reftest").finished(2));
    assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.SKIP_ALREADY_TRIGGERED,
        DecisionReason.SKIP_DENIED_BUILDER), reasons(h.decisions()));
  }

  @Test
  void disabledBeatsGlobalLimit() {
    TopologyHarness h = run("triggering.enabled=false", "global.max.failure.triggers.per.hour=0");
    h.pipe(PulseJson.test("b").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_DISABLED), reasons(h.decisions()));
  }

  @Test
  void globalLimitBeatsDryRun() {
    TopologyHarness h = run("dry.run=true", "global.max.failure.triggers.per.hour=0");
    h.pipe(PulseJson.test("a").finished(2));
    assertEquals(List.of(DecisionReason.SKIP_GLOBAL_LIMIT), reasons(h.decisions()));
  }

  // --- try syntax, end to end --------------------------------------------------------------------------------

  @Test
  void autolandQuotedTryLine() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("a").comments("Bug 1 - thing\n\"try: -b do -p linux64 -u all --rebuild 2\"").started());
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED), reasons(decisions));
    assertEquals(2, decisions.get(0).getCount());
  }

  @Test
  void rebuildTalosAppliesToTalosBuildersOnly() {
    TopologyHarness h = run();
    String comments = "try: -b o -p linux -u none -t all --rebuild-talos 4";
    h.pipe(PulseJson.talos("tp5o").comments(comments).started(),
        PulseJson.test("mochitest-1").comments(comments).started(),
        PulseJson.test("mochitest-1").comments(comments).finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(4, decisions.get(0).getCount());
    assertTrue(decisions.get(0).getBuilder().contains("talos"));
    assertEquals(1, decisions.get(1).getCount(), "--rebuild-talos alone does not make a requested push");
  }

  @Test
  void requestedValuesAreCappedToTheLimit() {
    TopologyHarness h = run("requested.limit=7");
    h.pipe(PulseJson.test("a").comments("try: --rebuild 99999999999999999999999").started());
    assertEquals(7, h.decisions().get(0).getCount());
  }

  @Test
  void tryOptionsComeFromTheFirstMessageWithATryLine() {
    TopologyHarness h = run();
    h.pipe(PulseJson.build("linux64").comments("no try line here").who("first@example.com").started(),
        PulseJson.test("a").comments("try: --rebuild 2").who("second@example.com").started(),
        PulseJson.test("b").comments("try: --rebuild 9").started());
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(2, 2), decisions.stream().map(TriggerDecision::getCount).toList());
    assertEquals("first@example.com", decisions.get(0).getUser(), "the pusher of the first message that has one");
  }

  // --- duplicates, log_uploaded, pushes ----------------------------------------------------------------------

  @Test
  void duplicateDeliveriesAndLogUploadedChangeNothing() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("mochitest-1");
    h.pipe(job.started(), job.started(), job.finished(2), job.finished(2), job.logUploaded(2), job.finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(1, h.commands().size());
    assertEquals(1, h.pushes().get(PUSH).getBuildersSeen());
    assertEquals(2L, count(h.seenEvents().all()), "started and finished, once each");
    assertEquals(List.of(), h.rejected(), "log_uploaded is out of scope, not rejected");
  }

  @Test
  void aDuplicateOfAFinishedRunDoesNotAddARun() {
    TopologyHarness h = run();
    PulseJson job = PulseJson.test("mochitest-1");
    h.pipe(job.number(3).finished(0), job.number(3).finished(0), job.number(4).finished(2));
    assertEquals(Map.of("3", 0, "4", 2),
        h.builders().get(PUSH + "/Ubuntu VM 12.04 try opt test mochitest-1").getRuns());
  }

  @Test
  void sameRevisionOnTwoBranchesIsTwoPushes() {
    TopologyHarness h = run("branches=try,try-comm-central");
    h.pipe(PulseJson.test("a").finished(2), PulseJson.test("a").branch("try-comm-central").finished(2));
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(List.of("try", "try-comm-central"), decisions.stream().map(TriggerDecision::getBranch).toList());
    assertEquals(List.of(1, 1), decisions.stream().map(TriggerDecision::getJobsOnPush).toList());
  }

  @Test
  void revisionsSharingTheirFirst12CharactersAreOnePush() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("a").rev("abcdef012345").finished(2), PulseJson.test("a").number(1).finished(2));
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.SKIP_ALREADY_TRIGGERED),
        reasons(h.decisions()));
  }

  @Test
  void branchesThatAreNotEnabledAreDroppedNotDecided() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("a").branch("mozilla-inbound").finished(2));
    assertEquals(List.of(), h.decisions());
    assertEquals(List.of(), h.rejected());
    assertEquals(0L, count(h.pushes().all()));
  }

  @Test
  void ttlExpiryForgetsThePushAndALaterFailureIsNew() {
    TopologyHarness h = run("push.ttl=PT1H");
    PulseJson job = PulseJson.test("a");
    h.pipe(job.number(0).atMinutes(0).finished(2),
        job.number(1).atMinutes(59).finished(2),    // 59 min after the last sighting: same life
        job.number(2).atMinutes(118).finished(2),   // 59 min after the last sighting again: same life
        job.number(3).atMinutes(178).finished(2));  // 60 min: forgotten, a new life
    List<TriggerDecision> decisions = h.decisions();
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.SKIP_ALREADY_TRIGGERED,
        DecisionReason.SKIP_ALREADY_TRIGGERED, DecisionReason.TRIGGER_FAILURE), reasons(decisions));
    assertEquals(1, decisions.get(3).getJobsOnPush());
    assertEquals(0, decisions.get(3).getFailuresOnPush());
    assertEquals(Map.of("3", 2), h.builders().get(PUSH + "/Ubuntu VM 12.04 try opt test a").getRuns());
  }

  @Test
  void aDuplicateAfterTheTtlIsANewMessage() {
    TopologyHarness h = run("push.ttl=PT1H");
    PulseJson job = PulseJson.test("a");
    h.pipe(job.atMinutes(0).finished(2), job.atMinutes(60).finished(2));
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.TRIGGER_FAILURE), reasons(h.decisions()));
    List<TriggerCommand> commands = h.commands();
    assertTrue(!commands.get(0).getCommandId().equals(commands.get(1).getCommandId()), "a new life, a new id");
  }

  @Test
  void theSweepDeletesExpiredPushesFromEveryStore() {
    TopologyHarness h = run("push.ttl=PT1H");
    h.pipe(PulseJson.test("a").atMinutes(0).finished(2));
    assertNotNull(h.pushes().get(PUSH));
    // Another push moves stream time past TTL + grace (1 day) + one sweep interval.
    h.pipe(PulseJson.test("a").rev("1234567890ab").at(PulseJson.T0.plusSeconds(3600 * 27)).finished(0));
    assertNull(h.pushes().get(PUSH));
    assertNull(h.builders().get(PUSH + "/Ubuntu VM 12.04 try opt test a"));
    assertEquals(1L, count(h.seenEvents().all()), "only the second push's message remains");
    assertNotNull(h.pushes().get("try/1234567890ab"));
  }

  @Test
  void decisionsAreKeyedByPushAndStampedWithEventTime() {
    TopologyHarness h = run();
    h.pipe(PulseJson.test("a").atMinutes(5).finished(2));
    var record = h.driver.createOutputTopic(org.triggerbot.schemas.Topics.TRIGGER_DECISIONS.name(),
        new org.apache.kafka.common.serialization.StringDeserializer(),
        org.triggerbot.schemas.Topics.TRIGGER_DECISION.deserializer()).readRecord();
    assertEquals(PUSH, record.key());
    assertEquals(PulseJson.T0.plusSeconds(300), record.getRecordTime());
    assertEquals(PulseJson.T0.plusSeconds(300), record.value().getEventTime());
    assertNull(record.value().getDecidedAt(), "replay-style settings: no wall clock");
  }

  private static long count(org.apache.kafka.streams.state.KeyValueIterator<?, ?> it) {
    try (it) {
      long n = 0;
      while (it.hasNext()) {
        it.next();
        n++;
      }
      return n;
    }
  }
}
