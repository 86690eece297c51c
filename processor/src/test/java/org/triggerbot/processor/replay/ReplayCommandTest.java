package org.triggerbot.processor.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.processor.topology.TopologyHarness;
import org.triggerbot.schemas.AvroJson;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.Fixtures;
import org.triggerbot.testsupport.pulse.PulseJson;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/** {@code triggerbot replay} as a user runs it: files in, JSON Lines out, errors on standard error, exit codes. */
class ReplayCommandTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int replay(String... args) {
    return ReplayCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private Path write(String name, List<String> lines) throws Exception {
    Path file = dir.resolve(name);
    Files.write(file, lines, StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void writesOneDecisionPerLineExactlyAsTheTopologyDecides() throws Exception {
    List<String> stream = ScenarioStream.generate(3, 6, 12);
    Path input = write("in.jsonl", stream);
    Path output = dir.resolve("out.jsonl");

    assertEquals(0, replay("--input", input.toString(), "--output", output.toString(), "--set", "budget.floor=2"));

    List<TriggerDecision> expected;
    try (TopologyHarness h = new TopologyHarness(TopologyHarness.policy("budget.floor=2"), dir.resolve("state"))) {
      h.pipe(stream.toArray(String[]::new));
      expected = h.decisions();
    }
    List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
    assertTrue(expected.size() > 10, "the scenario decides something");
    assertEquals(expected.size(), lines.size());
    for (int i = 0; i < lines.size(); i++) {
      assertEquals(AvroJson.toNode(expected.get(i)), MAPPER.readTree(lines.get(i)), "line " + (i + 1));
    }
    JsonNode first = MAPPER.readTree(lines.get(0));
    for (String field : List.of("branch", "revision", "builder", "event", "result", "reason", "count",
        "failuresOnPush", "jobsOnPush")) {
      assertTrue(first.has(field), "decision JSON has " + field);
    }
    assertTrue(first.get("decidedAt").isNull(), "replays carry no wall-clock time");
  }

  @Test
  void verdictsGoToTheirOwnFileExactlyAsTheTopologyEmitsThem() throws Exception {
    List<String> stream = ScenarioStream.generate(5, 6, 12);
    Path input = write("in.jsonl", stream);
    Path output = dir.resolve("out.jsonl");
    Path verdicts = dir.resolve("verdicts.jsonl");

    assertEquals(0, replay("--input", input.toString(), "--output", output.toString(),
        "--verdicts", verdicts.toString()), stderr());

    List<PushVerdict> expected;
    try (TopologyHarness h = new TopologyHarness(TopologyHarness.policy(), dir.resolve("state"))) {
      h.pipe(stream.toArray(String[]::new));
      expected = h.verdicts();
    }
    List<String> lines = Files.readAllLines(verdicts, StandardCharsets.UTF_8);
    assertTrue(expected.size() > 5, "the scenario has verdicts");
    assertEquals(expected.size(), lines.size());
    for (int i = 0; i < lines.size(); i++) {
      // Both sides parsed from text: Avro's long build numbers and the parser's ints are then the same nodes.
      assertEquals(MAPPER.readTree(AvroJson.toJsonLine(expected.get(i))), MAPPER.readTree(lines.get(i)),
          "line " + (i + 1));
    }
    JsonNode first = MAPPER.readTree(lines.get(0));
    for (String field : List.of("branch", "revision", "state", "builders", "updatedAt")) {
      assertTrue(first.has(field), "verdict JSON has " + field);
    }
    JsonNode builder = first.get("builders").get(0);
    for (String field : List.of("builder", "classification", "runs", "jobsIssued")) {
      assertTrue(builder.has(field), "builder verdict JSON has " + field);
    }
    assertTrue(stderr().contains(expected.size() + " verdicts"), stderr());

    // Deterministic like the decisions: a second run writes the same bytes.
    Path again = dir.resolve("again.jsonl");
    assertEquals(0, replay("--input", input.toString(), "--output", dir.resolve("out2.jsonl").toString(),
        "--verdicts", again.toString()));
    assertEquals(Files.readString(verdicts), Files.readString(again));
  }

  @Test
  void verdictsAndDecisionsCannotShareAnOutput() throws Exception {
    Path input = write("in.jsonl", ScenarioStream.generate(1, 1, 2));
    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--verdicts", "-"));
    assertTrue(stderr().contains("cannot both be standard output"), stderr());
    Path same = dir.resolve("same.jsonl");
    assertEquals(2, replay("--input", input.toString(), "--output", same.toString(), "--verdicts",
        dir.resolve(".").resolve("same.jsonl").toString()));
    assertTrue(stderr().contains("name the same file"), stderr());
  }

  @Test
  void isDeterministic() throws Exception {
    Path input = write("in.jsonl", ScenarioStream.generate(11, 5, 10));
    assertEquals(0, replay("--input", input.toString(), "--output", dir.resolve("a.jsonl").toString()));
    assertEquals(0, replay("--input", input.toString(), "--output", dir.resolve("b.jsonl").toString()));
    assertEquals(Files.readString(dir.resolve("a.jsonl")), Files.readString(dir.resolve("b.jsonl")));
  }

  @Test
  void reportsMalformedLinesWithTheirNumberAndSkipsBlankLinesSilently() throws Exception {
    List<String> lines = new ArrayList<>();
    lines.add(PulseJson.test("a").started());                               // 1
    lines.add("");                                                          // 2: blank
    lines.add("{this is not json");                                         // 3
    lines.add("   ");                                                       // 4: blank
    lines.add(PulseJson.test("a").rev("ABCDEF012345").finished(2));         // 5: bad revision
    lines.add(PulseJson.test("a").finished(2));                             // 6
    lines.add(PulseJson.test("b").at(null).finished(2));                    // 7: no _meta.sent
    Path input = write("in.jsonl", lines);

    assertEquals(0, replay("--input", input.toString(), "--output", "-"));

    String[] reported = stderr().lines().filter(l -> l.startsWith("line ")).toArray(String[]::new);
    assertEquals(3, reported.length, stderr());
    assertTrue(reported[0].startsWith("line 3: NOT_JSON: "), reported[0]);
    assertTrue(reported[1].startsWith("line 5: BAD_REVISION: "), reported[1]);
    assertTrue(reported[2].startsWith("line 7: BAD_TIMESTAMP: "), reported[2]);
    List<String> decisions = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(1, decisions.size(), "the valid failure still decided");
    assertEquals("TRIGGER_FAILURE", MAPPER.readTree(decisions.get(0)).get("reason").asText());
  }

  @Test
  void readsRealFixtureMessages() throws Exception {
    // A real try capture from 2013, its log_uploaded routing key turned into finished with a failure.
    Path fixture = Fixtures.pulseSamples().resolve("buildbot-exchange-build/treeherder-capture-2013-04-11/"
        + "36-build.try_xp-debug_test-mochitest-5.0.log_uploaded.json");
    assertTrue(Files.isReadable(fixture), "fixture missing: " + fixture);
    JsonNode message = MAPPER.readTree(fixture.toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) message.get("_meta"))
        .put("routing_key", "build.try_xp-debug_test-mochitest-5.0.finished");
    ((com.fasterxml.jackson.databind.node.ObjectNode) message.get("payload").get("build")).put("results", 2);
    Path input = write("in.jsonl", List.of(MAPPER.writeValueAsString(message)));

    assertEquals(0, replay("--input", input.toString(), "--output", "-", "--set", "require.try.syntax=false"));
    JsonNode decision = MAPPER.readTree(out.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow());
    assertEquals("try", decision.get("branch").asText());
    assertEquals("TRIGGER_FAILURE", decision.get("reason").asText());
    assertEquals("FINISHED", decision.get("event").asText());
  }

  @Test
  void badArgumentsExitTwoWithUsage() throws Exception {
    Path input = write("in.jsonl", List.of());
    assertEquals(2, replay("--output", "-"));
    assertTrue(stderr().contains("--input or --from-topic is required") && stderr().contains("usage:"), stderr());
    assertEquals(2, replay("--input", input.toString()));
    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--bogus"));
    assertEquals(2, replay("--input", dir.resolve("missing.jsonl").toString(), "--output", "-"));
    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--set"));
    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--set", "budget.floor"));
  }

  @Test
  void partitionsDecideAsAScaledOutProcessorAndTheTopologyEngineSaysItCannot() throws Exception {
    // A global limit of 8 an hour binds on one partition; on four each task allows 2 over its own pushes.
    Path input = write("in.jsonl", ScenarioStream.generate(5, 24, 12));
    Path one = dir.resolve("one.jsonl");
    Path four = dir.resolve("four.jsonl");
    String limit = "global.max.failure.triggers.per.hour=8";
    assertEquals(0, replay("--input", input.toString(), "--output", one.toString(), "--set", limit));
    assertEquals(0, replay("--input", input.toString(), "--output", four.toString(), "--set", limit,
        "--partitions", "4"));
    assertTrue(stderr().contains("4 partitions"), stderr());
    assertNotEquals(Files.readAllLines(one), Files.readAllLines(four), "the share of the limit changes decisions");

    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--partitions", "4", "--engine",
        "topology"));
    assertTrue(stderr().contains("--engine topology decides as a processor on one partition"), stderr());
    for (String bad : new String[] {"0", "-1", "two", "1025"}) {
      assertEquals(2, replay("--input", input.toString(), "--output", "-", "--partitions", bad), bad);
      assertTrue(stderr().contains("--partitions " + bad + ": expected a whole number from 1 to 1024"), stderr());
    }
  }

  @Test
  void anInvalidPolicyValueNamesTheKey() throws Exception {
    Path input = write("in.jsonl", List.of());
    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--set", "budget.ratio=lots"));
    assertTrue(stderr().contains("budget.ratio"), stderr());
    assertEquals(2, replay("--input", input.toString(), "--output", "-", "--set", "budget.rato=0.1"));
    assertTrue(stderr().contains("budget.rato"), stderr());
    assertFalse(out.toString(StandardCharsets.UTF_8).contains("{"), "nothing written on bad arguments");
  }

  @Test
  void helpExitsZero() {
    assertEquals(0, replay("--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("usage: triggerbot replay"));
  }
}
