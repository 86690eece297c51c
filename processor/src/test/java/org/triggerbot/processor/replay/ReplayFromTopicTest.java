package org.triggerbot.processor.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.whatif.WhatIfCommand;
import org.triggerbot.schemas.AvroJson;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * {@code replay --from-topic} and {@code whatif --from-topic} against a real broker: a feed published to a
 * pulse.raw topic as the bridge publishes it replays exactly as the same feed from a file, into files or topics.
 */
class ReplayFromTopicTest {

  private static EmbeddedKafka kafka;
  private static final List<String> FEED = ScenarioStream.generate(9, 10, 10);
  private static final String TOPIC = "pulse.raw.replay-test";

  @TempDir
  Path dir;

  @BeforeAll
  static void publishTheFeed() throws Exception {
    kafka = EmbeddedKafka.start();
    kafka.createTopic(TOPIC, 1);
    try (KafkaProducer<String, PulseMessage> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer())) {
      long last = 0;
      for (String line : FEED) {
        byte[] body = line.getBytes(StandardCharsets.UTF_8);
        PulseEnvelope e = PulseEnvelope.read(body);
        last = e.sent() == null ? last : e.sent(); // the bridge stamps records with their event time
        producer.send(new ProducerRecord<>(TOPIC, null, last, e.recordKey(e.routingKey()), PulseMessage.newBuilder()
            .setExchange(e.exchange() == null ? "" : e.exchange())
            .setRoutingKey(e.routingKey() == null ? "" : e.routingKey())
            .setBody(ByteBuffer.wrap(body))
            .setReceivedAt(Instant.ofEpochMilli(last))
            .build())).get();
      }
    }
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  private int run(boolean whatif, String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    int code = whatif ? WhatIfCommand.run(List.of(args), o, e) : ReplayCommand.run(List.of(args), o, e);
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    return code;
  }

  private Path fileFeed() throws Exception {
    Path file = dir.resolve("feed.jsonl");
    Files.write(file, FEED, StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void aTopicReplaysExactlyAsTheSameFeedFromAFile() throws Exception {
    Path input = fileFeed();
    run(false, "--input", input.toString(), "--output", dir.resolve("file.jsonl").toString(),
        "--verdicts", dir.resolve("file-verdicts.jsonl").toString());
    run(false, "--from-topic", TOPIC, "--bootstrap-servers", kafka.bootstrapServers(),
        "--output", dir.resolve("topic.jsonl").toString(),
        "--verdicts", dir.resolve("topic-verdicts.jsonl").toString());

    String decisions = Files.readString(dir.resolve("file.jsonl"));
    assertTrue(decisions.lines().count() > 10, "the feed must give decisions to compare");
    assertEquals(decisions, Files.readString(dir.resolve("topic.jsonl")));
    assertEquals(Files.readString(dir.resolve("file-verdicts.jsonl")),
        Files.readString(dir.resolve("topic-verdicts.jsonl")));
  }

  @Test
  void toTopicsWritesTheSameDecisionsAndVerdictsToPrefixedTopics() throws Exception {
    run(false, "--input", fileFeed().toString(), "--output", dir.resolve("file.jsonl").toString(),
        "--verdicts", dir.resolve("file-verdicts.jsonl").toString());
    run(false, "--from-topic", TOPIC, "--bootstrap-servers", kafka.bootstrapServers(), "--to-topics", "tune1");

    assertEquals(Files.readAllLines(dir.resolve("file.jsonl")), readAsJson("tune1.trigger.decisions", false));
    assertEquals(Files.readAllLines(dir.resolve("file-verdicts.jsonl")), readAsJson("tune1.push.verdicts", true));
  }

  @Test
  void bothEnginesReplayATopicWithAnUnreadableRecordAlike() throws Exception {
    String topic = "pulse.raw.with-garbage";
    kafka.createTopic(topic, 1);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        Topics.PULSE_RAW.keySerde().serializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      for (int i = 0; i < FEED.size(); i++) {
        byte[] body = FEED.get(i).getBytes(StandardCharsets.UTF_8);
        PulseEnvelope e = PulseEnvelope.read(body);
        byte[] value = Topics.PULSE_RAW.valueSerde().serializer().serialize(topic, PulseMessage.newBuilder()
            .setExchange("").setRoutingKey("").setBody(ByteBuffer.wrap(body)).setReceivedAt(Instant.EPOCH).build());
        producer.send(new ProducerRecord<>(topic, null, e.sent() == null ? 0L : e.sent(), "k", value)).get();
        if (i == FEED.size() / 2) {
          producer.send(new ProducerRecord<>(topic, "k", "not avro at all".getBytes(StandardCharsets.UTF_8))).get();
        }
      }
    }
    String[] errors = new String[2];
    String[] engines = {"fast", "topology"};
    for (int i = 0; i < 2; i++) {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      assertEquals(0, ReplayCommand.run(List.of("--from-topic", topic, "--bootstrap-servers", kafka.bootstrapServers(),
          "--engine", engines[i], "--output", dir.resolve(engines[i] + ".jsonl").toString()),
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8)));
      errors[i] = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("partition "))
          .reduce("", (a, b) -> a + b + "\n");
    }
    assertTrue(errors[0].contains("NOT_AVRO"), errors[0]);
    assertEquals(errors[1], errors[0], "the same rejections, in the same words");
    assertEquals(Files.readString(dir.resolve("topology.jsonl")), Files.readString(dir.resolve("fast.jsonl")));
  }

  @Test
  void kafkaClientPropertiesComeFromAFileAndAGroupIsRefused() throws Exception {
    Path config = dir.resolve("kafka.properties");
    Files.writeString(config, "client.id = tuning-replay\nreceive.buffer.bytes=131072\n");
    run(false, "--input", fileFeed().toString(), "--output", dir.resolve("file.jsonl").toString());
    run(false, "--from-topic", TOPIC, "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config",
        config.toString(), "--output", dir.resolve("topic.jsonl").toString());
    assertEquals(Files.readString(dir.resolve("file.jsonl")), Files.readString(dir.resolve("topic.jsonl")));

    Files.writeString(config, "group.id=analysts\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = ReplayCommand.run(List.of("--from-topic", TOPIC, "--bootstrap-servers", kafka.bootstrapServers(),
        "--kafka-config", config.toString(), "--output", dir.resolve("never.jsonl").toString()),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(1, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("never joins a consumer group"),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void whatifFromATopicEqualsWhatifFromTheFile() throws Exception {
    run(true, "--input", fileFeed().toString(), "--grid", "budget.floor=1,5", "--output",
        dir.resolve("file.csv").toString());
    run(true, "--from-topic", TOPIC, "--bootstrap-servers", kafka.bootstrapServers(), "--grid", "budget.floor=1,5",
        "--output", dir.resolve("topic.csv").toString());
    assertEquals(Files.readString(dir.resolve("file.csv")), Files.readString(dir.resolve("topic.csv")));
  }

  @Test
  void aTimeWindowReplaysTheRecordsTheTimeIndexFindsForIt() throws Exception {
    Instant from = Instant.parse("2015-06-01T10:30:00Z");
    Instant to = Instant.parse("2015-06-01T11:00:00Z");
    run(false, "--from-topic", TOPIC, "--bootstrap-servers", kafka.bootstrapServers(),
        "--from-time", from.toString(), "--to-time", to.toString(), "--output", dir.resolve("window.jsonl").toString());

    // The time index finds the first record stamped at or after --from-time, and the first after --to-time: the
    // records between them are replayed, whatever their own times (a feed is only roughly in time order).
    long last = 0;
    int first = -1;
    int end = FEED.size();
    for (int i = 0; i < FEED.size(); i++) {
      Long sent = PulseEnvelope.read(FEED.get(i).getBytes(StandardCharsets.UTF_8)).sent();
      last = sent == null ? last : sent;
      if (first < 0 && last >= from.toEpochMilli()) {
        first = i;
      }
      if (last > to.toEpochMilli()) {
        end = i;
        break;
      }
    }
    Path slice = dir.resolve("slice.jsonl");
    Files.write(slice, FEED.subList(first, end), StandardCharsets.UTF_8);
    run(false, "--input", slice.toString(), "--output", dir.resolve("slice-out.jsonl").toString());

    List<String> window = Files.readAllLines(dir.resolve("window.jsonl"));
    assertTrue(!window.isEmpty() && end - first < FEED.size() / 2, "a real window: " + first + ".." + end);
    assertEquals(Files.readAllLines(dir.resolve("slice-out.jsonl")), window);
  }

  /** Every record of a one-partition topic, as the JSON Lines the file replay writes. */
  private static List<String> readAsJson(String topic, boolean verdicts) {
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(verdicts
            ? AvroJson.toJsonLine(Topics.PUSH_VERDICTS.valueSerde().deserializer().deserialize(topic, r.value()))
            : AvroJson.toJsonLine(Topics.TRIGGER_DECISIONS.valueSerde().deserializer().deserialize(topic, r.value()))));
      }
    }
    return out;
  }
}
