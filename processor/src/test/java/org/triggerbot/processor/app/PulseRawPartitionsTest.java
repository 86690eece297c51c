package org.triggerbot.processor.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.AdminServer;
import org.triggerbot.processor.topology.BrokerTopics;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The processor on a {@code pulse.raw} of two partitions, on a real KRaft broker: it asks the broker for the
 * partition count before it builds its topology (and says clearly when the topic is missing), and it stops with
 * exit code 1, deciding nothing, at a record that is not keyed by its push (a topic written by an older bridge).
 */
class PulseRawPartitionsTest {

  private static EmbeddedKafka kafka;

  @TempDir
  Path stateDir;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start();
    BrokerTopics.createAll(kafka, 2);
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  private static Properties admin() {
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "partitions-test");
    return p;
  }

  @Test
  void thePartitionCountComesFromTheBrokerAndAMissingTopicIsNamed() {
    assertEquals(2, SourcePartitions.of(Topics.PULSE_RAW.name(), admin(), Duration.ofSeconds(10)));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SourcePartitions.of("no.such.topic", admin(), Duration.ofSeconds(1)));
    assertTrue(e.getMessage().contains("topic no.such.topic does not exist") && e.getMessage().contains("README"),
        e.getMessage());
  }

  @Test
  void aRecordNotKeyedByItsPushStopsTheProcessorWithExitCode1() throws Exception {
    Map<String, String> values = new HashMap<>();
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, "triggerbot-misrouted");
    values.put(ProcessorConfig.STATE_DIR, stateDir.toString());
    values.put(AdminServer.PORT, Integer.toString(AdminServer.DISABLED));
    try (ProcessorService service = ProcessorService.start(ProcessorConfig.of(values))) {
      PulseJson job = PulseJson.test("mochitest-1").number(1).atMinutes(1);
      String body = job.finished(2);
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      try (KafkaProducer<String, PulseMessage> producer = new KafkaProducer<>(p,
          Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer())) {
        // As a bridge from before SPEC 5 wrote it: keyed by routing key.
        producer.send(new ProducerRecord<>(Topics.PULSE_RAW.name(), null, PulseJson.T0.toEpochMilli(),
            job.routingKey("finished"), PulseMessage.newBuilder().setExchange("exchange/build/")
                .setRoutingKey(job.routingKey("finished"))
                .setBody(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)))
                .setReceivedAt(Instant.EPOCH).build()))
            .get();
      }
      int exit = CompletableFuture.supplyAsync(() -> {
        try {
          return service.awaitExit();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return -1;
        }
      }).get(90, TimeUnit.SECONDS);
      assertEquals(1, exit, "the processor stops loudly, so that the orchestrator shows it");
    }
  }
}
