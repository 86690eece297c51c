package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.triggerbot.schemas.AvroSerde;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.sink.state.SinkEntry;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * The Kafka side of the in-process sink tests ({@code TriggerSinkIntegrationTest}, {@code TaskclusterSinkTest}): one
 * embedded broker with {@code trigger.commands} and {@code trigger.results} (one partition each), sinks run on their
 * own threads, commands produced, and each command's committed results and journal entries read back
 * ({@code read_committed}, as a restarted sink or a consumer of the results sees them). Every wait has a deadline.
 */
final class SinkHarness {

  static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final TopicPartition COMMANDS = new TopicPartition(Topics.TRIGGER_COMMANDS.name(), 0);
  private static final TopicPartition RESULTS = new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0);

  private final EmbeddedKafka kafka;
  private final List<TriggerSink> sinks = new ArrayList<>();

  private SinkHarness(EmbeddedKafka kafka) {
    this.kafka = kafka;
  }

  /** A broker with the command and result topics. */
  static SinkHarness start() {
    EmbeddedKafka kafka = EmbeddedKafka.start();
    kafka.createTopic(Topics.TRIGGER_COMMANDS.name(), 1);
    kafka.createTopic(Topics.TRIGGER_RESULTS.name(), 1);
    return new SinkHarness(kafka);
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /**
   * A sink's configuration on this broker, quick (requests time out after 2 s, {@code sink.retry.delay} 0.2 s,
   * back-off from 50 ms to 0.4 s), with a consumer group, transactional id and journal of its own named after
   * {@code id}; then {@code settings}, then {@code extra} ("key=value" each), later ones winning.
   */
  SinkConfig config(String id, Map<String, String> settings, String... extra) {
    Map<String, String> values = new HashMap<>();
    values.put(SinkConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(SinkConfig.BUILDAPI_TIMEOUT, "PT2S");
    values.put(SinkConfig.RETRY_DELAY, "PT0.2S");
    values.put(SinkConfig.BACKOFF_INITIAL, "PT0.05S");
    values.put(SinkConfig.BACKOFF_MAX, "PT0.4S");
    values.put(SinkConfig.GROUP_ID, "sink-" + id);
    values.put(SinkConfig.TRANSACTIONAL_ID, "sink-" + id);
    values.put(SinkConfig.JOURNAL_TOPIC, "sink-journal-" + id);
    values.putAll(settings);
    for (String kv : extra) {
      values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    return SinkConfig.of(values);
  }

  /** Runs {@code sink} on its own thread until {@link #stopSinks}; returns once it is ready. */
  TriggerSink start(TriggerSink sink) throws InterruptedException {
    sinks.add(sink);
    Thread t = new Thread(sink, "sink-under-test");
    t.setUncaughtExceptionHandler((thread, e) -> {}); // a simulated crash ends the thread; that is the point
    t.start();
    assertTrue(sink.awaitReady(DEADLINE), "the sink starts");
    return sink;
  }

  /** Stops every sink started (a crashed one is stopped already) and waits for each. */
  void stopSinks() throws InterruptedException {
    for (TriggerSink s : sinks) {
      s.close();
      s.awaitStopped();
    }
    sinks.clear();
  }

  /** Produces {@code command} to {@code trigger.commands} under {@code key}, waiting for the broker's ack. */
  void send(String key, TriggerCommand command) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, TriggerCommand> producer = new KafkaProducer<>(p,
        Topics.TRIGGER_COMMANDS.keySerde().serializer(), Topics.TRIGGER_COMMANDS.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(Topics.TRIGGER_COMMANDS.name(), key, command)).get();
    }
  }

  /** The results (read_committed) of one command. */
  List<TriggerResult> results(TriggerCommand command) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<TriggerResult> out = new ArrayList<>();
    try (KafkaConsumer<String, TriggerResult> c =
        new KafkaConsumer<>(p, Topics.TRIGGER_RESULTS.keySerde().deserializer(),
            Topics.TRIGGER_RESULTS.valueSerde().deserializer())) {
      c.assign(List.of(RESULTS));
      c.seekToBeginning(List.of(RESULTS));
      long end = c.endOffsets(List.of(RESULTS)).get(RESULTS);
      while (c.position(RESULTS) < end) {
        for (ConsumerRecord<String, TriggerResult> r : c.poll(Duration.ofMillis(200))) {
          if (r.value().getCommandId().equals(command.getCommandId())) {
            out.add(r.value());
          }
        }
      }
    }
    return out;
  }

  /** Waits for the command's result and checks it is its only one. */
  TriggerResult awaitResult(TriggerCommand command) {
    await("a result for " + command.getBuilder(), () -> !results(command).isEmpty());
    List<TriggerResult> results = results(command);
    assertEquals(1, results.size(), "exactly one result per command");
    return results.get(0);
  }

  /** The latest committed journal entry of each command (read_committed), as a restarted sink would see it. */
  Map<String, SinkEntry> journal(SinkConfig config) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    AvroSerde<SinkEntry> serde = AvroSerde.of(SinkEntry.class);
    Map<String, SinkEntry> latest = new HashMap<>();
    try (KafkaConsumer<String, SinkEntry> c = new KafkaConsumer<>(p, Serdes.String().deserializer(),
        serde.deserializer())) {
      TopicPartition tp = new TopicPartition(config.journalTopic(), 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<String, SinkEntry> r : c.poll(Duration.ofMillis(200))) {
          latest.put(r.key(), r.value());
        }
      }
    }
    return latest;
  }

  /**
   * Waits until the sink of {@code config} has accepted every command produced so far (its consumer group's
   * committed offset is at the end of {@code trigger.commands}) and finished every one ({@code pending() == 0}):
   * nothing of earlier commands is left to call its simulator.
   */
  void awaitIdle(TriggerSink sink, SinkConfig config) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (Admin admin = Admin.create(p)) {
      long end = admin.listOffsets(Map.of(COMMANDS, OffsetSpec.latest())).partitionResult(COMMANDS).get().offset();
      // A group not known yet fails the check: a checked exception, "not yet" for Await.
      Await.until("the sink to accept every command up to offset " + end + " and finish them", DEADLINE, () -> {
        OffsetAndMetadata committed = admin.listConsumerGroupOffsets(config.getString(SinkConfig.GROUP_ID))
            .partitionsToOffsetAndMetadata().get().get(COMMANDS);
        return committed != null && committed.offset() >= end && sink.pending() == 0;
      });
    }
  }

  /**
   * Hooks that throw right before the {@code n}-th rebuild POST or hook trigger (after its POSTING commit),
   * recording in {@code posting} the command of each one about to leave.
   */
  static TriggerSink.Hooks crashBeforePost(int n, List<String> posting) {
    return new TriggerSink.Hooks() {
      @Override
      public void beforePost(String commandId) {
        posting.add(commandId);
        if (posting.size() == n) {
          throw new IllegalStateException("simulated crash after the POSTING commit, before the POST");
        }
      }
    };
  }

  static void await(String what, BooleanSupplier condition) {
    Await.until(what, DEADLINE, condition::getAsBoolean);
  }

  /** Stops the sinks still running, then the broker. */
  void close() throws InterruptedException {
    try {
      stopSinks();
    } finally {
      kafka.close();
    }
  }
}
