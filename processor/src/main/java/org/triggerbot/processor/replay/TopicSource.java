package org.triggerbot.processor.replay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;

/**
 * Replays the records of a {@code pulse.raw}-like topic as they stood when it was opened, optionally only those of a
 * time window, in the order Kafka Streams would process them: a replay of a live topic must see the input the
 * processor saw, in the same order, without disturbing the processor or any other reader.
 *
 * <p>Hence a plain consumer with no group: it assigns itself every partition, never joins or creates a consumer
 * group and never commits an offset, so it cannot move anyone's position or show up as a lagging group. It reads
 * with {@code read_committed}, as the processor does under exactly-once, so aborted records are never replayed.
 *
 * <p>Bounds: the end of each partition is its end offset when the source was opened (records written later are not
 * replayed, so a replay of a busy topic ends), lowered to the first record after {@code toTime} when there is one;
 * the start is the first record at or after {@code fromTime} (as the broker's time index finds them), else the
 * beginning. With timestamps that never decrease within a partition, this selects exactly the records whose
 * timestamps lie in {@code [fromTime, toTime]}.
 *
 * <p>Order: the partitions are merged as a Kafka Streams task picks its next record: of the partitions' next
 * records, the one with the smallest timestamp, ties going to the lowest partition; each partition in offset order.
 * To merge correctly the source holds the next record of every unfinished partition before it emits one.
 *
 * <p>Memory: a partition whose buffer of fetched records exceeds {@link #PAUSE_AT} records is paused (not fetched)
 * until it drains to {@link #RESUME_AT}, so a skewed topic (one partition far ahead in time) stays bounded.
 *
 * <p>Not thread-safe, like the consumer it wraps.
 */
public final class TopicSource implements ReplaySource {

  /** A partition holding more fetched records than this is paused. */
  static final int PAUSE_AT = 2_000;
  /** A paused partition is fetched again once it holds this few; above zero, so the next fetch overlaps draining. */
  static final int RESUME_AT = 500;
  /** Default bound of every blocking consumer call, so an unreachable broker fails rather than hangs. */
  static final Duration API_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(200);

  /** Settings that make this source what it is; an override may repeat them, not change them. */
  private static final Map<String, Object> OWNED = Map.of(
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
      // A mistyped topic name must fail, not be created by a broker that creates topics on first use.
      ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false",
      ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");

  /** One partition: its bounds, where it got to, and its fetched records not yet emitted. */
  private static final class Part {
    final TopicPartition tp;
    final long start;
    final long end;
    final ArrayDeque<ConsumerRecord<byte[], byte[]>> buffer = new ArrayDeque<>();
    /** The consumer's position reached {@link #end}: nothing left to fetch. */
    boolean fetchedAll;
    boolean paused;
    /** Offset after the last emitted record, for progress. */
    long emittedTo;

    Part(TopicPartition tp, long start, long end) {
      this.tp = tp;
      this.start = start;
      this.end = end;
      this.emittedTo = start;
      this.fetchedAll = start >= end;
    }

    boolean finished() {
      return fetchedAll && buffer.isEmpty();
    }
  }

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String servers;
  private final List<Part> parts;
  private final long totalRecords;
  /** How long fetching may make no headway (no record, no position moved) before the source gives up. */
  private final Duration stallTimeout;
  private int mostBuffered;

  private TopicSource(KafkaConsumer<byte[], byte[]> consumer, String servers, List<Part> parts,
      Duration stallTimeout) {
    this.consumer = consumer;
    this.servers = servers;
    this.parts = parts;
    this.stallTimeout = stallTimeout;
    long total = 0;
    for (Part p : parts) {
      total += Math.max(0, p.end - p.start);
    }
    this.totalRecords = total;
  }

  @Override
  public int partitions() {
    return parts.size();
  }

  /**
   * Opens {@code topic} for replay: takes every partition's bounds now and seeks to the starts.
   *
   * @param fromTime the earliest record timestamp to replay, epoch ms, or null for the beginning
   * @param toTime the latest record timestamp to replay, epoch ms, or null for the end at open
   * @param consumerOverrides further consumer settings (security, client.id, timeouts); they may not set a group,
   *     auto-commit, topic auto-creation or an isolation level other than read_committed
   * @throws IllegalArgumentException if the topic does not exist or has no partitions, the times are negative or
   *     reversed, or an override contradicts what the source must be
   * @throws IllegalStateException if the cluster does not answer within {@code default.api.timeout.ms} (30 s)
   */
  public static TopicSource open(String bootstrapServers, String topic, Long fromTime, Long toTime,
      Map<String, Object> consumerOverrides) {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(topic, "topic");
    if ((fromTime != null && fromTime < 0) || (toTime != null && toTime < 0)) {
      throw new IllegalArgumentException("replay times must not be negative: from " + fromTime + ", to " + toTime);
    }
    if (fromTime != null && toTime != null && fromTime > toTime) {
      throw new IllegalArgumentException("replay window is reversed: from " + fromTime + " is after to " + toTime);
    }
    Map<String, Object> config = config(bootstrapServers, consumerOverrides == null ? Map.of() : consumerOverrides);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    try {
      Duration timeout = Duration.ofMillis(Long.parseLong(
          String.valueOf(config.get(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG))));
      List<Part> parts = bounds(consumer, bootstrapServers, topic, fromTime, toTime, timeout);
      for (Part p : parts) {
        consumer.seek(p.tp, p.start);
        if (p.fetchedAll) {
          consumer.pause(List.of(p.tp)); // nothing to read there: never fetch it
          p.paused = true;
        }
      }
      return new TopicSource(consumer, bootstrapServers, parts, timeout);
    } catch (RuntimeException | Error e) {
      try {
        consumer.close(CloseOptions.timeout(Duration.ZERO));
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private static Map<String, Object> config(String bootstrapServers, Map<String, Object> overrides) {
    for (String forbidden : List.of(ConsumerConfig.GROUP_ID_CONFIG, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
      if (overrides.containsKey(forbidden)) {
        throw new IllegalArgumentException("a replay never joins a consumer group: remove " + forbidden);
      }
    }
    OWNED.forEach((key, value) -> {
      Object wanted = overrides.get(key);
      if (wanted != null && !String.valueOf(wanted).equalsIgnoreCase(String.valueOf(value))) {
        throw new IllegalArgumentException("a replay reads with " + key + "=" + value + ", not " + wanted);
      }
    });
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "triggerbot-replay");
    config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) API_TIMEOUT.toMillis());
    // Every partition is sought explicitly; a position that falls out of range (retention deleted records under
    // the replay) must fail, not silently skip to the other end.
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    config.putAll(overrides);
    config.putAll(OWNED);
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return config;
  }

  private static List<Part> bounds(KafkaConsumer<byte[], byte[]> consumer, String servers, String topic,
      Long fromTime, Long toTime, Duration timeout) {
    List<PartitionInfo> infos;
    try {
      infos = consumer.partitionsFor(topic, timeout);
    } catch (TimeoutException e) {
      throw unreachable(servers, "the partitions of topic " + topic, timeout, e);
    }
    if (infos == null || infos.isEmpty()) {
      throw new IllegalArgumentException("topic " + topic + " does not exist (or has no partitions) on " + servers);
    }
    List<TopicPartition> tps = infos.stream()
        .map(i -> new TopicPartition(i.topic(), i.partition()))
        .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
        .toList();
    consumer.assign(tps);
    try {
      // read_committed: the end offsets are the last stable offsets, past which nothing committed lies yet.
      Map<TopicPartition, Long> endAtOpen = consumer.endOffsets(tps, timeout);
      Map<TopicPartition, Long> starts = fromTime == null
          ? consumer.beginningOffsets(tps, timeout)
          : offsetsAt(consumer, tps, fromTime, timeout);
      // The first record after toTime ends the window; toTime + 1 cannot overflow for any real timestamp.
      Map<TopicPartition, Long> afterTo = toTime == null || toTime == Long.MAX_VALUE
          ? Map.of()
          : offsetsAt(consumer, tps, toTime + 1, timeout);
      List<Part> parts = new ArrayList<>();
      for (TopicPartition tp : tps) {
        long end = endAtOpen.get(tp);
        Long cut = afterTo.get(tp);
        if (cut != null) {
          end = Math.min(end, cut);
        }
        Long start = starts.get(tp);
        // No record at or after fromTime: that partition has nothing in the window.
        parts.add(new Part(tp, start == null ? end : Math.min(start, end), end));
      }
      return List.copyOf(parts);
    } catch (TimeoutException e) {
      throw unreachable(servers, "the offsets of topic " + topic, timeout, e);
    }
  }

  /** Per partition, the offset of the first record with a timestamp at or after {@code time}, or null if none. */
  private static Map<TopicPartition, Long> offsetsAt(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> tps,
      long time, Duration timeout) {
    Map<TopicPartition, Long> query = new HashMap<>();
    tps.forEach(tp -> query.put(tp, time));
    Map<TopicPartition, Long> out = new HashMap<>();
    consumer.offsetsForTimes(query, timeout).forEach((tp, found) -> {
      if (found != null) {
        out.put(tp, found.offset());
      }
    });
    return out;
  }

  private static IllegalStateException unreachable(String servers, String what, Duration timeout, Exception e) {
    return new IllegalStateException("no answer from Kafka at " + servers + " about " + what + " within "
        + timeout.toSeconds() + " s (is it running and reachable?): " + e.getMessage(), e);
  }

  /**
   * The number of offsets between the starts and the ends, what {@link #progress()} counts down. An upper bound of
   * the records to replay: transaction markers, aborted records and compacted-away records take offsets too.
   */
  public long totalRecords() {
    return totalRecords;
  }

  @Override
  public List<Input> next(int max) throws IOException {
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive: " + max);
    }
    List<Input> out = new ArrayList<>(Math.min(max, 4096));
    while (out.size() < max) {
      if (!fillHeads()) {
        break; // every partition is finished
      }
      Part first = null;
      for (Part p : parts) {
        if (!p.buffer.isEmpty() && (first == null || p.buffer.peekFirst().timestamp()
            < first.buffer.peekFirst().timestamp())) {
          first = p; // strict <: on a tie the earlier (lower-numbered) partition keeps it
        }
      }
      ConsumerRecord<byte[], byte[]> r = first.buffer.pollFirst();
      first.emittedTo = r.offset() + 1;
      out.add(input(r));
    }
    return out;
  }

  /**
   * Fetches until every unfinished partition has a record buffered (or turns out to have nothing left), resuming
   * partitions that drained and pausing those that hold enough. Returns whether any partition is unfinished.
   *
   * @throws IOException when fetching makes no headway for the stall timeout (broker gone, partition leaderless)
   */
  private boolean fillHeads() throws IOException {
    long lastHeadway = System.nanoTime();
    while (true) {
      boolean unfinished = false;
      Part waiting = null;
      for (Part p : parts) {
        if (p.paused && !p.fetchedAll && p.buffer.size() <= RESUME_AT) {
          consumer.resume(List.of(p.tp));
          p.paused = false;
        }
        if (!p.finished()) {
          unfinished = true;
          if (p.buffer.isEmpty() && waiting == null) {
            waiting = p;
          }
        }
      }
      if (!unfinished || waiting == null) {
        return unfinished;
      }
      if (System.nanoTime() - lastHeadway > stallTimeout.toNanos()) {
        throw new IOException("no records from " + waiting.tp + " on " + servers + " for " + stallTimeout.toSeconds()
            + " s, though it is at offset " + consumer.position(waiting.tp) + " of " + waiting.end
            + " (is Kafka still reachable?)");
      }
      if (poll()) {
        lastHeadway = System.nanoTime();
      }
    }
  }

  /** One poll into the buffers; whether it made headway (records buffered, or a partition fetched to its end). */
  private boolean poll() {
    ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
    boolean headway = false;
    int buffered = 0;
    for (Part p : parts) {
      if (p.fetchedAll) {
        buffered += p.buffer.size();
        continue;
      }
      for (ConsumerRecord<byte[], byte[]> r : records.records(p.tp)) {
        if (r.offset() < p.end) {
          p.buffer.addLast(r);
          headway = true;
        }
        // Records at or past the end (written after open, or after toTime) are not replayed.
      }
      // The position, not the last record, tells the end: under read_committed the end offset may lie past
      // transaction markers and aborted records, which the consumer skips without returning anything.
      if (consumer.position(p.tp) >= p.end) {
        p.fetchedAll = true;
        headway = true;
      }
      if (!p.paused && (p.fetchedAll || p.buffer.size() > PAUSE_AT)) {
        consumer.pause(List.of(p.tp));
        p.paused = true;
      }
      buffered += p.buffer.size();
    }
    mostBuffered = Math.max(mostBuffered, buffered);
    return headway;
  }

  private Input input(ConsumerRecord<byte[], byte[]> r) {
    byte[] value = r.value() == null ? new byte[0] : r.value();
    PulseMessage message;
    try {
      // Decoded as the processor decodes pulse.raw, so an unreadable record is rejected with the same words (the
      // topology engine's too): whatever the copy is called, it is read as pulse.raw.
      message = Topics.PULSE_MESSAGE.decode(value, "topic " + Topics.PULSE_RAW.name());
    } catch (SerializationException e) {
      return Input.record(r.partition(), r.offset(), null, value, e.getMessage());
    }
    ByteBuffer body = message.getBody().duplicate();
    byte[] bytes = new byte[body.remaining()];
    body.get(bytes);
    return Input.record(r.partition(), r.offset(), bytes, null, null);
  }

  @Override
  public double progress() {
    if (totalRecords == 0) {
      return 1.0;
    }
    long done = 0;
    for (Part p : parts) {
      // A finished partition counts whole: markers and aborted records after its last record were read too.
      done += p.finished() ? Math.max(0, p.end - p.start) : p.emittedTo - p.start;
    }
    return Math.min(1.0, (double) done / totalRecords);
  }

  /** The most records held in the buffers at once, for tests of the memory bound. */
  int mostBuffered() {
    return mostBuffered;
  }

  @Override
  public void close() {
    consumer.close();
  }
}
