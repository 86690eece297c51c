package org.triggerbot.processor.app;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.ServiceArgs;
import org.triggerbot.processor.topology.ProcessorTopology;

/**
 * The processor service while it runs: Kafka Streams on the topology, its metrics in a Prometheus registry, and
 * the admin server ({@code admin.port}) that serves them with the health checks.
 *
 * <p>Readiness: ready only in state {@code RUNNING}. {@code REBALANCING} (partitions moving, state restoring) is
 * live but not ready, like starting and stopping. Metrics: every Kafka Streams metric through Micrometer's
 * {@link KafkaStreamsMetrics} ({@code kafka_stream_*}, and the embedded clients' {@code kafka_consumer_*},
 * {@code kafka_producer_*}, {@code kafka_admin_client_*}), which includes the topology's own sensors
 * ({@code kafka_stream_triggerbot_pulse_accepted_total}, ..., {@code kafka_stream_triggerbot_decision_<reason>_total}),
 * plus the JVM's meters.
 *
 * <p>A stream thread that dies of an unexpected exception is replaced up to
 * {@link ProcessorMain#MAX_THREAD_REPLACEMENTS} times; after that the client shuts down and {@link #awaitExit()}
 * answers 1, so that the process exits loudly and the orchestrator restarts it.
 */
final class ProcessorService implements ServiceArgs.Running {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessorService.class);
  /**
   * How often new Kafka metrics are looked for. Task-level metrics (the topology's sensors among them) appear
   * only once tasks are assigned, after start and after each rebalance; Micrometer's default of a minute would
   * leave them out of the first scrapes. Comparing the metric names every few seconds costs next to nothing.
   */
  static final Duration METRICS_REFRESH = Duration.ofSeconds(5);

  private final KafkaStreams streams;
  private final PrometheusMeterRegistry registry;
  private final ScheduledExecutorService metricsRefresh;
  private final KafkaStreamsMetrics streamsMetrics;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicInteger exitCode = new AtomicInteger(0);
  private AdminServer admin;
  private boolean closed;

  private ProcessorService(ProcessorConfig config) {
    this.streams = new KafkaStreams(ProcessorTopology.build(config.topologySettings()), config.streamsProperties());
    this.registry = AdminServer.newRegistry();
    this.metricsRefresh = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "processor-metrics-refresh");
      t.setDaemon(true);
      return t;
    });
    this.streamsMetrics = new KafkaStreamsMetrics(streams, Tags.empty(), metricsRefresh, METRICS_REFRESH);
  }

  /**
   * Binds the metrics, opens the admin port and starts Kafka Streams; returns at once.
   *
   * @throws java.io.UncheckedIOException when the admin port cannot be bound (nothing is left running then)
   */
  static ProcessorService start(ProcessorConfig config) {
    ProcessorService service = new ProcessorService(config);
    try {
      service.begin(config);
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
    return service;
  }

  private void begin(ProcessorConfig config) {
    AtomicInteger replacements = new AtomicInteger();
    streams.setUncaughtExceptionHandler(e -> {
      if (replacements.incrementAndGet() <= ProcessorMain.MAX_THREAD_REPLACEMENTS) {
        LOG.error("stream thread died; replacing it ({} of {})", replacements.get(),
            ProcessorMain.MAX_THREAD_REPLACEMENTS, e);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
      }
      LOG.error("stream thread died {} times; shutting down", replacements.get(), e);
      exitCode.set(1);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      LOG.info("processor state {} -> {}", before, now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        stopped.countDown();
      }
    });
    streamsMetrics.bindTo(registry);
    synchronized (this) {
      admin = AdminServer.start(config, registry, this::readiness);
    }
    if (admin.enabled()) {
      LOG.info("admin server on port {}: /health/live, /health/ready, /metrics", admin.port());
    }
    LOG.info("starting processor {} (policy {})", config.getString(ProcessorConfig.APPLICATION_ID),
        config.policy().version());
    streams.start();
  }

  private AdminServer.Health readiness() {
    return readiness(streams.state());
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
  synchronized int adminPort() {
    return admin == null ? AdminServer.DISABLED : admin.port();
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
    streams.close(CloseOptions.timeout(Duration.ofSeconds(30))
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    streamsMetrics.close();
    metricsRefresh.shutdownNow();
    registry.close();
    stopped.countDown();
  }
}
