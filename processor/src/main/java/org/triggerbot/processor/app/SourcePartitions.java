package org.triggerbot.processor.app;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many partitions {@code pulse.raw} has, asked of the broker before the topology is built: Kafka Streams runs
 * one decision task per partition, and the topology must know how many there are to share the global limits out
 * among them (and to insist on push keys when there is more than one). A topic that does not exist yet is waited
 * for (the bridge or the deployment's topic set-up may be starting alongside), up to a deadline.
 */
final class SourcePartitions {

  private static final Logger LOG = LoggerFactory.getLogger(SourcePartitions.class);

  private SourcePartitions() {}

  /**
   * @param streamsProperties the processor's Kafka Streams properties (their admin client settings are used, so
   *     security settings passed as {@code streams.*} apply)
   * @throws IllegalStateException when the topic is still missing at the deadline, or the broker cannot be asked
   */
  static int of(String topic, Properties streamsProperties, Duration wait) {
    Map<String, Object> adminConfig = new StreamsConfig(streamsProperties).getAdminConfigs("source-partitions");
    long deadline = System.nanoTime() + wait.toNanos();
    boolean told = false;
    try (Admin admin = Admin.create(adminConfig)) {
      while (true) {
        long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        try {
          TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
              .get(left, TimeUnit.MILLISECONDS).get(topic);
          return d.partitions().size();
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw new IllegalStateException("cannot describe topic " + topic + ": " + e.getCause(), e.getCause());
          }
        } catch (TimeoutException e) {
          // the deadline is checked below
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while looking up topic " + topic, e);
        }
        if (System.nanoTime() >= deadline) {
          throw new IllegalStateException("topic " + topic + " does not exist (or the broker did not answer) after "
              + wait.toSeconds() + " s: create it with the partitions the processor should run (README, "
              + "\"Partitions and scale-out\"; docker/kafka/create-topics.sh creates every topic)");
        }
        if (!told) {
          LOG.info("waiting up to {} s for topic {} to exist", wait.toSeconds(), topic);
          told = true;
        }
        // A remote state is being polled; there is nothing to wait on instead.
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
      }
    }
  }
}
