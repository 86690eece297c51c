package org.triggerbot.processor.app;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.KafkaConnectivity;
import org.triggerbot.common.ServiceArgs;
import org.triggerbot.processor.query.PushApi;
import org.triggerbot.processor.query.PushQueries;
import org.triggerbot.processor.topology.MisroutedRecordException;
import org.triggerbot.processor.topology.ProcessorTopology;
import org.triggerbot.schemas.Topics;

/**
 * The processor service while it runs: Kafka Streams on the topology, its metrics in a Prometheus registry, and
 * the admin server ({@code admin.port}) that serves them with the health checks and the push queries.
 *
 * <p>Start-up order: the admin server binds first, then Kafka Streams is created with
 * {@code application.server = admin.advertised.host:<bound admin port>}, so that {@code admin.port=0} works and
 * every instance's metadata names the port its push queries are really served on ({@link PushApi}: they answer
 * 503 until Kafka Streams exists and runs). With {@code admin.port=-1} there is no admin server, no
 * {@code application.server} and no push queries. A {@code streams.application.server} in the configuration wins
 * over the computed one (for a port mapped between the instances and this one).
 *
 * <p>Readiness: ready only in state {@code RUNNING} while the stream threads' consumers reach a broker
 * ({@link KafkaConnectivity}: not ready after 5 s without any connection). {@code REBALANCING} (partitions moving,
 * state restoring) is live but not ready, like starting and stopping. Metrics: every Kafka Streams metric through
 * Micrometer's {@link KafkaStreamsMetrics} ({@code kafka_stream_*}, and the embedded clients' {@code kafka_consumer_*},
 * {@code kafka_producer_*}, {@code kafka_admin_client_*}), which includes the topology's own sensors
 * ({@code kafka_stream_triggerbot_pulse_accepted_total}, ..., {@code kafka_stream_triggerbot_decision_<reason>_total}),
 * plus the JVM's meters. State restoration is logged per store partition, start and end.
 *
 * <p>Before Kafka Streams starts, the service asks the broker how many partitions {@code pulse.raw} has (waiting
 * up to {@link #SOURCE_TOPIC_WAIT} for it to exist): one decision task per partition, sharing the global limits.
 *
 * <p>A stream thread that dies of an unexpected exception is replaced up to
 * {@link ProcessorMain#MAX_THREAD_REPLACEMENTS} times; after that the client shuts down and {@link #awaitExit()}
 * answers 1, so that the process exits loudly and the orchestrator restarts it. A
 * {@link MisroutedRecordException} (a multi-partition {@code pulse.raw} not keyed by push) shuts it down at once.
 */
public final class ProcessorService implements ServiceArgs.Running {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessorService.class);
  /**
   * How often new Kafka metrics are looked for. Task-level metrics (the topology's sensors among them) appear
   * only once tasks are assigned, after start and after each rebalance; Micrometer's default of a minute would
   * leave them out of the first scrapes. Comparing the metric names every few seconds costs next to nothing.
   */
  static final Duration METRICS_REFRESH = Duration.ofSeconds(5);
  /** How long the processor waits at start for {@code pulse.raw} to exist (it needs its partition count). */
  static final Duration SOURCE_TOPIC_WAIT = Duration.ofSeconds(60);

  private final PrometheusMeterRegistry registry = AdminServer.newRegistry();
  private final ScheduledExecutorService metricsRefresh;
  private final PushApi pushApi = new PushApi();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicInteger exitCode = new AtomicInteger(0);
  private volatile KafkaStreams streams;
  private volatile KafkaConnectivity connectivity;
  private KafkaStreamsMetrics streamsMetrics;
  private AdminServer admin;
  private boolean closed;

  private ProcessorService() {
    this.metricsRefresh = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "processor-metrics-refresh");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Opens the admin port, creates and starts Kafka Streams, binds the metrics; returns at once.
   *
   * @throws java.io.UncheckedIOException when the admin port cannot be bound (nothing is left running then)
   */
  public static ProcessorService start(ProcessorConfig config) {
    return start(config, null);
  }

  /**
   * As {@link #start(ProcessorConfig)}, and {@code restoreListener} (may be null) also hears of every state
   * restoration, after this service has logged it: for tests that must hold an instance in restoration, and for
   * whoever embeds the processor and wants to show restore progress.
   */
  public static ProcessorService start(ProcessorConfig config, StateRestoreListener restoreListener) {
    ProcessorService service = new ProcessorService();
    try {
      service.begin(config, restoreListener);
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
    return service;
  }

  private void begin(ProcessorConfig config, StateRestoreListener restoreListener) {
    synchronized (this) {
      admin = AdminServer.start(config, registry, this::readiness, pushApi.routes());
    }
    Properties properties = config.streamsProperties();
    if (admin.enabled()) {
      properties.putIfAbsent(StreamsConfig.APPLICATION_SERVER_CONFIG, config.advertisedHost() + ":" + admin.port());
    }
    int partitions = SourcePartitions.of(Topics.PULSE_RAW.name(), properties, SOURCE_TOPIC_WAIT);
    LOG.info("{} has {} partition(s): {} decision task(s){}", Topics.PULSE_RAW.name(), partitions, partitions,
        partitions == 1 ? "" : ", each enforcing 1/" + partitions + " of the global hourly limits");
    KafkaStreams kafkaStreams = new KafkaStreams(ProcessorTopology.build(config.topologySettings(partitions)),
        properties);
    streams = kafkaStreams;
    connectivity = new KafkaConnectivity(kafkaStreams::metrics, KafkaConnectivity.STREAMS_MAIN_CONSUMERS);
    streamsMetrics = new KafkaStreamsMetrics(kafkaStreams, Tags.empty(), metricsRefresh, METRICS_REFRESH);
    AtomicInteger replacements = new AtomicInteger();
    kafkaStreams.setUncaughtExceptionHandler(e -> {
      Throwable misrouted = causedBy(e, MisroutedRecordException.class);
      if (misrouted != null) {
        LOG.error("stopping: {}", misrouted.getMessage());
        exitCode.set(1);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT; // every instance would meet the same records
      }
      if (replacements.incrementAndGet() <= ProcessorMain.MAX_THREAD_REPLACEMENTS) {
        LOG.error("stream thread died; replacing it ({} of {})", replacements.get(),
            ProcessorMain.MAX_THREAD_REPLACEMENTS, e);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
      }
      LOG.error("stream thread died {} times; shutting down", replacements.get(), e);
      exitCode.set(1);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    kafkaStreams.setStateListener((now, before) -> {
      LOG.info("processor state {} -> {}", before, now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        stopped.countDown();
      }
    });
    kafkaStreams.setGlobalStateRestoreListener(new LoggingRestoreListener(restoreListener));
    streamsMetrics.bindTo(registry);
    if (admin.enabled()) {
      Object server = properties.get(StreamsConfig.APPLICATION_SERVER_CONFIG);
      pushApi.attach(new PushQueries(kafkaStreams, HostInfo.buildFromEndpoint(server.toString()), partitions));
      LOG.info("admin server on port {}: /health/live, /health/ready, /metrics; push queries on /, /pushes/..., "
          + "/api/pushes (application.server {})", admin.port(), server);
    }
    LOG.info("starting processor {} (policy {})", config.getString(ProcessorConfig.APPLICATION_ID),
        config.policy().version());
    kafkaStreams.start();
  }

  /** The first {@code type} in the cause chain of {@code e}, or null. */
  private static Throwable causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return t;
      }
    }
    return null;
  }

  private AdminServer.Health readiness() {
    KafkaStreams s = streams;
    KafkaConnectivity c = connectivity;
    if (s == null || c == null) {
      return AdminServer.Health.down("starting", Map.of("state", "CREATED"));
    }
    AdminServer.Health byState = readiness(s.state());
    // RUNNING says nothing of the brokers: Kafka Streams stays RUNNING while every broker is away.
    String kafka = byState.ready() ? c.problem() : null;
    return kafka == null ? byState : AdminServer.Health.down(kafka, byState.details());
  }

  /** Ready in {@code RUNNING} only; the state is in the details either way. */
  static AdminServer.Health readiness(KafkaStreams.State state) {
    Map<String, Object> details = Map.of("state", state.name());
    return switch (state) {
      case RUNNING -> AdminServer.Health.up(details);
      case CREATED -> AdminServer.Health.down("starting", details);
      case REBALANCING -> AdminServer.Health.down("rebalancing: partitions are being assigned or state restored",
          details);
      default -> AdminServer.Health.down("stopping or stopped", details);
    };
  }

  /** The admin server's port (the bound one when {@code admin.port} was 0), or -1 when it is disabled. */
  public synchronized int adminPort() {
    return admin == null ? AdminServer.DISABLED : admin.port();
  }

  /**
   * The running Kafka Streams client, for embedding code and tests that look at its state or metadata. Closing it
   * is this service's job ({@link #close()}).
   */
  public KafkaStreams streams() {
    return streams;
  }

  /** Waits until Kafka Streams stopped (or {@link #close()} was called); returns {@link #exitCode()}. */
  @Override
  public int awaitExit() throws InterruptedException {
    stopped.await();
    return exitCode();
  }

  /** 1 after the stream threads died too often, else 0. */
  int exitCode() {
    return exitCode.get();
  }

  /**
   * Stops serving the admin port, then closes Kafka Streams committing and leaving the consumer group, so that a
   * restarted (or another) instance gets the partitions at once instead of after the session timeout: triggerbot
   * typically runs one processor, and a rebalance is cheap. Idempotent; a second caller waits for the first.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (admin != null) {
      admin.close();
    }
    if (streams != null) {
      streams.close(CloseOptions.timeout(Duration.ofSeconds(30))
          .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }
    if (streamsMetrics != null) {
      streamsMetrics.close();
    }
    metricsRefresh.shutdownNow();
    registry.close();
    stopped.countDown();
  }

  /** Logs the start and end of each store partition's restoration, then tells {@code next} (if any). */
  private static final class LoggingRestoreListener implements StateRestoreListener {
    private final StateRestoreListener next;

    LoggingRestoreListener(StateRestoreListener next) {
      this.next = next;
    }

    @Override
    public void onRestoreStart(TopicPartition partition, String store, long startOffset, long endOffset) {
      LOG.info("restoring {} from {} (offsets {} to {})", store, partition, startOffset, endOffset);
      if (next != null) {
        next.onRestoreStart(partition, store, startOffset, endOffset);
      }
    }

    @Override
    public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long restored) {
      if (next != null) {
        next.onBatchRestored(partition, store, batchEndOffset, restored);
      }
    }

    @Override
    public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
      LOG.info("restored {} from {}: {} records", store, partition, totalRestored);
      if (next != null) {
        next.onRestoreEnd(partition, store, totalRestored);
      }
    }

    @Override
    public void onRestoreSuspended(TopicPartition partition, String store, long totalRestored) {
      LOG.info("restoration of {} from {} suspended after {} records (the task moved)", store, partition,
          totalRestored);
      if (next != null) {
        next.onRestoreSuspended(partition, store, totalRestored);
      }
    }
  }
}
