package org.triggerbot.sink;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.ServiceArgs;

/**
 * The trigger-sink service while it runs: the {@link TriggerSink} on its worker thread with its meters in a
 * Prometheus registry, and the admin server ({@code admin.port}) that serves them. Ready while the sink is
 * ({@link TriggerSink#readiness()}: journal restored, commands consumed) and its worker thread is alive.
 */
final class SinkService implements ServiceArgs.Running {

  private static final Logger LOG = LoggerFactory.getLogger(SinkService.class);

  private final PrometheusMeterRegistry registry;
  private final TriggerSink sink;
  private final Thread worker;
  private final AdminServer admin;
  private final AtomicReference<Throwable> failure;

  private SinkService(PrometheusMeterRegistry registry, TriggerSink sink, Thread worker, AdminServer admin,
      AtomicReference<Throwable> failure) {
    this.registry = registry;
    this.sink = sink;
    this.worker = worker;
    this.admin = admin;
    this.failure = failure;
  }

  /**
   * Opens the admin port, then starts the sink's worker thread; returns at once.
   *
   * @throws java.io.UncheckedIOException when the admin port cannot be bound (nothing is left running then)
   */
  static SinkService start(SinkConfig config) {
    PrometheusMeterRegistry registry = AdminServer.newRegistry();
    // The port first, so that a port in use stops the start before any client exists.
    AtomicReference<SinkService> started = new AtomicReference<>();
    AdminServer admin;
    try {
      admin = AdminServer.start(config, registry, () -> {
        SinkService s = started.get();
        return s == null ? AdminServer.Health.down("starting") : s.readiness();
      });
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
    if (admin.enabled()) {
      LOG.info("admin server on port {}: /health/live, /health/ready, /metrics", admin.port());
    }
    TriggerSink sink;
    try {
      sink = new TriggerSink(config, registry);
    } catch (RuntimeException e) {
      admin.close();
      registry.close();
      throw e;
    }
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread worker = new Thread(sink, "trigger-sink");
    worker.setUncaughtExceptionHandler((t, e) -> {
      failure.set(e);
      LOG.error("trigger-sink failed: {}", e.toString(), e);
    });
    SinkService service = new SinkService(registry, sink, worker, admin, failure);
    worker.start();
    started.set(service); // after the start: a worker not yet started would read as stopped
    return service;
  }

  /** The sink's readiness while its worker thread lives; after that, why it ended (by exception class only). */
  private AdminServer.Health readiness() {
    if (!worker.isAlive()) {
      Throwable f = failure.get();
      return AdminServer.Health.down(f == null ? "stopped" : "failed: " + f.getClass().getSimpleName());
    }
    return sink.readiness();
  }

  /** The admin server's port (the bound one when {@code admin.port} was 0), or -1 when it is disabled. */
  int adminPort() {
    return admin.port();
  }

  TriggerSink sink() {
    return sink;
  }

  /** Waits until the worker thread ended; 1 when an error ended it (logged by the worker), 0 after a clean stop. */
  @Override
  public int awaitExit() throws InterruptedException {
    worker.join();
    return failure.get() == null ? 0 : 1;
  }

  /** Stops the sink after its current step (what is pending stays in the journal) and waits for it; then the port. */
  @Override
  public void close() {
    sink.close();
    try {
      sink.awaitStopped();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    admin.close();
    registry.close();
  }
}
