package org.triggerbot.buildapisim.taskcluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The {@code public/actions.json} of a simulated decision task: the real try sample {@code actions-template.json}
 * (see the {@code SOURCES.md} beside it) with the push's ids put in, so that clients parse and render a real file.
 *
 * <p>Edited as a JSON tree, field by field, and only where the template has the field: in every action,
 * {@code hookPayload.decision.action.taskGroupId} (the decision task's group), {@code hookPayload.decision.push}
 * ({@code revision}, {@code pushlog_id}, {@code owner}) and {@code hookPayload.decision.repository}
 * ({@code project}, {@code url}); in {@code variables.parameters}, {@code head_rev}, {@code head_ref},
 * {@code head_repository}, {@code project}, {@code pushlog_id} and {@code owner}. Everything else (hook ids,
 * schemas, contexts, {@code $eval} templates, the other parameters, the repository level) stays as in the sample.
 */
final class ActionsJson {

  static final String TEMPLATE = "actions-template.json";

  private ActionsJson() {}

  /** The template as shipped, parsed; a fresh tree each call. */
  static ObjectNode template(ObjectMapper json) {
    try (InputStream in = ActionsJson.class.getResourceAsStream(TEMPLATE)) {
      if (in == null) {
        throw new IllegalStateException("Resource " + TEMPLATE + " missing beside " + ActionsJson.class.getName());
      }
      return (ObjectNode) json.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + TEMPLATE, e);
    }
  }

  /** {@code hookGroupId/hookId} of every hook action of the template. */
  static Set<String> hooks(JsonNode actions) {
    Set<String> hooks = new LinkedHashSet<>();
    for (JsonNode action : actions.path("actions")) {
      if (action.path("kind").asText().equals("hook") && action.path("hookGroupId").isTextual()
          && action.path("hookId").isTextual()) {
        hooks.add(action.get("hookGroupId").asText() + "/" + action.get("hookId").asText());
      }
    }
    return hooks;
  }

  /** The template with {@code push}'s ids put in (a new tree). */
  static ObjectNode forPush(ObjectNode template, TaskclusterSimulator.Push push, String repositoryUrl) {
    ObjectNode file = template.deepCopy();
    String pushlogId = Long.toString(push.pushlogId());
    for (JsonNode action : file.path("actions")) {
      JsonNode decision = action.path("hookPayload").path("decision");
      setIfPresent(decision.path("action"), "taskGroupId", push.taskGroupId());
      JsonNode pushNode = decision.path("push");
      setIfPresent(pushNode, "revision", push.revision());
      setIfPresent(pushNode, "pushlog_id", pushlogId);
      setIfPresent(pushNode, "owner", push.owner());
      JsonNode repository = decision.path("repository");
      setIfPresent(repository, "project", push.project());
      setIfPresent(repository, "url", repositoryUrl);
    }
    JsonNode parameters = file.path("variables").path("parameters");
    setIfPresent(parameters, "head_rev", push.revision());
    setIfPresent(parameters, "head_ref", push.revision());
    setIfPresent(parameters, "head_repository", repositoryUrl);
    setIfPresent(parameters, "project", push.project());
    setIfPresent(parameters, "pushlog_id", pushlogId);
    setIfPresent(parameters, "owner", push.owner());
    return file;
  }

  private static void setIfPresent(JsonNode parent, String field, String value) {
    if (parent instanceof ObjectNode object && object.has(field)) {
      object.put(field, value);
    }
  }
}
