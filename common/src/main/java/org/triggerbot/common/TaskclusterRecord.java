package org.triggerbot.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * The {@code pulse.raw} body of a Taskcluster task result (SPEC 3b): the queue's message together with the parts of
 * its task's definition the rules read, so that the processor stays a pure function of {@code pulse.raw} and a
 * replay decides exactly as live. The bridge writes it; the processor, the replay and the tests read it.
 *
 * <pre>{"_meta": {"exchange": …, "routing_key": …, "sent": the run's resolved time, else when the bridge got it},
 *  "payload": the message as the queue published it (verbatim JSON),
 *  "task": {"routes", "tags", "metadata": {"name"}, "taskGroupId", "created", "extra": {"treeherder"}}}</pre>
 *
 * The {@code _meta} envelope is mozillapulse's, so that one reader finds the exchange and the time of either input.
 * The queue publishes a result when its run resolves, so {@code sent} is the run's {@code resolved}, the event time
 * (SPEC 3b): the record's timestamp, and a replay's stream time, are then the event time, as for buildbot. Fields the
 * definition lacks are left out, never invented.
 */
public final class TaskclusterRecord {

  /** The queue's exchanges start with this; the three of resolved runs are the ones the bridge binds. */
  public static final String QUEUE_EXCHANGE_PREFIX = "exchange/taskcluster-queue/v1/";
  /** The exchanges of resolved runs (SPEC 3b). */
  public static final List<String> RESOLVED_EXCHANGES = List.of(QUEUE_EXCHANGE_PREFIX + "task-completed",
      QUEUE_EXCHANGE_PREFIX + "task-failed", QUEUE_EXCHANGE_PREFIX + "task-exception");

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> KEPT = List.of("routes", "tags", "taskGroupId", "created");

  private TaskclusterRecord() {}

  /** Whether {@code exchange} is one of the Taskcluster queue's. */
  public static boolean isQueueExchange(String exchange) {
    return exchange != null && exchange.startsWith(QUEUE_EXCHANGE_PREFIX);
  }

  /** A queue message's JSON object, or null when the body is not one (it is then copied, and rejected, as is). */
  public static JsonNode readMessage(byte[] body) {
    try {
      JsonNode root = PulseEnvelope.JSON.readTree(body);
      return root != null && root.isObject() ? root : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The {@code taskId} of a queue message ({@code status.taskId}), or null when it has none that is text. */
  public static String taskIdOf(JsonNode message) {
    JsonNode id = message == null ? null : message.path("status").get("taskId");
    return id != null && id.isTextual() ? id.asText() : null;
  }

  /** {@code status.runs[runId].resolved} of a queue message when it is an RFC 3339 time, else null. */
  static String resolvedOf(JsonNode message) {
    JsonNode runId = message.get("runId");
    if (runId == null || !runId.isIntegralNumber()) {
      return null;
    }
    for (JsonNode run : message.path("status").path("runs")) {
      if (run.path("runId").isIntegralNumber() && run.path("runId").asLong() == runId.asLong()) {
        JsonNode resolved = run.get("resolved");
        return resolved != null && resolved.isTextual() && PulseEnvelope.rfc3339Millis(resolved.asText()) != null
            ? resolved.asText() : null;
      }
    }
    return null;
  }

  /**
   * The enriched body.
   *
   * @param message the queue's message, a JSON object
   * @param definition the task's definition as {@code queue.task} answered it
   * @param receivedAt when the message was received: {@code _meta.sent} when the run's {@code resolved} is unreadable
   */
  public static ObjectNode enriched(String exchange, String routingKey, JsonNode message, JsonNode definition,
      Instant receivedAt) {
    ObjectNode meta = NODES.objectNode();
    meta.put("exchange", exchange);
    meta.put("routing_key", routingKey);
    String resolved = resolvedOf(message);
    meta.put("sent", resolved != null ? resolved : receivedAt.toString());
    ObjectNode task = NODES.objectNode();
    for (String field : KEPT) {
      if (definition.has(field)) {
        task.set(field, definition.get(field));
      }
    }
    JsonNode name = definition.path("metadata").get("name");
    if (name != null) {
      task.putObject("metadata").set("name", name);
    }
    JsonNode treeherder = definition.path("extra").get("treeherder");
    if (treeherder != null) {
      task.putObject("extra").set("treeherder", treeherder);
    }
    ObjectNode root = NODES.objectNode();
    root.set("_meta", meta);
    root.set("payload", message);
    root.set("task", task);
    return root;
  }
}
