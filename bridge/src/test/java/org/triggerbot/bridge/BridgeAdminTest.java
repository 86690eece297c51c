package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.AdminServer;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The bridge service as {@code triggerbot bridge} runs it, between a real AMQP broker and a real Kafka broker,
 * seen through its admin port: ready once it consumes, its counters and the producer's metrics on
 * {@code /metrics}, not ready while Kafka is away, not ready once stopped.
 */
class BridgeAdminTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static AmqpBroker amqp;
  private static EmbeddedKafka kafka;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startBrokers() {
    amqp = AmqpBroker.start();
    kafka = EmbeddedKafka.start();
    kafka.createTopic(Topics.PULSE_RAW.name(), 1, Map.of("retention.ms", "-1"));
    kafka.createTopic(Topics.PULSE_REJECTED.name(), 1, Map.of("retention.ms", "-1"));
  }

  @AfterAll
  static void stopBrokers() {
    if (kafka != null) {
      kafka.close();
    }
    if (amqp != null) {
      amqp.close();
    }
  }

  @Test
  void becomesReadyCountsWhatItWritesAndIsNotReadyOnceStopped() throws Exception {
    String tag = "admin-" + UUID.randomUUID().toString().substring(0, 8);
    String exchange = "exchange/" + tag + "/";
    Map<String, String> values = TestBridgeConfig.boundTo(amqp, kafka.bootstrapServers(), exchange, tag);
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    BridgeConfig config = BridgeConfig.of(values);

    try (BridgeService service = BridgeService.start(config)) {
      int port = service.adminPort();
      assertTrue(port > 0, "admin.port=0 binds a free port: " + port);
      Await.until("/health/ready to answer 200", DEADLINE, () -> get(port, "/health/ready").statusCode() == 200);
      String ready = get(port, "/health/ready").body();
      assertTrue(ready.contains("\"status\":\"UP\"") && ready.contains(config.queueName()), ready);

      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        bodies.add(PulseJson.test(tag).number(i).atMinutes(i).finished(2));
      }
      PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
      assertEquals(5, PublishCommand.publish(config, exchange, false,
          new BufferedReader(new StringReader(String.join("\n", bodies))), err));

      Await.until("triggerbot_bridge_written_total to reach 5", DEADLINE,
          () -> value(get(port, "/metrics").body(), "triggerbot_bridge_written_total") == 5.0);
      String metrics = get(port, "/metrics").body();
      assertEquals(5.0, value(metrics, "triggerbot_bridge_delivered_total"));
      assertEquals(0.0, value(metrics, "triggerbot_bridge_requeued_total"));
      assertEquals(0.0, value(metrics, "triggerbot_bridge_rejected_total"));
      assertTrue(metrics.contains("kafka_producer_record_send_total"), "the producer's metrics:\n" + metrics);

      service.bridge().close();
      HttpResponse<String> stopped = get(port, "/health/ready");
      assertEquals(503, stopped.statusCode(), stopped.body());
      assertTrue(stopped.body().contains("\"status\":\"DOWN\""), stopped.body());
      assertEquals(200, get(port, "/health/live").statusCode());
    }
  }

  /**
   * Issue 14, item 2: Kafka stops under a running bridge and comes back. While it is away the bridge acknowledges
   * nothing and {@code /health/ready} answers 503 naming Kafka, through at least two rounds of failed writes and
   * their redelivery (so the readiness does not flap back while the same messages are retried); after the restart it
   * is ready again without any help, and every message is in {@code pulse.raw}.
   */
  @Test
  void isNotReadyWhileKafkaIsAwayAndReadyAgainAfterItsRestartLosingNothing() throws Exception {
    String tag = "kafka-away-" + UUID.randomUUID().toString().substring(0, 8);
    String exchange = "exchange/" + tag + "/";
    Map<String, String> values = TestBridgeConfig.boundTo(amqp, kafka.bootstrapServers(), exchange, tag);
    values.put(BridgeConfig.AMQP_PREFETCH, "20");
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    // Writes fail after 6 s instead of 120 s, so the test sees the nack and redelivery rounds; a request is given up
    // after 2 s instead of 30 s. Once a batch has expired the producer forgets pulse.raw's metadata, and each send
    // of a redelivered message then blocks the bridge thread for max.block.ms before failing: 0.5 s instead of 60 s
    // keeps a round of 20 within seconds.
    values.put("producer.delivery.timeout.ms", "6000");
    values.put("producer.request.timeout.ms", "2000");
    values.put("producer.max.block.ms", "500");
    BridgeConfig config = BridgeConfig.of(values);
    String queue = config.queueName();
    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      PulseJson job = PulseJson.test(tag).number(i).atMinutes(i);
      bodies.add(i % 2 == 0 ? job.started() : job.finished(0));
    }

    try (BridgeService service = BridgeService.start(config)) {
      PulseBridge bridge = service.bridge();
      int port = service.adminPort();
      Await.until("/health/ready to answer 200", DEADLINE, () -> get(port, "/health/ready").statusCode() == 200);
      publish(config, exchange, bodies.subList(0, 50));
      Await.until("the first 50 acknowledged", DEADLINE, () -> bridge.acked.get() == 50);
      assertEquals(200, get(port, "/health/ready").statusCode(), "ready while Kafka answers");

      long restartedAt;
      long stoppedAt = System.nanoTime();
      kafka.stop();
      long ackedBefore = bridge.acked.get();
      try {
        publish(config, exchange, bodies.subList(50, 150));
        Await.until("/health/ready to answer 503 while Kafka is away", DEADLINE,
            () -> get(port, "/health/ready").statusCode() == 503);
        long notReadyAfter = Await.elapsedMillis(stoppedAt);
        HttpResponse<String> down = get(port, "/health/ready");
        assertTrue(down.body().contains("\"status\":\"DOWN\"") && down.body().contains("Kafka"), down.body());
        // Two rounds of expiring writes: the 20 held deliveries fail, are redelivered, are written again and fail
        // again. Readiness must say 503 at every look meanwhile, not only until the first retry.
        long requeuedAtFirst503 = bridge.requeued.get();
        Await.until("two rounds of failed writes, 503 throughout", DEADLINE, () -> {
          HttpResponse<String> r = get(port, "/health/ready");
          assertEquals(503, r.statusCode(), "not ready while Kafka is away: " + r.body());
          return bridge.requeued.get() >= requeuedAtFirst503 + 40;
        });
        assertEquals(ackedBefore, bridge.acked.get(), "nothing acknowledged while Kafka is away");
        assertEquals(200, get(port, "/health/live").statusCode(), "alive: a Kafka outage is not a reason to restart");
        System.out.printf("kafka away: not ready %d ms after the stop; %d requeued during the outage%n",
            notReadyAfter, bridge.requeued.get());
      } finally {
        kafka.restart();
        restartedAt = System.nanoTime();
      }
      Await.until("/health/ready to answer 200 after Kafka's restart", DEADLINE,
          () -> get(port, "/health/ready").statusCode() == 200);
      long readyAfterRestart = Await.elapsedMillis(restartedAt);
      Await.until("all 150 routing keys in pulse.raw", DEADLINE,
          () -> RawTopic.routingKeys(RawTopic.messages(kafka, tag)).size() == 150);
      Await.until("the queue drained", DEADLINE,
          () -> amqp.readyMessages(queue) == 0 && bridge.acked.get() >= 150);
      assertEquals(200, get(port, "/health/ready").statusCode());

      List<PulseMessage> records = RawTopic.messages(kafka, tag);
      int duplicates = RawTopic.duplicatesAllFlaggedRedelivered(records);
      int lost = 150 - RawTopic.routingKeys(records).size();
      assertEquals(0, lost);
      System.out.printf("kafka restart under the bridge: sent 150, acked %d before the stop and %d after, "
          + "%d records in pulse.raw (%d duplicates), lost %d, requeued %d; ready %d ms after the restart%n",
          ackedBefore, bridge.acked.get(), records.size(), duplicates, lost, bridge.requeued.get(), readyAfterRestart);
    }
  }

  /**
   * The second half of the readiness rule: Kafka stops while writes cannot fail for 30 s (delivery.timeout.ms and
   * max.block.ms, the two ways a write fails, are 30 s here), so the "last write failed" half cannot see the outage
   * in time. Writes that wait {@code request.timeout.ms} (2 s here) without any answer must make the bridge not ready
   * on their own, long before the first write fails; after the restart it is ready again and nothing is lost.
   */
  @Test
  void isNotReadyWhenWritesGoUnansweredBeforeAnyWriteFails() throws Exception {
    String tag = "kafka-silent-" + UUID.randomUUID().toString().substring(0, 8);
    String exchange = "exchange/" + tag + "/";
    Map<String, String> values = TestBridgeConfig.boundTo(amqp, kafka.bootstrapServers(), exchange, tag);
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    values.put("producer.request.timeout.ms", "2000");
    values.put("producer.delivery.timeout.ms", "30000");
    values.put("producer.max.block.ms", "30000");
    BridgeConfig config = BridgeConfig.of(values);
    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      bodies.add(PulseJson.test(tag).number(i).atMinutes(i).finished(0));
    }

    try (BridgeService service = BridgeService.start(config)) {
      PulseBridge bridge = service.bridge();
      int port = service.adminPort();
      Await.until("/health/ready to answer 200", DEADLINE, () -> get(port, "/health/ready").statusCode() == 200);
      publish(config, exchange, bodies.subList(0, 10));
      Await.until("the first 10 acknowledged", DEADLINE, () -> bridge.acked.get() == 10);

      long restartedAt;
      long stoppedAt = System.nanoTime();
      kafka.stop();
      try {
        publish(config, exchange, bodies.subList(10, 30));
        Await.until("/health/ready to answer 503 within 10 s of the stop", Duration.ofSeconds(10),
            () -> get(port, "/health/ready").statusCode() == 503);
        long notReadyAfter = Await.elapsedMillis(stoppedAt);
        HttpResponse<String> down = get(port, "/health/ready");
        assertEquals(0, bridge.requeued.get(), "no write has failed yet: the silence alone made it not ready");
        assertTrue(down.body().contains("Kafka has answered none"), down.body());
        assertEquals(10, bridge.acked.get(), "nothing acknowledged while Kafka is away");
        System.out.printf("kafka silent: not ready %d ms after the stop, before any write failed%n", notReadyAfter);
      } finally {
        kafka.restart();
        restartedAt = System.nanoTime();
      }
      Await.until("/health/ready to answer 200 after Kafka's restart", DEADLINE,
          () -> get(port, "/health/ready").statusCode() == 200);
      long readyAfterRestart = Await.elapsedMillis(restartedAt);
      Await.until("all 30 routing keys in pulse.raw", DEADLINE,
          () -> RawTopic.routingKeys(RawTopic.messages(kafka, tag)).size() == 30);
      Await.until("all 30 acknowledged", DEADLINE, () -> bridge.acked.get() == 30);
      List<PulseMessage> records = RawTopic.messages(kafka, tag);
      int duplicates = RawTopic.duplicatesAllFlaggedRedelivered(records);
      int lost = 30 - RawTopic.routingKeys(records).size();
      assertEquals(0, lost);
      System.out.printf("kafka silent: sent 30, acked 10 before the stop and %d after, %d records in pulse.raw "
          + "(%d duplicates), lost %d, requeued %d; ready %d ms after the restart%n", bridge.acked.get(),
          records.size(), duplicates, lost, bridge.requeued.get(), readyAfterRestart);
    }
  }

  @Test
  void theAdminPortDefaultsTo9402() {
    BridgeConfig config = BridgeConfig.of(Map.of(BridgeConfig.BOOTSTRAP_SERVERS, "localhost:9092"));
    assertEquals(9402, config.getInt(AdminServer.PORT));
    assertEquals("0.0.0.0", config.getString(AdminServer.BIND));
  }

  private static void publish(BridgeConfig config, String exchange, List<String> bodies) throws Exception {
    PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertEquals(bodies.size(), PublishCommand.publish(config, exchange, false,
        new BufferedReader(new StringReader(String.join("\n", bodies))), err), "the broker confirmed every message");
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The sum of a meter's samples in a Prometheus text exposition, or -1 if it is absent. */
  private static double value(String exposition, String name) {
    double sum = 0;
    boolean found = false;
    for (String line : exposition.split("\n", -1)) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? sum : -1;
  }
}
