package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.topology.BrokerTopics.assertSameSequence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.AdminServer;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.processor.app.ProcessorService;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.HttpProbe;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * The Kafka broker restarts under a running processor (a clean stop, then a start on the same data): the processor
 * says so on {@code /health/ready} while the broker is away, is ready again by itself once it is back, and its whole
 * output, read with read_committed, equals the replay of its input: nothing lost, nothing twice.
 */
class ProcessorKafkaRestartTest {

  private static final Duration DEADLINE = Duration.ofSeconds(90);

  @TempDir
  Path dir;

  @Test
  void theProcessorIsNotReadyWhileKafkaIsAwayAndDecidesLikeTheReplayAcrossTheRestart() throws Exception {
    // Large enough that the broker stops in the middle of it, with a transaction of the processor's open.
    List<String> stream = ScenarioStream.generate(5, 300, 12);
    List<String> policy = TopologyHarness.policy("budget.floor=2");
    TopologyHarness.Replayed all = TopologyHarness.replay(policy, dir.resolve("replay"), stream);
    assertTrue(all.decisions().size() > 1_000, "the feed decides: " + all.decisions().size());

    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      BrokerTopics.createAll(kafka);
      try (ProcessorService processor = ProcessorService.start(config(kafka, policy))) {
        String ready = "http://127.0.0.1:" + processor.adminPort() + "/health/ready";
        Await.until("ready", DEADLINE, () -> HttpProbe.status(ready) == 200);
        BrokerTopics.produce(kafka.bootstrapServers(), stream);
        int third = all.decisions().size() / 3;
        int before = BrokerTopics.readAtLeast(kafka.bootstrapServers(), Topics.TRIGGER_DECISIONS, third, DEADLINE)
            .size();

        long stopped = System.nanoTime();
        kafka.stop();
        Await.until("/health/ready to say that Kafka is away", DEADLINE, () -> HttpProbe.status(ready) == 503);
        long notReadyAfter = millisSince(stopped);
        String why = HttpProbe.body(ready);
        assertTrue(why.contains("no connection to any Kafka broker"), why);
        assertEquals(KafkaStreams.State.RUNNING, processor.streams().state(),
            "Kafka Streams itself stays RUNNING: only the connections tell");

        long restarted = System.nanoTime();
        kafka.restart();
        Await.until("ready again once Kafka is back", DEADLINE, () -> HttpProbe.status(ready) == 200);
        long readyAgainAfter = millisSince(restarted);

        String bootstrap = kafka.bootstrapServers();
        assertSameSequence(all.decisions(), BrokerTopics.withoutDecidedAt(
            BrokerTopics.readAtLeast(bootstrap, Topics.TRIGGER_DECISIONS, all.decisions().size(), DEADLINE)),
            "decisions");
        assertSameSequence(all.commands(),
            BrokerTopics.readAtLeast(bootstrap, Topics.TRIGGER_COMMANDS, all.commands().size(), DEADLINE),
            "commands");
        assertSameSequence(all.verdicts(),
            BrokerTopics.readAtLeast(bootstrap, Topics.PUSH_VERDICTS, all.verdicts().size(), DEADLINE), "verdicts");
        assertEquals(200, HttpProbe.status(ready));
        System.out.printf("kafka restart under the processor: %d inputs, %d decisions (%d committed when the "
            + "broker stopped), %d commands, %d verdicts, as the replay (0 lost, 0 twice); not ready %d ms "
            + "after the stop, ready %d ms after the restart%n", stream.size(), all.decisions().size(), before,
            all.commands().size(), all.verdicts().size(), notReadyAfter, readyAgainAfter);
      }
    }
  }

  private ProcessorConfig config(EmbeddedKafka kafka, List<String> policy) {
    Map<String, String> values = new HashMap<>();
    policy.forEach(kv -> values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, "triggerbot-kafka-restart");
    values.put(ProcessorConfig.STATE_DIR, dir.resolve("live").toString());
    values.put(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    values.put(ProcessorConfig.ADMIN_ADVERTISED_HOST, "127.0.0.1");
    return ProcessorConfig.of(values);
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
