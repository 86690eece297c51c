package org.triggerbot.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.schemas.BuilderClassification;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.VerdictState;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * Pulse messages published to AMQP → bridge → processor → trigger-sink → buildapi simulator: the exact set of
 * rebuild POSTs buildapi receives for a scripted scenario with a requested {@code --rebuild}, a push running out
 * of failure budget, a duplicate delivery, then a confirmation retrigger (SPEC 4b) and the verdicts it leads to.
 */
class PipelineEndToEndTest {

  @Test
  void aScriptedDayOfTryPushesBecomesExactlyTheseRebuilds() throws Exception {
    try (LocalPipeline pipeline = LocalPipeline.startInfrastructure("e2e-secret")) {
      BuildapiSimulator buildapi = pipeline.buildapi();
      String requested = "aaaaaaaaaaaa";
      String failing = "bbbbbbbbbbbb";
      // What CI lists for these pushes (a retrigger rebuilds one of these builds).
      long requestedBuild = buildapi.addBuild("try", requested, "Ubuntu VM 12.04 try opt test mochitest-1", 0);
      long f1 = buildapi.addBuild("try", failing, "Ubuntu VM 12.04 try opt test suite-1", 2);
      long f2 = buildapi.addBuild("try", failing, "Ubuntu VM 12.04 try opt test suite-2", 1);
      buildapi.addBuild("try", failing, "Ubuntu VM 12.04 try opt test suite-3", 2);

      pipeline.startServices(Map.of("budget.floor", "2", "budget.ratio", "0"), Duration.ofMillis(500));
      List<String> feed = new ArrayList<>();
      // Push 1 asks for 2 more runs of every test job: one requested trigger at the job's first start.
      PulseJson mochitest =
          PulseJson.test("mochitest-1").rev(requested).comments("try: -b o -p linux -u all --rebuild 2");
      feed.add(mochitest.atMinutes(0).started());
      feed.add(mochitest.atMinutes(10).finished(0));
      // Push 2: three failing builders; the budget (floor 2, ratio 0) allows two failure retriggers.
      for (int i = 1; i <= 3; i++) {
        PulseJson job = PulseJson.test("suite-" + i).rev(failing);
        feed.add(job.atMinutes(i).started());
        feed.add(job.atMinutes(10 + i).finished(i == 2 ? 1 : 2));
      }
      // At-least-once delivery: the first failure arrives twice.
      feed.add(PulseJson.test("suite-1").rev(failing).atMinutes(11).finished(2));
      assertEquals(feed.size(), pipeline.publish(feed));

      // Four decisions (one requested, two failure retriggers, one refused by the budget; the duplicate decides
      // nothing) and a result for each of the three commands: a result is committed only after its POST, so
      // once all three are there, buildapi has received everything it ever will for this scenario.
      Await.until("four decisions and three results", Duration.ofSeconds(90),
          () -> pipeline.read(Topics.TRIGGER_DECISIONS).size() >= 4
              && pipeline.read(Topics.TRIGGER_RESULTS).size() >= 3);
      assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.TRIGGER_FAILURE,
          DecisionReason.TRIGGER_FAILURE, DecisionReason.SKIP_PUSH_BUDGET),
          pipeline.read(Topics.TRIGGER_DECISIONS).stream().map(TriggerDecision::getReason).toList());
      assertEquals(3, pipeline.read(Topics.TRIGGER_RESULTS).size());

      Set<String> expected = Set.of(
          "/try/build build_id=" + requestedBuild + " count=2",
          "/try/build build_id=" + f1 + " count=1",
          "/try/build build_id=" + f2 + " count=1");
      List<String> actual = posts(buildapi);
      assertEquals(3, actual.size(), "exactly three rebuild POSTs: " + actual);
      assertEquals(expected, Set.copyOf(actual));
      assertTrue(buildapi.requests().stream().filter(r -> r.method().equals("POST")).allMatch(r -> r.status() == 202));

      // The retriggers come back: suite-1 fails again, suite-2 passes. suite-1 is undecided with nothing
      // outstanding, so its failure is confirmed with one more run (SPEC 4b) although the push budget is spent,
      // and buildapi, which now lists two jobs of it, gets that rebuild too. suite-2 is intermittent.
      pipeline.publish(List.of(PulseJson.test("suite-1").rev(failing).number(1).atMinutes(30).finished(2),
          PulseJson.test("suite-2").rev(failing).number(1).atMinutes(31).finished(0)));
      Await.until("the confirmation's result", Duration.ofSeconds(90),
          () -> pipeline.read(Topics.TRIGGER_RESULTS).size() >= 4);
      List<String> confirmed = posts(buildapi);
      assertEquals(4, confirmed.size(), "one more rebuild POST, the confirmation: " + confirmed);
      assertTrue(confirmed.get(3).endsWith(" count=1"), confirmed.get(3));
      assertEquals(TriggerOutcome.SUBMITTED, pipeline.read(Topics.TRIGGER_RESULTS).get(3).getOutcome());

      // Its run fails too: three failures, consistent; the push is FAILING.
      pipeline.publish(List.of(PulseJson.test("suite-1").rev(failing).number(2).atMinutes(45).finished(2)));
      Await.until("the FAILING verdict", Duration.ofSeconds(90), () -> pipeline.read(Topics.PUSH_VERDICTS).stream()
          .anyMatch(v -> v.getRevision().equals(failing) && v.getState() == VerdictState.FAILING));
      assertEquals(List.of(DecisionReason.TRIGGER_REQUESTED, DecisionReason.TRIGGER_FAILURE,
          DecisionReason.TRIGGER_FAILURE, DecisionReason.SKIP_PUSH_BUDGET, DecisionReason.TRIGGER_FAILURE,
          DecisionReason.SKIP_ALREADY_TRIGGERED),
          pipeline.read(Topics.TRIGGER_DECISIONS).stream().map(TriggerDecision::getReason).toList());
      PushVerdict last = latest(pipeline.read(Topics.PUSH_VERDICTS), failing);
      assertEquals(Map.of("Ubuntu VM 12.04 try opt test suite-1", BuilderClassification.CONSISTENT_FAILURE,
          "Ubuntu VM 12.04 try opt test suite-2", BuilderClassification.INTERMITTENT,
          "Ubuntu VM 12.04 try opt test suite-3", BuilderClassification.UNCONFIRMED),
          last.getBuilders().stream().collect(Collectors.toMap(b -> b.getBuilder(), b -> b.getClassification())));
      assertEquals(VerdictState.GREEN, latest(pipeline.read(Topics.PUSH_VERDICTS), requested).getState());
      assertEquals(4, posts(buildapi).size(), "no rebuild for a builder already decided");
    }
  }

  private static PushVerdict latest(List<PushVerdict> verdicts, String revision) {
    PushVerdict last = null;
    for (PushVerdict v : verdicts) {
      if (v.getRevision().equals(revision)) {
        last = v;
      }
    }
    assertTrue(last != null, "a verdict for " + revision);
    return last;
  }

  private static List<String> posts(BuildapiSimulator buildapi) {
    return buildapi.requests().stream().filter(r -> r.method().equals("POST"))
        .map(r -> r.path() + " build_id=" + r.form().get("build_id") + " count=" + r.form().get("count"))
        .collect(Collectors.toList());
  }
}
