package org.triggerbot.buildapisim.taskcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.PulseMessage;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.Push;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.RecordedRequest;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.Trigger;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedQpid;
import org.triggerbot.testsupport.Fixtures;

/**
 * The simulator over real HTTP ({@link HttpClient}) and a real AMQP broker ({@link AmqpBroker}: embedded Qpid, or
 * the RabbitMQ of {@code RABBITMQ_URL}): every endpoint's shape against the real samples, the hook with Hawk, the
 * faults, and the Pulse messages as a consumer bound like the bridge receives them.
 */
class TaskclusterSimulatorTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The brief's pattern of a nice slugid. */
  private static final Pattern SLUGID =
      Pattern.compile("^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$");
  private static final String REV = "219d38523a321229f7f48aca6592f76b993fb1aa";
  private static final String OWNER = "jmuizelaar@mozilla.com";
  private static final String LABEL = "test-linux64-qr/debug-mochitest-a11y-1proc";
  private static final String HOOK_GROUP = "project-gecko";
  private static final String HOOK_ID = "in-tree-action-1-generic/bb2dee27f9";
  private static final String CLIENT = "project/triggerbot/sink";
  private static final String TOKEN = "secret-access-token-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static AmqpBroker broker;
  private static Connection consumer;

  private TaskclusterSimulator sim;
  private final HttpClient http = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startBroker() {
    broker = AmqpBroker.start();
  }

  /** The test's own connection; made again after a test closed it from the broker's side. */
  private static Connection consumer() throws IOException, TimeoutException {
    if (consumer == null || !consumer.isOpen()) {
      ConnectionFactory factory = broker.connectionFactory();
      factory.setAutomaticRecoveryEnabled(false);
      consumer = factory.newConnection("taskcluster-simulator-test");
    }
    return consumer;
  }

  @AfterAll
  static void stopBroker() throws IOException {
    if (consumer != null && consumer.isOpen()) {
      consumer.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @BeforeEach
  void start() {
    sim = TaskclusterSimulator.start("127.0.0.1", target());
    sim.addClient(CLIENT, TOKEN, List.of(TaskclusterSimulator.triggerScope(HOOK_GROUP, HOOK_ID)));
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private static AmqpTarget target() {
    return AmqpTarget.of(broker.host(), broker.port(), broker.virtualHost(), broker.username(), broker.password());
  }

  // --- queue: tasks and statuses -----------------------------------------------------------

  @Test
  void rootUrlNamesTheLoopbackAndTheChosenPort() {
    assertEquals("http://127.0.0.1:" + sim.port(), sim.rootUrl());
  }

  @Test
  void aPushHasADecisionTaskWhoseIdIsItsTaskGroup() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);

    assertTrue(SLUGID.matcher(push.decisionTaskId()).matches(), push.decisionTaskId());
    assertEquals(push.decisionTaskId(), push.taskGroupId());
    JsonNode decision = getJson("/api/queue/v1/task/" + push.decisionTaskId(), 200);
    assertEquals(push.taskGroupId(), decision.get("taskGroupId").asText());
    assertEquals("decision-task", decision.at("/tags/kind").asText());
    assertEquals("Gecko Decision Task", decision.at("/metadata/name").asText());
    assertTrue(routes(decision).contains("tc-treeherder.v2.try." + REV + "." + push.pushlogId()));
    assertEquals("completed", getJson("/api/queue/v1/task/" + push.decisionTaskId() + "/status", 200)
        .at("/status/state").asText());
  }

  @Test
  void aTestTaskDefinitionHasTheFieldsOfARealOne() throws Exception {
    JsonNode samples = JSON.readTree(Fixtures.taskclusterSamples()
        .resolve("treeherder-taskcluster-task-definitions-2019.json").toFile());
    JsonNode real = samples.get("A35mWTRuQmyj88yMnIF0fA");
    Push push = sim.addPush("autoland", REV, OWNER);

    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    JsonNode task = getJson("/api/queue/v1/task/" + taskId, 200);

    assertTrue(SLUGID.matcher(taskId).matches(), taskId);
    assertEquals(fieldNames(real), fieldNames(task));
    assertEquals(fieldNames(real.get("tags")), fieldNames(task.get("tags")));
    assertEquals(fieldNames(real.get("metadata")), fieldNames(task.get("metadata")));
    for (String field : List.of("jobKind", "symbol", "tier", "machine", "collection")) {
      assertTrue(task.at("/extra/treeherder").has(field), field);
    }
    // The same label gives the same values as in the real definition.
    for (String pointer : List.of("/tags/kind", "/tags/label", "/tags/os", "/tags/retrigger", "/tags/test-type",
        "/tags/worker-implementation", "/tags/createdForUser", "/metadata/name", "/metadata/owner",
        "/extra/treeherder/jobKind", "/extra/treeherder/machine/platform", "/extra/treeherder/collection",
        "/extra/treeherder/tier", "/provisionerId", "/workerType", "/schedulerId", "/requires", "/retries",
        "/priority", "/metadata/source")) {
      assertEquals(real.at(pointer), task.at(pointer), pointer);
    }
    assertEquals(List.of("tc-treeherder.v2.autoland." + REV + "." + push.pushlogId()), routes(task));
    assertEquals(push.taskGroupId(), task.get("taskGroupId").asText());
    Instant created = Instant.parse(task.get("created").asText());
    assertTrue(Duration.between(created, Instant.now()).abs().compareTo(Duration.ofMinutes(1)) < 0);
    assertEquals(sim.taskDefinition(taskId).orElseThrow(), task);
  }

  @Test
  void anUnknownTaskIsResourceNotFound() throws Exception {
    HttpResponse<String> task = get("/api/queue/v1/task/" + Slugid.nice());
    HttpResponse<String> status = get("/api/queue/v1/task/" + Slugid.nice() + "/status");

    for (HttpResponse<String> response : List.of(task, status)) {
      assertEquals(404, response.statusCode());
      JsonNode body = JSON.readTree(response.body());
      assertEquals("ResourceNotFound", body.get("code").asText());
      assertTrue(body.get("message").asText().contains("does not correspond to a task"));
      assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
    }
    assertEquals(404, get("/api/queue/v1/no/such/thing").statusCode());
  }

  @Test
  void statusHasTheShapeOfTheRealOneAndFollowsTheRuns() throws Exception {
    JsonNode realStatus = realCompletedMessage().at("/payload/status");
    Push push = sim.addPush("try", REV, OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");

    JsonNode pending = getJson("/api/queue/v1/task/" + taskId + "/status", 200).get("status");
    assertEquals("pending", pending.get("state").asText());
    assertEquals(1, pending.get("runs").size());
    assertEquals("scheduled", pending.at("/runs/0/reasonCreated").asText());
    assertFalse(pending.at("/runs/0").has("started"));

    sim.runTask(taskId, Outcome.retryThen(Outcome.FAILED));
    JsonNode status = getJson("/api/queue/v1/task/" + taskId + "/status", 200).get("status");

    assertEquals(fieldNames(realStatus), fieldNames(status));
    assertEquals(fieldNames(realStatus.at("/runs/0")), fieldNames(status.at("/runs/1")));
    assertEquals(taskId, status.get("taskId").asText());
    assertEquals(push.taskGroupId(), status.get("taskGroupId").asText());
    assertEquals("failed", status.get("state").asText());
    assertEquals(4, status.get("retriesLeft").asInt());
    JsonNode first = status.at("/runs/0");
    assertEquals("exception", first.get("state").asText());
    assertEquals("worker-shutdown", first.get("reasonResolved").asText());
    JsonNode second = status.at("/runs/1");
    assertEquals(1, second.get("runId").asInt());
    assertEquals("retry", second.get("reasonCreated").asText());
    assertEquals("failed", second.get("reasonResolved").asText());
    Instant scheduled = Instant.parse(second.get("scheduled").asText());
    Instant started = Instant.parse(second.get("started").asText());
    Instant resolved = Instant.parse(second.get("resolved").asText());
    assertFalse(started.isBefore(scheduled));
    assertFalse(resolved.isBefore(started));

    // Running a resolved task again makes a new run, as rerunTask does.
    sim.runTask(taskId, Outcome.EXCEPTION_DEADLINE);
    JsonNode rerun = sim.taskStatus(taskId).orElseThrow().at("/runs/2");
    assertEquals("rerun", rerun.get("reasonCreated").asText());
    assertEquals("deadline-exceeded", rerun.get("reasonResolved").asText());
    assertFalse(rerun.has("workerId"), "a run that never started has no worker");
    assertThrows(IllegalArgumentException.class, () -> sim.runTask(Slugid.nice(), Outcome.COMPLETED));
  }

  // --- actions.json and the index ----------------------------------------------------------

  @Test
  void theActionsJsonRedirectNamesTheHostTheClientAsked() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    String path = "/api/queue/v1/task/" + push.taskGroupId() + "/artifacts/public/actions.json";

    // As a container reaches the simulator by its service name (the JDK client does not let a test set Host).
    assertEquals("http://taskcluster-sim:8011/artifacts-store/" + push.taskGroupId() + "/public/actions.json",
        rawLocation(path, "taskcluster-sim:8011"));
    assertEquals(sim.rootUrl() + "/artifacts-store/" + push.taskGroupId() + "/public/actions.json",
        rawLocation(path, "bad host\tname"), "an unusable Host header: the root URL");
  }

  /** The Location header of a raw HTTP/1.1 GET of {@code path} sent with {@code host} as its Host header. */
  private String rawLocation(String path, String host) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), sim.port())) {
      socket.setSoTimeout((int) WAIT.toMillis());
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(answer.startsWith("HTTP/1.1 303"), answer);
      for (String line : answer.split("\r\n", -1)) {
        if (line.regionMatches(true, 0, "Location:", 0, 9)) {
          return line.substring(9).trim();
        }
      }
      throw new AssertionError("no Location in " + answer);
    }
  }

  @Test
  void actionsJsonIsARedirectToTheRealSampleWithThePushPutIn() throws Exception {
    JsonNode sample = JSON.readTree(Fixtures.taskclusterSamples().resolve("scriptworker-try-actions-2018.json")
        .toFile());
    Push push = sim.addPush("autoland", REV, OWNER);

    HttpResponse<String> redirect = get("/api/queue/v1/task/" + push.taskGroupId()
        + "/artifacts/public/actions.json");

    assertEquals(303, redirect.statusCode());
    String location = redirect.headers().firstValue("Location").orElseThrow();
    assertTrue(location.startsWith(sim.rootUrl() + "/"), location);
    HttpResponse<String> stored = http.send(HttpRequest.newBuilder(URI.create(location)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, stored.statusCode());
    JsonNode file = JSON.readTree(stored.body());
    // A client that follows redirects gets the same file.
    HttpClient following = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();
    assertEquals(file, JSON.readTree(following.send(HttpRequest.newBuilder(
        URI.create(sim.rootUrl() + "/api/queue/v1/task/" + push.taskGroupId() + "/artifacts/public%2Factions.json"))
        .build(), HttpResponse.BodyHandlers.ofString()).body()));

    assertEquals(1, file.get("version").asInt());
    assertEquals(sample.get("actions").size(), file.get("actions").size());
    JsonNode generic = null;
    for (JsonNode action : file.get("actions")) {
      JsonNode decision = action.at("/hookPayload/decision");
      assertEquals(push.taskGroupId(), decision.at("/action/taskGroupId").asText(), action.get("name").asText());
      assertEquals(REV, decision.at("/push/revision").asText());
      assertEquals(Long.toString(push.pushlogId()), decision.at("/push/pushlog_id").asText());
      assertEquals(OWNER, decision.at("/push/owner").asText());
      assertEquals("autoland", decision.at("/repository/project").asText());
      assertEquals("https://hg.mozilla.org/integration/autoland", decision.at("/repository/url").asText());
      if (action.get("name").asText().equals("retrigger") && action.get("context").equals(JSON.readTree("[{}]"))) {
        generic = action;
      }
    }
    assertNotNull(generic, "the generic retrigger action");
    assertEquals("hook", generic.get("kind").asText());
    assertEquals(HOOK_GROUP, generic.get("hookGroupId").asText());
    assertEquals(HOOK_ID, generic.get("hookId").asText());
    assertEquals(6, generic.at("/schema/properties/times/maximum").asInt());
    assertEquals(JSON.readTree("{\"$eval\":\"taskId\"}"), generic.at("/hookPayload/user/taskId"));
    JsonNode parameters = file.at("/variables/parameters");
    assertEquals(REV, parameters.get("head_rev").asText());
    assertEquals("autoland", parameters.get("project").asText());
    assertEquals(Long.toString(push.pushlogId()), parameters.get("pushlog_id").asText());
    assertEquals(OWNER, parameters.get("owner").asText());
    // Everything else is the sample's.
    assertEquals(sample.at("/variables/parameters/app_version"), parameters.get("app_version"));
    assertEquals(sample.at("/actions/2/schema"), file.at("/actions/2/schema"));
  }

  @Test
  void theIndexFindsTheDecisionTaskEvenWhenActionsJsonIsGone() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    String namespace = "gecko.v2.try.revision." + REV + ".taskgraph.decision";

    sim.removeActionsJson(push.taskGroupId());

    HttpResponse<String> artifact = get("/api/queue/v1/task/" + push.taskGroupId()
        + "/artifacts/public/actions.json");
    assertEquals(404, artifact.statusCode());
    assertEquals("ResourceNotFound", JSON.readTree(artifact.body()).get("code").asText());
    assertEquals(404, get(TaskclusterSimulator.ARTIFACT_STORE + "/" + push.taskGroupId()
        + "/public/actions.json").statusCode());
    JsonNode found = getJson("/api/index/v1/task/" + namespace, 200);
    assertEquals(namespace, found.get("namespace").asText());
    assertEquals(push.decisionTaskId(), found.get("taskId").asText());
    assertTrue(found.get("rank").isIntegralNumber());
    assertTrue(found.get("data").isObject());
    Instant.parse(found.get("expires").asText());
    assertEquals("ResourceNotFound", getJson("/api/index/v1/task/gecko.v2.try.revision."
        + "0".repeat(40) + ".taskgraph.decision", 404).get("code").asText());
    // A test task has no actions.json.
    assertEquals(404, get("/api/queue/v1/task/" + sim.addTestTask(push, LABEL, "mochitest")
        + "/artifacts/public/actions.json").statusCode());
  }

  // --- task groups -------------------------------------------------------------------------

  @Test
  void aTaskGroupIsListedInPages() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    List<String> expected = new ArrayList<>(List.of(push.decisionTaskId()));
    for (int i = 0; i < 6; i++) {
      expected.add(sim.addTestTask(push, LABEL + "-" + i, "mochitest"));
    }
    sim.addTestTask(sim.addPush("try", "1".repeat(40), OWNER), LABEL, "mochitest"); // another group

    JsonNode all = getJson("/api/queue/v1/task-group/" + push.taskGroupId() + "/list", 200);
    assertEquals(push.taskGroupId(), all.get("taskGroupId").asText());
    assertEquals(expected, taskIds(all));
    assertFalse(all.has("continuationToken"));
    JsonNode entry = all.at("/tasks/1");
    assertEquals(sim.taskDefinition(expected.get(1)).orElseThrow(), entry.get("task"));
    assertEquals(expected.get(1), entry.at("/status/taskId").asText());

    List<String> paged = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    String token = null;
    do {
      JsonNode page = getJson("/api/queue/v1/task-group/" + push.taskGroupId() + "/list?limit=3"
          + (token == null ? "" : "&continuationToken=" + token), 200);
      paged.addAll(taskIds(page));
      sizes.add(page.get("tasks").size());
      token = page.has("continuationToken") ? page.get("continuationToken").asText() : null;
    } while (token != null);
    assertEquals(expected, paged);
    assertEquals(List.of(3, 3, 1), sizes);

    assertEquals("InputError", getJson("/api/queue/v1/task-group/" + push.taskGroupId()
        + "/list?continuationToken=garbage", 400).get("code").asText());
    assertEquals("InputError", getJson("/api/queue/v1/task-group/" + push.taskGroupId() + "/list?limit=0", 400)
        .get("code").asText());
    assertEquals("ResourceNotFound", getJson("/api/queue/v1/task-group/" + Slugid.nice() + "/list", 404)
        .get("code").asText());
  }

  // --- hooks -------------------------------------------------------------------------------

  @Test
  void aRetriggerWithHawkCreatesAnActionTaskAndClones() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    String failed = sim.addTestTask(push, LABEL, "mochitest");
    sim.runTask(failed, Outcome.FAILED);
    JsonNode payload = retriggerPayload(push, failed, 2);

    HttpResponse<String> response = trigger(payload, CLIENT, TOKEN, hookPath(HOOK_GROUP, HOOK_ID));

    assertEquals(200, response.statusCode(), response.body());
    JsonNode answer = JSON.readTree(response.body());
    String actionTaskId = answer.get("taskId").asText();
    assertTrue(SLUGID.matcher(actionTaskId).matches());
    assertEquals(actionTaskId, answer.at("/status/taskId").asText());
    assertEquals("pending", answer.at("/status/state").asText());
    assertEquals(push.taskGroupId(), answer.at("/status/taskGroupId").asText());

    assertEquals(1, sim.triggerCount());
    Trigger trigger = sim.triggers().get(0);
    assertEquals(HOOK_GROUP, trigger.hookGroupId());
    assertEquals(HOOK_ID, trigger.hookId());
    assertEquals(CLIENT, trigger.clientId());
    assertEquals(payload, trigger.payload());
    assertEquals(actionTaskId, trigger.actionTaskId());
    assertEquals(2, trigger.cloneTaskIds().size());

    JsonNode action = sim.taskDefinition(actionTaskId).orElseThrow();
    assertEquals("action-callback", action.at("/tags/kind").asText());
    assertEquals("Action: Retrigger", action.at("/metadata/name").asText());
    assertEquals(push.taskGroupId(), action.get("taskGroupId").asText());
    JsonNode original = sim.taskDefinition(failed).orElseThrow();
    List<String> group = sim.taskGroup(push.taskGroupId());
    for (String cloneId : trigger.cloneTaskIds()) {
      assertTrue(SLUGID.matcher(cloneId).matches());
      assertNotEquals(failed, cloneId);
      assertTrue(group.contains(cloneId));
      JsonNode clone = getJson("/api/queue/v1/task/" + cloneId, 200);
      assertEquals(LABEL, clone.at("/metadata/name").asText());
      assertEquals(LABEL, clone.at("/tags/label").asText());
      assertEquals("retrigger-task", clone.at("/tags/action").asText());
      assertEquals(push.taskGroupId(), clone.get("taskGroupId").asText());
      assertEquals(original.get("routes"), clone.get("routes"));
      assertEquals(original.get("extra"), clone.get("extra"));
      assertFalse(Instant.parse(clone.get("created").asText())
          .isBefore(Instant.parse(original.get("created").asText())));
    }
    // The sink's in-doubt check: the listing shows the clones after the command.
    JsonNode listed = getJson("/api/queue/v1/task-group/" + push.taskGroupId() + "/list", 200);
    long sameLabel = 0;
    for (JsonNode entry : listed.get("tasks")) {
      if (entry.at("/task/metadata/name").asText().equals(LABEL)) {
        sameLabel++;
      }
    }
    assertEquals(3, sameLabel);
    RecordedRequest post = sim.requests().stream().filter(r -> r.method().equals("POST")).findFirst().orElseThrow();
    assertEquals(200, post.status());
    assertEquals(CLIENT, post.clientId());
    assertEquals("/api/hooks/v1/hooks/" + HOOK_GROUP + "/" + HOOK_ID + "/trigger", post.path());
    assertTrue(post.rawPath().contains("in-tree-action-1-generic%2Fbb2dee27f9"), post.rawPath());
    assertFalse(post.toString().contains(TOKEN));
    assertFalse(post.toString().contains("Hawk"));
  }

  @Test
  void aBadKeyOrNoHeaderIsAuthenticationFailed() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    JsonNode payload = retriggerPayload(push, sim.addTestTask(push, LABEL, "mochitest"), 1);
    String path = hookPath(HOOK_GROUP, HOOK_ID);

    HttpResponse<String> badKey = trigger(payload, CLIENT, "not-the-token", path);
    HttpResponse<String> unknownClient = trigger(payload, "someone/else", TOKEN, path);
    HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create(sim.rootUrl() + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(payload.toString())).build(), HttpResponse.BodyHandlers.ofString());

    for (HttpResponse<String> response : List.of(badKey, unknownClient, none)) {
      assertEquals(401, response.statusCode());
      assertEquals("AuthenticationFailed", JSON.readTree(response.body()).get("code").asText());
      assertFalse(response.body().contains(TOKEN));
    }
    assertEquals(0, sim.triggerCount());
    assertEquals(2, sim.taskGroup(push.taskGroupId()).size());
    assertTrue(sim.requests().stream().allMatch(r -> r.clientId() == null));
  }

  @Test
  void aClientWithoutTheScopeIsInsufficientScopes() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    JsonNode payload = retriggerPayload(push, sim.addTestTask(push, LABEL, "mochitest"), 1);
    sim.addClient("project/other", "other-token", List.of("hooks:trigger-hook:project-gecko/in-tree-action-3-*",
        "queue:route:*"));
    sim.addClient("project/wild", "wild-token", List.of("hooks:trigger-hook:project-gecko/*"));

    HttpResponse<String> refused = trigger(payload, "project/other", "other-token", hookPath(HOOK_GROUP, HOOK_ID));

    assertEquals(403, refused.statusCode());
    JsonNode body = JSON.readTree(refused.body());
    assertEquals("InsufficientScopes", body.get("code").asText());
    assertTrue(body.get("message").asText().contains("hooks:trigger-hook:" + HOOK_GROUP + "/" + HOOK_ID),
        body.get("message").asText());
    assertEquals(0, sim.triggerCount());
    // A scope ending in * covers what it prefixes.
    assertEquals(200, trigger(payload, "project/wild", "wild-token", hookPath(HOOK_GROUP, HOOK_ID)).statusCode());
  }

  @Test
  void injectedFailuresAnswerFirstAndThenStop() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    JsonNode payload = retriggerPayload(push, sim.addTestTask(push, LABEL, "mochitest"), 1);
    String path = hookPath(HOOK_GROUP, HOOK_ID);

    sim.failNext(503, 2);
    HttpResponse<String> first = trigger(payload, CLIENT, TOKEN, path);
    HttpResponse<String> second = get("/api/queue/v1/task/" + push.decisionTaskId());
    HttpResponse<String> third = trigger(payload, CLIENT, TOKEN, path);

    assertEquals(503, first.statusCode());
    assertEquals(503, second.statusCode());
    assertTrue(JSON.readTree(first.body()).has("code"));
    assertEquals(200, third.statusCode());
    assertEquals(1, sim.triggerCount());
    for (int status : new int[] {401, 403, 500}) {
      sim.failNext(status, 1);
      assertEquals(status, trigger(payload, CLIENT, TOKEN, path).statusCode());
    }
    assertEquals(1, sim.triggerCount());
    assertThrows(IllegalArgumentException.class, () -> sim.failNext(200, 1));
  }

  @Test
  void latencyDelaysEveryAnswer() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    sim.setLatency(Duration.ofMillis(300));
    long begin = System.nanoTime();

    assertEquals(200, get("/api/queue/v1/task/" + push.decisionTaskId()).statusCode());

    assertTrue(System.nanoTime() - begin >= Duration.ofMillis(300).toNanos());
    sim.setLatency(Duration.ZERO);
  }

  @Test
  void aPayloadThatDoesNotFitIsInputError() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    Push other = sim.addPush("try", "2".repeat(40), OWNER);
    String path = hookPath(HOOK_GROUP, HOOK_ID);
    List<JsonNode> bad = new ArrayList<>();
    bad.add(retriggerPayload(push, taskId, 0));
    bad.add(retriggerPayload(push, taskId, 7));
    bad.add(retriggerPayload(push, Slugid.nice(), 1));
    ObjectNode noUser = (ObjectNode) retriggerPayload(push, taskId, 1);
    noUser.remove("user");
    bad.add(noUser);
    bad.add(retriggerPayload(other, taskId, 1)); // another push's actions.json: wrong task group
    ObjectNode rerun = (ObjectNode) retriggerPayload(push, taskId, 1);
    ((ObjectNode) rerun.at("/decision/action")).put("cb_name", "rerun");
    bad.add(rerun);
    bad.add(JSON.readTree("[1]"));

    for (JsonNode payload : bad) {
      HttpResponse<String> response = trigger(payload, CLIENT, TOKEN, path);
      assertEquals(400, response.statusCode(), payload.toString());
      assertEquals("InputError", JSON.readTree(response.body()).get("code").asText());
    }
    assertEquals(0, sim.triggerCount());
    // An unknown hook, and a hook id sent unencoded (two segments), name nothing.
    JsonNode good = retriggerPayload(push, taskId, 1);
    sim.addClient("admin", "admin-token", List.of("*"));
    assertEquals(404, trigger(good, "admin", "admin-token",
        hookPath(HOOK_GROUP, "in-tree-action-1-generic/ffffffffff")).statusCode());
    // The scope is checked before the hook is looked up, as Taskcluster does.
    assertEquals(403, trigger(good, CLIENT, TOKEN, hookPath(HOOK_GROUP, "in-tree-action-1-generic/ffffffffff"))
        .statusCode());
    assertEquals(404, trigger(good, "admin", "admin-token",
        "/api/hooks/v1/hooks/" + HOOK_GROUP + "/" + HOOK_ID + "/trigger").statusCode());
    assertEquals(0, sim.triggerCount());
  }

  // --- Pulse -------------------------------------------------------------------------------

  @Test
  void aFailedRunReachesAQueueBoundToTheBranchRoute() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    try (Channel channel = consumer().createChannel()) {
      String queue = bind(channel, PulsePublisher.TASK_FAILED, "route.tc-treeherder.v2.try.#");

      sim.runTask(taskId, Outcome.FAILED);

      List<GetResponse> got = SimulatorCalls.receive(channel, queue, 1, WAIT);
      GetResponse message = got.get(0);
      AMQP.BasicProperties properties = message.getProps();
      assertEquals("application/json", properties.getContentType());
      assertEquals(2, properties.getDeliveryMode());
      String route = "route.tc-treeherder.v2.try." + REV + "." + push.pushlogId();
      assertEquals(route, message.getEnvelope().getRoutingKey());
      assertEquals(PulsePublisher.TASK_FAILED, message.getEnvelope().getExchange());
      List<String> cc = ccHeader(properties);
      JsonNode body = JSON.readTree(new String(message.getBody(), StandardCharsets.UTF_8));
      JsonNode status = body.get("status");
      String primary = "primary." + taskId + ".0." + body.get("workerGroup").asText() + "."
          + body.get("workerId").asText() + "." + status.get("provisionerId").asText() + "."
          + status.get("workerType").asText() + "." + status.get("schedulerId").asText() + "."
          + push.taskGroupId() + "._";
      assertEquals(List.of(primary), cc);

      JsonNode real = realCompletedMessage().get("payload");
      Set<String> expectedFields = new HashSet<>(fieldNames(real));
      expectedFields.add("task"); // newer messages carry the task's tags
      assertEquals(expectedFields, new HashSet<>(fieldNames(body)));
      assertEquals(fieldNames(real.get("status")), fieldNames(status));
      assertEquals(taskId, status.get("taskId").asText());
      assertEquals(push.taskGroupId(), status.get("taskGroupId").asText());
      assertEquals("failed", status.get("state").asText());
      assertEquals(0, body.get("runId").asInt());
      assertEquals(1, body.get("version").asInt());
      assertEquals("failed", status.at("/runs/0/reasonResolved").asText());
      assertEquals(body.get("workerId"), status.at("/runs/0/workerId"));
      assertEquals(sim.taskDefinition(taskId).orElseThrow().get("tags"), body.at("/task/tags"));

      PulseMessage recorded = sim.pulseMessages().get(0);
      assertTrue(recorded.confirmed());
      assertEquals(primary, recorded.primaryKey());
      assertEquals(body, recorded.body());
      assertEquals(0, sim.publishErrors());
    }
  }

  @Test
  void clonesRunAfterTheLagWithTheRulesOutcome() throws Exception {
    Duration lag = Duration.ofMillis(1500);
    sim.setCloneLag(lag);
    sim.setCloneRule((label, cloneIndex) -> cloneIndex == 0 ? Outcome.FAILED : Outcome.COMPLETED);
    Push push = sim.addPush("try", REV, OWNER);
    String failed = sim.addTestTask(push, LABEL, "mochitest");
    try (Channel channel = consumer().createChannel()) {
      String queue = bind(channel, PulsePublisher.TASK_FAILED, "route.tc-treeherder.v2.try.#");
      channel.queueBind(queue, PulsePublisher.TASK_COMPLETED, "route.tc-treeherder.v2.try.#");
      sim.runTask(failed, Outcome.FAILED);
      SimulatorCalls.receive(channel, queue, 1, WAIT);

      HttpResponse<String> response = trigger(retriggerPayload(push, failed, 3), CLIENT, TOKEN,
          hookPath(HOOK_GROUP, HOOK_ID));
      assertEquals(200, response.statusCode());
      Trigger trigger = sim.triggers().get(0);
      String actionTaskId = trigger.actionTaskId();
      List<String> clones = trigger.cloneTaskIds();
      for (String clone : clones) {
        assertEquals("pending", sim.taskStatus(clone).orElseThrow().get("state").asText(), "before the lag");
      }

      // The action task's completion and the three clones' results.
      List<GetResponse> got = SimulatorCalls.receive(channel, queue, 4, WAIT);

      List<String> order = new ArrayList<>();
      for (GetResponse message : got) {
        JsonNode body = JSON.readTree(new String(message.getBody(), StandardCharsets.UTF_8));
        String taskId = body.at("/status/taskId").asText();
        order.add(taskId);
        if (taskId.equals(actionTaskId)) {
          assertEquals(PulsePublisher.TASK_COMPLETED, message.getEnvelope().getExchange());
          assertEquals("action-callback", body.at("/task/tags/kind").asText());
          continue;
        }
        int index = clones.indexOf(taskId);
        assertTrue(index >= 0, taskId);
        assertEquals(index == 0 ? PulsePublisher.TASK_FAILED : PulsePublisher.TASK_COMPLETED,
            message.getEnvelope().getExchange());
        assertEquals(LABEL, body.at("/task/tags/label").asText());
        assertEquals("retrigger-task", body.at("/task/tags/action").asText());
        JsonNode definition = sim.taskDefinition(taskId).orElseThrow();
        Instant created = Instant.parse(definition.get("created").asText());
        Instant resolved = Instant.parse(body.at("/status/runs/0/resolved").asText());
        assertTrue(Duration.between(created, resolved).compareTo(lag.minusMillis(1)) >= 0,
            created + " -> " + resolved);
      }
      assertEquals(actionTaskId, order.get(0));
      assertEquals(Set.copyOf(clones), Set.copyOf(order.subList(1, 4)));
    }
  }

  /**
   * Whether the broker routes on the {@code CC} header (RabbitMQ's sender-selected distribution): RabbitMQ does,
   * Qpid Broker-J does not, which is why the simulator publishes with a treeherder route as the routing key.
   */
  @Test
  void ccHeaderRoutingIsRabbitMqOnly() throws Exception {
    String exchange = "triggerbot.cc-probe";
    try (Channel channel = consumer().createChannel()) {
      channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, false, true, null);
      String queue = bind(channel, exchange, "probe.#");
      channel.confirmSelect();
      AMQP.BasicProperties cc = new AMQP.BasicProperties.Builder()
          .headers(Map.of("CC", List.of("probe.by-cc"))).build();
      channel.basicPublish(exchange, "elsewhere", cc, "cc".getBytes(StandardCharsets.UTF_8));
      channel.basicPublish(exchange, "probe.marker", null, "marker".getBytes(StandardCharsets.UTF_8));
      channel.waitForConfirmsOrDie(10_000);

      // Same channel, same queue: the marker arrives after the CC'd message, if that was routed at all.
      List<String> bodies = new ArrayList<>();
      Await.until("the marker message", WAIT, () -> {
        GetResponse got = channel.basicGet(queue, true);
        if (got != null) {
          bodies.add(new String(got.getBody(), StandardCharsets.UTF_8));
        }
        return bodies.contains("marker");
      });
      boolean qpid = broker.name().contains("Qpid");
      assertEquals(qpid ? List.of("marker") : List.of("cc", "marker"), bodies, broker.name());
    }
  }

  @Test
  void thePrimaryFormRoutesOnThePrimaryKeyEverywhereAndOnRoutesOnRabbitMqOnly() throws Exception {
    sim.close();
    sim = TaskclusterSimulator.start("127.0.0.1", target().withRoutingKeys(AmqpTarget.RoutingKeys.PRIMARY));
    Push push = sim.addPush("try", REV, OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    try (Channel channel = consumer().createChannel()) {
      String byPrimary = bind(channel, PulsePublisher.TASK_COMPLETED, "primary." + taskId + ".#");
      String byRoute = bind(channel, PulsePublisher.TASK_COMPLETED, "route.tc-treeherder.v2.try.#");

      sim.runTask(taskId, Outcome.COMPLETED);

      GetResponse message = SimulatorCalls.receive(channel, byPrimary, 1, WAIT).get(0);
      assertEquals(sim.pulseMessages().get(0).primaryKey(), message.getEnvelope().getRoutingKey());
      assertEquals(List.of("route.tc-treeherder.v2.try." + REV + "." + push.pushlogId()),
          ccHeader(message.getProps()));
      // The route binding got it (RabbitMQ) or not (Qpid): a marker sent after it shows which.
      channel.basicPublish(PulsePublisher.TASK_COMPLETED, "route.tc-treeherder.v2.try.marker", null,
          "{}".getBytes(StandardCharsets.UTF_8));
      List<GetResponse> got = new ArrayList<>();
      Await.until("the marker message", WAIT, () -> {
        GetResponse next = channel.basicGet(byRoute, true);
        if (next != null) {
          got.add(next);
        }
        return !got.isEmpty() && got.get(got.size() - 1).getEnvelope().getRoutingKey().endsWith(".marker");
      });
      assertEquals(broker.name().contains("Qpid") ? 1 : 2, got.size(), broker.name());
    }
  }

  @Test
  void withoutABrokerMessagesAreOnlyListed() {
    try (TaskclusterSimulator offline = TaskclusterSimulator.start("127.0.0.1", null)) {
      Push push = offline.addPush("try", REV, OWNER);
      String taskId = offline.addTestTask(push, LABEL, "mochitest");

      offline.runTask(taskId, Outcome.EXCEPTION_CANCELED);

      PulseMessage message = offline.pulseMessages().get(0);
      assertFalse(message.confirmed());
      assertEquals(PulsePublisher.TASK_EXCEPTION, message.exchange());
      assertEquals("canceled", message.body().at("/status/runs/0/reasonResolved").asText());
      assertEquals("route.tc-treeherder.v2.try." + REV + "." + push.pushlogId(), message.routingKey());
      assertEquals(0, offline.publishErrors());
    }
  }

  @Test
  void aConnectionTheBrokerClosedIsMadeAgain() throws Exception {
    Push push = sim.addPush("try", REV, OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");

    broker.closeClientConnections();
    sim.runTask(taskId, Outcome.COMPLETED);

    assertTrue(sim.pulseMessages().get(0).confirmed());
    assertEquals(0, sim.publishErrors());
  }

  @Test
  void aMessageForABrokerThatIsGoneIsCountedNotLostSilently() {
    // A broker of its own, whatever broker the class runs on: this test stops it.
    try (EmbeddedQpid qpid = EmbeddedQpid.start();
         TaskclusterSimulator own = TaskclusterSimulator.start("127.0.0.1",
             AmqpTarget.of(qpid.host(), qpid.port(), qpid.virtualHost(), qpid.username(), qpid.password()))) {
      Push push = own.addPush("try", REV, OWNER);
      String taskId = own.addTestTask(push, LABEL, "mochitest");

      qpid.stop();
      try {
        own.runTask(taskId, Outcome.FAILED);
      } finally {
        qpid.restart();
      }

      assertFalse(own.pulseMessages().get(0).confirmed());
      assertEquals(1, own.publishErrors());
      // Back again: the next message goes out (the exchanges are durable, so they survived the restart).
      own.runTask(taskId, Outcome.COMPLETED);
      assertTrue(own.pulseMessages().get(1).confirmed());
      assertEquals(1, own.publishErrors());
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(sim.rootUrl() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode getJson(String path, int expectedStatus) throws IOException, InterruptedException {
    HttpResponse<String> response = get(path);
    assertEquals(expectedStatus, response.statusCode(), path + ": " + response.body());
    return JSON.readTree(response.body());
  }

  private static String hookPath(String hookGroupId, String hookId) {
    return "/api/hooks/v1/hooks/" + hookGroupId + "/" + hookId.replace("/", "%2F") + "/trigger";
  }

  private HttpResponse<String> trigger(JsonNode payload, String clientId, String accessToken, String path)
      throws IOException, InterruptedException {
    return SimulatorCalls.trigger(http, URI.create(sim.rootUrl() + path), payload, clientId, accessToken);
  }

  /**
   * What the sink sends (SPEC §6b): the push's generic retrigger action from its actions.json, its {@code $eval}s
   * rendered.
   */
  private JsonNode retriggerPayload(Push push, String taskId, int times) throws IOException {
    JsonNode file = sim.actionsJson(push.taskGroupId()).orElseThrow();
    JsonNode generic = null;
    for (JsonNode action : file.get("actions")) {
      if (action.get("name").asText().equals("retrigger") && action.get("context").equals(JSON.readTree("[{}]"))) {
        generic = action;
      }
    }
    assertNotNull(generic);
    ObjectNode context = JSON.createObjectNode();
    context.put("taskGroupId", push.taskGroupId());
    context.put("taskId", taskId);
    context.set("input", JSON.readTree("{\"times\": " + times + ", \"downstream\": false}"));
    context.set("parameters", file.at("/variables/parameters"));
    return render(generic.get("hookPayload"), context);
  }

  private static JsonNode render(JsonNode template, JsonNode context) {
    if (template.isObject()) {
      if (template.size() == 1 && template.has("$eval")) {
        JsonNode value = context.get(template.get("$eval").asText());
        assertNotNull(value, template.toString());
        return value.deepCopy();
      }
      ObjectNode out = JSON.createObjectNode();
      for (Map.Entry<String, JsonNode> field : template.properties()) {
        out.set(field.getKey(), render(field.getValue(), context));
      }
      return out;
    }
    return template.deepCopy();
  }

  /** Declares a server-named exclusive queue bound to {@code exchange} with {@code pattern}. */
  private static String bind(Channel channel, String exchange, String pattern) throws IOException {
    String queue = channel.queueDeclare("", false, true, true, null).getQueue();
    channel.queueBind(queue, exchange, pattern);
    return queue;
  }

  private static List<String> ccHeader(AMQP.BasicProperties properties) {
    Map<String, Object> headers = properties.getHeaders();
    assertNotNull(headers);
    List<String> cc = new ArrayList<>();
    for (Object key : (List<?>) headers.get("CC")) {
      cc.add(key.toString());
    }
    return cc;
  }

  private static JsonNode realCompletedMessage() throws IOException {
    JsonNode messages = JSON.readTree(Fixtures.taskclusterSamples()
        .resolve("treeherder-taskcluster-pulse-messages-2019.json").toFile());
    for (JsonNode message : messages) {
      if (message.get("exchange").asText().endsWith("/task-completed")) {
        return message;
      }
    }
    throw new AssertionError("no task-completed sample");
  }

  private static List<String> taskIds(JsonNode page) {
    List<String> ids = new ArrayList<>();
    for (JsonNode entry : page.get("tasks")) {
      ids.add(entry.at("/status/taskId").asText());
    }
    return ids;
  }

  private static List<String> routes(JsonNode task) {
    List<String> routes = new ArrayList<>();
    task.get("routes").forEach(r -> routes.add(r.asText()));
    return routes;
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void slugidsAreNice() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      String id = Slugid.nice();
      assertTrue(SLUGID.matcher(id).matches(), id);
      assertTrue(Slugid.NICE.matcher(id).matches(), id);
      assertTrue(seen.add(id));
    }
  }
}
