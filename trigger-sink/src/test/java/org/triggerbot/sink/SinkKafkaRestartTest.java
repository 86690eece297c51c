package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.buildapisim.SimulatorOptions;
import org.triggerbot.common.AdminServer;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.HttpProbe;

/**
 * The Kafka broker restarts under a running sink (a clean stop, then a start on the same data), once between
 * commands and once while a rebuild POST is on its way: the sink says so on {@code /health/ready} while the broker
 * is away, is ready again by itself, and in the end buildapi has received exactly one POST per command and
 * {@code trigger.results} holds exactly one result per command.
 */
class SinkKafkaRestartTest {

  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static final int COMMANDS = 30;

  @Test
  void onePostAndOneResultPerCommandAcrossKafkaRestartsAndNotReadyWhileKafkaIsAway() throws Exception {
    String revision = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
         BuildapiSimulator sim = BuildapiSimulator.start(SimulatorOptions.defaults())) {
      kafka.createTopic(Topics.TRIGGER_COMMANDS.name(), 1);
      kafka.createTopic(Topics.TRIGGER_RESULTS.name(), 1);
      List<TriggerCommand> commands = new ArrayList<>();
      for (int i = 0; i < COMMANDS; i++) {
        String builder = "Ubuntu VM 12.04 try opt test suite-" + i;
        sim.addBuild("try", revision, builder, 2);
        commands.add(command(revision, builder));
      }
      try (SinkService service = SinkService.start(config(kafka, sim, revision))) {
        String ready = "http://127.0.0.1:" + service.adminPort() + "/health/ready";
        Await.until("ready", DEADLINE, () -> HttpProbe.status(ready) == 200);

        // 1. Between commands.
        send(kafka, commands.subList(0, 10));
        Await.until("10 results", DEADLINE, () -> results(kafka).size() == 10);
        long firstStop = System.nanoTime();
        kafka.stop();
        Await.until("not ready while Kafka is away", DEADLINE, () -> HttpProbe.status(ready) == 503);
        long notReady1 = millisSince(firstStop);
        assertTrue(HttpProbe.body(ready).contains("no connection to any Kafka broker"), HttpProbe.body(ready));
        long firstRestart = System.nanoTime();
        kafka.restart();
        Await.until("ready again", DEADLINE, () -> HttpProbe.status(ready) == 200);
        long ready1 = millisSince(firstRestart);

        // 2. While a POST is on its way: buildapi has taken it, the answer waits until Kafka is gone.
        long second;
        long notReady2;
        try (BuildapiSimulator.ResponseHold hold = sim.holdResponses(r -> r.method().equals("POST"))) {
          send(kafka, commands.subList(10, 20));
          Await.until("a POST held", DEADLINE, () -> !hold.held().isEmpty());
          second = System.nanoTime();
          kafka.stop();
          hold.release();
          Await.until("not ready while Kafka is away, a result to write", DEADLINE,
              () -> HttpProbe.status(ready) == 503);
          notReady2 = millisSince(second);
        }
        long secondRestart = System.nanoTime();
        kafka.restart();
        Await.until("ready again", DEADLINE, () -> HttpProbe.status(ready) == 200);
        long ready2 = millisSince(secondRestart);

        send(kafka, commands.subList(20, COMMANDS));
        Await.until(COMMANDS + " results", DEADLINE, () -> results(kafka).size() >= COMMANDS);
        List<TriggerResult> results = results(kafka);
        Map<String, Long> perCommand = results.stream().collect(Collectors.groupingBy(
            TriggerResult::getCommandId, TreeMap::new, Collectors.counting()));
        assertEquals(commands.stream().map(TriggerCommand::getCommandId).collect(Collectors.toSet()),
            perCommand.keySet(), "a result for every command");
        assertEquals(Set.of(1L), Set.copyOf(perCommand.values()), "exactly one result per command: " + perCommand);
        assertEquals(COMMANDS, sim.rebuildPosts(), "exactly one rebuild POST per command");
        assertEquals(Set.of(TriggerOutcome.SUBMITTED),
            results.stream().map(TriggerResult::getOutcome).collect(Collectors.toSet()));
        System.out.printf("kafka restarts under the sink: %d commands, %d POSTs, %d results (0 lost, 0 twice); "
            + "not ready %d / %d ms after the stops, ready %d / %d ms after the restarts%n", COMMANDS,
            sim.rebuildPosts(), results.size(), notReady1, notReady2, ready1, ready2);
      }
    }
  }

  private static SinkConfig config(EmbeddedKafka kafka, BuildapiSimulator sim, String revision) {
    Map<String, String> values = new HashMap<>();
    values.put(SinkConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(SinkConfig.BUILDAPI_URL, sim.baseUrl());
    values.put(SinkConfig.BUILDAPI_USER, "triggerbot");
    values.put(SinkConfig.BUILDAPI_PASSWORD, "sim-password");
    values.put(SinkConfig.BUILDAPI_TIMEOUT, "PT30S");
    values.put(SinkConfig.GROUP_ID, "sink-" + revision);
    values.put(SinkConfig.TRANSACTIONAL_ID, "sink-" + revision);
    values.put(SinkConfig.JOURNAL_TOPIC, "sink-journal-" + revision);
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    return SinkConfig.of(values);
  }

  private static TriggerCommand command(String revision, String builder) {
    return TriggerCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setBranch("try").setRevision(revision).setBuilder(builder).setCount(1)
        .setReason(DecisionReason.TRIGGER_FAILURE).setRequestedAt(Instant.now())
        .build();
  }

  private static void send(EmbeddedKafka kafka, List<TriggerCommand> commands) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, TriggerCommand> producer = new KafkaProducer<>(p,
        Topics.TRIGGER_COMMANDS.keySerde().serializer(), Topics.TRIGGER_COMMANDS.valueSerde().serializer())) {
      for (TriggerCommand c : commands) {
        producer.send(new ProducerRecord<>(Topics.TRIGGER_COMMANDS.name(),
            "try/" + c.getRevision() + "/" + c.getBuilder(), c)).get();
      }
    }
  }

  /** Every result committed so far (read_committed). */
  private static List<TriggerResult> results(EmbeddedKafka kafka) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<TriggerResult> out = new ArrayList<>();
    try (KafkaConsumer<String, TriggerResult> c = new KafkaConsumer<>(p,
        Topics.TRIGGER_RESULTS.keySerde().deserializer(), Topics.TRIGGER_RESULTS.valueSerde().deserializer())) {
      TopicPartition tp = new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<String, TriggerResult> r : c.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
    }
    return out;
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
