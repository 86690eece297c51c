package org.triggerbot.sink.taskcluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A decision task's {@code public/actions.json} (SPEC section 6b): which {@code retrigger} hook action applies to a
 * task, and its hook payload rendered for a retrigger.
 *
 * <p>Only a subset of JSON-e is rendered: an object whose only key is {@code $eval} with a bare name as its value,
 * looked up in the file's {@code variables} plus {@code taskGroupId}, {@code taskId} and {@code input}. Every other
 * construct (another {@code $} key, an expression, {@code ${...}} interpolation, an unknown name) is refused with
 * {@link UnsupportedTemplate} rather than rendered wrongly. Pure code: no I/O, no clock.
 */
public final class Actions {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Pattern NAME = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]*$");

  /** The only actions.json version understood. */
  public static final int VERSION = 1;

  /** An actions.json that is not one this code understands; the message says why. */
  public static final class InvalidActions extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidActions(String message) {
      super(message);
    }
  }

  /**
   * A hook payload template using a JSON-e construct other than {@code {"$eval": "<name>"}}: the message starts with
   * {@code "unsupported JSON-e construct "} and ends with where ({@code at <JSON pointer>}).
   */
  public static final class UnsupportedTemplate extends Exception {
    private static final long serialVersionUID = 1L;

    private final String pointer;

    UnsupportedTemplate(String construct, String pointer) {
      super("unsupported JSON-e construct " + construct + " at " + (pointer.isEmpty() ? "the root" : pointer));
      this.pointer = pointer;
    }

    /** Where in the template, as a JSON pointer ({@code ""} for the root). */
    public String pointer() {
      return pointer;
    }
  }

  /**
   * A retrigger ready to send: the hook to trigger and its rendered payload. {@code times} is what the payload asks
   * for, {@code requestedTimes} what the caller asked for; they differ when the action's schema capped it (see
   * {@link #clamped}).
   */
  public record Retrigger(String hookGroupId, String hookId, JsonNode payload, int times, int requestedTimes) {

    /** The count asked for was not the count sent (above the schema's maximum, or below 1). */
    public boolean clamped() {
      return times != requestedTimes;
    }
  }

  private final List<JsonNode> actions;
  private final ObjectNode variables;

  private Actions(List<JsonNode> actions, ObjectNode variables) {
    this.actions = actions;
    this.variables = variables;
  }

  /** Parses an actions.json document. */
  public static Actions parse(byte[] json) throws InvalidActions {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new InvalidActions("actions.json is not JSON");
    }
    return parse(root);
  }

  /**
   * Reads an actions.json document: an object with {@code version} 1, an {@code actions} list and optional
   * {@code variables}; the {@code retrigger} hook actions must have their hook, context and payload.
   */
  public static Actions parse(JsonNode root) throws InvalidActions {
    if (root == null || !root.isObject()) {
      throw new InvalidActions("actions.json is not a JSON object");
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isIntegralNumber() || version.asLong() != VERSION) {
      throw new InvalidActions("actions.json version " + (version == null ? "missing" : version.toString())
          + " is not supported (only version " + VERSION + ")");
    }
    JsonNode list = root.get("actions");
    if (list == null || !list.isArray()) {
      throw new InvalidActions("actions.json has no actions list");
    }
    JsonNode vars = root.get("variables");
    if (vars != null && !vars.isNull() && !vars.isObject()) {
      throw new InvalidActions("actions.json variables is not an object");
    }
    List<JsonNode> all = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode a = list.get(i);
      if (!a.isObject()) {
        throw new InvalidActions("actions.json action " + i + " is not an object");
      }
      if (isRetriggerHook(a)) {
        String where = "actions.json retrigger action " + i;
        if (!a.path("hookGroupId").isTextual() || !a.path("hookId").isTextual()) {
          throw new InvalidActions(where + " has no hookGroupId/hookId");
        }
        if (!a.has("hookPayload")) {
          throw new InvalidActions(where + " has no hookPayload");
        }
        JsonNode context = a.get("context");
        if (context == null || !context.isArray()) {
          throw new InvalidActions(where + " has no context list");
        }
        for (JsonNode tagSet : context) {
          if (!tagSet.isObject()) {
            throw new InvalidActions(where + " has a context entry that is not an object");
          }
        }
      }
      all.add(a);
    }
    ObjectNode v = vars != null && vars.isObject() ? ((ObjectNode) vars).deepCopy() : NODES.objectNode();
    return new Actions(List.copyOf(all), v);
  }

  private static boolean isRetriggerHook(JsonNode a) {
    return "retrigger".equals(a.path("name").asText(null)) && "hook".equals(a.path("kind").asText(null));
  }

  /**
   * The first action named {@code retrigger} of kind {@code hook} whose context has a tag-set matching
   * {@code tags}: every key/value of the tag-set is in {@code tags} ({@code {}} matches every task). An empty context
   * is a task-group action and matches no task.
   */
  public Optional<JsonNode> retriggerAction(Map<String, String> tags) {
    for (JsonNode a : actions) {
      if (isRetriggerHook(a) && matches(a.get("context"), tags)) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /** {@link #retriggerAction(Map)} for a task definition's {@code tags} object (non-string values are ignored). */
  public Optional<JsonNode> retriggerAction(JsonNode tags) {
    return retriggerAction(tagMap(tags));
  }

  /**
   * The retrigger of task {@code taskId} (in {@code taskGroupId}, with {@code tags}), {@code count} times; empty
   * when no retrigger action applies to the task.
   */
  public Optional<Retrigger> retrigger(Map<String, String> tags, String taskGroupId, String taskId, int count)
      throws UnsupportedTemplate {
    Optional<JsonNode> action = retriggerAction(tags);
    if (action.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(render(action.get(), taskGroupId, taskId, count));
  }

  /** {@link #retrigger(Map, String, String, int)} for a task definition's {@code tags} object. */
  public Optional<Retrigger> retrigger(JsonNode tags, String taskGroupId, String taskId, int count)
      throws UnsupportedTemplate {
    return retrigger(tagMap(tags), taskGroupId, taskId, count);
  }

  /**
   * Renders one hook action's {@code hookPayload} for a retrigger: {@code input} is
   * {@code {"times": n, "downstream": false}}, {@code n} being {@code count} within 1 and the action schema's
   * {@code properties.times.maximum} when it has one.
   */
  public Retrigger render(JsonNode action, String taskGroupId, String taskId, int count) throws UnsupportedTemplate {
    int times = Math.max(1, count);
    JsonNode max = action.path("schema").path("properties").path("times").path("maximum");
    if (max.isNumber() && max.asLong() >= 1 && times > max.asLong()) {
      times = (int) max.asLong();
    }
    ObjectNode input = NODES.objectNode();
    input.put("times", times);
    input.put("downstream", false);
    Map<String, JsonNode> context = new HashMap<>();
    for (Map.Entry<String, JsonNode> f : variables.properties()) {
      context.put(f.getKey(), f.getValue());
    }
    context.put("taskGroupId", NODES.textNode(taskGroupId));
    context.put("taskId", NODES.textNode(taskId));
    context.put("input", input);
    JsonNode payload = render(action.get("hookPayload"), context);
    return new Retrigger(action.path("hookGroupId").asText(), action.path("hookId").asText(), payload, times, count);
  }

  /**
   * Renders a JSON-e template of the supported subset: {@code {"$eval": "<name>"}} becomes a copy of
   * {@code context.get(name)}; everything else is copied as is, or refused when it is another JSON-e construct.
   */
  public static JsonNode render(JsonNode template, Map<String, JsonNode> context) throws UnsupportedTemplate {
    return render(template, context, "");
  }

  private static JsonNode render(JsonNode t, Map<String, JsonNode> context, String pointer)
      throws UnsupportedTemplate {
    if (t == null || t.isMissingNode()) {
      throw new UnsupportedTemplate("(no template)", pointer);
    }
    if (t.isTextual()) {
      if (t.asText().contains("${")) {
        throw new UnsupportedTemplate("\"${...}\" string interpolation", pointer);
      }
      return t.deepCopy();
    }
    if (t.isArray()) {
      ArrayNode out = NODES.arrayNode(t.size());
      for (int i = 0; i < t.size(); i++) {
        out.add(render(t.get(i), context, pointer + "/" + i));
      }
      return out;
    }
    if (!t.isObject()) {
      return t.deepCopy();
    }
    if (t.has("$eval")) {
      if (t.size() != 1) {
        throw new UnsupportedTemplate("\"$eval\" with other keys", pointer);
      }
      JsonNode expr = t.get("$eval");
      if (!expr.isTextual() || !NAME.matcher(expr.asText()).matches()) {
        throw new UnsupportedTemplate("\"$eval\" of an expression that is not a bare name", pointer);
      }
      JsonNode value = context.get(expr.asText());
      if (value == null) {
        throw new UnsupportedTemplate("\"$eval\" of an unknown name \"" + expr.asText() + "\"", pointer);
      }
      return value.deepCopy();
    }
    ObjectNode out = NODES.objectNode();
    for (Map.Entry<String, JsonNode> f : t.properties()) {
      String key = f.getKey();
      String child = pointer + "/" + key.replace("~", "~0").replace("/", "~1");
      if (key.startsWith("$")) {
        throw new UnsupportedTemplate("\"" + key + "\"", child);
      }
      if (key.contains("${")) {
        throw new UnsupportedTemplate("\"${...}\" interpolation in a key", child);
      }
      out.set(key, render(f.getValue(), context, child));
    }
    return out;
  }

  private static Map<String, String> tagMap(JsonNode tags) {
    Map<String, String> m = new HashMap<>();
    if (tags != null && tags.isObject()) {
      for (Map.Entry<String, JsonNode> f : tags.properties()) {
        if (f.getValue().isTextual()) {
          m.put(f.getKey(), f.getValue().asText());
        }
      }
    }
    return m;
  }

  private static boolean matches(JsonNode context, Map<String, String> tags) {
    for (JsonNode tagSet : context) {
      if (matchesTagSet(tagSet, tags)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matchesTagSet(JsonNode tagSet, Map<String, String> tags) {
    for (Map.Entry<String, JsonNode> f : tagSet.properties()) {
      if (!f.getValue().isTextual() || !f.getValue().asText().equals(tags.get(f.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
