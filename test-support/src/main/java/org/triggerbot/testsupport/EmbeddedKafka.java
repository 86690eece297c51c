package org.triggerbot.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.Exit;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, in-process, single-node Kafka cluster in KRaft mode, for integration tests.
 *
 * <p>One {@link KafkaRaftServer} runs both the broker and the controller role (node id 1, a
 * static one-voter quorum). Its storage is formatted with Kafka's own {@link Formatter} in a
 * fresh temporary directory.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>{@link #start()} returns only once the broker is registered with the controller,
 *       unfenced and serving requests. After {@link #restart()}, every existing partition,
 *       internal topics included, also has a leader again.</li>
 *   <li>Both listeners bind to {@code 127.0.0.1} only, on free ports found at start. If another
 *       process takes a port between the check and the bind, start retries on a new port pair
 *       a few times.</li>
 *   <li>{@link #bootstrapServers()} stays the same for the whole life of the instance,
 *       across {@link #stop()} and {@link #restart()}, so clients made before a stop reconnect
 *       by themselves after the restart.</li>
 *   <li>Data (topics, records, committed offsets, transaction state) survives
 *       {@code stop()}/{@code restart()}: the same log directory is used and stop is a clean,
 *       controlled shutdown.</li>
 *   <li>{@link #createTopic} returns once every partition of the new topic has a leader.</li>
 *   <li>{@link #close()} stops the broker and deletes the temporary directory.</li>
 * </ul>
 *
 * <h2>Broker settings</h2>
 * Defaults suited to one node, small test machines (about 2 cores) and exactly-once Kafka
 * Streams: every internal topic (consumer offsets, transaction state, share-group state) has
 * replication factor 1, min ISR 1 and a single partition; {@code num.partitions=1};
 * {@code group.initial.rebalance.delay.ms=0}; few network and I/O threads; a small log cleaner
 * buffer. <b>{@code auto.create.topics.enable=false}</b>: producing to or subscribing to a topic
 * that was not created (with {@link #createTopic} or an Admin client) fails or waits instead of
 * creating it. (Kafka Streams creates its own internal topics through the Admin API, so it is
 * not affected.) All of these can be overridden with {@link #start(Map)}, except the keys in
 * {@link #RESERVED_CONFIGS} (roles, node id, listeners, quorum, directories).
 *
 * <h2>Limits</h2>
 * <ul>
 *   <li>One node: replication factor above 1 is impossible. No TLS or SASL.</li>
 *   <li>{@link #stop()} is a clean shutdown, not a crash: it does not test recovery from
 *       unflushed data.</li>
 *   <li>If another process binds one of the ports while the broker is stopped,
 *       {@link #restart()} fails after its timeout; ports are never changed after start.</li>
 *   <li>JVM-wide side effects: the first start replaces Kafka's {@code Exit} exit and halt
 *       procedures so that a fatal broker fault throws (and fails the test) rather than killing
 *       the test JVM; Kafka's JMX beans and Yammer metrics registry are global, so several
 *       instances at once in one JVM share metric names (they work, but their metrics mix).
 *       Running one instance at a time is the intended use.</li>
 *   <li>Start-up and restart wait at most 60 s for the broker to be ready; topic creation at
 *       most 30 s.</li>
 * </ul>
 *
 * <p>All public methods are synchronized; call them from the test thread.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private static final int START_TIMEOUT_SECONDS = 60;
  private static final int ADMIN_TIMEOUT_SECONDS = 30;

  private static final String HOST = "127.0.0.1";
  private static final int NODE_ID = 1;
  private static final String BROKER_LISTENER = "BROKER";
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  /** Fresh port pairs to try when a probed port is taken before Kafka binds it. */
  private static final int PORT_ATTEMPTS = 5;
  /** Upper bound for one Admin round trip inside a poll loop, so each loop re-checks its deadline. */
  private static final Duration ADMIN_CALL_TIMEOUT = Duration.ofSeconds(5);

  /** Broker settings that this class owns; {@link #start(Map)} rejects overrides of them. */
  public static final Set<String> RESERVED_CONFIGS = Set.of(
      "process.roles", "node.id", "broker.id",
      "listeners", "advertised.listeners", "listener.security.protocol.map",
      "inter.broker.listener.name", "controller.listener.names",
      "controller.quorum.voters", "controller.quorum.bootstrap.servers",
      "log.dir", "log.dirs", "metadata.log.dir");

  private static boolean exitGuardInstalled;

  private final Path baseDir;
  private final Path dataDir;
  private final Map<String, Object> overrides;
  private final String clusterId = Uuid.randomUuid().toString();

  private int brokerPort;
  private int controllerPort;
  /** Null while stopped. */
  private KafkaRaftServer server;
  private boolean closed;

  private EmbeddedKafka(Path baseDir, Map<String, Object> overrides) {
    this.baseDir = baseDir;
    this.dataDir = baseDir.resolve("kraft-combined-logs");
    this.overrides = overrides;
  }

  /** Starts a broker with the default test settings. */
  public static EmbeddedKafka start() {
    return start(Map.of());
  }

  /**
   * Starts a broker with the default test settings plus {@code brokerOverrides} (broker
   * config name to value; values may be strings or typed values).
   *
   * @throws IllegalArgumentException if an override names one of {@link #RESERVED_CONFIGS}
   * @throws IllegalStateException if the broker is not ready in time
   */
  public static EmbeddedKafka start(Map<String, ?> brokerOverrides) {
    List<String> reserved = brokerOverrides.keySet().stream()
        .filter(RESERVED_CONFIGS::contains).sorted().toList();
    if (!reserved.isEmpty()) {
      throw new IllegalArgumentException("EmbeddedKafka owns these broker settings: " + reserved);
    }
    installExitGuard();
    Path baseDir;
    try {
      baseDir = Files.createTempDirectory("embedded-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EmbeddedKafka kafka = new EmbeddedKafka(baseDir, new LinkedHashMap<>(brokerOverrides));
    try {
      kafka.startOnFreshPorts();
      return kafka;
    } catch (RuntimeException | Error e) {
      try {
        kafka.close();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /** {@code 127.0.0.1:PORT} of the broker listener; unchanged by stop and restart. */
  public synchronized String bootstrapServers() {
    return HOST + ":" + brokerPort;
  }

  /** Whether the broker is currently running (started and not stopped or closed). */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /** Creates a topic with replication factor 1; see {@link #createTopic(String, int, Map)}. */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /**
   * Creates a topic with replication factor 1 and the given topic configs (for example
   * {@code cleanup.policy=compact}), and waits until every partition has a leader.
   *
   * @throws IllegalStateException if the broker is not running, the creation fails (for
   *         example, the topic already exists) or the partitions get no leader in time
   */
  public synchronized void createTopic(String name, int partitions, Map<String, String> topicConfigs) {
    requireRunning();
    long deadline = Await.deadlineIn(Duration.ofSeconds(ADMIN_TIMEOUT_SECONDS));
    try (Admin admin = newAdmin()) {
      NewTopic topic = new NewTopic(name, Optional.of(partitions), Optional.of((short) 1))
          .configs(topicConfigs);
      admin.createTopics(List.of(topic)).all().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
      Await.until("topic " + name + " to have a leader for each of its " + partitions + " partitions",
          deadline, () -> {
            TopicDescription description = describeTopics(admin, List.of(name)).get(name);
            return description.partitions().size() == partitions && allHaveLeaders(description);
          });
      // A leader in the metadata may not serve its new partition yet; an idempotent producer's first batch
      // refused as not-leader can then meet the broker's out-of-order sequence check on every retry (seen
      // here, 120 s to a delivery timeout). Listing offsets succeeds only once the leaders serve.
      Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
          new java.util.HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new org.apache.kafka.common.TopicPartition(name, p),
            org.apache.kafka.clients.admin.OffsetSpec.latest());
      }
      Await.until("topic " + name + "'s leaders to serve its " + partitions + " partitions", deadline, () -> {
        try {
          admin.listOffsets(latest).all().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
          return true;
        } catch (ExecutionException notYet) {
          return false;
        }
      });
    } catch (ExecutionException e) {
      throw new IllegalStateException("Could not create topic " + name, e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("Timed out creating topic " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating topic " + name, e);
    }
  }

  /**
   * Shuts the broker down cleanly (controlled shutdown), keeping its data and ports for
   * {@link #restart()}. Clients keep trying to reconnect meanwhile. Does nothing
   * if already stopped.
   */
  public synchronized void stop() {
    KafkaRaftServer running = server;
    if (running == null) {
      return;
    }
    server = null;
    long begin = System.nanoTime();
    shutdown(running);
    LOG.info("Embedded Kafka at {} stopped in {} ms", bootstrapServers(), Await.elapsedMillis(begin));
  }

  /**
   * Starts the broker again (stopping it first if it is running) on the same ports and log
   * directory, and waits until it is unfenced and every existing partition has a leader.
   *
   * @throws IllegalStateException if closed, or not ready in time (for example, because
   *         another process took one of the ports)
   */
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException("EmbeddedKafka is closed");
    }
    stop();
    long begin = System.nanoTime();
    long deadline = Await.deadlineIn(Duration.ofSeconds(START_TIMEOUT_SECONDS));
    // The ports are part of the contract now, so a bind failure is waited out, not dodged.
    Await.until("broker to bind " + bootstrapServers() + " and controller port " + controllerPort,
        deadline, () -> {
          try {
            launch(deadline);
            return true;
          } catch (RuntimeException e) {
            if (isBindFailure(e)) {
              LOG.info("Restart could not bind its ports yet: {}", e.getMessage());
              return false;
            }
            throw e;
          }
        });
    LOG.info("Embedded Kafka restarted at {} in {} ms", bootstrapServers(), Await.elapsedMillis(begin));
  }

  /** Stops the broker if it is running and deletes the temporary directory. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stop();
    } finally {
      TempDirs.deleteRecursively(baseDir);
    }
  }

  /** The temporary directory holding all broker data; deleted by {@link #close()}. */
  Path baseDir() {
    return baseDir;
  }

  // ---------------------------------------------------------------------------------------

  private void startOnFreshPorts() {
    long begin = System.nanoTime();
    long deadline = Await.deadlineIn(Duration.ofSeconds(START_TIMEOUT_SECONDS));
    RuntimeException lastBindFailure = null;
    for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
      int[] ports = probeFreePorts();
      brokerPort = ports[0];
      controllerPort = ports[1];
      // A failed attempt may have written to the metadata log; format from scratch.
      TempDirs.deleteRecursively(dataDir);
      format();
      try {
        launch(deadline);
        LOG.info("Embedded Kafka ready at {} in {} ms (controller port {}, data in {})",
            bootstrapServers(), Await.elapsedMillis(begin), controllerPort, dataDir);
        return;
      } catch (RuntimeException e) {
        if (!isBindFailure(e)) {
          throw e;
        }
        LOG.info("Port taken before Kafka could bind it (attempt {} of {}): {}",
            attempt, PORT_ATTEMPTS, e.getMessage());
        lastBindFailure = e;
      }
    }
    throw new IllegalStateException("Could not bind free ports after " + PORT_ATTEMPTS + " attempts",
        lastBindFailure);
  }

  /** Writes meta.properties and the bootstrap metadata, as {@code kafka-storage.sh format} does. */
  private void format() {
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    try (PrintStream printStream = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(printStream)
          .setNodeId(NODE_ID)
          .setClusterId(clusterId)
          .setDirectories(List.of(dataDir.toString()))
          .setMetadataLogDirectory(dataDir.toString())
          .setControllerListenerName(CONTROLLER_LISTENER)
          // Static voters (controller.quorum.voters), so kraft.version 0; this node is
          // a controller, so it also writes the bootstrap snapshot, as the storage tool does.
          .setHasDynamicQuorum(false)
          .setWriteBootstrapSnapshot(true)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("Could not format " + dataDir, e);
    }
    LOG.debug("Formatter: {}", output.toString(StandardCharsets.UTF_8).trim());
  }

  /** Starts a server on the current ports and waits until it is ready; cleans up on failure. */
  private void launch(long deadline) {
    KafkaRaftServer candidate = new KafkaRaftServer(new KafkaConfig(brokerConfig(), false), Time.SYSTEM);
    try {
      candidate.startup();
      awaitReady(deadline);
    } catch (RuntimeException | Error e) {
      // startup() leaves the controller running if the broker part fails; stop both.
      try {
        shutdown(candidate);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    server = candidate;
  }

  private Map<String, Object> brokerConfig() {
    Map<String, Object> config = new HashMap<>();
    // Test-friendly defaults; any of these may be overridden.
    config.put("num.partitions", "1");
    config.put("default.replication.factor", "1");
    config.put("min.insync.replicas", "1");
    config.put("auto.create.topics.enable", "false");
    config.put("group.initial.rebalance.delay.ms", "0");
    // Internal topics: one replica (there is one broker) and one partition (creating and
    // loading the default 50 partitions costs seconds on a small machine).
    config.put("offsets.topic.replication.factor", "1");
    config.put("offsets.topic.num.partitions", "1");
    config.put("transaction.state.log.replication.factor", "1");
    config.put("transaction.state.log.min.isr", "1");
    config.put("transaction.state.log.num.partitions", "1");
    config.put("share.coordinator.state.topic.replication.factor", "1");
    config.put("share.coordinator.state.topic.min.isr", "1");
    config.put("share.coordinator.state.topic.num.partitions", "1");
    // Fewer threads and a 2 MiB (instead of 128 MiB) cleaner buffer for a 2-core test JVM.
    config.put("num.network.threads", "2");
    config.put("num.io.threads", "2");
    config.put("log.cleaner.dedupe.buffer.size", "2097152");
    config.putAll(overrides);

    // Owned settings: combined roles, loopback-only listeners, a one-voter static quorum.
    config.put("process.roles", "broker,controller");
    config.put("node.id", Integer.toString(NODE_ID));
    config.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort + ","
        + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
    config.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort);
    config.put("listener.security.protocol.map",
        BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    config.put("inter.broker.listener.name", BROKER_LISTENER);
    config.put("controller.listener.names", CONTROLLER_LISTENER);
    config.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
    config.put("log.dirs", dataDir.toString());
    config.put("metadata.log.dir", dataDir.toString());
    return config;
  }

  /**
   * Ready means: this broker is listed by DescribeCluster (which lists only unfenced brokers)
   * and every partition, internal topics included, has a leader. The second half matters
   * after a restart, when partitions are leaderless until the broker is unfenced.
   */
  private void awaitReady(long deadline) {
    try (Admin admin = newAdmin()) {
      Await.until("broker " + NODE_ID + " to be registered and unfenced", deadline, () -> {
        Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions()
            .timeoutMs((int) ADMIN_CALL_TIMEOUT.toMillis()))
            .nodes().get(callTimeoutMillis(deadline), TimeUnit.MILLISECONDS);
        return nodes.stream().anyMatch(node -> node.id() == NODE_ID);
      });
      Await.until("every partition to have a leader", deadline, () -> {
        Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)
            .timeoutMs((int) ADMIN_CALL_TIMEOUT.toMillis()))
            .names().get(callTimeoutMillis(deadline), TimeUnit.MILLISECONDS);
        return topics.isEmpty()
            || describeTopics(admin, topics).values().stream().allMatch(EmbeddedKafka::allHaveLeaders);
      });
    }
  }

  private static Map<String, TopicDescription> describeTopics(Admin admin, Collection<String> topics)
      throws Exception {
    long timeout = ADMIN_CALL_TIMEOUT.toMillis();
    return admin.describeTopics(topics, new DescribeTopicsOptions().timeoutMs((int) timeout))
        .allTopicNames().get(timeout, TimeUnit.MILLISECONDS);
  }

  private static boolean allHaveLeaders(TopicDescription description) {
    return description.partitions().stream()
        .map(TopicPartitionInfo::leader)
        .allMatch(leader -> leader != null && !leader.isEmpty());
  }

  private Admin newAdmin() {
    Map<String, Object> config = new HashMap<>();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "embedded-kafka-admin");
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ADMIN_CALL_TIMEOUT.toMillis());
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ADMIN_TIMEOUT_SECONDS * 1000);
    return Admin.create(config);
  }

  private static void shutdown(KafkaRaftServer target) {
    target.shutdown();
    target.awaitShutdown();
  }

  private void requireRunning() {
    if (closed) {
      throw new IllegalStateException("EmbeddedKafka is closed");
    }
    if (server == null) {
      throw new IllegalStateException("EmbeddedKafka is stopped; call restart() first");
    }
  }

  /**
   * Two distinct free loopback ports. Both sockets are open at once so the ports differ; they
   * are closed before Kafka binds, so another process can still race us (hence the retries).
   */
  private static int[] probeFreePorts() {
    try (ServerSocket broker = new ServerSocket(); ServerSocket controller = new ServerSocket()) {
      InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1}); // HOST, not looked up
      broker.setReuseAddress(true);
      controller.setReuseAddress(true);
      broker.bind(new InetSocketAddress(loopback, 0));
      controller.bind(new InetSocketAddress(loopback, 0));
      return new int[] {broker.getLocalPort(), controller.getLocalPort()};
    } catch (IOException e) {
      throw new UncheckedIOException("Could not probe free ports on " + HOST, e);
    }
  }

  /** Kafka reports a taken port as a KafkaException wrapping the BindException. */
  private static boolean isBindFailure(Throwable failure) {
    List<Throwable> seen = new ArrayList<>();
    for (Throwable t = failure; t != null && !seen.contains(t); t = t.getCause()) {
      seen.add(t);
      if (t instanceof BindException
          || (t instanceof KafkaException && String.valueOf(t.getMessage()).contains("failed to bind"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Kafka's fatal fault handlers call {@code Exit.halt}, which would kill the test JVM (and
   * the test report with it). Make them throw instead, so the failure surfaces in the test.
   */
  private static synchronized void installExitGuard() {
    if (exitGuardInstalled) {
      return;
    }
    Exit.setHaltProcedure((status, message) -> {
      throw new IllegalStateException("Kafka requested JVM halt(" + status + "): " + message);
    });
    Exit.setExitProcedure((status, message) -> {
      throw new IllegalStateException("Kafka requested JVM exit(" + status + "): " + message);
    });
    exitGuardInstalled = true;
  }

  private static long remainingMillis(long deadline) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
  }

  private static long callTimeoutMillis(long deadline) {
    return Math.min(ADMIN_CALL_TIMEOUT.toMillis(), remainingMillis(deadline));
  }

}
