package org.triggerbot.processor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.schemas.BuilderClassification;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.VerdictState;

/** SPEC section 4.1 as pure functions: a builder's classification and a push's verdict. */
class VerdictsTest {

  /** A builder whose runs have {@code results} (one character a run: a digit, build numbers 0, 1, ...). */
  private static BuilderState builder(String results, int jobsIssued) {
    Map<String, Integer> runs = new HashMap<>();
    for (int i = 0; i < results.length(); i++) {
      runs.put(Integer.toString(i), results.charAt(i) - '0');
    }
    return BuilderState.newBuilder().setTestJob(true).setRuns(runs).setJobsIssued(jobsIssued)
        .setDecisions(new ArrayList<>()).build();
  }

  private static PolicySettings policy(String... keyValues) {
    return PolicyConfig.fromAssignments(List.of(keyValues));
  }

  @ParameterizedTest(name = "runs ''{0}'', {1} jobs issued, passes={2} failures={3} -> {4}")
  @CsvSource({
      // no failed run: PASS, whatever is outstanding
      "'',     0, 1, 3, PASS",
      "'',     5, 1, 3, PASS",
      "0,      1, 1, 3, PASS",
      "034,    0, 1, 3, PASS",
      // intermittent: P >= confirm.passes and P >= F
      "20,     1, 1, 3, INTERMITTENT",
      "10,     1, 1, 3, INTERMITTENT",
      "2200,   3, 1, 3, INTERMITTENT",
      "20,     9, 1, 3, INTERMITTENT",
      "220,    3, 1, 3, PENDING",
      "220,    2, 1, 3, UNCONFIRMED",
      "20,     1, 2, 3, UNCONFIRMED",
      "200,    2, 2, 3, INTERMITTENT",
      // consistent: F >= confirm.failures when not intermittent
      "222,    2, 1, 3, CONSISTENT_FAILURE",
      "22,     1, 1, 2, CONSISTENT_FAILURE",
      "2220,   3, 1, 3, CONSISTENT_FAILURE",
      "22200,  4, 1, 3, CONSISTENT_FAILURE",
      "222000, 5, 1, 3, INTERMITTENT",
      // outstanding: fewer finished runs than 1 + jobs issued
      "2,      1, 1, 3, PENDING",
      "22,     2, 1, 3, PENDING",
      "2,      0, 1, 3, UNCONFIRMED",
      "22,     1, 1, 3, UNCONFIRMED",
      // results 3-6 are finished runs that neither pass nor fail
      "24,     1, 1, 3, UNCONFIRMED",
      "2456,   3, 1, 3, UNCONFIRMED",
      "245,    3, 1, 3, PENDING",
      "1,      0, 1, 3, UNCONFIRMED",
      "11,     1, 1, 2, CONSISTENT_FAILURE",
  })
  void classification(String results, int jobsIssued, int passes, int failures, BuilderClassification expected) {
    PolicySettings settings = policy("confirm.passes=" + passes, "confirm.failures=" + failures);
    assertEquals(expected, Verdicts.classify(builder(results, jobsIssued), settings));
  }

  @Test
  void pushVerdictPrecedence() {
    assertNull(Verdicts.pushVerdict(Map.of()), "no test builder, no verdict");
    assertNull(Verdicts.pushVerdict(Map.of("PASS", 0)));
    assertEquals(VerdictState.GREEN, Verdicts.pushVerdict(Map.of("PASS", 3)));
    assertEquals(VerdictState.INTERMITTENT_ONLY, Verdicts.pushVerdict(Map.of("PASS", 3, "INTERMITTENT", 1)));
    assertEquals(VerdictState.UNKNOWN,
        Verdicts.pushVerdict(Map.of("PASS", 3, "INTERMITTENT", 1, "UNCONFIRMED", 1)));
    assertEquals(VerdictState.PENDING,
        Verdicts.pushVerdict(Map.of("INTERMITTENT", 1, "UNCONFIRMED", 1, "PENDING", 1)));
    assertEquals(VerdictState.FAILING,
        Verdicts.pushVerdict(Map.of("PENDING", 4, "UNCONFIRMED", 1, "CONSISTENT_FAILURE", 1)));
    assertEquals(VerdictState.GREEN, Verdicts.pushVerdict(Map.of("PASS", 1, "PENDING", 0)),
        "a classification whose count fell back to 0 does not count");
  }

  @Test
  void aBuilderVerdictListsRunsByBuildNumber() {
    Map<String, Integer> runs = new HashMap<>(Map.of("10", 0, "9", 2, "100", 4));
    BuilderState state = BuilderState.newBuilder().setTestJob(true).setRuns(runs).setJobsIssued(2)
        .setClassification("INTERMITTENT").setDecisions(new ArrayList<>()).build();
    BuilderVerdict v = Verdicts.builderVerdict("b", state);
    assertEquals(List.of(9L, 10L, 100L), v.getRuns().stream().map(r -> r.getBuildNumber()).toList());
    assertEquals(List.of(2, 0, 4), v.getRuns().stream().map(r -> r.getResult()).toList());
    assertEquals(BuilderClassification.INTERMITTENT, v.getClassification());
    assertEquals(2, v.getJobsIssued());
  }

  @Test
  void inConfirmationNeedsEveryCondition() {
    Policy policy = new Policy(policy());
    BuilderState b = builder("22", 1);
    b.setFailureTriggers(1);
    assertTrue(policy.inConfirmation(b), "one counted decision, its run back, still undecided");
    b.setFailureTriggers(0);
    assertFalse(policy.inConfirmation(b), "no counted failure decision");
    b.setFailureTriggers(3);
    assertFalse(policy.inConfirmation(b), "confirm.max.retriggers reached");
    b.setFailureTriggers(2);
    assertTrue(policy.inConfirmation(b));
    b.setRequestedTriggered(true);
    assertFalse(policy.inConfirmation(b), "a requested builder is never confirmed");
    b.setRequestedTriggered(false);
    b.setJobsIssued(2);
    assertFalse(policy.inConfirmation(b), "a triggered run is outstanding");
    BuilderState intermittent = builder("20", 1);
    intermittent.setFailureTriggers(1);
    assertFalse(policy.inConfirmation(intermittent), "decided: INTERMITTENT");
    BuilderState consistent = builder("222", 2);
    consistent.setFailureTriggers(2);
    assertFalse(policy.inConfirmation(consistent), "decided: CONSISTENT_FAILURE");
  }
}
