package org.triggerbot.sink;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.buildapisim.SimulatorOptions;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * The sink's throughput against the buildapi simulator: N commands (each one lookup and one rebuild POST) are
 * queued on {@code trigger.commands} first, then a sink is started and timed until {@code trigger.results} holds
 * N results. Both servers are local; run by {@code bench/sink-rate.sh}. Not a test.
 *
 * <p>usage: SinkBenchmark [commands=2000]
 */
public final class SinkBenchmark {

  private SinkBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
         BuildapiSimulator sim = BuildapiSimulator.start(SimulatorOptions.defaults())) {
      kafka.createTopic(Topics.TRIGGER_COMMANDS.name(), 1);
      kafka.createTopic(Topics.TRIGGER_RESULTS.name(), 1);
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      try (KafkaProducer<String, TriggerCommand> producer = new KafkaProducer<>(p,
          Topics.TRIGGER_COMMANDS.keySerde().serializer(), Topics.TRIGGER_COMMANDS.valueSerde().serializer())) {
        for (int i = 0; i < n; i++) {
          String revision = String.format("%012x", 0xabc000000L + i / 130);
          String builder = "Ubuntu VM 12.04 try opt test suite-" + (i % 130);
          sim.addBuild("try", revision, builder, 2);
          sent.add(producer.send(new ProducerRecord<>(Topics.TRIGGER_COMMANDS.name(), "try/" + revision + "/" + builder,
              TriggerCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setBranch("try")
                  .setRevision(revision).setBuilder(builder).setCount(1).setReason(DecisionReason.TRIGGER_FAILURE)
                  .setRequestedAt(Instant.now()).build())));
        }
      }
      for (Future<RecordMetadata> f : sent) {
        f.get(); // the producer's close flushed them; throws if a command was not written
      }
      Map<String, String> values = new HashMap<>();
      values.put(SinkConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
      values.put(SinkConfig.BUILDAPI_URL, sim.baseUrl());
      values.put(SinkConfig.BUILDAPI_USER, "triggerbot");
      values.put(SinkConfig.BUILDAPI_PASSWORD, "sim-password");
      values.put(SinkConfig.MAX_POSTS_PER_HOUR, Integer.toString(n));
      TriggerSink sink = new TriggerSink(SinkConfig.of(values));
      Thread worker = new Thread(sink, "sink");
      worker.start();
      sink.awaitReady(Duration.ofMinutes(1));
      long start = System.nanoTime();
      long results = 0;
      Properties c = new Properties();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c,
          new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
          new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
        TopicPartition tp = new TopicPartition(Topics.TRIGGER_RESULTS.name(), 0);
        consumer.assign(java.util.List.of(tp));
        consumer.seekToBeginning(java.util.List.of(tp));
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (results < n && System.nanoTime() < deadline) {
          results += consumer.poll(Duration.ofMillis(50)).count(); // committed results only (read_committed)
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      sink.close();
      sink.awaitStopped();
      System.out.printf(
          "{\"commands\":%d,\"results\":%d,\"rebuildPosts\":%d,\"seconds\":%.2f,\"commandsPerSecond\":%.0f}%n",
          n, results, sim.rebuildPosts(), seconds, n / seconds);
    }
  }
}
