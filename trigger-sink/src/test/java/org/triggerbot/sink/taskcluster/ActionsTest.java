package org.triggerbot.sink.taskcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.triggerbot.testsupport.Fixtures;

class ActionsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TASK_GROUP = "LpCJV9wUQHSAm5SHyW4Olw";
  private static final String TASK = "KkDeSaLFSq-OFo1QGc-hGQ";

  private static final Map<String, String> MOCHITEST = Map.of("kind", "test", "test-type", "mochitest", "label",
      "test-linux64-qr/debug-mochitest-a11y-1proc", "os", "linux", "retrigger", "true", "worker-implementation",
      "docker-worker");

  private static byte[] sample(String name) throws IOException {
    return Files.readAllBytes(Fixtures.taskclusterSamples().resolve(name));
  }

  private static JsonNode realActions() throws IOException {
    return JSON.readTree(sample("scriptworker-try-actions-2018.json"));
  }

  private static Actions actions() throws Exception {
    return Actions.parse(sample("scriptworker-try-actions-2018.json"));
  }

  private static JsonNode action(JsonNode actionsJson, String name) {
    for (JsonNode a : actionsJson.get("actions")) {
      if (a.get("name").asText().equals(name)) {
        return a;
      }
    }
    throw new AssertionError("no action " + name);
  }

  @Test
  void aTestTaskGetsTheGenericRetriggerNotTheDecisionOneNorRetriggerMochitest() throws Exception {
    JsonNode chosen = actions().retriggerAction(MOCHITEST).orElseThrow();
    assertEquals("retrigger", chosen.get("name").asText());
    assertEquals("retrigger", chosen.at("/hookPayload/decision/action/cb_name").asText());
    assertEquals(JSON.readTree("[{}]"), chosen.get("context"));
    assertEquals("project-gecko", chosen.get("hookGroupId").asText());
    assertEquals("in-tree-action-1-generic/bb2dee27f9", chosen.get("hookId").asText());
  }

  @Test
  void aRealTaskDefinitionsTagsSelectTheGenericRetrigger() throws Exception {
    JsonNode tasks = JSON.readTree(sample("treeherder-taskcluster-task-definitions-2019.json"));
    JsonNode task = tasks.properties().iterator().next().getValue();
    assertEquals("test", task.at("/tags/kind").asText());
    assertEquals("retrigger", actions().retriggerAction(task.get("tags")).orElseThrow()
        .at("/hookPayload/decision/action/cb_name").asText());
  }

  @Test
  void aDecisionTaskGetsTheDecisionRetrigger() throws Exception {
    JsonNode chosen = actions().retriggerAction(Map.of("kind", "decision-task")).orElseThrow();
    assertEquals("retrigger-decision", chosen.at("/hookPayload/decision/action/cb_name").asText());
    assertEquals("retrigger-decision", actions().retriggerAction(Map.of("kind", "cron-task", "x", "y")).orElseThrow()
        .at("/hookPayload/decision/action/cb_name").asText());
  }

  @Test
  void renderingEqualsTheCapturedHookPayload() throws Exception {
    Actions.Retrigger r = actions().retrigger(MOCHITEST, TASK_GROUP, TASK, 1).orElseThrow();
    JsonNode captured = JSON.readTree(sample("scriptworker-try-retrigger-hook-context-2018.json")).get("payload");
    assertEquals(captured, r.payload());
    assertEquals("project-gecko", r.hookGroupId());
    assertEquals("in-tree-action-1-generic/bb2dee27f9", r.hookId());
    assertEquals(1, r.times());
    assertFalse(r.clamped());
  }

  @Test
  void timesAreClampedToTheSchemasMaximumAndAtLeastOne() throws Exception {
    Actions.Retrigger nine = actions().retrigger(MOCHITEST, TASK_GROUP, TASK, 9).orElseThrow();
    assertEquals(6, nine.times());
    assertEquals(9, nine.requestedTimes());
    assertTrue(nine.clamped());
    assertEquals(6, nine.payload().at("/user/input/times").asInt());
    assertFalse(nine.payload().at("/user/input/downstream").asBoolean(true));

    Actions.Retrigger three = actions().retrigger(MOCHITEST, TASK_GROUP, TASK, 3).orElseThrow();
    assertEquals(3, three.times());
    assertFalse(three.clamped());

    Actions.Retrigger zero = actions().retrigger(MOCHITEST, TASK_GROUP, TASK, 0).orElseThrow();
    assertEquals(1, zero.times());
    assertTrue(zero.clamped());

    // The decision-task retrigger has no schema: no maximum to apply.
    assertEquals(9, actions().retrigger(Map.of("kind", "decision-task"), TASK_GROUP, TASK, 9).orElseThrow().times());
  }

  @Test
  void theRenderedPayloadIsACopyTheTemplateIsUntouched() throws Exception {
    Actions a = actions();
    Actions.Retrigger r = a.retrigger(MOCHITEST, TASK_GROUP, TASK, 1).orElseThrow();
    ((ObjectNode) r.payload().at("/decision/parameters")).put("project", "changed");
    Actions.Retrigger again = a.retrigger(MOCHITEST, TASK_GROUP, TASK, 1).orElseThrow();
    assertEquals("try", again.payload().at("/decision/parameters/project").asText());
    assertEquals(JSON.readTree("{\"$eval\":\"parameters\"}"),
        a.retriggerAction(MOCHITEST).orElseThrow().at("/hookPayload/decision/parameters"));
  }

  @Test
  void anEmptyContextIsATaskGroupActionAndNeverMatches() throws Exception {
    ObjectNode doc = (ObjectNode) realActions();
    for (JsonNode a : doc.get("actions")) {
      if (a.get("name").asText().equals("retrigger")) {
        ((ObjectNode) a).set("context", JSON.createArrayNode());
      }
    }
    Actions a = Actions.parse(doc);
    assertTrue(a.retriggerAction(MOCHITEST).isEmpty());
    assertTrue(a.retriggerAction(Map.of()).isEmpty());
    assertTrue(a.retrigger(Map.of("kind", "decision-task"), TASK_GROUP, TASK, 1).isEmpty());
  }

  @Test
  void aTagSetMatchesOnlyWhenEveryKeyAndValueIsInTheTags() throws Exception {
    Actions a = Actions.parse(JSON.readTree("{\"version\":1,\"variables\":{},\"actions\":["
        + "{\"name\":\"retrigger\",\"kind\":\"hook\",\"hookGroupId\":\"g\",\"hookId\":\"one\",\"hookPayload\":{},"
        + "\"context\":[{\"kind\":\"test\",\"os\":\"linux\"}]},"
        + "{\"name\":\"retrigger\",\"kind\":\"task\",\"hookGroupId\":\"g\",\"hookId\":\"task-kind\",\"hookPayload\":{},"
        + "\"context\":[{}]},"
        + "{\"name\":\"retrigger\",\"kind\":\"hook\",\"hookGroupId\":\"g\",\"hookId\":\"two\",\"hookPayload\":{},"
        + "\"context\":[{\"kind\":\"build\"}]}]}"));
    assertEquals("one", a.retriggerAction(Map.of("kind", "test", "os", "linux", "x", "y")).orElseThrow()
        .get("hookId").asText());
    assertTrue(a.retriggerAction(Map.of("kind", "test", "os", "windows")).isEmpty());
    assertTrue(a.retriggerAction(Map.of("kind", "test")).isEmpty());
    assertEquals("two", a.retriggerAction(Map.of("kind", "build")).orElseThrow().get("hookId").asText());
  }

  @Test
  void releasePromotionsInterpolationIsRefused() throws Exception {
    JsonNode promotion = action(realActions(), "release-promotion");
    Actions.UnsupportedTemplate e = assertThrows(Actions.UnsupportedTemplate.class,
        () -> actions().render(promotion, TASK_GROUP, TASK, 1));
    assertTrue(e.getMessage().startsWith("unsupported JSON-e construct "), e.getMessage());
    assertEquals("/decision/action/symbol", e.pointer());
    assertTrue(e.getMessage().endsWith(" at /decision/action/symbol"), e.getMessage());
  }

  @Test
  void otherJsonEConstructsAreRefusedWithWhere() throws Exception {
    Map<String, JsonNode> context = Map.of("taskId", JSON.getNodeFactory().textNode(TASK), "parameters",
        JSON.readTree("{\"a\":{\"b\":1}}"));
    String[][] cases = {
        {"{\"x\":{\"$if\":\"true\",\"then\":1}}", "/x/$if"},
        {"{\"x\":[1,{\"$let\":{\"a\":1},\"in\":{\"$eval\":\"a\"}}]}", "/x/1/$let"},
        {"{\"x\":{\"$eval\":\"parameters.a\"}}", "/x"},
        {"{\"x\":{\"$eval\":\"a.b\"}}", "/x"},
        {"{\"x\":{\"$eval\":\"nosuchname\"}}", "/x"},
        {"{\"x\":{\"$eval\":\"taskId\",\"y\":1}}", "/x"},
        {"{\"x\":{\"$eval\":3}}", "/x"},
        {"{\"a/b\":{\"$json\":{\"c\":1}}}", "/a~1b/$json"},
        {"{\"s\":\"task ${taskId}\"}", "/s"},
        {"{\"k${taskId}\":1}", "/k${taskId}"},
        {"[{\"$$escaped\":1}]", "/0/$$escaped"},
        {"{\"$map\":[1],\"each(x)\":1}", "/$map"},
    };
    for (String[] c : cases) {
      Actions.UnsupportedTemplate e = assertThrows(Actions.UnsupportedTemplate.class,
          () -> Actions.render(JSON.readTree(c[0]), context), c[0]);
      assertTrue(e.getMessage().startsWith("unsupported JSON-e construct "), e.getMessage());
      assertEquals(c[1], e.pointer(), c[0]);
      assertTrue(e.getMessage().endsWith(" at " + c[1]), e.getMessage());
    }
    assertTrue(assertThrows(Actions.UnsupportedTemplate.class,
        () -> Actions.render(JSON.readTree("{\"$eval\":\"nosuchname\"}"), context)).getMessage()
        .endsWith(" at the root"));
    assertEquals(JSON.readTree("{\"x\":[1,\"$ not a construct\",{\"b\":1}],\"t\":\"" + TASK + "\"}"),
        Actions.render(JSON.readTree("{\"x\":[1,\"$ not a construct\",{\"b\":1}],\"t\":{\"$eval\":\"taskId\"}}"),
            context));
  }

  @Test
  void onlyVersionOneObjectsAreRead() throws Exception {
    ObjectNode doc = (ObjectNode) realActions();
    doc.put("version", 2);
    Actions.InvalidActions v2 = assertThrows(Actions.InvalidActions.class, () -> Actions.parse(doc));
    assertEquals("actions.json version 2 is not supported (only version 1)", v2.getMessage());
    doc.remove("version");
    assertTrue(assertThrows(Actions.InvalidActions.class, () -> Actions.parse(doc)).getMessage()
        .contains("version missing"));
    doc.put("version", "1");
    assertThrows(Actions.InvalidActions.class, () -> Actions.parse(doc));
    assertThrows(Actions.InvalidActions.class, () -> Actions.parse(JSON.readTree("[]")));
    assertThrows(Actions.InvalidActions.class,
        () -> Actions.parse("not json".getBytes(StandardCharsets.UTF_8)));
    assertThrows(Actions.InvalidActions.class, () -> Actions.parse(JSON.readTree("{\"version\":1}")));
    assertThrows(Actions.InvalidActions.class, () -> Actions.parse(JSON.readTree(
        "{\"version\":1,\"actions\":[{\"name\":\"retrigger\",\"kind\":\"hook\",\"context\":[{}],"
            + "\"hookPayload\":{}}]}")));
  }
}
