package org.triggerbot.bridge;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.ServiceArgs;

/**
 * The bridge service while it runs: the {@link PulseBridge} with its meters in a Prometheus registry, and the
 * admin server ({@code admin.port}) that serves them with the bridge's readiness ({@link PulseBridge#readiness()}).
 */
final class BridgeService implements ServiceArgs.Running {

  private static final Logger LOG = LoggerFactory.getLogger(BridgeService.class);

  private final PrometheusMeterRegistry registry;
  private final PulseBridge bridge;
  private final AdminServer admin;

  private BridgeService(PrometheusMeterRegistry registry, PulseBridge bridge, AdminServer admin) {
    this.registry = registry;
    this.bridge = bridge;
    this.admin = admin;
  }

  /**
   * Opens the admin port, then starts the bridge; returns at once (the bridge connects in the background).
   *
   * @throws java.io.UncheckedIOException when the admin port cannot be bound (nothing is left running then)
   */
  static BridgeService start(BridgeConfig config) {
    PrometheusMeterRegistry registry = AdminServer.newRegistry();
    // The port first, so that a port in use stops the start before any client exists.
    AtomicReference<PulseBridge> started = new AtomicReference<>();
    AdminServer admin;
    try {
      admin = AdminServer.start(config, registry, () -> {
        PulseBridge b = started.get();
        return b == null ? AdminServer.Health.down("starting") : b.readiness();
      });
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
    if (admin.enabled()) {
      LOG.info("admin server on port {}: /health/live, /health/ready, /metrics", admin.port());
    }
    PulseBridge bridge;
    try {
      bridge = new PulseBridge(config, registry);
    } catch (RuntimeException e) {
      admin.close();
      registry.close();
      throw e;
    }
    started.set(bridge.start());
    return new BridgeService(registry, bridge, admin);
  }

  /** The admin server's port (the bound one when {@code admin.port} was 0), or -1 when it is disabled. */
  int adminPort() {
    return admin.port();
  }

  PulseBridge bridge() {
    return bridge;
  }

  /** Waits until the bridge stopped; 1 (with the error logged) when an error stopped it, 0 after a clean close. */
  @Override
  public int awaitExit() throws InterruptedException {
    Exception failure = bridge.awaitStopped();
    if (failure != null) {
      LOG.error("bridge failed: {}", failure.getMessage());
      return 1;
    }
    return 0;
  }

  /** Clean shutdown of the bridge (see {@link PulseBridge#close()}), then of the admin port. */
  @Override
  public void close() {
    bridge.close();
    admin.close();
    registry.close();
  }
}
