package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.buildapisim.SimulatorOptions;
import org.triggerbot.common.AdminServer;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * The trigger-sink service as {@code triggerbot sink} runs it, between a real Kafka broker and the buildapi
 * simulator, seen through its admin port: ready once the journal is restored, results by outcome, buildapi
 * latency and the consumer's metrics on {@code /metrics}, not ready once stopped.
 */
class SinkAdminTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static EmbeddedKafka kafka;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
    kafka.createTopic(Topics.TRIGGER_COMMANDS.name(), 1);
    kafka.createTopic(Topics.TRIGGER_RESULTS.name(), 1);
  }

  @AfterAll
  static void stopKafka() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void becomesReadyAndCountsAResultByOutcome() throws Exception {
    String revision = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String builder = "Ubuntu VM 12.04 try opt test mochitest-1";
    try (BuildapiSimulator sim = BuildapiSimulator.start(SimulatorOptions.defaults())) {
      sim.addBuild("try", revision, builder, 2);
      Map<String, String> values = new HashMap<>();
      values.put(SinkConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
      values.put(SinkConfig.BUILDAPI_URL, sim.baseUrl());
      values.put(SinkConfig.BUILDAPI_USER, "triggerbot");
      values.put(SinkConfig.BUILDAPI_PASSWORD, "sim-password");
      values.put(SinkConfig.BUILDAPI_TIMEOUT, "PT2S");
      values.put(SinkConfig.GROUP_ID, "sink-" + revision);
      values.put(SinkConfig.TRANSACTIONAL_ID, "sink-" + revision);
      values.put(SinkConfig.JOURNAL_TOPIC, "sink-journal-" + revision);
      values.put(AdminServer.PORT, "0");
      values.put(AdminServer.BIND, "127.0.0.1");

      try (SinkService service = SinkService.start(SinkConfig.of(values))) {
        int port = service.adminPort();
        assertTrue(port > 0, "admin.port=0 binds a free port: " + port);
        Await.until("/health/ready to answer 200", DEADLINE, () -> get(port, "/health/ready").statusCode() == 200);
        String ready = get(port, "/health/ready").body();
        assertTrue(ready.contains("\"status\":\"UP\"") && ready.contains("\"pending\":"), ready);
        assertTrue(!ready.contains("sim-password"), "no secret in health: " + ready);

        command(revision, builder);
        Await.until("triggerbot_sink_results_total{outcome=SUBMITTED} to reach 1", DEADLINE,
            () -> value(get(port, "/metrics").body(), "triggerbot_sink_results_total", "outcome=\"SUBMITTED\"") == 1.0);
        String metrics = get(port, "/metrics").body();
        assertEquals(0.0, value(metrics, "triggerbot_sink_results_total", "outcome=\"GAVE_UP\""),
            "every outcome is there from the start");
        assertTrue(value(metrics, "triggerbot_sink_buildapi_requests_seconds_count",
            "endpoint=\"build\",status=\"202\"") == 1.0, "the rebuild POST is timed:\n" + metrics);
        assertTrue(value(metrics, "triggerbot_sink_buildapi_requests_seconds_count", "endpoint=\"lookup\"") >= 1.0);
        assertEquals(0.0, value(metrics, "triggerbot_sink_pending", ""));
        assertTrue(metrics.contains("kafka_consumer_fetch_manager_records_lag_max"), "the consumer's metrics");
        assertTrue(!metrics.contains("sim-password"));

        service.sink().close();
        Await.until("/health/ready to answer 503 once stopped", DEADLINE,
            () -> get(port, "/health/ready").statusCode() == 503);
        assertEquals(200, get(port, "/health/live").statusCode());
      }
    }
  }

  @Test
  void theAdminPortDefaultsTo9403() {
    SinkConfig config = SinkConfig.of(Map.of(SinkConfig.BOOTSTRAP_SERVERS, "localhost:9092"));
    assertEquals(9403, config.getInt(AdminServer.PORT));
    assertEquals("0.0.0.0", config.getString(AdminServer.BIND));
  }

  private static void command(String revision, String builder) throws Exception {
    TriggerCommand c = TriggerCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setBranch("try").setRevision(revision).setBuilder(builder).setCount(1)
        .setReason(DecisionReason.TRIGGER_FAILURE).setRequestedAt(Instant.now())
        .build();
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, TriggerCommand> producer = new KafkaProducer<>(p,
        Topics.TRIGGER_COMMANDS.keySerde().serializer(), Topics.TRIGGER_COMMANDS.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(Topics.TRIGGER_COMMANDS.name(), "try/" + revision + "/" + builder, c)).get();
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * The sum of a meter's samples whose labels contain {@code labels} (e.g. {@code outcome="SUBMITTED"}; empty:
   * every sample) in a Prometheus text exposition, or -1 if there is none.
   */
  private static double value(String exposition, String name, String labels) {
    double sum = 0;
    boolean found = false;
    for (String line : exposition.split("\n", -1)) {
      if ((line.startsWith(name + "{") || line.startsWith(name + " ")) && line.contains(labels)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? sum : -1;
  }
}
