package org.triggerbot.processor.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class DeciderTest {

  /** Decision ids are what every earlier release wrote: a name-based UUID of push, life and routing key. */
  @Test
  void decisionIdsAreTheNameBasedUuidsOfPushLifeAndRoutingKey() {
    Random random = new Random(3);
    for (int i = 0; i < 2_000; i++) {
      String push = "try/" + Long.toHexString(random.nextLong());
      long life = random.nextLong();
      String key = "build.try_x_test-é" + random.nextInt() + ".finished";
      assertEquals(UUID.nameUUIDFromBytes((push + "\n" + life + "\n" + key).getBytes(StandardCharsets.UTF_8))
          .toString(), Decider.decisionId(push, life, key));
    }
  }
}
