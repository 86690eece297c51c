package org.triggerbot.processor.pulse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.common.TaskclusterRecord;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.testsupport.Fixtures;

/**
 * SPEC 3b: reading Taskcluster task results enriched with their definitions, on every real sample of the 2019
 * autoland capture (fixtures/taskcluster-samples, MPL-2.0) and on runs made from them for what the capture lacks
 * (failed and exception runs).
 */
class TaskclusterParserTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant RECEIVED = Instant.parse("2019-06-26T20:00:00Z");
  /** Read from the definitions with a pattern of its own, not with the parser's route reader. */
  private static final Pattern ROUTE = Pattern.compile("^tc-treeherder\\.v2\\.([^.]+)\\.([0-9a-f]{40})(\\.\\d+)?$");

  private static JsonNode messages;
  private static JsonNode definitions;

  /** The capture spans pushes of three projects, not only the autoland push it was taken for. */
  private final PulseParser parser = new PulseParser(Set.of("autoland", "mozilla-inbound", "try"), 1_048_576, true);

  @BeforeAll
  static void load() throws IOException {
    Path dir = Fixtures.taskclusterSamples();
    messages = JSON.readTree(dir.resolve("treeherder-taskcluster-pulse-messages-2019.json").toFile());
    definitions = JSON.readTree(dir.resolve("treeherder-taskcluster-task-definitions-2019.json").toFile());
  }

  /** The bridge's record of a sample: the message joined with its task's definition. */
  static byte[] enriched(String exchange, JsonNode message, JsonNode definition) {
    try {
      return JSON.writeValueAsBytes(
          TaskclusterRecord.enriched(exchange, "primary.x", message, definition, RECEIVED));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static ParseOutcome.Accepted accepted(ParseOutcome o) {
    return assertInstanceOf(ParseOutcome.Accepted.class, o, () -> "not accepted: " + o);
  }

  @Test
  void everyRealSampleParsesAndJoinsItsDefinition() {
    int completed = 0;
    int outOfScope = 0;
    Map<String, Integer> testJobs = new HashMap<>();
    Map<String, Integer> branches = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : messages.properties()) {
      String taskId = e.getKey();
      JsonNode sample = e.getValue();
      JsonNode definition = definitions.get(taskId);
      assertTrue(definition != null && definition.isObject(), "no definition joins " + taskId);
      String exchange = sample.get("exchange").asText();
      ParseOutcome outcome = parser.parse(enriched(exchange, sample.get("payload"), definition));
      if (!exchange.endsWith("/task-completed")) {
        // pending and running: no result yet, not read by the rules
        assertInstanceOf(ParseOutcome.OutOfScope.class, outcome, taskId);
        outOfScope++;
        continue;
      }
      completed++;
      PushEvent event = accepted(outcome).event();
      String route = null;
      for (JsonNode r : definition.get("routes")) {
        if (route == null && r.asText().startsWith("tc-treeherder.v2.")) {
          route = r.asText();
        }
      }
      Matcher m = ROUTE.matcher(route);
      assertTrue(m.matches(), route);
      assertEquals(m.group(1), event.getBranch(), taskId);
      assertEquals(m.group(2).substring(0, 12), event.getRevision(), taskId);
      String label = definition.path("tags").path("label").asText(definition.path("metadata").path("name").asText());
      assertEquals(label, event.getBuilder(), taskId);
      assertEquals("test".equals(definition.path("tags").path("kind").asText()), event.getTestJob(), taskId);
      assertEquals(0, event.getResult(), taskId);
      assertEquals(EventKind.FINISHED, event.getEvent());
      assertEquals(taskId, event.getTaskId());
      assertEquals(definition.get("taskGroupId").asText(), event.getTaskGroupId());
      assertEquals(definition.path("tags").path("createdForUser").asText(), event.getWho());
      int runId = sample.path("payload").path("runId").asInt();
      assertEquals(runId, event.getBuildNumber());
      assertEquals("task-completed." + taskId + "." + runId, event.getRoutingKey());
      JsonNode run = sample.path("payload").path("status").path("runs").get(runId);
      assertEquals(Instant.parse(run.get("resolved").asText()).toEpochMilli(), event.getEventTime());
      testJobs.merge(String.valueOf(event.getTestJob()), 1, Integer::sum);
      branches.merge(event.getBranch(), 1, Integer::sum);
    }
    assertEquals(13, completed);
    assertEquals(78, outOfScope);
    assertEquals(Map.of("true", 12, "false", 1), testJobs);
    assertEquals(Map.of("autoland", 9, "mozilla-inbound", 1, "try", 3), branches);
  }

  // --- runs the capture lacks, made from one of its completed messages --------------------------------------

  private static String completedTaskId() {
    for (Map.Entry<String, JsonNode> e : messages.properties()) {
      if (e.getValue().get("exchange").asText().endsWith("/task-completed")
          && "test".equals(definitions.path(e.getKey()).path("tags").path("kind").asText())) {
        return e.getKey();
      }
    }
    throw new AssertionError("no completed test task in the capture");
  }

  /** The completed sample's message, resolved instead as {@code state}/{@code reason}, optionally with a next run. */
  private static ObjectNode resolvedAs(String state, String reason, String nextReasonCreated) {
    ObjectNode message = messages.get(completedTaskId()).get("payload").deepCopy();
    ObjectNode status = (ObjectNode) message.get("status");
    status.put("state", state);
    ArrayNode runs = (ArrayNode) status.get("runs");
    ObjectNode run = (ObjectNode) runs.get(0);
    run.put("state", state);
    run.put("reasonResolved", reason);
    if (nextReasonCreated != null) {
      ObjectNode next = runs.addObject();
      next.put("runId", 1);
      next.put("state", "pending");
      next.put("reasonCreated", nextReasonCreated);
      next.put("scheduled", run.get("resolved").asText());
      status.put("state", "pending");
    }
    return message;
  }

  private ParseOutcome parse(String exchangeSuffix, JsonNode message) {
    return parser.parse(enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + exchangeSuffix, message,
        definitions.get(completedTaskId())));
  }

  @ParameterizedTest(name = "{0}/{1}, next run created for {2} -> {3}")
  @CsvSource(nullValues = "-", value = {
      "task-completed, completed, -, 0",
      "task-failed, failed, -, 2",
      "task-exception, canceled, -, 6",
      "task-exception, superseded, -, 6",
      "task-exception, canceled, retry, 6",
      "task-exception, worker-shutdown, retry, 5",
      "task-exception, claim-expired, retry, 5",
      "task-exception, intermittent-task, task-retry, 5",
      "task-exception, worker-shutdown, -, 4",
      "task-exception, deadline-exceeded, -, 4",
      "task-exception, malformed-payload, -, 4",
      "task-exception, resource-unavailable, -, 4",
      "task-exception, internal-error, -, 4",
      "task-exception, internal-error, rerun, 4",
      "task-failed, failed, retry, 2"})
  void resultOfEachResolution(String exchange, String reason, String nextCreated, int expected) {
    String state = exchange.equals("task-completed") ? "completed"
        : exchange.equals("task-failed") ? "failed" : "exception";
    PushEvent event = accepted(parse(exchange, resolvedAs(state, reason, nextCreated))).event();
    assertEquals(expected, event.getResult());
    assertEquals(exchange + "." + completedTaskId() + ".0", event.getRoutingKey());
  }

  @Test
  void theRetryRunIsARunOfItsOwn() {
    ObjectNode message = resolvedAs("exception", "worker-shutdown", "retry");
    ObjectNode retryRun = (ObjectNode) message.get("status").get("runs").get(1);
    retryRun.put("state", "failed");
    retryRun.put("reasonResolved", "failed");
    retryRun.put("resolved", "2019-06-26T21:00:00.000Z");
    message.put("runId", 1);
    PushEvent event = accepted(parse("task-failed", message)).event();
    assertEquals(1, event.getBuildNumber());
    assertEquals(2, event.getResult());
    assertEquals(Instant.parse("2019-06-26T21:00:00Z").toEpochMilli(), event.getEventTime());
    assertEquals("task-failed." + completedTaskId() + ".1", event.getRoutingKey());
  }

  @Test
  void scopeComesFromTheRouteAndTheSetting() {
    JsonNode message = resolvedAs("failed", "failed", null);
    ObjectNode definition = definitions.get(completedTaskId()).deepCopy();
    byte[] body = enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed", message, definition);

    ParseOutcome off = new PulseParser(Set.of("autoland"), 1_048_576).parse(body);
    assertInstanceOf(ParseOutcome.OutOfScope.class, off);
    assertTrue(((ParseOutcome.OutOfScope) off).why().contains("taskcluster.enabled=false"), off.toString());
    assertInstanceOf(ParseOutcome.OutOfScope.class, new PulseParser(Set.of("try"), 1_048_576, true).parse(body));

    definition.putArray("routes").add("index.gecko.v2.autoland.latest").add("tc-treeherder-stage.v2.autoland.x");
    ParseOutcome noRoute = parser.parse(enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed", message,
        definition));
    assertInstanceOf(ParseOutcome.OutOfScope.class, noRoute);

    // the first route decides: a malformed one is skipped, a second well-formed one is not read
    definition.putArray("routes").add("tc-treeherder.v2.autoland").add(
        "tc-treeherder.v2.autoland.918d7c84da371bda26460fb4b50f161d32107880.1").add(
            "tc-treeherder.v2.try.0123456789ab0123456789ab0123456789abcdef.2");
    PushEvent event = accepted(parser.parse(enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed",
        message, definition))).event();
    assertEquals("autoland", event.getBranch());
    assertEquals("918d7c84da37", event.getRevision());
  }

  @Test
  void theKeyOfTheRecordIsItsEventsPush() {
    JsonNode message = resolvedAs("failed", "failed", null);
    byte[] body = enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed", message,
        definitions.get(completedTaskId()));
    PushEvent event = accepted(parser.parse(body)).event();
    assertEquals(event.getBranch() + "/" + event.getRevision(), PulseEnvelope.read(body).push());
  }

  @Test
  void builderFallsBackToTheTaskName() {
    ObjectNode definition = definitions.get(completedTaskId()).deepCopy();
    ((ObjectNode) definition.get("tags")).remove("label");
    ((ObjectNode) definition.get("metadata")).put("name", "test-linux64/opt-xpcshell-1");
    PushEvent event = accepted(parser.parse(enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed",
        resolvedAs("failed", "failed", null), definition))).event();
    assertEquals("test-linux64/opt-xpcshell-1", event.getBuilder());
  }

  @Test
  void testJobByKindOrByTreeherderJobKind() {
    ObjectNode definition = definitions.get(completedTaskId()).deepCopy();
    ((ObjectNode) definition.get("tags")).put("kind", "source-test");
    byte[] byJobKind = enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed",
        resolvedAs("failed", "failed", null), definition);
    assertTrue(accepted(parser.parse(byJobKind)).event().getTestJob());
    ((ObjectNode) definition.get("extra").get("treeherder")).put("jobKind", "build");
    byte[] neither = enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed",
        resolvedAs("failed", "failed", null), definition);
    assertFalse(accepted(parser.parse(neither)).event().getTestJob());
  }

  @Test
  void badInputIsRejectedWithItsReason() {
    ObjectNode definition = definitions.get(completedTaskId()).deepCopy();
    String failed = TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-failed";

    ObjectNode noTask = JSON.createObjectNode();
    noTask.putObject("_meta").put("exchange", failed).put("routing_key", "primary.x").put("sent",
        "2019-06-26T20:00:00Z");
    noTask.set("payload", resolvedAs("failed", "failed", null));
    assertRejected(RejectReason.MISSING_FIELD, noTask.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));

    ObjectNode noResolved = resolvedAs("failed", "failed", null);
    ((ObjectNode) noResolved.get("status").get("runs").get(0)).remove("resolved");
    assertRejected(RejectReason.BAD_TIMESTAMP, enriched(failed, noResolved, definition));

    ObjectNode badRun = resolvedAs("failed", "failed", null);
    badRun.put("runId", 3);
    assertRejected(RejectReason.MISSING_FIELD, enriched(failed, badRun, definition));
    badRun.put("runId", "zero");
    assertRejected(RejectReason.WRONG_TYPE, enriched(failed, badRun, definition));

    ObjectNode badRevision = definition.deepCopy();
    badRevision.putArray("routes").add("tc-treeherder.v2.autoland.918D7C84DA371BDA.1");
    assertRejected(RejectReason.BAD_REVISION, enriched(failed, resolvedAs("failed", "failed", null), badRevision));

    ObjectNode noName = definition.deepCopy();
    ((ObjectNode) noName.get("tags")).remove("label");
    noName.remove("metadata");
    assertRejected(RejectReason.MISSING_FIELD, enriched(failed, resolvedAs("failed", "failed", null), noName));

    ObjectNode noReason = resolvedAs("exception", "x", null);
    ((ObjectNode) noReason.get("status").get("runs").get(0)).remove("reasonResolved");
    assertRejected(RejectReason.MISSING_FIELD,
        enriched(TaskclusterRecord.QUEUE_EXCHANGE_PREFIX + "task-exception", noReason, definition));
  }

  private void assertRejected(RejectReason reason, byte[] body) {
    ParseOutcome o = parser.parse(body);
    ParseOutcome.Rejected r = assertInstanceOf(ParseOutcome.Rejected.class, o, () -> "not rejected: " + o);
    assertEquals(reason, r.reason(), r.error());
  }
}
