package org.triggerbot.processor.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * {@link TopicSource} against a real broker: what it returns (everything at open, or a time window), in which order
 * (partitions merged by timestamp as a Kafka Streams task does), what an unreadable record becomes, and that it
 * leaves no trace (no consumer group, no committed offset).
 */
class TopicSourceTest {

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static EmbeddedKafka kafka;

  /** One produced record: where it landed, its timestamp, and what was written. */
  @SuppressWarnings("ArrayRecordComponent") // a plain carrier, never compared, hashed or printed as a whole
  record Sent(int partition, long offset, long timestamp, byte[] value, byte[] body) {
    String where() {
      return "partition " + partition + " offset " + offset;
    }
  }

  /** A record to produce: partition, timestamp and value (null for a tombstone); body is the Pulse body, if any. */
  @SuppressWarnings("ArrayRecordComponent") // a plain carrier, never compared, hashed or printed as a whole
  record ToSend(int partition, long timestamp, byte[] value, byte[] body) {}

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
  void returnsEveryRecordMergedByTimestampThenPartition() throws Exception {
    String topic = newTopic(3);
    List<Sent> sent = produce(topic, interleave(timeOrdered(ScenarioStream.generate(5, 6, 12)), 3, 42));

    List<Sent> expected = sortedByTimePartitionOffset(sent);
    try (TopicSource source = open(topic, null, null)) {
      assertEquals(sent.size(), source.totalRecords());
      assertEquals(0.0, source.progress());
      List<Input> read = drain(source, 7); // small chunks: the merge must carry over from one call to the next
      assertEquals(wheres(expected), wheres(read));
      for (int i = 0; i < read.size(); i++) {
        assertArrayEquals(expected.get(i).body(), read.get(i).body(), read.get(i).where());
        assertNull(read.get(i).undecodable());
        assertNull(read.get(i).rawValue());
      }
      assertEquals(1.0, source.progress());
      assertTrue(source.next(10).isEmpty(), "stays at its end");
    }
    assertNoConsumerGroup();
  }

  @Test
  void mergesPartitionsWhoseTimestampsGoBackAsAStreamsTaskPicksItsNextRecord() throws Exception {
    String topic = newTopic(3);
    // The scenario's own order: pushes overlap, so timestamps go back and forth within each partition.
    List<String> lines = ScenarioStream.generate(9, 5, 10);
    List<Sent> sent = produce(topic, interleave(withTimes(lines), 3, 7));
    assertTrue(sent.stream().anyMatch(s -> sent.stream().anyMatch(t -> t.partition() == s.partition()
        && t.offset() > s.offset() && t.timestamp() < s.timestamp())), "the test needs timestamps that go back");

    try (TopicSource source = open(topic, null, null)) {
      assertEquals(wheres(referenceMerge(sent)), wheres(drain(source, 100)));
    }
  }

  @Test
  void stopsAtTheEndOffsetsTakenAtOpen() throws Exception {
    String topic = newTopic(3);
    List<ToSend> records = interleave(timeOrdered(ScenarioStream.generate(11, 4, 8)), 3, 3);
    int half = records.size() / 2;
    List<Sent> before = produce(topic, records.subList(0, half));

    try (TopicSource source = open(topic, null, null)) {
      // Written before the first fetch, so the first fetches return them too: the end offsets must cut them off.
      produce(topic, records.subList(half, records.size()));
      assertEquals(wheres(sortedByTimePartitionOffset(before)), wheres(drain(source, 50)));
      assertEquals(before.size(), source.totalRecords());
      assertEquals(1.0, source.progress());
    }
  }

  @Test
  void aTimeWindowSelectsExactlyTheRecordsWithin() throws Exception {
    String topic = newTopic(3);
    List<Sent> sent = produce(topic, interleave(timeOrdered(ScenarioStream.generate(13, 6, 10)), 3, 5));
    List<Sent> ordered = sortedByTimePartitionOffset(sent);
    long from = ordered.get(ordered.size() / 4).timestamp();
    long to = ordered.get(ordered.size() * 3 / 4).timestamp();

    assertWindow(topic, sent, from, to);
    assertWindow(topic, sent, from, null);
    assertWindow(topic, sent, null, to);
    assertWindow(topic, sent, from, from); // one instant, both ends inclusive
    assertWindow(topic, sent, to + 1, to + 1); // (most likely) no record at that instant
    long last = ordered.get(ordered.size() - 1).timestamp();
    assertWindow(topic, sent, last + 1, null); // after everything

    try (TopicSource empty = open(topic, last + 1, null)) {
      assertEquals(0, empty.totalRecords());
      assertEquals(1.0, empty.progress());
      assertTrue(empty.next(10).isEmpty());
    }
    assertThrows(IllegalArgumentException.class, () -> open(topic, to + 1, to));
  }

  @Test
  void anUndecodableRecordComesBackInItsPlaceWithItsRawValue() throws Exception {
    String topic = newTopic(2);
    List<ToSend> records = new ArrayList<>(interleave(timeOrdered(ScenarioStream.generate(17, 2, 5)), 2, 9));
    long middle = records.get(records.size() / 2).timestamp();
    byte[] garbage = new byte[64];
    new Random(1).nextBytes(garbage);
    records.add(records.size() / 2, new ToSend(1, middle, garbage, null));
    long last = records.get(records.size() - 1).timestamp();
    records.add(new ToSend(0, last + 1000, null, null)); // a tombstone, last of all
    List<Sent> sent = produce(topic, records);

    List<Sent> expected = sortedByTimePartitionOffset(sent);
    try (TopicSource source = open(topic, null, null)) {
      List<Input> read = drain(source, 10);
      assertEquals(wheres(expected), wheres(read));
      int garbageAt = indexOfValue(expected, garbage);
      Input bad = read.get(garbageAt);
      assertNull(bad.body());
      assertArrayEquals(garbage, bad.rawValue());
      assertNotNull(bad.undecodable());
      assertTrue(!bad.undecodable().isEmpty(), bad.undecodable());
      Input tombstone = read.get(read.size() - 1);
      assertNull(tombstone.body());
      assertArrayEquals(new byte[0], tombstone.rawValue());
      assertTrue(!tombstone.undecodable().isEmpty(), tombstone.undecodable());
      assertEquals(2, read.stream().filter(in -> in.undecodable() != null).count());
    }
  }

  @Test
  void skipsAbortedRecordsAndEndsAfterTrailingTransactionMarkers() throws Exception {
    String topic = newTopic(2);
    List<Sent> committed = new ArrayList<>();
    long t = 1_430_000_000_000L;
    try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
      producer.initTransactions();
      for (int round = 0; round < 3; round++) {
        producer.beginTransaction();
        List<Sent> batch = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          byte[] body = ("{\"round\": " + round + ", \"i\": " + i + "}").getBytes(StandardCharsets.UTF_8);
          byte[] value = pulseValue(body, t);
          RecordMetadata m = producer.send(new ProducerRecord<>(topic, i % 2, t, null, value)).get();
          batch.add(new Sent(m.partition(), m.offset(), t, value, body));
          t += 1000;
        }
        if (round == 1) {
          producer.abortTransaction();
        } else {
          producer.commitTransaction();
          committed.addAll(batch);
        }
      }
    }
    try (TopicSource source = open(topic, null, null)) {
      // Each partition's end offset lies past its last record: the commit marker takes an offset.
      assertTrue(source.totalRecords() > committed.size());
      assertEquals(wheres(sortedByTimePartitionOffset(committed)), wheres(drain(source, 3)));
      assertEquals(1.0, source.progress());
    }
  }

  @Test
  void keepsItsBuffersBoundedWhenOnePartitionIsFarAheadInTime() throws Exception {
    String topic = newTopic(2);
    int each = 6_000;
    List<ToSend> records = new ArrayList<>();
    long base = 1_430_000_000_000L;
    for (int i = 0; i < each; i++) {
      byte[] body = ("{\"n\": " + i + "}").getBytes(StandardCharsets.UTF_8);
      records.add(new ToSend(0, base + i, pulseValue(body, base + i), body));
      // Partition 1 is all later than partition 0: it waits, buffered, while partition 0 is replayed.
      records.add(new ToSend(1, base + each + i, pulseValue(body, base + each + i), body));
    }
    List<Sent> sent = produce(topic, records);

    try (TopicSource source = open(topic, null, null)) {
      assertEquals(wheres(sortedByTimePartitionOffset(sent)), wheres(drain(source, 1000)));
      int bound = 2 * (TopicSource.PAUSE_AT + 500); // per partition: the pause threshold plus one poll's records
      assertTrue(source.mostBuffered() <= bound, "buffered " + source.mostBuffered() + " records at once");
      assertTrue(source.mostBuffered() > TopicSource.PAUSE_AT, "partition 1 got far enough ahead to be paused: "
          + source.mostBuffered());
    }
  }

  @Test
  void anUnknownTopicFailsClearly() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> open("no-such-topic", null, null));
    assertEquals("topic no-such-topic does not exist (or has no partitions) on " + kafka.bootstrapServers(),
        e.getMessage());
  }

  @Test
  void anUnreachableBrokerFailsClearlyInsteadOfHanging() throws Exception {
    String nobody;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      nobody = "127.0.0.1:" + probe.getLocalPort(); // free once closed: nothing listens there
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TopicSource.open(nobody, "pulse.raw",
        null, null, Map.of("default.api.timeout.ms", 2000)));
    assertTrue(e.getMessage().startsWith("no answer from Kafka at " + nobody), e.getMessage());
  }

  @Test
  void refusesOverridesThatWouldJoinAGroupOrCommit() {
    String topic = newTopic(1);
    assertThrows(IllegalArgumentException.class, () -> TopicSource.open(kafka.bootstrapServers(), topic, null, null,
        Map.of("group.id", "oops")));
    assertThrows(IllegalArgumentException.class, () -> TopicSource.open(kafka.bootstrapServers(), topic, null, null,
        Map.of("enable.auto.commit", "true")));
    assertThrows(IllegalArgumentException.class, () -> TopicSource.open(kafka.bootstrapServers(), topic, null, null,
        Map.of("isolation.level", "read_uncommitted")));
  }

  // --- helpers ---------------------------------------------------------------------------------------------------

  private static TopicSource open(String topic, Long from, Long to) {
    return TopicSource.open(kafka.bootstrapServers(), topic, from, to, Map.of());
  }

  /** A fresh topic; the scenario's event times are in 2015, so retention must not delete by them. */
  private static String newTopic(int partitions) {
    String name = "replay-source-" + TOPICS.incrementAndGet();
    kafka.createTopic(name, partitions, Map.of("retention.ms", "-1"));
    return name;
  }

  private static void assertWindow(String topic, List<Sent> sent, Long from, Long to) throws Exception {
    List<Sent> expected = sortedByTimePartitionOffset(sent.stream()
        .filter(s -> (from == null || s.timestamp() >= from) && (to == null || s.timestamp() <= to))
        .toList());
    try (TopicSource source = open(topic, from, to)) {
      assertEquals(wheres(expected), wheres(drain(source, 64)), "window [" + from + ", " + to + "]");
      assertEquals(1.0, source.progress());
    }
  }

  private static List<Input> drain(TopicSource source, int chunk) throws Exception {
    List<Input> out = new ArrayList<>();
    for (List<Input> next = source.next(chunk); !next.isEmpty(); next = source.next(chunk)) {
      assertTrue(next.size() <= chunk);
      out.addAll(next);
    }
    return out;
  }

  /** The lines with their {@code _meta.sent}; a line without one gets the time of the line before. */
  private static List<ToSend> withTimes(List<String> lines) {
    List<ToSend> out = new ArrayList<>();
    long time = 1_430_000_000_000L;
    for (String line : lines) {
      byte[] body = line.getBytes(StandardCharsets.UTF_8);
      Long sent = PulseEnvelope.read(body).sent();
      time = sent == null ? time : sent;
      out.add(new ToSend(-1, time, pulseValue(body, time), body));
    }
    return out;
  }

  /** The lines in time order (stable), so that every partition's timestamps never decrease. */
  private static List<ToSend> timeOrdered(List<String> lines) {
    return withTimes(lines).stream().sorted(Comparator.comparingLong(ToSend::timestamp)).toList();
  }

  /** Deals the records to partitions at random (seeded), keeping their order within each partition. */
  private static List<ToSend> interleave(List<ToSend> records, int partitions, long seed) {
    Random random = new Random(seed);
    return records.stream()
        .map(r -> new ToSend(random.nextInt(partitions), r.timestamp(), r.value(), r.body()))
        .toList();
  }

  /** Writes the records in list order (so in that order within each partition), as the bridge would. */
  private static List<Sent> produce(String topic, List<ToSend> records) throws Exception {
    List<Sent> out = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (ToSend r : records) {
        byte[] key = r.body() == null ? null : routingKey(r.body());
        acks.add(producer.send(new ProducerRecord<>(topic, r.partition(), r.timestamp(), key, r.value())));
      }
      for (int i = 0; i < records.size(); i++) {
        RecordMetadata m = acks.get(i).get(30, TimeUnit.SECONDS);
        ToSend r = records.get(i);
        out.add(new Sent(m.partition(), m.offset(), r.timestamp(), r.value(), r.body()));
      }
    }
    return out;
  }

  private static KafkaProducer<byte[], byte[]> transactionalProducer() {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "topic-source-test-" + TOPICS.incrementAndGet()),
        new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static byte[] routingKey(byte[] body) {
    String key = PulseEnvelope.read(body).routingKey();
    return (key == null ? "" : key).getBytes(StandardCharsets.UTF_8);
  }

  /** A {@code pulse.raw} value as the bridge writes it. */
  private static byte[] pulseValue(byte[] body, long time) {
    String key = new String(routingKey(body), StandardCharsets.UTF_8);
    return Topics.PULSE_MESSAGE.encode(PulseMessage.newBuilder()
        .setExchange("exchange/build/")
        .setRoutingKey(key)
        .setBody(ByteBuffer.wrap(body))
        .setReceivedAt(Instant.ofEpochMilli(time))
        .build());
  }

  private static List<Sent> sortedByTimePartitionOffset(List<Sent> sent) {
    return sent.stream()
        .sorted(Comparator.comparingLong(Sent::timestamp).thenComparingInt(Sent::partition)
            .thenComparingLong(Sent::offset))
        .toList();
  }

  /** The merge stated plainly: of the partitions' next records, the earliest; on a tie, the lowest partition. */
  private static List<Sent> referenceMerge(List<Sent> sent) {
    int partitions = sent.stream().mapToInt(Sent::partition).max().orElse(-1) + 1;
    List<List<Sent>> queues = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      int partition = p;
      queues.add(new ArrayList<>(sent.stream().filter(s -> s.partition() == partition)
          .sorted(Comparator.comparingLong(Sent::offset)).toList()));
    }
    List<Sent> out = new ArrayList<>();
    while (out.size() < sent.size()) {
      List<Sent> pick = null;
      for (List<Sent> q : queues) {
        if (!q.isEmpty() && (pick == null || q.get(0).timestamp() < pick.get(0).timestamp())) {
          pick = q;
        }
      }
      out.add(pick.remove(0));
    }
    return out;
  }

  private static int indexOfValue(List<Sent> sent, byte[] value) {
    for (int i = 0; i < sent.size(); i++) {
      if (Arrays.equals(sent.get(i).value(), value)) {
        return i;
      }
    }
    throw new AssertionError("value not produced");
  }

  private static List<String> wheres(Collection<?> items) {
    return items.stream().map(i -> i instanceof Sent s ? s.where() : ((Input) i).where()).toList();
  }

  /** No group at all on this test's broker: the sources joined none, so none of them can have committed. */
  private static void assertNoConsumerGroup() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      Collection<GroupListing> groups = admin.listGroups().all().get(30, TimeUnit.SECONDS);
      assertEquals(List.of(), List.copyOf(groups));
    }
  }
}
