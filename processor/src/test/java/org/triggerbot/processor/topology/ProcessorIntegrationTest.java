package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.testsupport.pulse.ScenarioStream;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.EmbeddedKafka;

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
    // The scenario's event times are in 2015: without retention.ms=-1 the broker would roll and delete
    // segments by those timestamps while the test reads them.
    for (Topic<String, ?> topic : Topics.ALL) {
      kafka.createTopic(topic.name(), 1, Map.of("retention.ms", "-1"));
    }
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

    List<TriggerDecision> expected;
    List<TriggerCommand> expectedCommands;
    int expectedAfterFirstHalf;
    try (TopologyHarness h = new TopologyHarness(policy, stateA.resolve("replay"))) {
      h.pipe(stream.subList(0, half).toArray(String[]::new));
      expectedAfterFirstHalf = h.decisions().size();
    }
    try (TopologyHarness h = new TopologyHarness(policy, stateA.resolve("replay-all"))) {
      h.pipe(stream.toArray(String[]::new));
      expected = h.decisions();
      expectedCommands = h.commands();
    }
    assertTrue(expectedAfterFirstHalf > 10 && expected.size() > expectedAfterFirstHalf + 10,
        "both halves must decide something: " + expectedAfterFirstHalf + " of " + expected.size());

    produce(stream.subList(0, half));
    try (KafkaStreams first = start(policy, stateA.resolve("live"))) {
      List<TriggerDecision> soFar = readAtLeast(Topics.TRIGGER_DECISIONS, expectedAfterFirstHalf);
      assertEquals(expectedAfterFirstHalf, soFar.size());
      // Leave the group, so the second instance need not wait out the first one's session timeout.
      first.close(CloseOptions.timeout(Duration.ofSeconds(30))
          .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }

    produce(stream.subList(half, stream.size()));
    try (KafkaStreams second = start(policy, stateB)) {
      List<TriggerDecision> decisions = readAtLeast(Topics.TRIGGER_DECISIONS, expected.size());
      List<TriggerCommand> commands = readAtLeast(Topics.TRIGGER_COMMANDS, expectedCommands.size());
      decisions.forEach(d -> {
        assertTrue(d.getDecidedAt() != null, "a live decision carries its wall-clock time");
        d.setDecidedAt(null);
      });
      assertSameSequence(expected, decisions);
      assertSameSequence(expectedCommands, commands);

      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
        Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        for (String internal : List.of("by-push-repartition", "push-state-changelog", "builder-state-changelog",
            "seen-events-changelog", "global-triggers-changelog")) {
          assertTrue(names.contains("triggerbot-it-" + internal), "named internal topic " + internal + " in " + names);
        }
      }
    }
  }

  private static KafkaStreams start(List<String> policy, Path stateDir) {
    Map<String, String> values = new HashMap<>();
    policy.forEach(kv -> values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, "triggerbot-it");
    values.put(ProcessorConfig.STATE_DIR, stateDir.toString());
    values.put(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    ProcessorConfig config = ProcessorConfig.of(values);
    assertEquals(StreamsConfig.EXACTLY_ONCE_V2, config.streamsProperties().get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    KafkaStreams streams = new KafkaStreams(ProcessorTopology.build(config.topologySettings()), config.streamsProperties());
    streams.start();
    return streams;
  }

  private static void produce(List<String> bodies) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, PulseMessage> producer = new KafkaProducer<>(p,
        Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer())) {
      for (String body : bodies) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        PulseEnvelope envelope = PulseEnvelope.read(bytes);
        long ts = envelope.sent() == null ? 0L : envelope.sent();
        String key = envelope.routingKey() == null ? "" : envelope.routingKey();
        producer.send(new ProducerRecord<>(Topics.PULSE_RAW.name(), null, ts, key, PulseMessage.newBuilder()
            .setExchange("exchange/build/").setRoutingKey(key).setBody(ByteBuffer.wrap(bytes))
            .setReceivedAt(Instant.ofEpochMilli(ts)).build()));
      }
      producer.flush();
    }
  }

  /** Reads the whole topic with read_committed until it holds at least {@code count} records, or fails. */
  private static <V> List<V> readAtLeast(Topic<String, V> topic, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<V> out = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(p, topic.keySerde().deserializer(),
        topic.valueSerde().deserializer())) {
      TopicPartition tp = new TopicPartition(topic.name(), 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (out.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, V> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
      // Anything more than expected would be a duplicate: read what else is committed right now.
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
    }
    assertTrue(out.size() >= count, topic.name() + ": " + out.size() + " of " + count + " records within " + DEADLINE);
    return out;
  }

  static <T> void assertSameSequence(List<T> expected, List<T> actual) {
    for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
      assertEquals(expected.get(i), actual.get(i), "first difference at index " + i);
    }
    assertEquals(expected.size(), actual.size(), "same prefix, different lengths");
  }
}
