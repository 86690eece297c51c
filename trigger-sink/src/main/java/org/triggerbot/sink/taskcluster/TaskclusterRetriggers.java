package org.triggerbot.sink.taskcluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Optional;
import org.triggerbot.common.PushKey;
import org.triggerbot.schemas.TriggerOutcome;

/**
 * The steps of one Taskcluster retrigger (SPEC 6b), each a single question to Taskcluster whose answer says what the
 * sink does next: prepare (the task's tags, the decision task's {@code actions.json}, the rendered hook payload),
 * trigger the hook once, or verify an in-doubt trigger by listing the task group. The sink owns the journal and the
 * schedule; this class only talks to Taskcluster and reads its answers, so that each answer's meaning is in one
 * place.
 */
public final class TaskclusterRetriggers {

  /** What the sink does after a step. */
  public sealed interface Step {
    /** The command is done with this outcome. */
    record Finish(TriggerOutcome outcome, Integer status, String jobRequestId, String error) implements Step {}

    /** No usable answer (no answer, 5xx, 429): back off and ask again. */
    record Transient(int status, String error) implements Step {}

    /** Ready: trigger this hook with this payload (after journaling POSTING). */
    record Trigger(Actions.Retrigger retrigger, String note) implements Step {}

    /** Verification found no clone yet: look again later. */
    record NotYet(int status) implements Step {}
  }

  private final TaskclusterClient client;

  public TaskclusterRetriggers(TaskclusterClient client) {
    this.client = client;
  }

  /**
   * The hook and payload that retrigger {@code taskId} {@code count} times: the task's tags choose the action of
   * its group's {@code actions.json} (or, when that is missing, of the decision task the index names for the
   * push's full revision, read from the task's own treeherder route).
   */
  public Step prepare(String taskId, String taskGroupId, int count) {
    TaskclusterClient.Reply task = client.task(taskId);
    if (!task.ok()) {
      return failed(task, "reading task " + taskId);
    }
    JsonNode definition = task.body();
    PushKey.TreeherderRoute route = PushKey.TreeherderRoute.first(definition.get("routes"));
    TaskclusterClient.Reply actions = route == null ? client.actionsJson(taskGroupId, null, null)
        : client.actionsJson(taskGroupId, route.project(), route.revision());
    if (!actions.ok()) {
      return failed(actions, "reading actions.json of task group " + taskGroupId
          + (route == null ? "" : " (or the decision task of " + route.project() + " " + route.revision() + ")"));
    }
    try {
      Optional<Actions.Retrigger> retrigger =
          Actions.parse(actions.body()).retrigger(definition.path("tags"), taskGroupId, taskId, count);
      if (retrigger.isEmpty()) {
        return new Step.Finish(TriggerOutcome.REJECTED, actions.status(), null,
            "no retrigger hook action of actions.json applies to the task's tags " + definition.path("tags"));
      }
      Actions.Retrigger r = retrigger.get();
      return new Step.Trigger(r, r.clamped() ? "times " + r.requestedTimes() + " outside the action's schema; "
          + r.times() + " asked" : null);
    } catch (Actions.InvalidActions | Actions.UnsupportedTemplate e) {
      return new Step.Finish(TriggerOutcome.REJECTED, actions.status(), null, e.getMessage());
    }
  }

  /**
   * Triggers the hook, once: SUBMITTED with the action task's id; 401/403 REJECTED (a missing scope); no answer or
   * a 5xx is in doubt (the hook may have fired) and must only be verified from then on.
   */
  public Step trigger(Actions.Retrigger r, String note) {
    TaskclusterClient.Reply reply = client.triggerHook(r.hookGroupId(), r.hookId(), r.payload());
    if (reply.ok()) {
      JsonNode id = reply.body() == null ? null : reply.body().get("taskId");
      if (id == null || !id.isTextual()) {
        id = reply.body() == null ? null : reply.body().path("status").get("taskId");
      }
      return new Step.Finish(TriggerOutcome.SUBMITTED, reply.status(), id == null ? null : id.asText(), note);
    }
    if (reply.transientFailure()) {
      return new Step.Transient(reply.status(), "hook trigger in doubt: " + reply.message());
    }
    String scope = reply.status() == 401 || reply.status() == 403
        ? " (the client needs the scope hooks:trigger-hook:" + r.hookGroupId() + "/" + r.hookId() + ")" : "";
    return new Step.Finish(TriggerOutcome.REJECTED, reply.status(), null, reply.message() + scope);
  }

  /**
   * Whether the task group now holds a clone of the task: another task with the same label created at or after
   * {@code createdFrom} (the command's time). A clone someone else made counts too: it is evidence, and a second
   * retrigger is never acceptable.
   */
  public Step verify(String taskId, String taskGroupId, String label, Instant createdFrom) {
    TaskclusterClient.Reply list = client.listTaskGroup(taskGroupId);
    if (!list.ok()) {
      return failed(list, "listing task group " + taskGroupId);
    }
    for (JsonNode entry : list.body().path("tasks")) {
      JsonNode task = entry.path("task");
      String id = entry.path("status").path("taskId").asText("");
      String name = task.path("tags").path("label").asText(task.path("metadata").path("name").asText(""));
      Instant created = parseInstant(task.path("created").asText(""));
      if (!id.equals(taskId) && label.equals(name) && created != null && !created.isBefore(createdFrom)) {
        return new Step.Finish(TriggerOutcome.SUBMITTED, list.status(), id,
            "confirmed by task-group listing (clone " + id + " created " + created + ")");
      }
    }
    return new Step.NotYet(list.status());
  }

  private static Step failed(TaskclusterClient.Reply reply, String doing) {
    if (reply.transientFailure()) {
      return new Step.Transient(reply.status(), doing + ": " + reply.message());
    }
    TriggerOutcome outcome = reply.status() == 404 ? TriggerOutcome.NOT_FOUND : TriggerOutcome.REJECTED;
    return new Step.Finish(outcome, reply.status() > 0 ? reply.status() : null, null, doing + ": " + reply.message());
  }

  private static Instant parseInstant(String text) {
    try {
      return Instant.parse(text);
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }
}
