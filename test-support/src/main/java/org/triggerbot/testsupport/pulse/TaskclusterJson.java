package org.triggerbot.testsupport.pulse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * Builds the {@code pulse.raw} bodies of Taskcluster task results as the bridge writes them (SPEC 3b: the queue's
 * message plus its task's definition, in the real shapes of the project's {@code fixtures/taskcluster-samples}),
 * for scenario tests: one task, then {@code .completed()}, {@code .failed()} or {@code .exception(reason)}.
 *
 * <p>Written here on its own, not with the bridge's code, so that tests check the bridge and the processor
 * against the format rather than against each other.
 */
public final class TaskclusterJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  public static final String REV = PulseJson.REV;
  public static final Instant T0 = PulseJson.T0;
  /** A real-looking task group (the decision task's id). */
  public static final String GROUP = "LpCJV9wUQHSAm5SHyW4Olw";

  private final String label;
  private String taskId;
  private String project = "try";
  private String revision = REV;
  private String kind = "test";
  private int runId;
  private Instant resolved = T0;
  private String user = "dev@example.com";
  private String nextRunReason;
  private String taskGroupId = GROUP;

  private TaskclusterJson(String label, String taskId) {
    this.label = label;
    this.taskId = taskId;
  }

  /** A test task labelled {@code test-linux64/opt-<suite>}, with a task id made from the label. */
  public static TaskclusterJson test(String suite) {
    String label = "test-linux64/opt-" + suite;
    return new TaskclusterJson(label, idOf(label, 0));
  }

  /** A build task (tags.kind and jobKind "build"). */
  public static TaskclusterJson build(String platform) {
    TaskclusterJson t = new TaskclusterJson("build-" + platform + "/opt", idOf("build-" + platform, 0));
    t.kind = "build";
    return t;
  }

  /** A clone of this task (a retrigger's): the same label, another task id. */
  public TaskclusterJson clone(int n) {
    TaskclusterJson c = new TaskclusterJson(label, idOf(label, n));
    c.project = project;
    c.revision = revision;
    c.kind = kind;
    c.user = user;
    c.taskGroupId = taskGroupId;
    c.resolved = resolved;
    return c;
  }

  /** 22 URL-safe base64 characters, as Taskcluster's slug ids; stable for a label and a number. */
  static String idOf(String label, int n) {
    String base = Integer.toHexString((label + "#" + n).hashCode()) + "AAAAAAAAAAAAAAAAAAAAAA";
    return ("T" + base.replaceAll("[^A-Za-z0-9]", "A")).substring(0, 21) + "g";
  }

  public String taskId() {
    return taskId;
  }

  public String label() {
    return label;
  }

  public TaskclusterJson project(String p) { this.project = p; return this; }
  public TaskclusterJson rev(String r) { this.revision = r; return this; }
  public TaskclusterJson run(int id) { this.runId = id; return this; }
  public TaskclusterJson user(String u) { this.user = u; return this; }
  public TaskclusterJson group(String g) { this.taskGroupId = g; return this; }
  public TaskclusterJson atMinutes(long m) { this.resolved = T0.plusSeconds(60 * m); return this; }
  /** The queue made another run after this one for this reason ({@code retry}, {@code task-retry}, ...). */
  public TaskclusterJson nextRun(String reasonCreated) {
    this.nextRunReason = reasonCreated;
    return this;
  }

  public String completed() {
    return body("task-completed", "completed", "completed");
  }

  public String failed() {
    return body("task-failed", "failed", "failed");
  }

  public String exception(String reasonResolved) {
    return body("task-exception", "exception", reasonResolved);
  }

  private String body(String exchange, String state, String reasonResolved) {
    ObjectNode root = MAPPER.createObjectNode();
    root.putObject("_meta")
        .put("exchange", "exchange/taskcluster-queue/v1/" + exchange)
        .put("routing_key", "primary." + taskId + "." + runId + ".mdc1.i-0123._.gecko-t-linux-large.gecko-level-1."
            + taskGroupId + "._")
        .put("sent", resolved.toString()); // the bridge's rule: the run's resolved time
    ObjectNode payload = root.putObject("payload");
    ObjectNode status = payload.putObject("status");
    status.put("taskId", taskId).put("provisionerId", "gecko-t").put("workerType", "t-linux-large")
        .put("schedulerId", "gecko-level-1").put("taskGroupId", taskGroupId)
        .put("state", nextRunReason == null ? state : "pending").put("retriesLeft", 5);
    ArrayNode runs = status.putArray("runs");
    for (int i = 0; i <= runId; i++) {
      ObjectNode run = runs.addObject();
      run.put("runId", i).put("state", i == runId ? state : "exception")
          .put("reasonCreated", i == 0 ? "scheduled" : "retry")
          .put("reasonResolved", i == runId ? reasonResolved : "worker-shutdown")
          .put("scheduled", resolved.minusSeconds(600).toString())
          .put("started", resolved.minusSeconds(500).toString())
          .put("resolved", i == runId ? resolved.toString() : resolved.minusSeconds(550).toString())
          .put("workerGroup", "mdc1").put("workerId", "i-0123");
    }
    if (nextRunReason != null) {
      runs.addObject().put("runId", runId + 1).put("state", "pending").put("reasonCreated", nextRunReason)
          .put("scheduled", resolved.toString());
    }
    payload.put("runId", runId).put("version", 1).put("workerGroup", "mdc1").put("workerId", "i-0123");
    ObjectNode task = root.putObject("task");
    String route = "tc-treeherder.v2." + project + "." + revision + ".12345";
    task.putArray("routes").add(route).add("index.gecko.v2." + project + ".revision." + revision + ".x");
    task.putObject("tags").put("kind", kind).put("label", label).put("createdForUser", user)
        .put("retrigger", "true").put("os", "linux").put("test-type", "mochitest");
    task.putObject("metadata").put("name", label);
    task.put("taskGroupId", taskGroupId).put("created", resolved.minusSeconds(900).toString());
    task.putObject("extra").putObject("treeherder").put("jobKind", kind).put("symbol", "M").put("tier", 1);
    return root.toString();
  }
}
