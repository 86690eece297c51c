package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.topology.BrokerTopics.assertSameSequence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * The processor against a real in-process KRaft broker with exactly-once on: Pulse records into
 * {@code pulse.raw}, decisions and commands out (read with read_committed), equal to the replay of the same
 * stream. Half-way the application is closed and restarted with an empty state directory, so the second half
 * is decided on state restored from the changelog topics alone.
 */
class ProcessorIntegrationTest {

  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static EmbeddedKafka kafka;

  @TempDir
  Path stateA;

  @TempDir
  Path stateB;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start();
    BrokerTopics.createAll(kafka);
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void decidesExactlyOnceLikeTheReplayAcrossARestartFromTheChangelog() throws Exception {
    List<String> stream = ScenarioStream.generate(7, 8, 15);
    List<String> policy = TopologyHarness.policy("budget.floor=2", "global.max.failure.triggers.per.hour=20");
    int half = stream.size() / 2;

    int expectedAfterFirstHalf = TopologyHarness.replay(policy, stateA.resolve("replay"), stream.subList(0, half))
        .decisions().size();
    TopologyHarness.Replayed all = TopologyHarness.replay(policy, stateA.resolve("replay-all"), stream);
    List<TriggerDecision> expected = all.decisions();
    List<TriggerCommand> expectedCommands = all.commands();
    assertTrue(expectedAfterFirstHalf > 10 && expected.size() > expectedAfterFirstHalf + 10,
        "both halves must decide something: " + expectedAfterFirstHalf + " of " + expected.size());

    BrokerTopics.produce(kafka.bootstrapServers(), stream.subList(0, half));
    try (KafkaStreams first = start(policy, stateA.resolve("live"))) {
      List<TriggerDecision> soFar = readAtLeast(Topics.TRIGGER_DECISIONS, expectedAfterFirstHalf);
      assertEquals(expectedAfterFirstHalf, soFar.size());
      // Leave the group, so the second instance need not wait out the first one's session timeout.
      first.close(CloseOptions.timeout(Duration.ofSeconds(30))
          .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }

    BrokerTopics.produce(kafka.bootstrapServers(), stream.subList(half, stream.size()));
    try (KafkaStreams second = start(policy, stateB)) {
      List<TriggerDecision> decisions = readAtLeast(Topics.TRIGGER_DECISIONS, expected.size());
      List<TriggerCommand> commands = readAtLeast(Topics.TRIGGER_COMMANDS, expectedCommands.size());
      assertTrue(second.state().isRunningOrRebalancing(), "the second instance decided and still runs: "
          + second.state());
      assertSameSequence(expected, BrokerTopics.withoutDecidedAt(decisions), "decisions");
      assertSameSequence(expectedCommands, commands, "commands");

      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
        Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        for (String internal : List.of("push-state-changelog", "builder-state-changelog",
            "seen-events-changelog", "global-triggers-changelog")) {
          assertTrue(names.contains("triggerbot-it-" + internal), "named internal topic " + internal + " in " + names);
        }
        assertEquals(Set.of(), names.stream().filter(n -> n.endsWith("-repartition")).collect(
            java.util.stream.Collectors.toSet()), "pulse.raw is keyed by push: nothing is repartitioned");
      }
    }
  }

  private static <V> List<V> readAtLeast(Topic<String, V> topic, int count) {
    return BrokerTopics.readAtLeast(kafka.bootstrapServers(), topic, count, DEADLINE);
  }

  private static KafkaStreams start(List<String> policy, Path stateDir) {
    Map<String, String> values = new HashMap<>();
    policy.forEach(kv -> values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, "triggerbot-it");
    values.put(ProcessorConfig.STATE_DIR, stateDir.toString());
    values.put(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    ProcessorConfig config = ProcessorConfig.of(values);
    assertEquals(StreamsConfig.EXACTLY_ONCE_V2,
        config.streamsProperties().get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    KafkaStreams streams =
        new KafkaStreams(ProcessorTopology.build(config.topologySettings(1)), config.streamsProperties());
    streams.start();
    return streams;
  }
}
