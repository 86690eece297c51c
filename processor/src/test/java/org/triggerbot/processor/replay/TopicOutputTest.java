package org.triggerbot.processor.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.schemas.BuilderClassification;
import org.triggerbot.schemas.BuilderVerdict;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.JobEvent;
import org.triggerbot.schemas.JobRun;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.schemas.VerdictState;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * {@link TopicOutput} against a real broker: records land on both prefixed topics keyed {@code branch/revision} and
 * read back with the schemas' serdes; the topics are created as the real ones (verdicts compacted); a prefix that
 * could not name a topic, or none, is refused; a failed send is reported.
 */
class TopicOutputTest {

  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void writesDecisionsAndVerdictsKeyedByPushToTheirPrefixedTopics() throws Exception {
    String prefix = "replay-" + PREFIXES.incrementAndGet();
    List<TriggerDecision> decisions = List.of(
        decision("try", "0123456789ab", "linux64 test mochitest-1", DecisionReason.TRIGGER_FAILURE),
        decision("try", "0123456789ab", "linux64 test xpcshell", DecisionReason.SKIP_PUSH_BUDGET),
        decision("mozilla-inbound", "ba9876543210", "linux64 test mochitest-2", DecisionReason.DRY_RUN));
    List<PushVerdict> verdicts = List.of(
        verdict("try", "0123456789ab", VerdictState.PENDING),
        verdict("try", "0123456789ab", VerdictState.FAILING),
        verdict("mozilla-inbound", "ba9876543210", VerdictState.GREEN));

    try (TopicOutput out = TopicOutput.open(kafka.bootstrapServers(), prefix, 3, Map.of())) {
      assertEquals(prefix + ".trigger.decisions", out.decisionsTopic());
      assertEquals(prefix + ".push.verdicts", out.verdictsTopic());
      assertTrue(out.wantsVerdicts());
      for (int i = 0; i < decisions.size(); i++) {
        out.decision(decisions.get(i));
        out.verdict(verdicts.get(i));
      }
      out.flush();
    }

    // Per key, in write order: one push's records share a partition, so their order is kept.
    Map<String, List<TriggerDecision>> expectedDecisions = new LinkedHashMap<>();
    decisions.forEach(d -> expectedDecisions.computeIfAbsent(d.getBranch() + "/" + d.getRevision(),
        k -> new ArrayList<>()).add(d));
    Map<String, List<PushVerdict>> expectedVerdicts = new LinkedHashMap<>();
    verdicts.forEach(v -> expectedVerdicts.computeIfAbsent(v.getBranch() + "/" + v.getRevision(),
        k -> new ArrayList<>()).add(v));
    assertEquals(expectedDecisions, readByKey(prefix + ".trigger.decisions", Topics.TRIGGER_DECISIONS));
    assertEquals(expectedVerdicts, readByKey(prefix + ".push.verdicts", Topics.PUSH_VERDICTS));

    try (Admin admin = admin()) {
      Map<String, TopicDescription> topics = admin.describeTopics(
          List.of(prefix + ".trigger.decisions", prefix + ".push.verdicts")).allTopicNames().get(30, TimeUnit.SECONDS);
      topics.values().forEach(t -> assertEquals(3, t.partitions().size(), t.name()));
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, prefix + ".push.verdicts");
      Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
      assertEquals("compact", config.get("cleanup.policy").value());
    }
  }

  @Test
  void usesTopicsThatAlreadyExist() throws Exception {
    String prefix = "again-" + PREFIXES.incrementAndGet();
    TriggerDecision first = decision("try", "0123456789ab", "b1", DecisionReason.DRY_RUN);
    TriggerDecision second = decision("try", "0123456789ab", "b2", DecisionReason.DRY_RUN);
    try (TopicOutput out = TopicOutput.open(kafka.bootstrapServers(), prefix, 1, Map.of())) {
      out.decision(first);
    }
    try (TopicOutput out = TopicOutput.open(kafka.bootstrapServers(), prefix, 1, Map.of())) {
      out.decision(second);
    }
    assertEquals(Map.of("try/0123456789ab", List.of(first, second)),
        readByKey(prefix + ".trigger.decisions", Topics.TRIGGER_DECISIONS));
  }

  @Test
  void refusesAPrefixThatCannotNameATopic() {
    for (String prefix : new String[] {"", " ", "has space", "a/b", "colon:", "é", "x".repeat(240)}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> TopicOutput.open(kafka.bootstrapServers(), prefix, 1, Map.of()), "prefix '" + prefix + "'");
      assertTrue(e.getMessage().contains("'" + prefix + "'"), e.getMessage());
    }
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> TopicOutput.open(kafka.bootstrapServers(), null, 1, Map.of()));
    assertTrue(none.getMessage().contains("prefix"), none.getMessage());
  }

  @Test
  void reportsAFailedSendAtTheNextFlush() throws Exception {
    String prefix = "fails-" + PREFIXES.incrementAndGet();
    TopicOutput out = TopicOutput.open(kafka.bootstrapServers(), prefix, 1,
        Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1024));
    out.decision(decision("try", "0123456789ab", "small", DecisionReason.DRY_RUN));
    out.decision(decision("try", "0123456789ab", "x".repeat(4096), DecisionReason.DRY_RUN)); // too large to send
    IOException flushed = assertThrows(IOException.class, out::flush);
    assertTrue(flushed.getMessage().contains(prefix + ".trigger.decisions"), flushed.getMessage());
    assertThrows(IOException.class, () -> out.decision(decision("try", "0123456789ab", "b", DecisionReason.DRY_RUN)));
    assertThrows(IOException.class, out::close); // still closes its clients
    out.close(); // idempotent
  }

  // --- helpers ---------------------------------------------------------------------------------------------------

  private static TriggerDecision decision(String branch, String revision, String builder, DecisionReason reason) {
    return TriggerDecision.newBuilder()
        .setDecisionId(branch + "/" + revision + "/" + builder + "/" + reason)
        .setBranch(branch)
        .setRevision(revision)
        .setBuilder(builder)
        .setEvent(JobEvent.FINISHED)
        .setResult(2)
        .setReason(reason)
        .setCount(1)
        .setFailuresOnPush(0)
        .setJobsOnPush(4)
        .setBudgetLimit(2)
        .setPolicyVersion("test-policy")
        .setUser("dev@example.com")
        .setEventTime(Instant.parse("2015-04-01T12:00:00Z"))
        .setRoutingKey("build.try.finished")
        .build();
  }

  private static PushVerdict verdict(String branch, String revision, VerdictState state) {
    return PushVerdict.newBuilder()
        .setBranch(branch)
        .setRevision(revision)
        .setState(state)
        .setBuilders(List.of(BuilderVerdict.newBuilder()
            .setBuilder("linux64 test mochitest-1")
            .setClassification(BuilderClassification.INTERMITTENT)
            .setRuns(List.of(JobRun.newBuilder().setBuildNumber(12).setResult(2).build(),
                JobRun.newBuilder().setBuildNumber(13).setResult(0).build()))
            .setJobsIssued(1)
            .build()))
        .setUpdatedAt(Instant.parse("2015-04-01T12:30:00Z"))
        .build();
  }

  private static Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
  }

  /** Every record of the topic now, decoded with the registry's serdes, grouped by key in offset order. */
  private static <V> Map<String, List<V>> readByKey(String topic, Topic<String, V> schema) {
    Map<String, List<V>> out = new LinkedHashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition()))
          .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        assertTrue(System.nanoTime() < deadline, "read " + topic + " to its end within 30 s");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          String key = schema.keySerde().deserializer().deserialize(topic, r.key());
          out.computeIfAbsent(key, k -> new ArrayList<>())
              .add(schema.valueSerde().deserializer().deserialize(topic, r.value()));
        }
      }
    }
    return out;
  }
}
