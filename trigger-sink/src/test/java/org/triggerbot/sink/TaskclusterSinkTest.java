package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.sink.SinkHarness.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.Push;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.RecordedRequest;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.Trigger;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.sink.state.EntryState;

/**
 * The sink's Taskcluster retriggers (SPEC 6b) between a real Kafka broker and the Taskcluster simulator over HTTP:
 * the hook triggered once with the payload rendered from the push's real {@code actions.json}, duplicates, crashes
 * on either side of the trigger, the index fallback, refused credentials, 503s, the switches and the action
 * schema's maximum. Every test has its own simulator, push, task, client token, consumer group, transactional id
 * and journal; the commands of earlier tests on the shared topic name tasks this simulator does not know, so they
 * end NOT_FOUND without a trigger.
 */
class TaskclusterSinkTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HOOK_GROUP = "project-gecko";
  private static final String HOOK_ID = "in-tree-action-1-generic/bb2dee27f9";
  private static final String SCOPE = "hooks:trigger-hook:" + HOOK_GROUP + "/" + HOOK_ID;
  private static final String CLIENT = "project/triggerbot/sink";
  private static final String LABEL = "test-linux1804-64/opt-mochitest-browser-chrome-e10s-3";
  private static SinkHarness kafka;

  private TaskclusterSimulator sim;
  private String revision;
  private String token;
  private Push push;
  private String taskId;

  @BeforeAll
  static void startKafka() {
    kafka = SinkHarness.start();
  }

  @AfterAll
  static void stopKafka() throws InterruptedException {
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void startSimulator() {
    sim = TaskclusterSimulator.start("127.0.0.1", null);
    assertEquals(SCOPE, TaskclusterSimulator.triggerScope(HOOK_GROUP, HOOK_ID));
    token = "tc-token-" + UUID.randomUUID();
    sim.addClient(CLIENT, token, List.of(SCOPE));
    revision = (UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", "").substring(0, 40);
    push = sim.addPush("try", revision, "dev@example.com");
    taskId = sim.addTestTask(push, LABEL, "mochitest");
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    kafka.stopSinks();
    sim.close();
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  /** Taskcluster on, the simulator's root URL, this test's client and token; then {@code extra}. */
  private SinkConfig config(String... extra) {
    return kafka.config(revision.substring(0, 12), Map.of(SinkConfig.TASKCLUSTER_ENABLED, "true",
        SinkConfig.TASKCLUSTER_ROOT_URL, sim.rootUrl(), SinkConfig.TC_CLIENT_ID, CLIENT,
        SinkConfig.TC_ACCESS_TOKEN, token), extra);
  }

  private TriggerSink start(SinkConfig config) throws InterruptedException {
    return kafka.start(new TriggerSink(config));
  }

  /** A command to retrigger this test's task {@code count} times, as the processor emits it for a Taskcluster push. */
  private TriggerCommand command(int count) {
    return TriggerCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setBranch("try").setRevision(revision).setBuilder(LABEL).setCount(count)
        .setReason(DecisionReason.TRIGGER_FAILURE).setRequestedAt(Instant.now())
        .setTaskId(taskId).setTaskGroupId(push.taskGroupId())
        .build();
  }

  private TriggerCommand send(TriggerCommand c) throws Exception {
    kafka.send("try/" + revision + "/" + LABEL, c);
    return c;
  }

  /** Requests of this test's push (earlier tests' commands also ask this simulator for their unknown tasks). */
  private List<RecordedRequest> mine(String method, String pathPart) {
    return sim.requests().stream().filter(r -> r.method().equals(method) && r.path().contains(pathPart)).toList();
  }

  private long listings() {
    return mine("GET", "/api/queue/v1/task-group/" + push.taskGroupId() + "/list").size();
  }

  private long hookPosts() {
    return mine("POST", "/api/hooks/v1/hooks/").size();
  }

  /** Runs {@code body} with {@code System.err} (where slf4j-simple logs) captured; answers what was written. */
  private static String capturingStdErr(Body body) throws Exception {
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      body.run();
    } finally {
      System.setErr(originalErr);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  private interface Body {
    void run() throws Exception;
  }

  // --- triggering --------------------------------------------------------------------------------------------

  @Test
  void retriggersThroughTheHookOnceAndReportsTheActionTask() throws Exception {
    start(config());
    TriggerCommand c = send(command(1));
    TriggerResult r = kafka.awaitResult(c);

    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome(), r.getError());
    assertEquals(200, r.getBuildapiStatus());
    assertEquals(1, sim.triggerCount());
    Trigger t = sim.triggers().get(0);
    assertEquals(t.actionTaskId(), r.getJobRequestId(), "the action task the hook created");
    assertEquals(HOOK_GROUP, t.hookGroupId());
    assertEquals(HOOK_ID, t.hookId());
    assertEquals(CLIENT, t.clientId(), "Hawk-authenticated as the configured client");
    JsonNode user = t.payload().get("user");
    assertEquals(taskId, user.get("taskId").asText());
    assertEquals(push.taskGroupId(), user.get("taskGroupId").asText());
    assertEquals(JSON.readTree("{\"times\": 1, \"downstream\": false}"), user.get("input"));
    assertEquals("retrigger", t.payload().at("/decision/action/cb_name").asText(), "the generic retrigger action");
    assertEquals(revision, t.payload().at("/decision/push/revision").asText(), "the push's own actions.json");

    assertEquals(1, t.cloneTaskIds().size());
    String clone = t.cloneTaskIds().get(0);
    JsonNode cloned = sim.taskDefinition(clone).orElseThrow();
    assertEquals(LABEL, cloned.at("/tags/label").asText(), "a clone with the same label");
    assertEquals(push.taskGroupId(), cloned.get("taskGroupId").asText());
    assertTrue(sim.taskGroup(push.taskGroupId()).contains(clone));
    assertEquals(1, hookPosts());
    assertEquals(0, listings(), "nothing in doubt, nothing verified");
  }

  @Test
  void aCommandDeliveredTwiceIsTriggeredOnce() throws Exception {
    SinkConfig config = config();
    TriggerCommand c = command(1);
    send(c);
    send(c); // two copies before the sink starts: most likely accepted in one poll
    TriggerSink sink = start(config);
    assertEquals(TriggerOutcome.SUBMITTED, kafka.awaitResult(c).getOutcome());

    send(c); // and once more after its result: the sink knows it is done
    kafka.awaitIdle(sink, config);
    assertEquals(1, kafka.results(c).size(), "one result");
    assertEquals(1, sim.triggerCount(), "one trigger");
    assertEquals(1, hookPosts());
  }

  // --- crashes -----------------------------------------------------------------------------------------------

  /**
   * The window the journal cannot close (as for buildapi): POSTING committed, the sink died before the trigger
   * left. The restarted sink only lists the task group, finds no clone, and gives up saying the trigger may have
   * been sent: a retrigger lost, never a second one sent.
   */
  @Test
  void aCrashBetweenThePostingCommitAndTheTriggerGivesUpAndNeverTriggers() throws Exception {
    SinkConfig config = config(SinkConfig.RETRY_MAX + "=2");
    List<String> posting = new CopyOnWriteArrayList<>();
    TriggerSink crashing = kafka.start(new TriggerSink(config, SinkHarness.crashBeforePost(1, posting)));
    TriggerCommand c = send(command(1));
    await("the crash before the trigger", () -> posting.size() == 1);
    crashing.awaitStopped();
    assertEquals(List.of(c.getCommandId()), posting);
    assertEquals(EntryState.POSTING, kafka.journal(config).get(c.getCommandId()).getState(),
        "committed before the trigger");
    assertEquals(0, hookPosts());

    start(config);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.GAVE_UP, r.getOutcome(), r.getError());
    assertTrue(r.getError().contains("may have been sent") && r.getError().contains("not sent again")
        && r.getError().contains(LABEL), r.getError());
    assertEquals(0, sim.triggerCount(), "never triggered");
    assertEquals(0, hookPosts(), "no trigger request, ever");
    assertEquals(3, listings(), "the first listing and two more (sink.retry.max=2), none finding a clone");
    assertEquals(List.of(push.decisionTaskId(), taskId), sim.taskGroup(push.taskGroupId()), "no clone");
  }

  @Test
  void aCrashRightAfterTheTriggerIsConfirmedByTheTaskGroupListing() throws Exception {
    SinkConfig config = config();
    TriggerSink crashing = kafka.start(new TriggerSink(config, new TriggerSink.Hooks() {
      @Override
      public void afterPost(String commandId) {
        throw new IllegalStateException("simulated crash after the trigger, before the result is committed");
      }
    }));
    TriggerCommand c = send(command(1));
    await("the trigger", () -> sim.triggerCount() == 1);
    crashing.awaitStopped();
    assertTrue(kafka.results(c).isEmpty(), "the crash lost the result");
    assertEquals(EntryState.POSTING, kafka.journal(config).get(c.getCommandId()).getState());

    start(config);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome(), r.getError());
    assertTrue(r.getError().contains("confirmed by task-group listing"), r.getError());
    String clone = sim.triggers().get(0).cloneTaskIds().get(0);
    assertEquals(clone, r.getJobRequestId(), "the clone the listing found");
    assertEquals(1, sim.triggerCount(), "not triggered again");
    assertEquals(1, hookPosts());
    assertEquals(1, listings());
  }

  // --- actions.json ------------------------------------------------------------------------------------------

  /**
   * Without the decision task's actions.json the sink asks the index for the push's decision task. In the
   * simulator, as on a real push, that is the task group's own decision task, whose artifact is the one missing:
   * there is no action to trigger, so NOT_FOUND and no trigger (nothing to render a payload from).
   */
  @Test
  void withoutActionsJsonTheIndexIsAskedAndNothingIsTriggered() throws Exception {
    sim.removeActionsJson(push.taskGroupId());
    start(config());
    TriggerResult r = kafka.awaitResult(send(command(1)));

    assertEquals(TriggerOutcome.NOT_FOUND, r.getOutcome(), r.getError());
    assertEquals(404, r.getBuildapiStatus());
    assertTrue(r.getError().contains("actions.json") && r.getError().contains(revision), r.getError());
    String namespace = "gecko.v2.try.revision." + revision + ".taskgraph.decision";
    List<RecordedRequest> index = mine("GET", "/api/index/v1/task/" + namespace);
    assertEquals(1, index.size(), "the index fallback was asked");
    assertEquals(200, index.get(0).status(), "and named the decision task");
    assertEquals(0, sim.triggerCount());
    assertEquals(0, hookPosts());
  }

  @Test
  void aCountAboveTheActionsMaximumIsClampedAndSaysSo() throws Exception {
    start(config());
    TriggerResult r = kafka.awaitResult(send(command(9)));

    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome(), r.getError());
    assertEquals(1, sim.triggerCount());
    Trigger t = sim.triggers().get(0);
    assertEquals(6, t.payload().at("/user/input/times").asInt(), "the action schema's maximum");
    assertEquals(TaskclusterSimulator.MAX_TIMES, t.cloneTaskIds().size());
    assertTrue(r.getError() != null && r.getError().contains("9") && r.getError().contains("6")
        && r.getError().contains("schema"), String.valueOf(r.getError()));
  }

  // --- credentials -------------------------------------------------------------------------------------------

  @Test
  void aClientWithoutTheScopeIsRejectedNamingTheScope(@TempDir Path dir) throws Exception {
    sim.addClient(CLIENT, token, List.of("hooks:trigger-hook:project-gecko/in-tree-action-3-*"));
    Path tokenFile = dir.resolve("tc-access-token");
    Files.writeString(tokenFile, token + "\n", StandardCharsets.UTF_8);
    // The token from a file (the inline one empty): the 403 comes after Hawk authentication succeeded.
    SinkConfig config = config(SinkConfig.TC_ACCESS_TOKEN + "=", SinkConfig.TC_ACCESS_TOKEN_FILE + "=" + tokenFile);
    TriggerResult[] r = new TriggerResult[1];
    String log = capturingStdErr(() -> {
      start(config);
      r[0] = kafka.awaitResult(send(command(1)));
    });

    assertEquals(TriggerOutcome.REJECTED, r[0].getOutcome(), r[0].getError());
    assertEquals(403, r[0].getBuildapiStatus());
    assertTrue(r[0].getError().contains(SCOPE), r[0].getError());
    assertEquals(0, sim.triggerCount());
    assertEquals(List.of(403), mine("POST", "/api/hooks/v1/hooks/").stream().map(RecordedRequest::status).toList(),
        "authenticated, refused for the scope, and not tried again");
    assertTrue(log.contains("REJECTED"), "the outcome is logged:\n" + log);
    assertFalse(log.contains(token), "no access token in the log");
    assertFalse(r[0].getError().contains(token), "no access token in the result");
  }

  @Test
  void aWrongAccessTokenIsRejectedAndNeverShown() throws Exception {
    String wrong = "wrong-" + UUID.randomUUID();
    SinkConfig config = config(SinkConfig.TC_ACCESS_TOKEN + "=" + wrong);
    TriggerResult[] r = new TriggerResult[1];
    String log = capturingStdErr(() -> {
      start(config);
      r[0] = kafka.awaitResult(send(command(1)));
    });

    assertEquals(TriggerOutcome.REJECTED, r[0].getOutcome(), r[0].getError());
    assertEquals(401, r[0].getBuildapiStatus());
    assertEquals(0, sim.triggerCount());
    assertEquals(1, hookPosts(), "not tried again");
    assertTrue(log.contains("REJECTED"), "the outcome is logged:\n" + log);
    for (String secret : List.of(wrong, token)) {
      assertFalse(log.contains(secret), "no access token in the log");
      assertFalse(r[0].getError().contains(secret), "no access token in the result");
      assertFalse(config.toString().contains(secret), "no access token in the configuration's text");
    }
    assertTrue(config.toString().contains(SinkConfig.TC_ACCESS_TOKEN), config.toString());
  }

  // --- faults and switches -----------------------------------------------------------------------------------

  @Test
  void twoServiceUnavailablesAreBackedOffThenTriggered() throws Exception {
    SinkConfig config = config();
    TriggerSink sink = start(config);
    kafka.awaitIdle(sink, config); // earlier tests' commands must not take the injected failures
    sim.failNext(503, 2);
    TriggerResult r = kafka.awaitResult(send(command(1)));

    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome(), r.getError());
    assertEquals(1, sim.triggerCount());
    List<RecordedRequest> taskReads = mine("GET", "/api/queue/v1/task/" + taskId);
    assertEquals(List.of(503, 503, 200), taskReads.stream().map(RecordedRequest::status).toList());
    assertTrue(!taskReads.get(1).at().isBefore(taskReads.get(0).at().plusMillis(50))
        && !taskReads.get(2).at().isBefore(taskReads.get(1).at().plusMillis(100)),
        "backed off 50 ms, then 100 ms: " + taskReads);
    assertEquals(4, r.getAttempts(), "three task reads and the trigger");
  }

  @Test
  void taskclusterDisabledRejectsTaskclusterCommandsWithoutCallingIt() throws Exception {
    start(config(SinkConfig.TASKCLUSTER_ENABLED + "=false"));
    TriggerResult r = kafka.awaitResult(send(command(1)));

    assertEquals(TriggerOutcome.REJECTED, r.getOutcome());
    assertTrue(r.getError().contains("taskcluster.enabled=false") && r.getError().contains(taskId), r.getError());
    assertEquals(List.of(), sim.requests(), "no Taskcluster request at all");
  }

  @Test
  void dryRunCallsNoTaskcluster() throws Exception {
    start(config(SinkConfig.DRY_RUN + "=true"));
    TriggerResult r = kafka.awaitResult(send(command(1)));

    assertEquals(TriggerOutcome.DRY_RUN, r.getOutcome());
    assertEquals(List.of(), sim.requests(), "no Taskcluster request at all");
    assertEquals(0, sim.triggerCount());
  }
}
