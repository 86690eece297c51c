package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.pulse.PulseJson;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * The topology of a processor on a {@code pulse.raw} of several partitions: records keyed by push are decided as
 * on one partition; a record that is not keyed by its push stops it (its push could be decided on two tasks), while
 * on one partition any key is fine (one task sees everything in order: topics from before SPEC 5 keep working).
 */
class PartitionedTopologyTest {

  @TempDir
  Path dir;

  private static final List<String> POLICY = TopologyHarness.policy();

  @Test
  void recordsKeyedByPushAreDecidedAsOnOnePartition() {
    List<String> feed = ScenarioStream.generate(11, 12, 10);
    List<TriggerDecision> one;
    try (TopologyHarness h = new TopologyHarness(POLICY, dir.resolve("one"), DecideProcessor.VERDICT_CACHE_PUSHES, 1)) {
      h.pipe(feed.toArray(String[]::new));
      one = h.decisions();
    }
    try (TopologyHarness h =
        new TopologyHarness(POLICY, dir.resolve("four"), DecideProcessor.VERDICT_CACHE_PUSHES, 4)) {
      h.pipe(feed.toArray(String[]::new));
      assertTrue(one.size() > 20, "the feed decides: " + one.size());
      assertEquals(one, h.decisions());
    }
  }

  @Test
  void aRecordNotKeyedByItsPushIsRefusedWithTheReasonAndTheWayOut() {
    PulseJson job = PulseJson.test("mochitest-1").number(3).atMinutes(1);
    try (TopologyHarness h = new TopologyHarness(POLICY, dir, DecideProcessor.VERDICT_CACHE_PUSHES, 4)) {
      h.pipe(job.started());
      StreamsException e = assertThrows(StreamsException.class,
          () -> h.pipeKeyed(job.routingKey("finished"), job.finished(2)));
      MisroutedRecordException cause = causeOf(e);
      assertNotNull(cause, "the cause is named: " + e);
      String message = cause.getMessage();
      assertTrue(message.contains("keyed \"" + job.routingKey("finished") + "\"") && message.contains(
          "belongs to push \"try/" + PulseJson.REV.substring(0, 12) + "\"") && message.contains("4 partitions")
          && message.contains("README"), message);
      assertEquals(List.of(), h.decisions(), "nothing decided on a push that may live on another task");
    }
  }

  @Test
  void onOnePartitionAnyKeyIsDecided() {
    PulseJson job = PulseJson.test("mochitest-1").number(3).atMinutes(1);
    try (TopologyHarness h = new TopologyHarness(POLICY, dir, DecideProcessor.VERDICT_CACHE_PUSHES, 1)) {
      h.pipeKeyed(job.routingKey("started"), job.started());
      h.pipeKeyed(job.routingKey("finished"), job.finished(2));
      List<TriggerDecision> decisions = h.decisions();
      assertEquals(1, decisions.size(), "the failure is decided: " + decisions);
    }
  }

  private static MisroutedRecordException causeOf(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MisroutedRecordException m) {
        return m;
      }
    }
    return null;
  }
}
