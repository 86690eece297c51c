package org.triggerbot.demo;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.triggerbot.bridge.BridgeConfig;
import org.triggerbot.bridge.PublishCommand;
import org.triggerbot.bridge.PulseBridge;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.buildapisim.SimulatorOptions;
import org.triggerbot.buildapisim.taskcluster.AmqpTarget;
import org.triggerbot.buildapisim.taskcluster.TaskclusterSimulator;
import org.triggerbot.common.AdminServer;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.processor.app.ProcessorService;
import org.triggerbot.schemas.Topic;
import org.triggerbot.sink.SinkConfig;
import org.triggerbot.sink.TriggerSink;
import org.triggerbot.testsupport.EmbeddedKafka;

/**
 * The whole triggerbot pipeline on one machine, in one JVM, with nothing installed: an embedded KRaft Kafka broker,
 * an embedded AMQP broker (Qpid Broker-J) standing in for Pulse, the buildapi simulator, and the three real services
 * wired to them exactly as in production (bridge → pulse.raw → processor with exactly-once → trigger.commands →
 * trigger-sink → buildapi). Loopback and free ports only. Used by {@code triggerbot demo} and the end-to-end test.
 *
 * <p>With Taskcluster ({@link #startInfrastructure(String, boolean)}), the Taskcluster simulator stands in for the
 * queue, index and hooks too, publishing its task results to the same AMQP broker, and the three services run with
 * {@code taskcluster.enabled}: the bridge enriches results from the simulator's queue, the sink triggers its
 * retrigger hook with Hawk credentials read from a file, and the simulator's clones close the loop.
 *
 * <p>The processor runs as {@code triggerbot processor} runs it ({@link ProcessorService}): with its admin port
 * on a free loopback port, serving health, metrics and the push pages and JSON at {@link #processorUrl()}.
 */
public final class LocalPipeline implements AutoCloseable {

  /** The Pulse exchange the feed is published to, as on Pulse. */
  public static final String EXCHANGE = "exchange/build/";
  private static final String BUILDAPI_USER = "triggerbot";
  private static final String LOOPBACK = "127.0.0.1";

  /** The Taskcluster client the sink triggers hooks as; its token is random per run, written to a file. */
  public static final String TC_CLIENT_ID = "project/triggerbot/demo";

  private final LocalBrokers brokers;
  private final BuildapiSimulator buildapi;
  /** Null without Taskcluster. */
  private final TaskclusterSimulator taskcluster;
  private final Path stateDir;
  private final Path passwordFile;
  private final BridgeConfig bridgeConfig;
  private ProcessorService processor;
  private PulseBridge bridge;
  private TriggerSink sink;
  private Thread sinkThread;

  private LocalPipeline(LocalBrokers brokers, BuildapiSimulator buildapi, TaskclusterSimulator taskcluster,
      Path stateDir, Path passwordFile) {
    this.brokers = brokers;
    this.buildapi = buildapi;
    this.taskcluster = taskcluster;
    this.stateDir = stateDir;
    this.passwordFile = passwordFile;
    Map<String, String> bridgeValues = new HashMap<>();
    bridgeValues.put(BridgeConfig.AMQP_URI, brokers.amqp().uri());
    bridgeValues.put(BridgeConfig.BOOTSTRAP_SERVERS, brokers.kafka().bootstrapServers());
    bridgeValues.put(BridgeConfig.AMQP_CONNECTION_NAME, "triggerbot-demo-bridge");
    if (taskcluster != null) {
      bridgeValues.put(BridgeConfig.TASKCLUSTER_ENABLED, "true");
      bridgeValues.put(BridgeConfig.TASKCLUSTER_ROOT_URL, taskcluster.rootUrl());
      bridgeValues.put(BridgeConfig.TC_TASK_FETCH_BACKOFF, "PT0.1S");
    }
    this.bridgeConfig = BridgeConfig.of(bridgeValues);
  }

  /**
   * Starts the brokers and the simulator (the services start with {@link #startServices}).
   *
   * @param buildapiPassword the simulator's Basic auth password; the sink reads it from a file, as in production
   */
  public static LocalPipeline startInfrastructure(String buildapiPassword) throws IOException {
    return startInfrastructure(buildapiPassword, false);
  }

  /**
   * Starts the brokers and the simulators (the services start with {@link #startServices}).
   *
   * @param secret the buildapi simulator's Basic auth password, and the Taskcluster client's access token; the
   *     sink reads both from files, as in production
   * @param taskcluster whether to run the Taskcluster simulator and enable Taskcluster in the services
   */
  public static LocalPipeline startInfrastructure(String secret, boolean taskcluster) throws IOException {
    Path stateDir = Files.createTempDirectory("triggerbot-demo-");
    Path passwordFile = stateDir.resolve("buildapi-password");
    Files.writeString(passwordFile, secret);
    LocalBrokers brokers = LocalBrokers.start();
    brokers.amqp().declareTopicExchange(EXCHANGE);
    BuildapiSimulator buildapi = BuildapiSimulator.start(
        SimulatorOptions.defaults().withCredentials(BUILDAPI_USER, secret));
    TaskclusterSimulator tc = null;
    if (taskcluster) {
      tc = TaskclusterSimulator.start(LOOPBACK, AmqpTarget.fromUri(brokers.amqp().uri()));
      // The scope the real retrigger hook of a Gecko try push needs (the hook named in its actions.json).
      tc.addClient(TC_CLIENT_ID, secret, List.of("hooks:trigger-hook:project-gecko/in-tree-action-1-*"));
    }
    return new LocalPipeline(brokers, buildapi, tc, stateDir, passwordFile);
  }

  /**
   * Starts processor, bridge and sink, each configured as its service would be.
   *
   * @param policy policy keys for the processor (e.g. {@code budget.floor})
   * @param sinkRetryDelay the sink's wait before looking again for a job id (90 s in production)
   */
  public LocalPipeline startServices(Map<String, String> policy, Duration sinkRetryDelay) throws InterruptedException {
    Map<String, String> p = new HashMap<>(policy);
    p.put(ProcessorConfig.BOOTSTRAP_SERVERS, brokers.kafka().bootstrapServers());
    p.put(ProcessorConfig.APPLICATION_ID, "triggerbot-demo");
    p.put(ProcessorConfig.STATE_DIR, stateDir.resolve("processor").toString());
    p.put(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    // The admin port (health, metrics, the push pages) on a free loopback port, advertised as such.
    p.put(AdminServer.PORT, "0");
    p.put(AdminServer.BIND, LOOPBACK);
    p.put(ProcessorConfig.ADMIN_ADVERTISED_HOST, LOOPBACK);
    processor = ProcessorService.start(ProcessorConfig.of(p));

    bridge = new PulseBridge(bridgeConfig).start();
    if (!bridge.awaitConsuming(Duration.ofSeconds(60))) {
      throw new IllegalStateException("the bridge did not start consuming");
    }

    Map<String, String> s = new HashMap<>();
    s.put(SinkConfig.BOOTSTRAP_SERVERS, brokers.kafka().bootstrapServers());
    s.put(SinkConfig.BUILDAPI_URL, buildapi.baseUrl());
    s.put(SinkConfig.BUILDAPI_USER, BUILDAPI_USER);
    s.put(SinkConfig.BUILDAPI_PASSWORD_FILE, passwordFile.toString());
    s.put(SinkConfig.RETRY_DELAY, sinkRetryDelay.toString());
    s.put(SinkConfig.GROUP_ID, "triggerbot-demo-sink");
    s.put(SinkConfig.TRANSACTIONAL_ID, "triggerbot-demo-sink");
    if (taskcluster != null) {
      s.put(SinkConfig.TASKCLUSTER_ENABLED, "true");
      s.put(SinkConfig.TASKCLUSTER_ROOT_URL, taskcluster.rootUrl());
      s.put(SinkConfig.TC_CLIENT_ID, TC_CLIENT_ID);
      s.put(SinkConfig.TC_ACCESS_TOKEN_FILE, passwordFile.toString());
    }
    sink = new TriggerSink(SinkConfig.of(s));
    sinkThread = new Thread(sink, "trigger-sink");
    sinkThread.start();
    if (!sink.awaitReady(Duration.ofSeconds(60))) {
      throw new IllegalStateException("the trigger-sink did not start");
    }
    return this;
  }

  /** Publishes Pulse bodies to the AMQP exchange (with confirms), as Pulse would; returns how many. */
  public long publish(List<String> bodies) throws Exception {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    return PublishCommand.publish(bridgeConfig, EXCHANGE, false,
        new BufferedReader(new StringReader(String.join("\n", bodies))), quiet);
  }

  /** Everything committed on {@code topic} so far (read_committed), in order. */
  public <V> List<V> read(Topic<String, V> topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers.kafka().bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<V> out = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(p, topic.keySerde().deserializer(),
        topic.valueSerde().deserializer())) {
      TopicPartition tp = new TopicPartition(topic.name(), 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      while (consumer.position(tp) < end) {
        consumer.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }

  /**
   * Where the processor's HTTP interface answers, without a trailing slash (e.g. {@code http://127.0.0.1:40123}):
   * {@code /} lists the recent pushes, {@code /pushes/{branch}/{revision}} shows one, {@code /api/pushes...} is
   * the same as JSON, beside {@code /health} and {@code /metrics}.
   *
   * @throws IllegalStateException before {@link #startServices}
   */
  public String processorUrl() {
    if (processor == null) {
      throw new IllegalStateException("the processor runs once startServices was called");
    }
    return "http://" + LOOPBACK + ":" + processor.adminPort();
  }

  public EmbeddedKafka kafka() {
    return brokers.kafka();
  }

  public BuildapiSimulator buildapi() {
    return buildapi;
  }

  /**
   * The Taskcluster simulator.
   *
   * @throws IllegalStateException when the pipeline was started without Taskcluster
   */
  public TaskclusterSimulator taskcluster() {
    if (taskcluster == null) {
      throw new IllegalStateException("started without Taskcluster");
    }
    return taskcluster;
  }

  /**
   * Stops the services, then the brokers and the simulator, and deletes the state directory. Throws no checked
   * exception, so that it can also run as a shutdown hook (the demo's {@code --serve} stops on Ctrl-C): an
   * interrupt while waiting for the sink is kept for the caller, and the rest still closes.
   *
   * @throws UncheckedIOException when the state directory cannot be listed for deletion
   */
  @Override
  public void close() {
    if (bridge != null) {
      bridge.close();
    }
    if (sink != null) {
      sink.close();
      try {
        sink.awaitStopped();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (processor != null) {
      processor.close(); // leaves the group, as the service does on a stop
    }
    buildapi.close();
    if (taskcluster != null) {
      taskcluster.close();
    }
    brokers.close();
    if (!Files.exists(stateDir)) {
      return; // closed before
    }
    try (var paths = Files.walk(stateDir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the demo's state directory " + stateDir, e);
    }
  }
}
