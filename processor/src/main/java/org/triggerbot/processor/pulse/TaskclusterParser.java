package org.triggerbot.processor.pulse;

import static org.triggerbot.processor.pulse.PulseParser.object;
import static org.triggerbot.processor.pulse.PulseParser.quote;
import static org.triggerbot.processor.pulse.PulseParser.string;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.common.PushKey;
import org.triggerbot.common.TaskclusterRecord;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;

/**
 * Reads a Taskcluster task result that the bridge enriched with its task definition (SPEC 3b) into a
 * {@link PushEvent}, or says why it cannot. The record's shape ({@link TaskclusterRecord}, written by the bridge,
 * read by the replay as is):
 *
 * <pre>{"_meta": {"exchange": "exchange/taskcluster-queue/v1/task-failed", "routing_key": "primary.…", "sent": …},
 *  "payload": {the queue's message: "status", "runId", …},
 *  "task": {"routes", "tags", "metadata": {"name"}, "taskGroupId", "created", "extra": {"treeherder"}}}</pre>
 *
 * <p>Order of checks, which decides whether a message is dropped or rejected: the exchange (pending and running
 * messages are out of scope); the {@code task} object; its first {@code tc-treeherder.v2.<project>.<revision>}
 * route (none: out of scope); the project (not enabled: out of scope); then, as rejections, the revision, the
 * run, its result and its {@code resolved} time, and the builder.
 *
 * <p>A task result is always a finished event: Taskcluster has no "started" message that the rules read. Its
 * routing key in the event is {@code <exchange suffix>.<taskId>.<runId>}, the identity that de-duplicates it
 * (SPEC 3b: exchange + taskId + runId), and its build number the run id.
 *
 * <p>Pure and thread-safe.
 */
final class TaskclusterParser {

  static final String QUEUE_EXCHANGE_PREFIX = TaskclusterRecord.QUEUE_EXCHANGE_PREFIX;
  /** The exchanges of resolved runs, by the suffix after the prefix. */
  static final Set<String> RESOLVED = Set.of("task-completed", "task-failed", "task-exception");
  /** Exception reasons of a run that was stopped on purpose (SPEC 3b: result 6, cancelled). */
  private static final Set<String> CANCELLED = Set.of("canceled", "superseded");
  /** Why a run was created when the queue retried the one before it automatically (SPEC 3b: result 5). */
  private static final Set<String> RETRY_REASONS = Set.of("retry", "task-retry");

  /** buildbot's result codes, which the policy reads for both inputs. */
  static final int SUCCESS = 0;
  static final int FAILURE = 2;
  static final int EXCEPTION = 4;
  static final int RETRY = 5;
  static final int CANCELLED_RESULT = 6;

  private final Set<String> enabledBranches;

  TaskclusterParser(Set<String> enabledBranches) {
    this.enabledBranches = enabledBranches;
  }

  ParseOutcome parse(JsonNode root, String exchange, String sentText) throws PulseParser.Invalid {
    String kind = exchange.substring(QUEUE_EXCHANGE_PREFIX.length());
    if (!RESOLVED.contains(kind)) {
      return new ParseOutcome.OutOfScope("exchange " + exchange, sentText);
    }
    JsonNode task = root.get("task");
    if (task == null || task.isNull()) {
      throw new PulseParser.Invalid(RejectReason.MISSING_FIELD,
          "task is missing: a Taskcluster message needs the task definition the bridge adds");
    }
    if (!task.isObject()) {
      throw new PulseParser.Invalid(RejectReason.WRONG_TYPE, "task is not an object");
    }
    PushKey.TreeherderRoute route = PushKey.TreeherderRoute.first(task.get("routes"));
    if (route == null) {
      return new ParseOutcome.OutOfScope("no " + PushKey.TREEHERDER_ROUTE + "<project>.<revision> route", sentText);
    }
    if (!enabledBranches.contains(route.project())) {
      return new ParseOutcome.OutOfScope("branch " + route.project(), sentText);
    }

    // In scope: from here on, anything wrong is a rejection.
    if (!PushKey.isRevision(route.revision())) {
      throw new PulseParser.Invalid(RejectReason.BAD_REVISION,
          "revision " + quote(route.revision()) + " of the task's treeherder route is not 12 to 40 lowercase hex"
              + " characters");
    }
    JsonNode payload = object(root, "payload", "payload");
    JsonNode status = object(payload, "status", "payload.status");
    String taskId = string(status, "taskId", "payload.status.taskId");
    if (taskId.isEmpty()) {
      throw new PulseParser.Invalid(RejectReason.MISSING_FIELD, "payload.status.taskId is empty");
    }
    JsonNode runIdNode = payload.get("runId");
    if (runIdNode == null || runIdNode.isNull()) {
      throw new PulseParser.Invalid(RejectReason.MISSING_FIELD, "payload.runId is missing");
    }
    if (!runIdNode.isIntegralNumber() || !runIdNode.canConvertToInt() || runIdNode.intValue() < 0) {
      throw new PulseParser.Invalid(RejectReason.WRONG_TYPE,
          "payload.runId is " + PulseParser.abbreviate(runIdNode.toString()) + ", not a run number");
    }
    int runId = runIdNode.intValue();
    JsonNode runs = status.get("runs");
    if (runs == null || !runs.isArray()) {
      throw new PulseParser.Invalid(
          runs == null || runs.isNull() ? RejectReason.MISSING_FIELD : RejectReason.WRONG_TYPE,
          "payload.status.runs is not a list");
    }
    JsonNode run = runById(runs, runId);
    if (run == null) {
      throw new PulseParser.Invalid(RejectReason.MISSING_FIELD, "payload.status.runs has no run " + runId);
    }
    long resolved = resolved(run, runId);
    int result = result(kind, run, runById(runs, runId + 1), runId);

    JsonNode tags = task.path("tags");
    String builder = PulseParser.optionalString(tags, "label");
    if (builder == null || builder.isEmpty()) {
      builder = PulseParser.optionalString(task.path("metadata"), "name");
    }
    if (builder == null || builder.isEmpty()) {
      throw new PulseParser.Invalid(RejectReason.MISSING_FIELD,
          "the task has neither tags.label nor metadata.name: no builder");
    }
    boolean testJob = "test".equals(PulseParser.optionalString(tags, "kind"))
        || "test".equals(PulseParser.optionalString(task.path("extra").path("treeherder"), "jobKind"));
    String pusher = PulseParser.optionalString(tags, "createdForUser");
    String taskGroupId = PulseParser.optionalString(task, "taskGroupId");
    if (taskGroupId == null) {
      taskGroupId = PulseParser.optionalString(status, "taskGroupId");
    }

    return new ParseOutcome.Accepted(PushEvent.newBuilder()
        .setBranch(route.project())
        .setRevision(route.revision().substring(0, PushKey.REVISION_CHARS))
        .setBuilder(builder)
        .setRoutingKey(kind + "." + taskId + "." + runId)
        .setBuildNumber(runId)
        .setEvent(EventKind.FINISHED)
        .setResult(result)
        .setTestJob(testJob)
        .setComments(null)
        .setWho(pusher)
        .setEventTime(resolved)
        .setTaskId(taskId)
        .setTaskGroupId(taskGroupId)
        .build());
  }

  /** The run with this {@code runId} (runs are listed by id, but the id is read, not the position). */
  private static JsonNode runById(JsonNode runs, int runId) {
    for (JsonNode r : runs) {
      JsonNode id = r.get("runId");
      if (id != null && id.isIntegralNumber() && id.asLong() == runId) {
        return r;
      }
    }
    return null;
  }

  private static long resolved(JsonNode run, int runId) throws PulseParser.Invalid {
    String path = "payload.status.runs[" + runId + "].resolved";
    JsonNode resolved = run.get("resolved");
    if (resolved == null || resolved.isNull()) {
      throw new PulseParser.Invalid(RejectReason.BAD_TIMESTAMP, path + " is missing: the run has no event time");
    }
    Long millis = resolved.isTextual() ? PulseEnvelope.rfc3339Millis(resolved.asText()) : null;
    if (millis == null) {
      throw new PulseParser.Invalid(RejectReason.BAD_TIMESTAMP,
          path + " " + PulseParser.abbreviate(resolved.toString()) + " is not an RFC 3339 timestamp with offset");
    }
    return millis;
  }

  /**
   * SPEC 3b: completed → 0, failed → 2; an exception → 6 when cancelled or superseded, 5 when the queue retried
   * the run automatically (the next run's {@code reasonCreated}), else 4.
   */
  static int result(String kind, JsonNode run, JsonNode next, int runId) throws PulseParser.Invalid {
    return switch (kind) {
      case "task-completed" -> SUCCESS;
      case "task-failed" -> FAILURE;
      default -> {
        JsonNode reason = run.get("reasonResolved");
        if (reason == null || !reason.isTextual()) {
          throw new PulseParser.Invalid(reason == null || reason.isNull() ? RejectReason.MISSING_FIELD
              : RejectReason.WRONG_TYPE, "payload.status.runs[" + runId + "].reasonResolved is not a string");
        }
        if (CANCELLED.contains(reason.asText())) {
          yield CANCELLED_RESULT;
        }
        String created = next == null ? null : PulseParser.optionalString(next, "reasonCreated");
        yield created != null && RETRY_REASONS.contains(created) ? RETRY : EXCEPTION;
      }
    };
  }
}
