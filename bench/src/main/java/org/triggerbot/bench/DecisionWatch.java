package org.triggerbot.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;

/**
 * Reads {@code trigger.decisions} as analysts do (read_committed), from its end at construction: every decision
 * published afterwards, with the wall-clock time it became visible. On its own thread, so the moment is taken as
 * the record arrives.
 */
final class DecisionWatch implements AutoCloseable {

  /** One decision as seen: when it became visible (epoch ms and nanoTime) and its record timestamp. */
  record Seen(long visibleMillis, long visibleNanos, long timestamp, String decisionId) {}

  private final KafkaConsumer<String, TriggerDecision> consumer;
  private final List<Seen> seen = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;

  DecisionWatch(String bootstrap) {
    consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100,
        ConsumerConfig.CLIENT_ID_CONFIG, "bench-decision-watch"),
        new StringDeserializer(), Topics.TRIGGER_DECISIONS.valueSerde().deserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(Topics.TRIGGER_DECISIONS.name()).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position); // resolve the end now, before the processor writes anything
    thread = new Thread(this::run, "bench-decision-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      while (running.get()) {
        var records = consumer.poll(Duration.ofMillis(200));
        long millis = System.currentTimeMillis();
        long nanos = System.nanoTime();
        if (records.isEmpty()) {
          continue;
        }
        synchronized (seen) {
          for (ConsumerRecord<String, TriggerDecision> r : records) {
            seen.add(new Seen(millis, nanos, r.timestamp(), r.value().getDecisionId()));
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close();
    }
  }

  int count() {
    synchronized (seen) {
      return seen.size();
    }
  }

  List<Seen> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** Nanos since the last decision became visible, or Long.MAX_VALUE when none has. */
  long quietNanos() {
    synchronized (seen) {
      return seen.isEmpty() ? Long.MAX_VALUE : System.nanoTime() - seen.get(seen.size() - 1).visibleNanos();
    }
  }

  Set<String> decisionIds() {
    Set<String> ids = new HashSet<>();
    for (Seen s : seen()) {
      ids.add(s.decisionId());
    }
    return ids;
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the caller sees the flag; the watch thread stops on its own
    }
  }
}
