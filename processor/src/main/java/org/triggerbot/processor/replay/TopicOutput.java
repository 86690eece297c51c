package org.triggerbot.processor.replay;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.triggerbot.processor.decide.Keys;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;

/**
 * Writes a replay's decisions and push verdicts to topics of their own, {@code PREFIX.trigger.decisions} and
 * {@code PREFIX.push.verdicts}, keyed and encoded exactly as the processor writes the real ones: so that whatever
 * reads the live topics (a dashboard, a comparison, a consumer under test) can read a replay's too, side by side with
 * production, without ever writing to production's topics (hence the mandatory prefix).
 *
 * <p>The topics are created when missing, with the given number of partitions and the broker's default replication
 * factor; the verdicts topic is compacted, like {@code push.verdicts}. An existing topic is used as it is.
 *
 * <p>Records carry the time they were written, not their event time: a replay of a recorded feed has event times
 * older than any retention, and the broker would delete such records at once.
 *
 * <p>Delivery: an idempotent producer with {@code acks=all}, so retries neither lose, duplicate nor reorder records
 * of a partition. A failed send is reported by the next {@link #decision}, {@link #verdict}, {@link #flush} or
 * {@link #close}, as an {@link IOException}.
 */
public final class TopicOutput implements ReplayOutput {

  private static final Pattern LEGAL_PREFIX = Pattern.compile("[a-zA-Z0-9._-]+");
  /** Kafka's longest topic name. */
  private static final int MAX_TOPIC_NAME = 249;
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

  /** Settings that make this output what it is; an override may repeat them, not change them. */
  private static final Map<String, Object> OWNED = Map.of(
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
      ProducerConfig.ACKS_CONFIG, "all");

  private final KafkaProducer<String, byte[]> producer;
  private final Admin admin;
  private final String decisionsTopic;
  private final String verdictsTopic;
  /** The first send that failed, set by the producer's I/O thread. */
  private final AtomicReference<IOException> failure = new AtomicReference<>();
  private boolean closed;

  private TopicOutput(KafkaProducer<String, byte[]> producer, Admin admin, String decisionsTopic,
      String verdictsTopic) {
    this.producer = producer;
    this.admin = admin;
    this.decisionsTopic = decisionsTopic;
    this.verdictsTopic = verdictsTopic;
  }

  /**
   * Opens the output, creating its topics if they are missing.
   *
   * @param prefix non-empty, of the characters legal in topic names ({@code a-z A-Z 0-9 . _ -})
   * @param partitions partitions of the topics, when they are created
   * @param producerOverrides further producer settings (security, client.id, batching), also given to the admin
   *     client where they apply; they may not turn idempotence off or lower {@code acks}
   * @throws IllegalArgumentException for an invalid prefix, partition count or override
   * @throws IllegalStateException if the topics cannot be created, or the cluster does not answer in 30 s
   */
  public static TopicOutput open(String bootstrapServers, String prefix, int partitions,
      Map<String, Object> producerOverrides) {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    if (prefix == null || !LEGAL_PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("topic prefix '" + prefix + "' is not valid: it must be non-empty and of"
          + " the characters a-z A-Z 0-9 . _ - only");
    }
    String decisions = prefix + "." + Topics.TRIGGER_DECISIONS.name();
    String verdicts = prefix + "." + Topics.PUSH_VERDICTS.name();
    if (Math.max(decisions.length(), verdicts.length()) > MAX_TOPIC_NAME) {
      throw new IllegalArgumentException("topic prefix '" + prefix + "' is too long: topic names are at most "
          + MAX_TOPIC_NAME + " characters");
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be positive: " + partitions);
    }
    Map<String, Object> overrides = producerOverrides == null ? Map.of() : producerOverrides;
    if (overrides.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG)) {
      throw new IllegalArgumentException("a replay's output is not transactional: remove "
          + ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    }
    OWNED.forEach((key, value) -> {
      Object wanted = overrides.get(key);
      boolean same = wanted == null || String.valueOf(wanted).equalsIgnoreCase(String.valueOf(value))
          || (key.equals(ProducerConfig.ACKS_CONFIG) && "-1".equals(String.valueOf(wanted).trim()));
      if (!same) {
        throw new IllegalArgumentException("a replay writes with " + key + "=" + value + ", not " + wanted);
      }
    });

    Admin admin = Admin.create(adminConfig(bootstrapServers, overrides));
    KafkaProducer<String, byte[]> producer = null;
    try {
      createIfMissing(admin, bootstrapServers, List.of(
          new NewTopic(decisions, Optional.of(partitions), Optional.empty()),
          new NewTopic(verdicts, Optional.of(partitions), Optional.empty())
              .configs(Map.of("cleanup.policy", "compact"))));
      awaitServing(admin, bootstrapServers, List.of(decisions, verdicts));
      Map<String, Object> config = new HashMap<>();
      config.put(ProducerConfig.CLIENT_ID_CONFIG, "triggerbot-replay");
      config.putAll(overrides);
      config.putAll(OWNED);
      config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      // Both topics have string keys; values are encoded here, so an encoding error surfaces at the call.
      producer = new KafkaProducer<>(config, Topics.TRIGGER_DECISIONS.keySerde().serializer(),
          new ByteArraySerializer());
      return new TopicOutput(producer, admin, decisions, verdicts);
    } catch (RuntimeException | Error e) {
      try {
        admin.close(Duration.ZERO);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private static Map<String, Object> adminConfig(String bootstrapServers, Map<String, Object> overrides) {
    Map<String, Object> config = new HashMap<>();
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "triggerbot-replay-admin");
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
    // The producer's connection settings (security, timeouts) apply to the admin client too; the rest do not.
    overrides.forEach((key, value) -> {
      if (AdminClientConfig.configNames().contains(key) && !key.equals(AdminClientConfig.CLIENT_ID_CONFIG)) {
        config.put(key, value);
      }
    });
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return config;
  }

  private static void createIfMissing(Admin admin, String servers, List<NewTopic> topics) {
    CreateTopicsResult result = admin.createTopics(topics);
    for (NewTopic topic : topics) {
      try {
        // A little longer than the admin's own timeout, so that its clearer error wins.
        result.values().get(topic.name()).get(ADMIN_TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("cannot create topic " + topic.name() + " on " + servers + ": "
              + e.getCause().getMessage(), e.getCause());
        }
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("no answer from Kafka at " + servers + " within "
            + ADMIN_TIMEOUT.toSeconds() + " s while creating topic " + topic.name(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while creating topic " + topic.name(), e);
      }
    }
  }

  /**
   * Waits until the leader of every partition of {@code topics} answers for it. A topic just created is in the
   * cluster's metadata before its leader has the partition: an idempotent producer's first batch can then be
   * refused as not-leader, and its retry meet the broker's out-of-order sequence check for good (seen here on a
   * single-broker cluster). Listing the partitions' offsets succeeds only once their leaders serve them.
   */
  private static void awaitServing(Admin admin, String servers, List<String> topics) {
    long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .forEach((name, description) -> description.partitions().forEach(p -> latest.put(
                new org.apache.kafka.common.TopicPartition(name, p.partition()),
                org.apache.kafka.clients.admin.OffsetSpec.latest())));
        admin.listOffsets(latest).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return;
      } catch (ExecutionException e) {
        last = new IllegalStateException(e.getCause().getMessage(), e.getCause()); // not served yet: ask again
      } catch (java.util.concurrent.TimeoutException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for topics " + topics, e);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
    throw new IllegalStateException("the partitions of " + topics + " on " + servers + " have no serving leader within "
        + ADMIN_TIMEOUT.toSeconds() + " s", last);
  }

  /** The topic that receives the decisions. */
  public String decisionsTopic() {
    return decisionsTopic;
  }

  /** The topic that receives the push verdicts. */
  public String verdictsTopic() {
    return verdictsTopic;
  }

  @Override
  public void decision(TriggerDecision decision) throws IOException {
    send(Topics.TRIGGER_DECISIONS, decisionsTopic, Keys.push(decision.getBranch(), decision.getRevision()), decision);
  }

  /** Always: the verdicts topic is part of what a topic replay produces, as {@code push.verdicts} is live. */
  @Override
  public boolean wantsVerdicts() {
    return true;
  }

  @Override
  public void verdict(PushVerdict verdict) throws IOException {
    send(Topics.PUSH_VERDICTS, verdictsTopic, Keys.push(verdict.getBranch(), verdict.getRevision()), verdict);
  }

  // The callback keeps the first failure for throwIfFailed; the Future would only repeat it.
  @SuppressWarnings("FutureReturnValueIgnored")
  private <V> void send(Topic<String, V> schema, String topic, String key, V value) throws IOException {
    throwIfFailed();
    try {
      byte[] bytes = schema.valueSerde().serializer().serialize(topic, value);
      producer.send(new ProducerRecord<>(topic, key, bytes), (metadata, e) -> {
        if (e != null) {
          failure.compareAndSet(null, new IOException("writing to " + topic + " failed: " + e.getMessage(), e));
        }
      });
    } catch (KafkaException e) {
      throw new IOException("cannot write to " + topic + ": " + e.getMessage(), e);
    }
  }

  private void throwIfFailed() throws IOException {
    IOException first = failure.get();
    if (first != null) {
      // A new exception each time, so the stack shows where it was reported; the cause is the original failure.
      throw new IOException(first.getMessage(), first);
    }
  }

  /** Waits until every record sent so far is acknowledged by the broker, or one of them failed. */
  @Override
  public void flush() throws IOException {
    try {
      producer.flush();
    } catch (KafkaException e) {
      throw new IOException("cannot flush to " + decisionsTopic + " and " + verdictsTopic + ": " + e.getMessage(), e);
    }
    throwIfFailed();
  }

  /** Flushes, then closes the clients even if the flush failed; idempotent. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      flush();
    } finally {
      try {
        producer.close();
      } finally {
        admin.close();
      }
    }
  }
}
