package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.triggerbot.testsupport.Fixtures;

class JsonPruneTest {

  private static final ObjectMapper JSON = PulseEnvelope.JSON;
  private static final JsonPrune SHAPE = JsonPrune.fields(Map.of(
      "meta", JsonPrune.whole(),
      "payload", JsonPrune.fields(Map.of("build", JsonPrune.fields(Map.of("keep", JsonPrune.whole()))))));

  private static JsonNode prune(String json) throws IOException {
    return SHAPE.read(JSON, json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void keepsOnlyTheListedPathsWithTheirValuesWhole() throws IOException {
    JsonNode pruned = prune("""
        {"steps": [{"a": 1.5e3, "b": "x\\u00e9"}], "meta": {"sent": "t", "deep": {"x": [1, 2]}},
         "payload": {"other": {"y": true}, "build": {"keep": [["branch", "try", "Builder"]], "drop": 3}}}""");
    assertEquals(JSON.readTree("""
        {"meta": {"sent": "t", "deep": {"x": [1, 2]}}, "payload": {"build": {"keep": [["branch", "try", "Builder"]]}}}
        """), pruned);
  }

  @Test
  void aValueOfTheWrongTypeIsKeptSoTheReaderCanSayWhatIsWrong() throws IOException {
    assertEquals(JSON.readTree("{\"payload\": \"text\"}"), prune("{\"payload\": \"text\", \"z\": 1}"));
    assertEquals(JSON.readTree("{\"payload\": {\"build\": [1]}}"), prune("{\"payload\": {\"build\": [1]}}"));
    assertEquals(JSON.readTree("{\"meta\": null}"), prune("{\"meta\": null}"));
  }

  @Test
  void namedEntriesKeepEveryNameButOnlyTheListedValues() throws IOException {
    JsonPrune props = JsonPrune.fields(Map.of("p", JsonPrune.namedEntries(java.util.Set.of("branch", "revision"))));
    JsonNode pruned = props.read(JSON, ("{\"p\": [[\"basedir\", \"/b\", \"Step\"], [\"branch\", \"try\", \"Builder\"],"
        + " [\"request_ids\", [1, 2], \"postrun.py\"], [\"revision\", {\"x\": 1}], [\"branch\", \"late\"]]}")
        .getBytes(StandardCharsets.UTF_8));
    assertEquals(
        JSON.readTree("{\"p\": [[\"basedir\", null], [\"branch\", \"try\", \"Builder\"], [\"request_ids\", null],"
            + " [\"revision\", {\"x\": 1}], [\"branch\", \"late\"]]}"),
        pruned);
  }

  @Test
  void malformedEntriesAreKeptWholeWhereTheyWere() throws IOException {
    JsonPrune props = JsonPrune.fields(Map.of("p", JsonPrune.namedEntries(java.util.Set.of("branch"))));
    for (String list : List.of("[[\"other\"]]", "[[]]", "[\"flat\", 3, null, {\"a\": [1]}]", "[[1, \"x\"]]",
        "[[[\"n\"], \"x\", \"y\"]]", "[[null, 2]]", "\"not a list\"", "{\"a\": 1}", "[]")) {
      String doc = "{\"p\": " + list + "}";
      assertEquals(JSON.readTree(doc), props.read(JSON, doc.getBytes(StandardCharsets.UTF_8)), doc);
    }
  }

  @Test
  void theLastOfDuplicateNamesWinsAsInReadTree() throws IOException {
    String doc = "{\"meta\": 1, \"payload\": {\"build\": {\"keep\": 1}}, \"meta\": {\"a\": 2},"
        + " \"payload\": {\"build\": {\"keep\": 2}}}";
    assertEquals(JSON.readTree(doc), prune(doc));
  }

  @Test
  void aRootThatIsNotAnObjectIsReadAsReadTreeReadsIt() throws IOException {
    for (String doc : List.of("[1, 2]", "42", "\"text\"", "null", "", "   ")) {
      assertEquals(JSON.readTree(doc.getBytes(StandardCharsets.UTF_8)), prune(doc), doc);
    }
  }

  @Test
  void malformedJsonAnywhereFailsWithReadTreesOwnError() {
    for (String doc : List.of(
        "{\"steps\": [1, 2}, \"meta\": {}}", // broken inside a skipped part
        "{\"meta\": {\"a\": 1}} trailing",
        "{\"meta\": {\"a\": 1}}{\"meta\": 2}",
        "{\"steps\": \"unterminated",
        "{\"steps\": tru, \"meta\": 1}",
        "{\"meta\": 1,}")) {
      byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
      IOException expected = assertThrows(IOException.class, () -> JSON.readTree(bytes), doc);
      IOException actual = assertThrows(IOException.class, () -> prune(doc), doc);
      assertEquals(expected.getMessage(), actual.getMessage(), doc);
    }
  }

  @Test
  void invalidUtf8InASkippedStringIsStillAnError() {
    byte[] doc = "{\"steps\": \"ab\", \"meta\": 1}".getBytes(StandardCharsets.UTF_8);
    doc[12] = (byte) 0xC3; // a two-byte sequence start followed by an ASCII byte
    assertThrows(IOException.class, () -> JSON.readTree(doc));
    assertThrows(IOException.class, () -> SHAPE.read(JSON, doc));
  }

  @Test
  void everyFixtureGivesTheFullTreeWithoutTheSkippedFields() throws IOException {
    Path fixtures = Fixtures.pulseSamples();
    JsonPrune metaAndBuild = JsonPrune.fields(Map.of("_meta", JsonPrune.whole(),
        "payload", JsonPrune.fields(Map.of("build", JsonPrune.fields(Map.of(
            "properties", JsonPrune.whole(), "results", JsonPrune.whole()))))));
    int checked = 0;
    try (Stream<Path> files = Files.walk(fixtures)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
        byte[] body = Files.readAllBytes(f);
        JsonNode full;
        try {
          full = JSON.readTree(body);
        } catch (IOException e) {
          assertThrows(IOException.class, () -> metaAndBuild.read(JSON, body), f.toString());
          continue;
        }
        if (!full.isObject()) {
          assertEquals(full, metaAndBuild.read(JSON, body), f.toString());
          continue;
        }
        ObjectNode expected = JSON.createObjectNode();
        if (full.has("_meta")) {
          expected.set("_meta", full.get("_meta"));
        }
        JsonNode build = full.path("payload").path("build");
        if (full.has("payload")) {
          ObjectNode payload = expected.putObject("payload");
          if (!full.get("payload").isObject()) {
            expected.set("payload", full.get("payload"));
          } else if (build.isObject()) {
            ObjectNode b = payload.putObject("build");
            if (build.has("properties")) {
              b.set("properties", build.get("properties"));
            }
            if (build.has("results")) {
              b.set("results", build.get("results"));
            }
          } else if (!build.isMissingNode()) {
            payload.set("build", build);
          }
        }
        assertEquals(expected, metaAndBuild.read(JSON, body), f.toString());
        checked++;
      }
    }
    assertTrue(checked >= 100, "fixtures checked: " + checked);
  }
}
