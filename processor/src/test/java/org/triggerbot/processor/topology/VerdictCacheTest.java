package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.topology.BrokerTopics.assertSameSequence;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.testsupport.pulse.PulseLoad;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * {@code decide} keeps the verdict entries of recent pushes in memory instead of reading all of a push's builders
 * for each verdict: whatever it keeps, the verdicts must be exactly those read from the store, also when pushes
 * overlap in time, expire, and outnumber the cache.
 */
class VerdictCacheTest {

  @TempDir
  Path dir;

  private List<PushVerdict> verdicts(List<String> feed, int cachedPushes, String name, String... policy) {
    try (TopologyHarness h = new TopologyHarness(List.of(policy), dir.resolve(name), cachedPushes)) {
      h.pipe(feed.toArray(String[]::new));
      return h.verdicts();
    }
  }

  @Test
  void aRealisticLoadGivesTheSameVerdictsWithAndWithoutTheCache() throws Exception {
    PulseLoad load = PulseLoad.of(7, 12, 40);
    List<String> feed = new ArrayList<>();
    load.events().forEach(e -> feed.add(load.render(e)));
    List<PushVerdict> fromStore = verdicts(feed, 0, "store");
    assertTrue(fromStore.size() > 200, "the load changes verdicts often: " + fromStore.size());
    assertSameSequence(fromStore, verdicts(feed, DecideProcessor.VERDICT_CACHE_PUSHES, "cached"), "cache of 256");
    assertSameSequence(fromStore, verdicts(feed, 2, "evicting"), "cache of 2 pushes, evicting all the time");
  }

  @Test
  void expiredPushesLeaveTheCache() {
    // Pushes one every 7 minutes with a 30-minute TTL: the same revisions come back as new lives.
    List<String> feed = new ArrayList<>(ScenarioStream.generate(5, 6, 15));
    feed.addAll(ScenarioStream.generate(5, 6, 15).stream()
        .map(line -> line.replace("\"sent\":\"2015-06-01T", "\"sent\":\"2015-06-02T")).toList());
    List<PushVerdict> fromStore = verdicts(feed, 0, "store", "push.ttl=PT30M");
    assertTrue(fromStore.size() > 50, "verdicts: " + fromStore.size());
    assertSameSequence(fromStore, verdicts(feed, 3, "cached", "push.ttl=PT30M"), "cache of 3 pushes");
  }
}
