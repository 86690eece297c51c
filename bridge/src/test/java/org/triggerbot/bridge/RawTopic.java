package org.triggerbot.bridge;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.EmbeddedKafka;

/** Reading back what bridges wrote to a one-partition {@code pulse.raw} or {@code pulse.rejected}. */
final class RawTopic {

  private RawTopic() {}

  /** Every message of {@code pulse.raw} whose routing key contains {@code tag}, in offset order. */
  static List<PulseMessage> messages(EmbeddedKafka kafka, String tag) {
    return records(kafka, Topics.PULSE_RAW.name(), tag).stream().map(RawTopic::value).toList();
  }

  /**
   * Every record of {@code topic} (partition 0, read_committed, in offset order) whose routing key contains
   * {@code tag}: in {@code pulse.raw} the message's (the record key is its push), in {@code pulse.rejected} the
   * record key.
   */
  static List<ConsumerRecord<String, byte[]>> records(EmbeddedKafka kafka, String topic, String tag) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          String routingKey = topic.equals(Topics.PULSE_RAW.name()) ? value(r).getRoutingKey() : r.key();
          if (routingKey != null && routingKey.contains(tag)) {
            out.add(r);
          }
        }
      }
    }
    return out;
  }

  /** The {@code PulseMessage} of a {@code pulse.raw} record. */
  static PulseMessage value(ConsumerRecord<String, byte[]> r) {
    return Topics.PULSE_MESSAGE.decode(r.value(), "test");
  }

  /** The bytes of a buffer (a body), leaving the buffer as it is. */
  static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  static Set<String> routingKeys(List<PulseMessage> messages) {
    Set<String> keys = new HashSet<>();
    messages.forEach(m -> keys.add(m.getRoutingKey()));
    return keys;
  }

  /**
   * Copies beyond the first of each routing key, checking that each such later copy says it was redelivered (the
   * broker delivered it before and the bridge did not get to acknowledge it).
   *
   * @throws AssertionError naming the routing key of a duplicate not flagged redelivered
   */
  static int duplicatesAllFlaggedRedelivered(List<PulseMessage> messages) {
    Set<String> seen = new HashSet<>();
    int duplicates = 0;
    for (PulseMessage m : messages) {
      if (!seen.add(m.getRoutingKey())) {
        duplicates++;
        if (!m.getRedelivered()) {
          throw new AssertionError("a second copy of " + m.getRoutingKey() + " is not flagged redelivered");
        }
      }
    }
    return duplicates;
  }
}
