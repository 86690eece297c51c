package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.topology.TopologyHarness.policy;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.pulse.TaskclusterJson;

/**
 * SPEC 3b on the real topology: Taskcluster task results feed the same policy and verdicts as buildbot's, runs
 * are (taskId, runId), clones of a retriggered task are runs of the same builder, and a command names the task
 * to retrigger.
 */
class TaskclusterScenariosTest {

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

  private static List<String> decisions(List<TriggerDecision> ds) {
    return ds.stream().map(d -> d.getReason() + "/" + d.getResult() + "x" + d.getCount()).toList();
  }

  private static String describe(PushVerdict v) {
    return v.getState() + " " + v.getBuilders().stream().map(TaskclusterScenariosTest::describe)
        .collect(Collectors.joining(" "));
  }

  private static String describe(BuilderVerdict b) {
    return b.getBuilder() + "=" + b.getClassification() + b.getRuns().stream()
        .map(r -> r.getTaskId() + "/" + r.getBuildNumber() + ":" + r.getResult())
        .collect(Collectors.joining(",", "[", "]")) + "/" + b.getJobsIssued();
  }

  @Test
  void failureIsRetriggeredAndAPassingCloneMakesItIntermittent() {
    TopologyHarness h = run("taskcluster.enabled=true");
    TaskclusterJson a = TaskclusterJson.test("mochitest-1");
    TaskclusterJson clone = a.clone(1).atMinutes(30);
    // require.try.syntax is on by default: it does not apply to Taskcluster pushes
    h.pipe(a.failed(), clone.completed());

    List<TriggerDecision> ds = h.decisions();
    assertEquals(List.of("TRIGGER_FAILURE/2x1"), decisions(ds));
    TriggerCommand command = h.commands().get(0);
    assertEquals(a.taskId(), command.getTaskId());
    assertEquals(TaskclusterJson.GROUP, command.getTaskGroupId());
    assertEquals(a.label(), command.getBuilder());
    assertEquals("try", command.getBranch());
    assertEquals("task-failed." + a.taskId() + ".0", ds.get(0).getRoutingKey());
    assertEquals("dev@example.com", ds.get(0).getUser());
    List<String> runs = List.of(a.taskId() + "/0:2", clone.taskId() + "/0:0").stream().sorted().toList();
    assertEquals(List.of(
        "PENDING " + a.label() + "=PENDING[" + a.taskId() + "/0:2]/1",
        "INTERMITTENT_ONLY " + a.label() + "=INTERMITTENT[" + String.join(",", runs) + "]/1"),
        h.verdicts().stream().map(TaskclusterScenariosTest::describe).toList());
  }

  @Test
  void aDuplicatedMessageChangesNothing() {
    TopologyHarness h = run("taskcluster.enabled=true");
    TaskclusterJson a = TaskclusterJson.test("xpcshell-2");
    h.pipe(a.failed(), a.failed());
    assertEquals(List.of("TRIGGER_FAILURE/2x1"), decisions(h.decisions()));
    assertEquals(1, h.commands().size());
  }

  @Test
  void anAutomaticRetryIsAFinishedRunThatIsNoFailure() {
    TopologyHarness h = run("taskcluster.enabled=true");
    TaskclusterJson a = TaskclusterJson.test("reftest-3");
    h.pipe(a.nextRun("retry").exception("worker-shutdown"), TaskclusterJson.test("reftest-3").run(1).atMinutes(20)
        .failed());
    assertEquals(List.of("TRIGGER_FAILURE/2x1"), decisions(h.decisions()),
        "run 0 (retry, 5) is not decided on; run 1 fails and is retriggered");
    List<PushVerdict> vs = h.verdicts();
    PushVerdict last = vs.get(vs.size() - 1);
    // SPEC 4.1 counts the retried run as finished: two finished runs are not fewer than 1 + 1 job issued, so the
    // builder is UNCONFIRMED, not PENDING, although the clone is still to come (as with buildbot's RETRY, 5).
    assertEquals("UNKNOWN " + a.label() + "=UNCONFIRMED[" + a.taskId() + "/0:5," + a.taskId() + "/1:2]/1",
        describe(last));
  }

  @Test
  void cancelledAndExceptionRunsAreNotRetriggered() {
    TopologyHarness h = run("taskcluster.enabled=true");
    h.pipe(TaskclusterJson.test("a").exception("canceled"), TaskclusterJson.test("b").exception("deadline-exceeded"),
        TaskclusterJson.build("linux64").failed());
    assertEquals(List.of(), decisions(h.decisions()));
    List<PushVerdict> vs = h.verdicts();
    PushVerdict last = vs.get(vs.size() - 1);
    assertEquals("GREEN", last.getState().name(), describe(last));
    assertEquals(2, last.getBuilders().size(), "build tasks are not part of verdicts");
  }

  @Test
  void offByDefault() {
    TopologyHarness h = run();
    h.pipe(TaskclusterJson.test("a").failed());
    assertTrue(h.decisions().isEmpty());
    assertTrue(h.verdicts().isEmpty());
    assertTrue(h.rejected().isEmpty(), "dropped, not rejected");
  }
}
