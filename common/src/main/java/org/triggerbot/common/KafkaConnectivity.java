package org.triggerbot.common;

import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Whether a polling Kafka consumer still reaches the cluster, for a service's readiness, read from the consumer's
 * own {@code connection-count} metric. A consumer that polls keeps connections open (to the leaders it fetches from
 * and to its group coordinator), so none at all means that no broker answers: Kafka is down or unreachable. A
 * client's state does not say so: a consumer, and Kafka Streams in {@code RUNNING}, keep polling and report
 * nothing while every broker is away.
 *
 * <p>A gap shorter than the grace period (a connection closed and opened again) is not reported, so readiness does
 * not flap on it: the consumer must be seen without a connection at two calls at least that far apart, so a rare
 * caller (a health probe every 15 s) that happens to look during a reconnect does not report it. Not for
 * producers: an idle producer closes its connections after {@code connections.max.idle.ms} and is not the worse
 * for it.
 */
public final class KafkaConnectivity {

  /** How long a consumer may have no connection before readiness says so. */
  public static final Duration GRACE = Duration.ofSeconds(5);

  /** A plain consumer's connections (every client in the metrics map is that consumer). */
  public static final Predicate<MetricName> CONSUMER = name -> name.group().equals("consumer-metrics");

  /**
   * The connections of Kafka Streams' main consumers, one per stream thread: not the restore consumer, which is
   * idle once state is restored, nor the global one.
   */
  public static final Predicate<MetricName> STREAMS_MAIN_CONSUMERS = name -> {
    String client = name.tags().getOrDefault("client-id", "");
    return name.group().equals("consumer-metrics") && client.endsWith("-consumer")
        && !client.endsWith("-restore-consumer") && !client.endsWith("-global-consumer");
  };

  private final Supplier<? extends Map<MetricName, ? extends Metric>> metrics;
  private final Predicate<MetricName> counted;
  private final Duration grace;
  private final LongSupplier nanoClock;
  /** When a call first saw no connection since the last one that saw some; -1 while connected. */
  private long unconnectedSince = -1;

  /**
   * @param metrics the client's metrics (e.g. {@code consumer::metrics}, {@code streams::metrics}); read on each
   *     {@link #problem()}
   * @param counted which of them are the consumer's: {@link #CONSUMER} or {@link #STREAMS_MAIN_CONSUMERS}
   */
  public KafkaConnectivity(Supplier<? extends Map<MetricName, ? extends Metric>> metrics,
      Predicate<MetricName> counted) {
    this(metrics, counted, GRACE, System::nanoTime);
  }

  KafkaConnectivity(Supplier<? extends Map<MetricName, ? extends Metric>> metrics, Predicate<MetricName> counted,
      Duration grace, LongSupplier nanoClock) {
    this.metrics = metrics;
    this.counted = counted;
    this.grace = grace;
    this.nanoClock = nanoClock;
  }

  /**
   * Null while the consumer has a connection to some broker, or has had none for less than the grace period;
   * otherwise why it is not ready, e.g. "no connection to any Kafka broker for 12 s".
   */
  public synchronized String problem() {
    long now = nanoClock.getAsLong();
    double connections = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.get().entrySet()) {
      if (e.getKey().name().equals("connection-count") && counted.test(e.getKey())
          && e.getValue().metricValue() instanceof Number n) {
        connections += n.doubleValue();
      }
    }
    if (connections > 0) {
      unconnectedSince = -1;
      return null;
    }
    if (unconnectedSince == -1) {
      unconnectedSince = now;
    }
    long away = now - unconnectedSince;
    return away < grace.toNanos() ? null
        : "no connection to any Kafka broker for " + Duration.ofNanos(away).toSeconds() + " s";
  }
}
