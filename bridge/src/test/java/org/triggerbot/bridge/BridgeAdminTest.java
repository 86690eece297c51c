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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.AdminServer;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The bridge service as {@code triggerbot bridge} runs it, between a real AMQP broker and a real Kafka broker,
 * seen through its admin port: ready once it consumes, its counters and the producer's metrics on
 * {@code /metrics}, not ready once stopped.
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
    amqp.declareTopicExchange(exchange);
    Map<String, String> values = new HashMap<>();
    values.put(BridgeConfig.AMQP_URI, amqp.uri());
    values.put(BridgeConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(BridgeConfig.PULSE_QUEUE, tag);
    values.put(BridgeConfig.PULSE_BINDINGS, exchange + ":build.#.started,build.#.finished");
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

  @Test
  void theAdminPortDefaultsTo9402() {
    BridgeConfig config = BridgeConfig.of(Map.of(BridgeConfig.BOOTSTRAP_SERVERS, "localhost:9092"));
    assertEquals(9402, config.getInt(AdminServer.PORT));
    assertEquals("0.0.0.0", config.getString(AdminServer.BIND));
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The sum of a meter's samples in a Prometheus text exposition, or -1 if it is absent. */
  private static double value(String exposition, String name) {
    double sum = 0;
    boolean found = false;
    for (String line : exposition.split("\n")) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? sum : -1;
  }
}
