package org.triggerbot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark runs end to end at a tiny size and reports what it promises. Its figures are not checked (a
 * test is no place for timing); that the live processors' decisions equal the replay's is.
 */
class BenchSmokeTest {

  @Test
  void aTinyRunWritesEveryResultAndTheLiveDecisionsEqualTheReplays(@TempDir Path dir) throws Exception {
    Path output = dir.resolve("results.json");
    // Two whole pushes (130 test jobs each) and 4 s at 50 msg/s after the warm-up: about 200 messages measured,
    // of which ~5% are decided (with a tiny push, a window can hold no decision, and the run fails, as it should).
    int exit = Bench.run(List.of("--quick", "--pushes", "2", "--jobs", "130", "--rates", "50", "--latency-seconds", "4",
        "--heap", "256m", "--output", output.toString()));
    assertEquals(0, exit);
    JsonNode results = new ObjectMapper().readTree(output.toFile());
    for (String key : List.of("rawConsumerRate", "processorRateEos", "processorRateAlos", "ratioEos", "latencyP50Ms",
        "latencyP95Ms", "latencyP99Ms", "replayRate", "messageBytesMedian", "heapUsedAfterGcBytes",
        "processorResidentBytes", "stateDirBytes", "processorCpuMicrosPerMessageEos",
        "parserMicrosPerMessage", "replayRateTopology", "whatif8Rate", "parseFloorRate", "replayToParseFloor")) {
      assertTrue(results.path(key).isNumber(), key + " in " + results);
    }
    for (String key : List.of("engineFloorRateEos", "engineFloorCpuMicrosPerMessage", "ratioToEngineFloorEos")) {
      assertTrue(results.path(key).isNumber() && results.get(key).asDouble() > 0, key + " in " + results);
    }
    assertTrue(results.get("decisions").asInt() > 0, results.toString());
    assertTrue(results.get("decisionsMatchReplayEos").asBoolean(), results.toString());
    assertTrue(results.get("decisionsMatchReplayAlos").asBoolean(), results.toString());
    assertTrue(results.get("fastReplayDecisionsMatch").asBoolean(), "the fast engine decides as the topology");
    assertTrue(results.get("messageBytesMedian").asInt() > 2000, "realistic bodies: " + results);
    assertTrue(results.get("latencyP50Ms").asLong() <= results.get("latencyP99Ms").asLong(), results.toString());
  }
}
