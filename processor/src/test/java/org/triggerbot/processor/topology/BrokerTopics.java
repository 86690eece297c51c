package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * The processor's topics on a real broker, as the integration and crash tests use them: created like production
 * (one partition each), fed as the bridge feeds {@code pulse.raw}, and read back the way a downstream consumer
 * reads them, with {@code isolation.level=read_committed}, so an aborted transaction's records never count.
 * The expected side of every comparison is the offline replay ({@link TopologyHarness}) of the same lines.
 */
public final class BrokerTopics {

  private BrokerTopics() {}

  /**
   * Creates every external topic with one partition. The scenario's event times are in 2015: without
   * {@code retention.ms=-1} the broker would roll and delete segments by those timestamps while a test reads them.
   */
  static void createAll(EmbeddedKafka kafka) {
    createAll(kafka, 1);
  }

  /** As {@link #createAll(EmbeddedKafka)}, {@code pulse.raw} with {@code pulseRawPartitions} partitions. */
  public static void createAll(EmbeddedKafka kafka, int pulseRawPartitions) {
    for (Topic<String, ?> topic : Topics.ALL) {
      kafka.createTopic(topic.name(), topic.equals(Topics.PULSE_RAW) ? pulseRawPartitions : 1,
          Map.of("retention.ms", "-1"));
    }
  }

  /** An idempotent producer of {@code pulse.raw} records (acks=all): retries never duplicate or reorder input. */
  static KafkaProducer<String, PulseMessage> pulseProducer(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer());
  }

  /** A Pulse body as the bridge writes it: key = its push (else its routing key), timestamp = {@code _meta.sent}. */
  static ProducerRecord<String, PulseMessage> pulseRecord(String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    PulseEnvelope envelope = PulseEnvelope.read(bytes);
    long ts = envelope.sent() == null ? 0L : envelope.sent();
    String routingKey = envelope.routingKey() == null ? "" : envelope.routingKey();
    return new ProducerRecord<>(Topics.PULSE_RAW.name(), null, ts, envelope.recordKey(routingKey),
        PulseMessage.newBuilder()
            .setExchange("exchange/build/").setRoutingKey(routingKey).setBody(ByteBuffer.wrap(bytes))
            .setReceivedAt(Instant.ofEpochMilli(ts)).build());
  }

  /** Writes {@code bodies} to {@code pulse.raw} in order and waits until the broker has them all. */
  static void produce(String bootstrapServers, List<String> bodies) {
    try (KafkaProducer<String, PulseMessage> producer = pulseProducer(bootstrapServers)) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      bodies.forEach(body -> acks.add(producer.send(pulseRecord(body))));
      producer.flush();
      awaitAcknowledged(acks);
    }
  }

  /**
   * Checks the outcome of each send (complete after a {@code flush}, so the timeout is only a backstop): fails if
   * the broker did not take a record, rather than letting a test go on with input missing.
   */
  public static void awaitAcknowledged(List<Future<RecordMetadata>> acks) {
    try {
      for (Future<RecordMetadata> ack : acks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for pulse.raw to acknowledge the input", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("could not write the input to pulse.raw", e);
    }
  }

  /** A consumer that sees committed records only and never commits offsets itself. */
  static <V> KafkaConsumer<String, V> readCommittedConsumer(String bootstrapServers, Topic<String, V> topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return new KafkaConsumer<>(p, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
  }

  /**
   * Reads the whole (one-partition) topic with read_committed until it holds at least {@code count} records, then
   * everything else committed by then (anything beyond {@code count} would be a duplicate); fails after
   * {@code timeout}.
   */
  static <V> List<V> readAtLeast(String bootstrapServers, Topic<String, V> topic, int count, Duration timeout) {
    List<V> out = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = readCommittedConsumer(bootstrapServers, topic)) {
      TopicPartition tp = new TopicPartition(topic.name(), 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, V> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
      // With read_committed the end offset is the last stable offset: everything committed right now.
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
    }
    assertTrue(out.size() >= count, topic.name() + ": " + out.size() + " of " + count + " records within " + timeout);
    return out;
  }

  /** Every record of the (one-partition) topic committed right now, in offset order. */
  static <V> List<V> readAllCommitted(String bootstrapServers, Topic<String, V> topic, Duration timeout) {
    return readAtLeast(bootstrapServers, topic, 0, timeout);
  }

  /**
   * Live decisions carry the wall-clock time they were made at; the replay leaves it null. Checks that each one
   * has it, and clears it so the rest can be compared with the replay field for field.
   */
  static List<TriggerDecision> withoutDecidedAt(List<TriggerDecision> live) {
    live.forEach(d -> {
      assertNotNull(d.getDecidedAt(), "a live decision carries its wall-clock time: " + d);
      d.setDecidedAt(null);
    });
    return live;
  }

  /** Record for record: names the first index that differs, then the lengths (a loss or a duplicate at the end). */
  static <T> void assertSameSequence(List<T> expected, List<T> actual, String what) {
    for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
      assertEquals(expected.get(i), actual.get(i), what + ": first difference at index " + i);
    }
    assertEquals(expected.size(), actual.size(), what + ": same prefix, different lengths");
  }
}
