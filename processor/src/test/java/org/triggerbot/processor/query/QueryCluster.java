package org.triggerbot.processor.query;

import java.io.IOException;
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
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.processor.app.ProcessorService;
import org.triggerbot.processor.topology.BrokerTopics;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * A real in-process KRaft broker with the processor's topics, and processor instances started exactly as
 * {@code triggerbot processor} starts them ({@link ProcessorService}), each with its admin port on a free
 * loopback port advertised as {@code 127.0.0.1}: what the HTTP interface's integration and browser tests run on.
 */
final class QueryCluster implements AutoCloseable {

  static final Duration DEADLINE = Duration.ofSeconds(90);
  /** Two enabled branches, one with a slash: its pushes' paths need the branch decoded properly. */
  static final String BRANCHES = "try,releases/mozilla-beta";

  final EmbeddedKafka kafka;
  private final Path stateRoot;
  private final List<ProcessorService> services = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private int instances;

  private QueryCluster(EmbeddedKafka kafka, Path stateRoot) {
    this.kafka = kafka;
    this.stateRoot = stateRoot;
  }

  /**
   * Starts the broker and creates every external topic (event times are in 2015): {@code pulse.raw} with
   * {@code partitions} partitions (the processor's tasks, and so the push state's partitions), the others with one.
   */
  static QueryCluster start(Path stateRoot, int partitions) {
    EmbeddedKafka kafka = EmbeddedKafka.start();
    BrokerTopics.createAll(kafka, partitions);
    return new QueryCluster(kafka, stateRoot);
  }

  /**
   * Starts one processor instance of {@code applicationId}, on a state directory of its own (new, so empty).
   *
   * @param restoreListener hears of state restoration (null: none)
   */
  ProcessorService instance(String applicationId, StateRestoreListener restoreListener) {
    return instance(applicationId, restoreListener, Map.of());
  }

  /** As {@link #instance(String, StateRestoreListener)}, with more configuration on top. */
  ProcessorService instance(String applicationId, StateRestoreListener restoreListener, Map<String, String> more) {
    Map<String, String> values = new HashMap<>();
    values.put(ProcessorConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(ProcessorConfig.APPLICATION_ID, applicationId);
    instances++;
    values.put(ProcessorConfig.STATE_DIR, stateRoot.resolve("instance-" + instances).toString());
    values.put(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    values.put(PolicyConfig.BRANCHES, BRANCHES);
    values.put(AdminServer.PORT, "0");
    values.put(AdminServer.BIND, "127.0.0.1");
    values.put(ProcessorConfig.ADMIN_ADVERTISED_HOST, "127.0.0.1");
    values.putAll(more);
    ProcessorService service = ProcessorService.start(ProcessorConfig.of(values), restoreListener);
    services.add(service);
    return service;
  }

  /** Closes {@code service} (leaving the group, as the service does on a stop). */
  void stop(ProcessorService service) {
    service.close();
    services.remove(service);
  }

  /**
   * Writes Pulse bodies to {@code pulse.raw} as the bridge does (key = the push, timestamp = {@code _meta.sent}),
   * in order.
   */
  void produce(List<String> bodies) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, PulseMessage> producer = new KafkaProducer<>(p,
        Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer())) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (String body : bodies) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        PulseEnvelope envelope = PulseEnvelope.read(bytes);
        acks.add(producer.send(new ProducerRecord<>(Topics.PULSE_RAW.name(), null, envelope.sent(),
            envelope.recordKey(envelope.routingKey()),
            PulseMessage.newBuilder().setExchange(envelope.exchange()).setRoutingKey(envelope.routingKey())
                .setBody(ByteBuffer.wrap(bytes)).setReceivedAt(Instant.ofEpochMilli(envelope.sent())).build())));
      }
      producer.flush();
      BrokerTopics.awaitAcknowledged(acks);
    }
  }

  /** The partitions of the push state whose active task runs on {@code service} now. */
  static Set<Integer> ownedPartitions(ProcessorService service) {
    Set<Integer> owned = new TreeSet<>();
    for (ThreadMetadata thread : service.streams().metadataForLocalThreads()) {
      for (TaskMetadata task : thread.activeTasks()) {
        for (TopicPartition tp : task.topicPartitions()) {
          if (tp.topic().equals(Topics.PULSE_RAW.name())) {
            owned.add(tp.partition());
          }
        }
      }
    }
    return owned;
  }

  /** Waits until every one of {@code services} runs and each owns {@code perInstance} partitions of the pushes. */
  static void awaitBalanced(int perInstance, ProcessorService... services) {
    Await.until("every instance RUNNING with " + perInstance + " partition(s) of the push state", DEADLINE, () -> {
      for (ProcessorService s : services) {
        if (s.streams().state() != KafkaStreams.State.RUNNING
            || ownedPartitions(s).size() != perInstance) {
          return false;
        }
      }
      return true;
    });
  }

  static String base(ProcessorService service) {
    return "http://127.0.0.1:" + service.adminPort();
  }

  /** A GET of {@code pathAndQuery} (already encoded) on {@code service}'s admin port. */
  HttpResponse<String> get(ProcessorService service, String pathAndQuery) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(base(service) + pathAndQuery))
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    for (ProcessorService s : List.copyOf(services)) {
      s.close();
    }
    kafka.close();
  }
}
