package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/** The decide processor's per-reason sensors count exactly the decisions it forwards, reason by reason. */
class DecisionMetricsTest {

  @TempDir
  Path stateDir;

  @Test
  void eachReasonsSensorCountsItsDecisionsAndEveryReasonIsRegistered() {
    try (TopologyHarness h = new TopologyHarness(TopologyHarness.policy("budget.floor=2"), stateDir)) {
      h.pipe(ScenarioStream.generate(3, 4, 12).toArray(String[]::new));
      List<TriggerDecision> decisions = h.decisions();
      Map<DecisionReason, Integer> expected = new EnumMap<>(DecisionReason.class);
      decisions.forEach(d -> expected.merge(d.getReason(), 1, Integer::sum));
      assertTrue(expected.size() >= 2, "the scenario decides for more than one reason: " + expected);

      Map<MetricName, ? extends Metric> metrics = h.driver.metrics();
      for (DecisionReason reason : DecisionReason.values()) {
        String name = DecideProcessor.sensorName(reason) + "-total";
        double total = metrics.entrySet().stream()
            .filter(e -> e.getKey().group().equals("stream-triggerbot-metrics") && e.getKey().name().equals(name))
            .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
            .reduce(Double.NaN, (a, b) -> Double.isNaN(a) ? b : a + b);
        assertEquals(expected.getOrDefault(reason, 0).doubleValue(), total, name);
      }
    }
  }

  @Test
  void sensorNamesAreKebabCase() {
    assertEquals("decision-trigger-failure", DecideProcessor.sensorName(DecisionReason.TRIGGER_FAILURE));
    assertEquals("decision-skip-already-triggered", DecideProcessor.sensorName(DecisionReason.SKIP_ALREADY_TRIGGERED));
  }
}
