package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.taskcluster.AmqpTarget;
import org.triggerbot.buildapisim.taskcluster.Outcome;
import org.triggerbot.buildapisim.taskcluster.Slugid;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.Push;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator.RecordedRequest;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * The bridge's Taskcluster input (SPEC 3b) between real brokers and the real Taskcluster simulator: an AMQP 0-9-1
 * broker (embedded Qpid, or this machine's RabbitMQ when {@code RABBITMQ_URL} is set) to which the simulator
 * publishes its task results, the simulator's queue over HTTP for the task definitions, and an in-process KRaft
 * Kafka broker. Brokers and simulator are shared by the class; each test binds its own projects (branches) with its
 * own queue and bridge, and looks only at the records of its projects.
 */
class TaskclusterBridgeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final String COMPLETED = "exchange/taskcluster-queue/v1/task-completed";
  private static final String FAILED = "exchange/taskcluster-queue/v1/task-failed";
  private static final String EXCEPTION = "exchange/taskcluster-queue/v1/task-exception";
  private static final String OWNER = "alice@example.com";
  private static final String LABEL = "test-linux1804-64/opt-mochitest-browser-chrome-3";

  private static AmqpBroker amqp;
  private static EmbeddedKafka kafka;
  private static TaskclusterSimulator sim;

  @BeforeAll
  static void start() {
    amqp = AmqpBroker.start();
    kafka = EmbeddedKafka.start();
    kafka.createTopic(Topics.PULSE_RAW.name(), 1, Map.of("retention.ms", "-1"));
    kafka.createTopic(Topics.PULSE_REJECTED.name(), 1, Map.of("retention.ms", "-1"));
    // Declares the queue's three exchanges, which the bridge binds passively.
    sim = TaskclusterSimulator.start("127.0.0.1",
        AmqpTarget.of(amqp.host(), amqp.port(), amqp.virtualHost(), amqp.username(), amqp.password()));
  }

  @AfterAll
  static void stop() {
    if (sim != null) {
      sim.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (amqp != null) {
      amqp.close();
    }
  }

  /** A test that failed half-way leaves no injected failure behind for the next. */
  @AfterEach
  void cancelFailures() {
    sim.failNext(500, 0);
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  /**
   * A bridge configuration with Taskcluster enabled against the simulator, bound to {@code branches}, consuming
   * queue {@code queue} (and, as every bridge must have one, a buildbot binding on an exchange of its own).
   */
  private static BridgeConfig config(String queue, String branches, Map<String, String> extra) {
    Map<String, String> values =
        TestBridgeConfig.boundTo(amqp, kafka.bootstrapServers(), "exchange/" + queue + "/", queue);
    values.put(BridgeConfig.TASKCLUSTER_ENABLED, "true");
    values.put(BridgeConfig.TASKCLUSTER_ROOT_URL, sim.rootUrl());
    values.put(BridgeConfig.BRANCHES, branches);
    values.put(BridgeConfig.TC_TASK_FETCH_BACKOFF, "PT0.05S");
    values.putAll(extra);
    return BridgeConfig.of(values);
  }

  /** A project (branch) name of this test alone: it is a routing-key word, so no dots. */
  private static String project(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String revision() {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      s.append(Character.forDigit(ThreadLocalRandom.current().nextInt(16), 16));
    }
    return s.toString();
  }

  private static String queueName(String queue) {
    return "queue/" + amqp.username() + "/" + queue;
  }

  /** The records of {@code pulse.raw} of the project's runs (their routing keys name the project). */
  private static List<ConsumerRecord<String, byte[]>> raw(String project) {
    return RawTopic.records(kafka, Topics.PULSE_RAW.name(), ".v2." + project + ".");
  }

  /** The records of {@code pulse.rejected} of the project's runs (keyed by routing key). */
  private static List<ConsumerRecord<String, byte[]>> rejected(String project) {
    return RawTopic.records(kafka, Topics.PULSE_REJECTED.name(), ".v2." + project + ".");
  }

  /** The one message the simulator published for {@code taskId}'s run {@code runId}. */
  private static TaskclusterSimulator.PulseMessage published(String taskId, int runId) {
    List<TaskclusterSimulator.PulseMessage> found = sim.pulseMessages().stream()
        .filter(m -> m.body().at("/status/taskId").asText().equals(taskId) && m.body().path("runId").asInt() == runId)
        .toList();
    assertEquals(1, found.size(), "one message of " + taskId + " run " + runId + ": " + found);
    assertTrue(found.get(0).confirmed(), "the broker confirmed it");
    return found.get(0);
  }

  /** The requests for {@code taskId}'s definition the simulator answered, in order. */
  private static List<RecordedRequest> definitionRequests(String taskId) {
    return sim.requests().stream()
        .filter(r -> r.method().equals("GET") && r.path().equals("/api/queue/v1/task/" + taskId)).toList();
  }

  private static List<Integer> statuses(List<RecordedRequest> requests) {
    return requests.stream().map(RecordedRequest::status).toList();
  }

  /** The record of {@code taskId} among {@code records}, by the message's {@code payload.status.taskId}. */
  private static ConsumerRecord<String, byte[]> recordOf(List<ConsumerRecord<String, byte[]>> records, String taskId,
      int runId) {
    List<ConsumerRecord<String, byte[]>> found = records.stream().filter(r -> {
      JsonNode payload = json(RawTopic.value(r).getBody()).path("payload");
      return payload.at("/status/taskId").asText().equals(taskId) && payload.path("runId").asInt() == runId;
    }).toList();
    assertEquals(1, found.size(), "one record of " + taskId + " run " + runId);
    return found.get(0);
  }

  private static JsonNode json(ByteBuffer body) {
    try {
      return PulseEnvelope.JSON.readTree(RawTopic.bytes(body));
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + new String(RawTopic.bytes(body), StandardCharsets.UTF_8), e);
    }
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, DEADLINE, condition::getAsBoolean);
  }

  /**
   * Checks that {@code record} is the enriched form (SPEC 3b) of the simulator's message {@code sent} with the
   * definition of its task, keyed by the push of {@code push}.
   */
  private static void assertEnriched(ConsumerRecord<String, byte[]> record, TaskclusterSimulator.PulseMessage sent,
      Push push) {
    PulseMessage m = RawTopic.value(record);
    assertEquals(push.project() + "/" + push.revision().substring(0, 12), record.key(),
        "keyed by push: <project>/<first 12 of the revision>");
    assertEquals(sent.exchange(), m.getExchange());
    assertEquals(sent.routingKey(), m.getRoutingKey());
    JsonNode body = json(m.getBody());
    assertEquals(Set.of("_meta", "payload", "task"), fieldNames(body));
    assertEquals(sent.body(), body.get("payload"), "the payload is the message as published");
    assertEquals(sent.exchange(), body.at("/_meta/exchange").asText());
    assertEquals(sent.routingKey(), body.at("/_meta/routing_key").asText());
    Long stamped = PulseEnvelope.read(RawTopic.bytes(m.getBody())).sent();
    int runId = sent.body().get("runId").asInt();
    assertEquals(java.time.Instant.parse(sent.body().at("/status/runs/" + runId + "/resolved").asText()).toEpochMilli(),
        stamped, "_meta.sent is the run's resolved time, the event time");
    assertEquals(stamped, record.timestamp(), "the record time is _meta.sent");

    String taskId = sent.body().at("/status/taskId").asText();
    JsonNode definition = sim.taskDefinition(taskId).orElseThrow();
    JsonNode task = body.get("task");
    assertEquals(Set.of("routes", "tags", "metadata", "taskGroupId", "created", "extra"), fieldNames(task));
    assertEquals(definition.get("routes"), task.get("routes"));
    assertEquals(definition.get("tags"), task.get("tags"));
    assertEquals(Set.of("name"), fieldNames(task.get("metadata")));
    assertEquals(definition.at("/metadata/name"), task.at("/metadata/name"));
    assertEquals(definition.get("taskGroupId"), task.get("taskGroupId"));
    assertEquals(push.taskGroupId(), task.get("taskGroupId").asText());
    assertEquals(definition.get("created"), task.get("created"));
    assertEquals(Set.of("treeherder"), fieldNames(task.get("extra")));
    assertEquals(definition.at("/extra/treeherder"), task.at("/extra/treeherder"));
    assertFalse(m.getRedelivered());
  }

  // --- tests -------------------------------------------------------------------------------------------------

  @Test
  void aFailedRunArrivesEnrichedWithItsDefinitionAndKeyedByItsPush() throws Exception {
    String project = project("tc-failed");
    Push push = sim.addPush(project, revision(), OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    try (PulseBridge bridge = new PulseBridge(config(project, project, Map.of())).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE), "the bridge consumes");
      sim.runTask(taskId, Outcome.FAILED);
      await("the run in pulse.raw, acknowledged", () -> raw(project).size() == 1 && bridge.acked.get() == 1);
    }
    TaskclusterSimulator.PulseMessage sent = published(taskId, 0);
    assertEquals(FAILED, sent.exchange());
    ConsumerRecord<String, byte[]> record = raw(project).get(0);
    assertEnriched(record, sent, push);
    assertEquals(FAILED, RawTopic.value(record).getExchange());
    assertEquals("failed", json(RawTopic.value(record).getBody()).at("/payload/status/runs/0/state").asText());
    assertEquals(List.of(200), statuses(definitionRequests(taskId)), "one request for the definition");
    assertTrue(rejected(project).isEmpty());
    assertEquals(0, amqp.readyMessages(queueName(project)));
  }

  @Test
  void completedAndExceptionRunsOfEveryBoundBranchArriveAndOtherProjectsAreNotBound() throws Exception {
    String first = project("tc-bound-a");
    String second = project("tc-bound-b");
    String unbound = project("tc-unbound");
    Push firstPush = sim.addPush(first, revision(), OWNER);
    Push secondPush = sim.addPush(second, revision(), OWNER);
    Push unboundPush = sim.addPush(unbound, revision(), OWNER);
    String passed = sim.addTestTask(firstPush, LABEL, "mochitest");
    String canceled = sim.addTestTask(secondPush, "test-windows11-64/debug-xpcshell-2", "xpcshell");
    String elsewhere = sim.addTestTask(unboundPush, LABEL, "mochitest");
    try (PulseBridge bridge = new PulseBridge(config(first, first + ", " + second, Map.of())).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      // Published (and confirmed: routed) first, so had it been bound it would be delivered before the others.
      sim.runTask(elsewhere, Outcome.FAILED);
      sim.runTask(passed, Outcome.COMPLETED);
      sim.runTask(canceled, Outcome.EXCEPTION_CANCELED);
      await("both bound runs in pulse.raw, acknowledged",
          () -> raw(first).size() == 1 && raw(second).size() == 1 && bridge.acked.get() == 2);
      assertEquals(2, bridge.delivered.get(), "the unbound project's run never reached the bridge's queue");
    }
    TaskclusterSimulator.PulseMessage completed = published(passed, 0);
    TaskclusterSimulator.PulseMessage exception = published(canceled, 0);
    assertEquals(COMPLETED, completed.exchange());
    assertEquals(EXCEPTION, exception.exchange());
    assertEquals(FAILED, published(elsewhere, 0).exchange());
    assertEnriched(raw(first).get(0), completed, firstPush);
    assertEnriched(raw(second).get(0), exception, secondPush);
    assertEquals("canceled",
        json(RawTopic.value(raw(second).get(0)).getBody()).at("/payload/status/runs/0/reasonResolved").asText());
    assertTrue(raw(unbound).isEmpty() && rejected(unbound).isEmpty(), "nothing of the unbound project");
    assertTrue(definitionRequests(elsewhere).isEmpty(), "no definition fetched for it");
    assertEquals(0, amqp.readyMessages(queueName(first)));
  }

  @Test
  void twoRunsOfOneTaskFetchItsDefinitionOnce() throws Exception {
    String project = project("tc-cache");
    Push push = sim.addPush(project, revision(), OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    try (PulseBridge bridge = new PulseBridge(config(project, project, Map.of())).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      sim.runTask(taskId, Outcome.FAILED);
      sim.runTask(taskId, Outcome.COMPLETED); // a rerun: run 1
      await("both runs in pulse.raw, acknowledged", () -> raw(project).size() == 2 && bridge.acked.get() == 2);
    }
    List<ConsumerRecord<String, byte[]>> records = raw(project);
    assertEnriched(recordOf(records, taskId, 0), published(taskId, 0), push);
    assertEnriched(recordOf(records, taskId, 1), published(taskId, 1), push);
    assertEquals(List.of(200), statuses(definitionRequests(taskId)), "the second run's definition came from the cache");
  }

  @Test
  void aQueueThatKeepsFailingRejectsTheMessageAsTaskUnavailableAndTheNextGoesThrough() throws Exception {
    String project = project("tc-unavailable");
    Push push = sim.addPush(project, revision(), OWNER);
    String unlucky = sim.addTestTask(push, LABEL, "mochitest");
    String next = sim.addTestTask(push, "test-linux1804-64/opt-mochitest-browser-chrome-4", "mochitest");
    BridgeConfig config = config(project, project, Map.of(BridgeConfig.TC_TASK_FETCH_MAX, "3"));
    try (PulseBridge bridge = new PulseBridge(config).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      sim.failNext(500, 3); // every attempt for the first message
      sim.runTask(unlucky, Outcome.FAILED);
      // The next result only once the first is rejected: its definition's prefetch would take one of the 500s.
      await("the first rejected", () -> rejected(project).size() == 1);
      sim.runTask(next, Outcome.FAILED);
      await("one rejected, one written, both acknowledged",
          () -> rejected(project).size() == 1 && raw(project).size() == 1 && bridge.acked.get() == 2);
      assertEquals(0, bridge.requeued.get());
      assertEquals(1, bridge.rejected.get());
      await("nothing left on the queue", () -> amqp.readyMessages(queueName(project)) == 0);
    }
    TaskclusterSimulator.PulseMessage sent = published(unlucky, 0);
    ConsumerRecord<String, byte[]> record = rejected(project).get(0);
    RejectedMessage r = Topics.REJECTED_MESSAGE.decode(record.value(), "test");
    assertEquals("TASK_UNAVAILABLE", r.getReason());
    assertNotNull(r.getError());
    assertTrue(r.getError().contains(unlucky), "the error names the task: " + r.getError());
    assertTrue(r.getError().contains("500"), "and says what the queue answered: " + r.getError());
    assertEquals("amqp:" + FAILED, r.getSourceTopic());
    assertEquals(sent.routingKey(), record.key());
    assertEquals(sent.body(), json(r.getOriginalBody()), "the original body, not an enriched one");
    assertEquals(List.of(500, 500, 500), statuses(definitionRequests(unlucky)), "tc.task.fetch.max attempts");

    assertEnriched(raw(project).get(0), published(next, 0), push);
    assertEquals(List.of(200), statuses(definitionRequests(next)));
  }

  @Test
  void aQueueThatRecoversWithinTheAttemptsStillGivesTheDefinition() throws Exception {
    String project = project("tc-retry");
    Push push = sim.addPush(project, revision(), OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    BridgeConfig config = config(project, project, Map.of(BridgeConfig.TC_TASK_FETCH_MAX, "6"));
    try (PulseBridge bridge = new PulseBridge(config).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      sim.failNext(503, 2);
      sim.runTask(taskId, Outcome.FAILED);
      await("the run in pulse.raw, acknowledged", () -> raw(project).size() == 1 && bridge.acked.get() == 1);
      assertEquals(0, bridge.rejected.get());
    }
    assertEnriched(raw(project).get(0), published(taskId, 0), push);
    assertEquals(List.of(503, 503, 200), statuses(definitionRequests(taskId)), "retried after each 503");
    assertTrue(rejected(project).isEmpty());
  }

  @Test
  void aMessageNamingNoKnownTaskIsRejectedAsTaskUnavailable() throws Exception {
    String project = project("tc-unknown");
    String routingKey = "route.tc-treeherder.v2." + project + "." + revision() + ".7";
    // A real-shaped message of a task the queue does not know (404, tried each time), then one whose taskId is not
    // a slug id at all (never requested: it could change the URL's path).
    String unknownTask = Slugid.nice();
    byte[] unknown = ("{\"status\":{\"taskId\":\"" + unknownTask + "\",\"runs\":[]},\"runId\":0,\"version\":1}")
        .getBytes(StandardCharsets.UTF_8);
    byte[] notAnId = "{\"status\":{\"taskId\":\"../../task-group/x\",\"runs\":[]},\"runId\":0,\"version\":1}"
        .getBytes(StandardCharsets.UTF_8);
    BridgeConfig config = config(project, project, Map.of(BridgeConfig.TC_TASK_FETCH_MAX, "2"));
    try (PulseBridge bridge = new PulseBridge(config).start();
         Connection c = amqp.connectionFactory().newConnection("test-publisher");
         Channel ch = c.createChannel()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      ch.confirmSelect();
      ch.basicPublish(FAILED, routingKey, new AMQP.BasicProperties(), unknown);
      ch.basicPublish(FAILED, routingKey, new AMQP.BasicProperties(), notAnId);
      ch.waitForConfirmsOrDie(10_000);
      await("both rejected and acknowledged", () -> rejected(project).size() == 2 && bridge.acked.get() == 2);
    }
    List<RejectedMessage> rejected = rejected(project).stream()
        .map(r -> Topics.REJECTED_MESSAGE.decode(r.value(), "test")).toList();
    assertEquals("TASK_UNAVAILABLE", rejected.get(0).getReason());
    assertTrue(rejected.get(0).getError().contains(unknownTask), rejected.get(0).getError());
    assertEquals(ByteBuffer.wrap(unknown), rejected.get(0).getOriginalBody());
    assertEquals(List.of(404, 404), statuses(definitionRequests(unknownTask)));
    assertEquals("TASK_UNAVAILABLE", rejected.get(1).getReason());
    assertTrue(rejected.get(1).getError().contains("not a Taskcluster task id"), rejected.get(1).getError());
    assertEquals(ByteBuffer.wrap(notAnId), rejected.get(1).getOriginalBody());
    assertTrue(sim.requests().stream().noneMatch(r -> r.rawPath().contains("task-group")), "never requested");
    assertTrue(raw(project).isEmpty());
  }

  @Test
  void withoutTaskclusterNoQueueExchangeIsBound() throws Exception {
    String project = project("tc-disabled");
    Push push = sim.addPush(project, revision(), OWNER);
    String taskId = sim.addTestTask(push, LABEL, "mochitest");
    String buildExchange = "exchange/" + project + "/";
    Map<String, String> values = TestBridgeConfig.boundTo(amqp, kafka.bootstrapServers(), buildExchange, project);
    values.put(BridgeConfig.BRANCHES, project);
    values.put(BridgeConfig.TASKCLUSTER_ROOT_URL, sim.rootUrl());
    try (PulseBridge bridge = new PulseBridge(BridgeConfig.of(values)).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE), "the queue is declared and bound");
    }
    // Nobody consumes the queue now: what is bound to it stays there. The run first, then a buildbot message that
    // is bound, as the control: once the control is counted, a bound run before it would be too.
    sim.runTask(taskId, Outcome.FAILED);
    published(taskId, 0);
    try (Connection c = amqp.connectionFactory().newConnection("test-publisher");
         Channel ch = c.createChannel()) {
      ch.confirmSelect();
      ch.basicPublish(buildExchange, "build." + project + "_test-x.1.finished", new AMQP.BasicProperties(),
          "{}".getBytes(StandardCharsets.UTF_8));
      ch.waitForConfirmsOrDie(10_000);
    }
    await("the control message on the queue", () -> amqp.readyMessages(queueName(project)) >= 1);
    assertEquals(1, amqp.readyMessages(queueName(project)), "the Taskcluster run was not routed to the queue");
    assertTrue(definitionRequests(taskId).isEmpty());
  }
}
