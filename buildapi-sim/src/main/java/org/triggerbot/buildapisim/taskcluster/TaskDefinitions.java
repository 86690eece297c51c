package org.triggerbot.buildapisim.taskcluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Task definitions shaped like the real ones (see {@code fixtures/taskcluster-samples/
 * treeherder-taskcluster-task-definitions-2019.json}): the Gecko decision task, test tasks, the action task of a
 * retrigger and its clones. Only what consumers read is filled in with care ({@code routes}, {@code tags},
 * {@code metadata}, {@code extra.treeherder}, {@code taskGroupId}, {@code created}, the worker fields); the
 * {@code payload} is a token one.
 */
final class TaskDefinitions {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  /** {@code test-<platform>/<build type>-<suite>}, the Gecko test label form. */
  private static final Pattern TEST_LABEL = Pattern.compile("^test-([^/]+)/([a-z]+)-(.+)$");

  static final Duration DEADLINE = Duration.ofDays(1);
  static final Duration EXPIRES = Duration.ofDays(28);

  private TaskDefinitions() {}

  /** Taskcluster's time format: ISO 8601 in UTC with milliseconds, e.g. {@code 2019-06-26T19:13:51.402Z}. */
  static String time(Instant instant) {
    return TIME.format(instant);
  }

  /** Level 1 (try) or 3 (every other Gecko tree), as the scheduler and worker names carry it. */
  static int level(String project) {
    return project.equals("try") ? 1 : 3;
  }

  /** The hg.mozilla.org repository of a Gecko project. */
  static String repositoryUrl(String project) {
    if (project.equals("autoland") || project.equals("mozilla-inbound")) {
      return "https://hg.mozilla.org/integration/" + project;
    }
    if (project.equals("mozilla-beta") || project.equals("mozilla-release") || project.startsWith("mozilla-esr")) {
      return "https://hg.mozilla.org/releases/" + project;
    }
    return "https://hg.mozilla.org/" + project;
  }

  static String treeherderRoute(TaskclusterSimulator.Push push) {
    return "tc-treeherder.v2." + push.project() + "." + push.revision() + "." + push.pushlogId();
  }

  static ObjectNode decisionTask(TaskclusterSimulator.Push push, Instant created) {
    String p = push.project();
    int level = level(p);
    ObjectNode task = base(push, created, "aws-provisioner-v1", "gecko-" + level + "-decision");
    task.set("dependencies", NODES.arrayNode());
    task.set("routes", strings(treeherderRoute(push),
        "index.gecko.v2." + p + ".latest.taskgraph.decision",
        "index.gecko.v2." + p + ".revision." + push.revision() + ".taskgraph.decision",
        "index.gecko.v2." + p + ".pushlog-id." + push.pushlogId() + ".decision"));
    task.put("priority", "lowest");
    ObjectNode metadata = task.putObject("metadata");
    metadata.put("name", "Gecko Decision Task");
    metadata.put("owner", push.owner());
    metadata.put("description", "The task that creates all of the other tasks in the task graph");
    metadata.put("source", repositoryUrl(p) + "/raw-file/" + push.revision() + "/.taskcluster.yml");
    ObjectNode tags = task.putObject("tags");
    tags.put("createdForUser", push.owner());
    tags.put("kind", "decision-task");
    ObjectNode extra = task.putObject("extra");
    extra.put("tasks_for", "hg-push");
    ObjectNode treeherder = extra.putObject("treeherder");
    treeherder.putObject("collection").put("opt", true);
    treeherder.putObject("machine").put("platform", "gecko-decision");
    treeherder.put("symbol", "D");
    treeherder.put("tier", 1);
    task.putObject("payload").put("maxRunTime", 1800);
    return task;
  }

  static ObjectNode testTask(TaskclusterSimulator.Push push, String label, String testType, Instant created) {
    String platform = "linux64";
    String buildType = "opt";
    String suite = label;
    Matcher m = TEST_LABEL.matcher(label);
    if (m.matches()) {
      platform = m.group(1);
      buildType = m.group(2);
      suite = m.group(3);
    }
    String os = os(platform);
    ObjectNode task = base(push, created, os.equals("macosx") ? "releng-hardware" : "aws-provisioner-v1",
        workerType(os));
    task.set("dependencies", strings(push.decisionTaskId()));
    task.set("routes", strings(treeherderRoute(push)));
    task.put("priority", level(push.project()) == 1 ? "very-low" : "low");
    ObjectNode metadata = task.putObject("metadata");
    metadata.put("name", label);
    metadata.put("owner", push.owner());
    metadata.put("description", testType + " run ([Treeherder push](https://treeherder.mozilla.org/#/jobs?repo="
        + push.project() + "&revision=" + push.revision() + "))");
    metadata.put("source", repositoryUrl(push.project()) + "/file/" + push.revision() + "/taskcluster/ci/test");
    ObjectNode tags = task.putObject("tags");
    tags.put("createdForUser", push.owner());
    tags.put("kind", "test");
    tags.put("label", label);
    tags.put("os", os);
    tags.put("retrigger", "true");
    tags.put("test-type", testType);
    tags.put("worker-implementation", os.equals("linux") || os.equals("android") ? "docker-worker" : "generic-worker");
    ObjectNode extra = task.putObject("extra");
    ObjectNode chunks = extra.putObject("chunks");
    chunks.put("current", 1);
    chunks.put("total", 1);
    extra.put("parent", push.decisionTaskId());
    extra.put("suite", suite);
    ObjectNode treeherder = extra.putObject("treeherder");
    treeherder.putObject("collection").put(buildType, true);
    treeherder.put("jobKind", "test");
    treeherder.putObject("machine").put("platform", platform);
    treeherder.put("symbol", suite);
    treeherder.put("tier", 1);
    extra.put("treeherder-platform", platform + "/" + buildType);
    ObjectNode payload = task.putObject("payload");
    payload.put("maxRunTime", 3600);
    ObjectNode env = payload.putObject("env");
    env.put("GECKO_HEAD_REPOSITORY", repositoryUrl(push.project()));
    env.put("GECKO_HEAD_REV", push.revision());
    env.put("MOZ_SCM_LEVEL", Integer.toString(level(push.project())));
    return task;
  }

  /**
   * The action task a retrigger hook creates, as the real in-tree action ({@code kind: action-callback}, named
   * {@code Action: Retrigger}, with the hook's input in {@code extra.action.context}).
   */
  static ObjectNode actionTask(TaskclusterSimulator.Push push, String actionTaskId, String clientId,
      JsonNode payload, Instant created) {
    int level = level(push.project());
    ObjectNode task = base(push, created, "aws-provisioner-v1", "gecko-" + level + "-decision");
    task.set("dependencies", NODES.arrayNode());
    task.set("routes", strings(treeherderRoute(push),
        "index.gecko.v2." + push.project() + ".pushlog-id." + push.pushlogId() + ".actions." + actionTaskId));
    task.put("priority", "very-low");
    ObjectNode metadata = task.putObject("metadata");
    metadata.put("name", "Action: Retrigger");
    metadata.put("owner", push.owner());
    metadata.put("description", "Create a clone of the task.\n\nAction triggered by clientID `" + clientId + "`\n");
    metadata.put("source", repositoryUrl(push.project()) + "/raw-file/" + push.revision() + "/.taskcluster.yml");
    ObjectNode tags = task.putObject("tags");
    tags.put("createdForUser", push.owner());
    tags.put("kind", "action-callback");
    ObjectNode extra = task.putObject("extra");
    ObjectNode action = extra.putObject("action");
    ObjectNode context = action.putObject("context");
    context.put("clientId", clientId);
    context.set("input", payload.path("user").path("input").deepCopy());
    context.set("parameters", payload.path("decision").path("parameters").deepCopy());
    context.put("taskGroupId", push.taskGroupId());
    context.set("taskId", payload.path("user").path("taskId").deepCopy());
    action.put("name", "retrigger");
    extra.put("parent", push.taskGroupId());
    extra.put("tasks_for", "action");
    ObjectNode treeherder = extra.putObject("treeherder");
    treeherder.put("groupName", "action-callback");
    treeherder.put("groupSymbol", "AC");
    treeherder.putObject("machine").put("platform", "gecko-decision");
    treeherder.put("symbol", "rt");
    task.putObject("payload").put("maxRunTime", 1800);
    return task;
  }

  /** A clone of {@code original} made by the retrigger action: new times, {@code tags.action}, all else kept. */
  static ObjectNode clone(JsonNode original, Instant created) {
    ObjectNode task = original.deepCopy();
    times(task, created);
    ((ObjectNode) task.path("tags")).put("action", "retrigger-task");
    return task;
  }

  /** How the primary routing key names a missing worker. */
  static String orUnderscore(String value) {
    return value == null ? "_" : value;
  }

  /** A worker group and id for a task's provisioner, e.g. {@code us-west-2} and {@code i-0123456789abcdef0}. */
  static String[] worker(JsonNode task, long serial) {
    if (task.path("provisionerId").asText().equals("releng-hardware")) {
      return new String[] {"mdc1", "t-mojave-r7-" + (100 + serial % 400)};
    }
    return new String[] {"us-west-2", String.format(Locale.ROOT, "i-0%016x", (serial * 0x9E3779B97F4A7C15L) >>> 4)};
  }

  private static ObjectNode base(TaskclusterSimulator.Push push, Instant created, String provisionerId,
      String workerType) {
    ObjectNode task = NODES.objectNode();
    task.put("provisionerId", provisionerId);
    task.put("workerType", workerType);
    task.put("schedulerId", "gecko-level-" + level(push.project()));
    task.put("taskGroupId", push.taskGroupId());
    times(task, created);
    task.put("requires", "all-completed");
    task.put("retries", 5);
    task.set("scopes", NODES.arrayNode());
    return task;
  }

  private static void times(ObjectNode task, Instant created) {
    task.put("created", time(created));
    task.put("deadline", time(created.plus(DEADLINE)));
    task.put("expires", time(created.plus(EXPIRES)));
  }

  private static String os(String platform) {
    for (String os : new String[] {"linux", "windows", "macosx", "android"}) {
      if (platform.startsWith(os)) {
        return os;
      }
    }
    return "linux";
  }

  private static String workerType(String os) {
    return switch (os) {
      case "windows" -> "gecko-t-win10-64";
      case "macosx" -> "gecko-t-osx-1014";
      case "android" -> "gecko-t-linux-xlarge";
      default -> "gecko-t-linux-large";
    };
  }

  private static ArrayNode strings(String... values) {
    ArrayNode array = NODES.arrayNode();
    for (String value : values) {
      array.add(value);
    }
    return array;
  }
}
