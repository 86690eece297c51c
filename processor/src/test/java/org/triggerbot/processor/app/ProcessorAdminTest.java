package org.triggerbot.processor.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The processor service as {@code triggerbot processor} runs it, against a real in-process KRaft broker, seen
 * through its admin port: ready once Kafka Streams runs, Kafka Streams' metrics and the decision sensors on
 * {@code /metrics}.
 */
class ProcessorAdminTest {

  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static EmbeddedKafka kafka;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path stateDir;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start();
    for (Topic<String, ?> topic : Topics.ALL) {
      kafka.createTopic(topic.name(), 1, Map.of("retention.ms", "-1")); // event times are in 2015
    }
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void becomesReadyAndServesStreamsMetricsAndADecisionCountedByReason() throws Exception {
    Map<String, String> values = new HashMap<>();
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, "triggerbot-admin-it");
    values.put(ProcessorConfig.STATE_DIR, stateDir.toString());
    values.put(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    try (ProcessorService service = ProcessorService.start(ProcessorConfig.of(values))) {
      int port = service.adminPort();
      assertTrue(port > 0, "admin.port=0 binds a free port: " + port);
      assertEquals(200, get(port, "/health/live").statusCode(), "live from the start");

      Await.until("/health/ready to answer 200", DEADLINE, () -> get(port, "/health/ready").statusCode() == 200);
      HttpResponse<String> ready = get(port, "/health/ready");
      assertTrue(ready.body().contains("\"state\":\"RUNNING\""), ready.body());

      HttpResponse<String> metrics = get(port, "/metrics");
      assertEquals(AdminServer.TEXT_FORMAT, metrics.headers().firstValue("Content-Type").orElse(""));
      assertTrue(metrics.body().contains("kafka_stream_thread_"), "Kafka Streams' thread metrics:\n" + metrics.body());

      produce(PulseJson.test("mochitest-1").finished(2));
      TriggerDecision decision = firstDecision();
      String meter = "kafka_stream_triggerbot_decision_"
          + decision.getReason().name().toLowerCase(Locale.ROOT) + "_total";
      Await.until(meter + " to count the decision", DEADLINE, () -> total(get(port, "/metrics").body(), meter) == 1.0);
      String body = get(port, "/metrics").body();
      assertTrue(body.contains("kafka_stream_triggerbot_pulse_accepted_total"), "the parser's sensors too");
      assertEquals(0.0, total(body, "kafka_stream_triggerbot_decision_skip_disabled_total"),
          "every reason is there from the start, at 0");
    }
  }

  @Test
  void readyOnlyWhenRunningRebalancingIsNot() {
    for (KafkaStreams.State state : KafkaStreams.State.values()) {
      AdminServer.Health health = ProcessorService.readiness(state);
      assertEquals(state == KafkaStreams.State.RUNNING, health.ready(), state.name());
      assertEquals(state.name(), health.details().get("state"));
    }
    assertTrue(ProcessorService.readiness(KafkaStreams.State.REBALANCING).reason().startsWith("rebalancing"));
  }

  @Test
  void theAdminPortDefaultsTo9401() {
    ProcessorConfig config = ProcessorConfig.of(Map.of(ProcessorConfig.BOOTSTRAP_SERVERS, "localhost:9092"));
    assertEquals(9401, config.getInt(AdminServer.PORT));
    assertEquals("0.0.0.0", config.getString(AdminServer.BIND));
    assertEquals(-1, ProcessorConfig.of(Map.of(ProcessorConfig.BOOTSTRAP_SERVERS, "localhost:9092",
        AdminServer.PORT, "-1")).getInt(AdminServer.PORT), "-1 disables it");
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The sum of a meter's samples (every tag combination) in a Prometheus text exposition, or -1 if absent. */
  static double total(String exposition, String name) {
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

  private static void produce(String body) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, PulseMessage> producer = new KafkaProducer<>(p,
        Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer())) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      PulseEnvelope envelope = PulseEnvelope.read(bytes);
      producer.send(new ProducerRecord<>(Topics.PULSE_RAW.name(), null, envelope.sent(),
          envelope.recordKey(envelope.routingKey()),
          PulseMessage.newBuilder().setExchange(envelope.exchange()).setRoutingKey(envelope.routingKey())
              .setBody(ByteBuffer.wrap(bytes)).setReceivedAt(Instant.ofEpochMilli(envelope.sent())).build()))
          .get();
    }
  }

  /** The first committed record of {@code trigger.decisions}, waiting for it. */
  private static TriggerDecision firstDecision() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Topic<String, TriggerDecision> topic = Topics.TRIGGER_DECISIONS;
    List<TriggerDecision> out = new ArrayList<>();
    try (KafkaConsumer<String, TriggerDecision> consumer = new KafkaConsumer<>(p, topic.keySerde().deserializer(),
        topic.valueSerde().deserializer())) {
      TopicPartition tp = new TopicPartition(topic.name(), 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      Await.until("a decision", DEADLINE, () -> {
        for (ConsumerRecord<String, TriggerDecision> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
        return !out.isEmpty();
      });
    }
    return out.get(0);
  }
}
