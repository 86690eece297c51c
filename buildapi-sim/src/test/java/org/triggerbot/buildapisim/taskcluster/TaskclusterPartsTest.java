package org.triggerbot.buildapisim.taskcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.HttpCodec;
import org.triggerbot.testsupport.Fixtures;

/** The simulator's parts without a server: the actions.json edit, targets, outcomes, scopes, path decoding. */
class TaskclusterPartsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theTemplateIsAnUnchangedCopyOfTheSample() throws IOException {
    JsonNode sample = JSON.readTree(Fixtures.taskclusterSamples().resolve("scriptworker-try-actions-2018.json")
        .toFile());
    assertEquals(sample, ActionsJson.template(JSON));
    assertTrue(Set.of("project-gecko/in-tree-action-1-generic/bb2dee27f9",
        "project-gecko/in-tree-action-1-release-promotion/bb2dee27f9").equals(ActionsJson.hooks(sample)));
    assertTrue(Files.isRegularFile(Fixtures.taskclusterSamples().resolve("SOURCES.md")));
  }

  @Test
  void onlyThePushFieldsChange() {
    ObjectNode template = ActionsJson.template(JSON);
    TaskclusterSimulator.Push push = new TaskclusterSimulator.Push("autoland", "a".repeat(40), 4242,
        "someone@example.com", "fwecfu9zRiyF2tPxq29EAQ");

    ObjectNode file = ActionsJson.forPush(template, push, TaskDefinitions.repositoryUrl("autoland"));

    assertEquals(ActionsJson.template(JSON), template, "the template itself is not changed");
    // Put the template's values back where the push's went: what remains must be the template.
    ObjectNode restored = file.deepCopy();
    for (int i = 0; i < restored.get("actions").size(); i++) {
      JsonNode original = template.at("/actions/" + i + "/hookPayload/decision");
      ObjectNode decision = (ObjectNode) restored.at("/actions/" + i + "/hookPayload/decision");
      assertEquals(push.taskGroupId(), decision.at("/action/taskGroupId").asText());
      assertEquals("4242", decision.at("/push/pushlog_id").asText());
      ((ObjectNode) decision.get("action")).set("taskGroupId", original.at("/action/taskGroupId"));
      decision.set("push", original.get("push"));
      decision.set("repository", original.get("repository"));
    }
    ObjectNode parameters = (ObjectNode) restored.at("/variables/parameters");
    assertEquals("https://hg.mozilla.org/integration/autoland", parameters.get("head_repository").asText());
    for (String field : List.of("head_rev", "head_ref", "head_repository", "project", "pushlog_id", "owner")) {
      parameters.set(field, template.at("/variables/parameters/" + field));
    }
    assertEquals(template, restored);
  }

  @Test
  void repositoryUrlsFollowHgMozillaOrg() {
    assertEquals("https://hg.mozilla.org/try", TaskDefinitions.repositoryUrl("try"));
    assertEquals("https://hg.mozilla.org/mozilla-central", TaskDefinitions.repositoryUrl("mozilla-central"));
    assertEquals("https://hg.mozilla.org/integration/autoland", TaskDefinitions.repositoryUrl("autoland"));
    assertEquals("https://hg.mozilla.org/releases/mozilla-beta", TaskDefinitions.repositoryUrl("mozilla-beta"));
  }

  @Test
  void aTargetHidesItsPassword() {
    AmqpTarget target = AmqpTarget.fromUri("amqp://pulse%2Duser:s3cr%2Ft@broker.example:5671/vh%2Fost");

    assertEquals("pulse-user", target.username());
    assertEquals("s3cr/t", target.password());
    assertEquals("broker.example", target.host());
    assertEquals(5671, target.port());
    assertEquals("vh/ost", target.virtualHost());
    assertEquals(AmqpTarget.RoutingKeys.ROUTE_FIRST, target.routingKeys());
    assertFalse(target.toString().contains("s3cr"), target.toString());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> AmqpTarget.fromUri("http://user:hunter2@host/"));
    assertFalse(bad.getMessage().contains("hunter2"));
    IllegalArgumentException malformed = assertThrows(IllegalArgumentException.class,
        () -> AmqpTarget.fromUri("amqp://user:hunter2@host:notaport/"));
    assertFalse(malformed.getMessage().contains("hunter2"));
  }

  @Test
  void outcomesUseTheQueuesVocabulary() {
    assertEquals(new Outcome.Resolved("exception", "deadline-exceeded", false), Outcome.EXCEPTION_DEADLINE);
    assertEquals("canceled", Outcome.EXCEPTION_CANCELED.reasonResolved());
    assertThrows(IllegalArgumentException.class, () -> new Outcome.Resolved("running", "running", true));
    assertThrows(IllegalArgumentException.class, () -> new Outcome.Resolved("failed", "canceled", true));
    assertEquals(new Outcome.RetryThen(Outcome.COMPLETED), Outcome.retryThen(Outcome.COMPLETED));
  }

  @Test
  void scopesEndingInAStarCoverWhatTheyPrefix() {
    String required = TaskclusterSimulator.triggerScope("project-gecko", "in-tree-action-1-generic/bb2dee27f9");
    assertEquals("hooks:trigger-hook:project-gecko/in-tree-action-1-generic/bb2dee27f9", required);
    assertTrue(TaskclusterSimulator.satisfies(Set.of(required), required));
    assertTrue(TaskclusterSimulator.satisfies(Set.of("hooks:trigger-hook:project-gecko/in-tree-action-1-*"),
        required));
    assertTrue(TaskclusterSimulator.satisfies(Set.of("*"), required));
    assertFalse(TaskclusterSimulator.satisfies(Set.of("hooks:trigger-hook:project-gecko/in-tree-action-3-*"),
        required));
    assertFalse(TaskclusterSimulator.satisfies(Set.of(), required));
  }

  @Test
  void pathsAreSplitBeforeTheyAreDecoded() {
    assertEquals(List.of("api", "hooks", "v1", "hooks", "project-gecko", "in-tree-action-1-generic/bb2dee27f9",
        "trigger"),
        HttpCodec
            .decodePathSegments("/api/hooks/v1/hooks/project-gecko/in-tree-action-1-generic%2Fbb2dee27f9/trigger"));
    assertEquals(Map.of("limit", "2", "continuationToken", "a b+"),
        HttpCodec.decodeForm("limit=2&continuationToken=a+b%2B"));
    assertThrows(IllegalArgumentException.class, () -> HttpCodec.decodePathSegments("/api/%zz"));
    assertThrows(IllegalArgumentException.class, () -> HttpCodec.decodePathSegments("/api/%ff"));
  }
}
