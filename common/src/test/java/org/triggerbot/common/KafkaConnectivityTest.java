package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;

class KafkaConnectivityTest {

  private final Map<MetricName, Metric> metrics = new HashMap<>();
  private final AtomicLong clock = new AtomicLong();
  private final KafkaConnectivity connectivity = new KafkaConnectivity(() -> metrics,
      KafkaConnectivity.STREAMS_MAIN_CONSUMERS, Duration.ofSeconds(5), clock::get);

  private void connections(String clientId, double count) {
    connections("consumer-metrics", clientId, count);
  }

  private void connections(String group, String clientId, double count) {
    MetricName name = new MetricName("connection-count", group, "", Map.of("client-id", clientId));
    metrics.put(name, new Metric() {
      @Override
      public MetricName metricName() {
        return name;
      }

      @Override
      public Object metricValue() {
        return count;
      }
    });
  }

  private void at(long seconds) {
    clock.set(Duration.ofSeconds(seconds).toNanos());
  }

  @Test
  void reportsOnlyAfterTheGraceAndClearsAtTheNextConnection() {
    connections("app-StreamThread-1-consumer", 2);
    assertNull(connectivity.problem());
    connections("app-StreamThread-1-consumer", 0);
    at(10);
    assertNull(connectivity.problem(), "the first call without a connection starts the grace, however late");
    at(14);
    assertNull(connectivity.problem(), "4 s without a connection: within the grace");
    at(22);
    assertEquals("no connection to any Kafka broker for 12 s", connectivity.problem());
    connections("app-StreamThread-1-consumer", 1);
    at(23);
    assertNull(connectivity.problem(), "connected again");
    connections("app-StreamThread-1-consumer", 0);
    at(24);
    assertNull(connectivity.problem(), "a new gap starts a new grace");
  }

  @Test
  void onlyTheStreamThreadsMainConsumersCount() {
    connections("app-StreamThread-1-consumer", 0);
    connections("app-StreamThread-1-restore-consumer", 1);
    connections("app-global-consumer", 1);
    connections("producer-metrics", "app-StreamThread-1-producer", 1);
    assertNull(connectivity.problem());
    at(6);
    assertEquals("no connection to any Kafka broker for 6 s", connectivity.problem(),
        "an idle restore or global consumer, or a producer, is no sign that the main consumer reaches Kafka");
    connections("app-StreamThread-2-consumer", 1);
    assertNull(connectivity.problem(), "one thread's consumer connected is enough");
  }
}
