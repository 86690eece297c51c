package org.triggerbot.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EmbeddedKafkaTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Shared by the tests that do not stop the broker: one start-up per class is enough. */
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void closeBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void bindsToLoopbackOnly() {
    assertTrue(kafka.bootstrapServers().matches("127\\.0\\.0\\.1:\\d+"), kafka.bootstrapServers());
    assertTrue(kafka.isRunning());
  }

  @Test
  void idempotentProducerRecordsAreReadBackWithReadCommitted() throws Exception {
    kafka.createTopic("plain", 2);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(kafka, null))) {
      for (int i = 0; i < 5; i++) {
        producer.send(new ProducerRecord<>("plain", "key-" + i, "value-" + i))
            .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      }
    }

    List<String> values = consumeValues(kafka, "plain", "plain-readers", 5);

    // Two partitions, so order is only per key; compare as sorted lists.
    assertEquals(List.of("value-0", "value-1", "value-2", "value-3", "value-4"),
        values.stream().sorted().toList());
  }

  @Test
  void transactionalCommitsAreVisibleAndAbortsAreNot() throws Exception {
    kafka.createTopic("transactional", 1);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(producerConfig(kafka, "embedded-kafka-test-tx"))) {
      producer.initTransactions();
      sendInTransaction(producer, "transactional", List.of("c1", "c2", "c3"), true);
      sendInTransaction(producer, "transactional", List.of("aborted1", "aborted2"), false);
      // A later commit, so reading up to it proves the aborted records were skipped.
      sendInTransaction(producer, "transactional", List.of("c4"), true);
    }

    assertEquals(List.of("c1", "c2", "c3", "c4"),
        consumeValues(kafka, "transactional", "tx-readers", 4));
  }

  @Test
  void topicConfigsAreApplied() throws Exception {
    kafka.createTopic("compacted", 1, Map.of("cleanup.policy", "compact"));
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(kafka, null))) {
      producer.send(new ProducerRecord<>("compacted", "k", "v")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
    assertEquals(List.of("v"), consumeValues(kafka, "compacted", "compacted-readers", 1));
  }

  @Test
  void rejectsOverridesOfOwnedSettings() {
    assertThrows(IllegalArgumentException.class,
        () -> EmbeddedKafka.start(Map.of("listeners", "PLAINTEXT://0.0.0.0:9092")));
  }

  @Test
  void dataOffsetsAndTransactionsSurviveStopAndRestartOnTheSamePorts() throws Exception {
    Path dataDir;
    try (EmbeddedKafka restartable = EmbeddedKafka.start();
         KafkaProducer<String, String> producer =
             new KafkaProducer<>(producerConfig(restartable, "embedded-kafka-test-restart"))) {
      dataDir = restartable.baseDir();
      restartable.createTopic("durable", 1);
      producer.initTransactions();
      sendInTransaction(producer, "durable", List.of("before-1", "before-2"), true);
      // Consume and commit, so the group's offset must survive the restart too.
      assertEquals(List.of("before-1", "before-2"),
          consumeValues(restartable, "durable", "durable-readers", 2));

      String bootstrapServers = restartable.bootstrapServers();
      restartable.stop();
      assertFalse(restartable.isRunning());
      restartable.restart();
      assertTrue(restartable.isRunning());
      assertEquals(bootstrapServers, restartable.bootstrapServers());

      // The producer made before the stop carries on: same transactional id, same address.
      sendInTransaction(producer, "durable", List.of("after-1"), true);

      assertEquals(List.of("after-1"), consumeValues(restartable, "durable", "durable-readers", 1),
          "the committed offset of the group survived the restart");
      assertEquals(List.of("before-1", "before-2", "after-1"),
          consumeValues(restartable, "durable", "late-readers", 3),
          "records written before the restart are still there");
    }
    assertFalse(Files.exists(dataDir), "close() deletes the data directory");
  }

  // ---------------------------------------------------------------------------------------

  private static Map<String, Object> producerConfig(EmbeddedKafka broker, String transactionalId) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    if (transactionalId != null) {
      config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    }
    return config;
  }

  // In a transaction a failed send fails commitTransaction, and an aborted one is discarded anyway: the sends'
  // Futures add nothing.
  @SuppressWarnings("FutureReturnValueIgnored")
  private static void sendInTransaction(KafkaProducer<String, String> producer, String topic,
      List<String> values, boolean commit) {
    producer.beginTransaction();
    for (String value : values) {
      producer.send(new ProducerRecord<>(topic, value, value));
    }
    if (commit) {
      producer.commitTransaction();
    } else {
      // Flush first so the aborted records really are in the log, behind an abort marker.
      producer.flush();
      producer.abortTransaction();
    }
  }

  /**
   * Reads {@code expected} values with read_committed in group {@code groupId}, then commits
   * the offsets. Fails if they do not all arrive within {@link #WAIT}.
   */
  private static List<String> consumeValues(EmbeddedKafka broker, String topic, String groupId, int expected) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);

    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          values.add(record.value());
        }
      }
      consumer.commitSync(WAIT);
    }
    assertEquals(expected, values.size(), () -> "records read from " + topic + ": " + values);
    return values;
  }
}
