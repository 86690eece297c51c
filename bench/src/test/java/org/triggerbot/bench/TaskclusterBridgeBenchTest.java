package org.triggerbot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --taskcluster-bridge} runs end to end at a tiny size: every case's records are all there and all
 * enriched, one definition fetched per task. Its rates are not checked (a test is no place for timing).
 */
class TaskclusterBridgeBenchTest {

  private static final int TASKS = 20;

  @Test
  void aTinyRunEnrichesEveryResultOfEveryCase(@TempDir Path dir) throws Exception {
    Path output = dir.resolve("tc-bridge.json");
    int exit = Bench.run(List.of("--taskcluster-bridge", "--tc-tasks", Integer.toString(TASKS), "--output",
        output.toString()));
    assertEquals(0, exit);
    JsonNode results = new ObjectMapper().readTree(output.toFile());
    assertEquals("taskcluster-bridge", results.get("benchmark").asText());
    assertTrue(results.get("allEnriched").asBoolean(), results.toString());
    JsonNode cases = results.get("cases");
    assertEquals(TaskclusterBridgeBench.LATENCIES.size() * TaskclusterBridgeBench.CONCURRENCIES.size(), cases.size(),
        results.toString());
    Set<String> combinations = new HashSet<>();
    for (JsonNode c : cases) {
      combinations.add(c.get("latencyMs").asLong() + "/" + c.get("concurrency").asInt());
      assertEquals(TASKS, c.get("tasks").asInt(), c.toString());
      assertEquals(TASKS, c.get("records").asInt(), "one record per result: " + c);
      assertTrue(c.get("enriched").asBoolean(), c.toString());
      assertEquals(TASKS, c.get("definitionsFetched").asLong(), "one fetch per distinct task, none cached: " + c);
      assertEquals(0, c.get("definitionsCached").asLong(), c.toString());
      assertEquals(0, c.get("definitionsUnavailable").asLong(), c.toString());
      assertEquals(0, c.get("rejected").asLong(), c.toString());
      assertTrue(c.get("messagesPerSecond").isNumber(), c.toString());
      assertEquals(c.get("latencyMs").asLong() > 0, c.has("sequentialBoundRate"), c.toString());
    }
    assertEquals(Set.of("0/1", "0/16", "20/1", "20/16"), combinations);
    assertEquals(50.0, cases.get(2).get("sequentialBoundRate").asDouble(), "1000/20 ms: " + cases.get(2));
  }

  @Test
  void optionsSelectTheBenchmarkAndItsSize() {
    BenchOptions plain = BenchOptions.parse(List.of());
    assertFalse(plain.taskclusterBridge());
    BenchOptions tc = BenchOptions.parse(List.of("--taskcluster-bridge"));
    assertTrue(tc.taskclusterBridge());
    assertEquals(Path.of("bench-results.json"), tc.output());
    assertEquals(2000, TaskclusterBridgeBench.tasks(tc.tcTasks(), Duration.ZERO));
    assertEquals(500, TaskclusterBridgeBench.tasks(tc.tcTasks(), Duration.ofMillis(20)));
    BenchOptions small = BenchOptions.parse(List.of("--tc-tasks", "7", "--taskcluster-bridge"));
    assertEquals(7, TaskclusterBridgeBench.tasks(small.tcTasks(), Duration.ZERO));
    assertEquals(7, TaskclusterBridgeBench.tasks(small.tcTasks(), Duration.ofMillis(20)));
    assertEquals("--tc-tasks must be positive, got 0", assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse(List.of("--taskcluster-bridge", "--tc-tasks", "0"))).getMessage());
    assertEquals("--tc-tasks applies to --taskcluster-bridge only", assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse(List.of("--tc-tasks", "10"))).getMessage());
    assertTrue(BenchOptions.USAGE.contains("--taskcluster-bridge"), "--help lists it");
  }
}
