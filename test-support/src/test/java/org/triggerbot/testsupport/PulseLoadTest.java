package org.triggerbot.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.triggerbot.testsupport.pulse.PulseLoad;

class PulseLoadTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theSameSeedGivesTheSameLoadInTimeOrder() {
    PulseLoad a = PulseLoad.of(7, 6, 40);
    PulseLoad b = PulseLoad.of(7, 6, 40);
    assertEquals(a.events(), b.events());
    List<PulseLoad.Event> events = a.events();
    for (int i = 1; i < events.size(); i++) {
      assertTrue(events.get(i - 1).sentMillis() <= events.get(i).sentMillis(), "in time order at " + i);
    }
    // 3 builds and 40 test jobs a push, three messages each, plus retriggers and duplicates.
    assertTrue(events.size() >= 6 * 43 * 3, "size " + events.size());
  }

  @Test
  void bodiesWeighSeveralKilobytesAndAgreeWithTheirRoutingKeys() throws Exception {
    PulseLoad load = PulseLoad.of(3, 10, 130);
    int[] sizes = new int[load.size()];
    Set<String> branches = new HashSet<>();
    int malformed = 0;
    for (int i = 0; i < load.size(); i++) {
      PulseLoad.Event e = load.events().get(i);
      String body = load.render(e);
      sizes[i] = body.getBytes(StandardCharsets.UTF_8).length;
      if (e.malformed()) {
        malformed++;
        continue;
      }
      JsonNode meta = JSON.readTree(body).get("_meta");
      assertEquals(load.routingKey(e), meta.get("routing_key").asText());
      assertTrue(load.routingKey(e).endsWith("." + e.kind()), load.routingKey(e));
      assertEquals(Instant.ofEpochMilli(e.sentMillis()), Instant.parse(meta.get("sent").asText()));
      branches.add(JSON.readTree(body).at("/payload/build/sourceStamp/branch").asText());
    }
    Arrays.sort(sizes);
    assertTrue(sizes[sizes.length / 2] > 4000, "median body " + sizes[sizes.length / 2] + " B");
    assertTrue(branches.contains("try") && branches.size() > 1, "try and other branches: " + branches);
    assertTrue(malformed < load.size() / 100, "a few malformed: " + malformed);
  }

  @Test
  void aLiveFeedRestampsTheMessage() throws Exception {
    PulseLoad load = PulseLoad.of(1, 1, 5);
    PulseLoad.Event e = load.events().get(0);
    Instant now = Instant.parse("2026-11-28T12:00:00.123Z");
    assertEquals(now, Instant.parse(JSON.readTree(load.render(e, now)).at("/_meta/sent").asText()));
  }
}
