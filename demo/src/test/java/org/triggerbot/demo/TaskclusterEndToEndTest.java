package org.triggerbot.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.schemas.VerdictState;

/**
 * The Taskcluster loop end to end (SPEC 3b, 6b) on real brokers, the real services and the Taskcluster simulator:
 * task results published to AMQP → bridge (enriched from the simulator's queue) → processor → trigger-sink → the
 * push's retrigger action hook → clones whose results come back the same way. An intermittent failure is retriggered
 * once, its clone passes and its push ends INTERMITTENT_ONLY; a broken test's clones fail and its push ends FAILING.
 */
class TaskclusterEndToEndTest {

  @Test
  void aFailureIsRetriggeredOnceThroughTheHookAndItsPassingCloneMakesThePushIntermittent() throws Exception {
    List<String> assignments = List.of(PolicyConfig.TASKCLUSTER_ENABLED + "=true");
    Map<String, String> values = PolicyConfig.values(assignments);
    PolicySettings policy = PolicyConfig.fromAssignments(assignments);
    ByteArrayOutputStream transcript = new ByteArrayOutputStream();
    TaskclusterDemo.Result r;
    try (LocalPipeline pipeline = LocalPipeline.startInfrastructure("e2e-token", true);
         PrintStream out = new PrintStream(transcript, true, StandardCharsets.UTF_8)) {
      r = TaskclusterDemo.run(pipeline, policy, values, out);
    }
    String text = transcript.toString(StandardCharsets.UTF_8);
    assertTrue(r.complete(), text);

    // Every decision the live pipeline made is one an offline replay of pulse.raw makes.
    assertEquals(r.expectedDecisions(), r.decisions().size(), text);
    List<TriggerDecision> triggers =
        r.decisions().stream().filter(d -> d.getReason() == DecisionReason.TRIGGER_FAILURE).toList();
    assertTrue(triggers.size() >= 3, "the simulated day has intermittent failures and a broken test: " + text);

    // Each TRIGGER_FAILURE became exactly one hook trigger of the generic retrigger action, for its failed task.
    List<TaskclusterSimulator.Trigger> hooks = r.triggers();
    assertEquals(triggers.size(), hooks.size(), text);
    Set<String> retriggered = hooks.stream().map(t -> t.payload().path("user").path("taskId").asText())
        .collect(Collectors.toSet());
    assertEquals(hooks.size(), retriggered.size(), "no task was retriggered twice: " + text);
    Set<String> failedTasks =
        triggers.stream().map(d -> d.getRoutingKey().split("\\.", -1)[1]).collect(Collectors.toSet());
    assertEquals(failedTasks, retriggered);
    for (TaskclusterSimulator.Trigger t : hooks) {
      assertEquals("project-gecko", t.hookGroupId());
      assertEquals("retrigger", t.payload().path("decision").path("action").path("cb_name").asText());
      assertEquals(1, t.payload().path("user").path("input").path("times").asInt());
      assertEquals(1, t.cloneTaskIds().size());
    }

    // Each command's result is SUBMITTED with the action task the hook made.
    assertEquals(hooks.stream().map(TaskclusterSimulator.Trigger::actionTaskId).collect(Collectors.toSet()),
        r.results().stream().filter(x -> x.getOutcome() == TriggerOutcome.SUBMITTED)
            .map(TriggerResult::getJobRequestId).collect(Collectors.toSet()));
    assertEquals(hooks.size(), r.results().size());

    // Pushes whose failures were intermittent (clones pass) are INTERMITTENT_ONLY; the one with the broken test,
    // whose clones fail, is FAILING; the one without failures is GREEN.
    Map<String, Long> byState = r.verdicts().values().stream()
        .collect(Collectors.groupingBy(VerdictState::name, TreeMap::new, Collectors.counting()));
    assertEquals(Map.of("FAILING", 1L, "GREEN", 1L, "INTERMITTENT_ONLY", 2L), byState, text);
    String brokenPush = r.decisions().stream().filter(d -> d.getBuilder().contains(TaskclusterDemo.BROKEN))
        .map(d -> d.getBranch() + "/" + d.getRevision()).findFirst().orElseThrow();
    assertEquals(VerdictState.FAILING, r.verdicts().get(brokenPush));
  }
}
