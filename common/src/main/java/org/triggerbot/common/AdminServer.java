package org.triggerbot.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The admin port every service exposes (SPEC section 7): health for the orchestrator and metrics for Prometheus,
 * on the JDK's own HTTP server, separate from anything the service does.
 *
 * <ul>
 *   <li>{@code GET /health/live}: 200 {@code {"status":"UP"}} whenever the process can answer. The services exit
 *       when they fail for good, so a live process is a working or recovering one; restarting it would not
 *       help.</li>
 *   <li>{@code GET /health/ready} and {@code GET /health}: 200 {@code {"status":"UP",...details}} when the
 *       service's readiness check says it is ready, else 503 {@code {"status":"DOWN","reason":...,...details}}.
 *       A check that throws counts as not ready (the reason names the exception's class only: messages may quote
 *       configuration).</li>
 *   <li>{@code GET /metrics}: the registry in the Prometheus text exposition format 0.0.4 ({@link #TEXT_FORMAT}),
 *       whatever the scraper's {@code Accept} header prefers: every Prometheus reads it, and one format is less
 *       to go wrong than a negotiation.</li>
 *   <li>{@code HEAD} is answered like {@code GET} without a body; other methods get 405, other paths 404.</li>
 * </ul>
 *
 * <p>The port comes from {@link #PORT} ({@code 0} = any free port, see {@link #port()}; {@code -1} = no admin
 * server at all) and the address from {@link #BIND}; both keys are added to a service's configuration by
 * {@link #define}. The server's threads are daemons, so it never keeps a stopping process alive. Nothing it
 * serves contains a secret: readiness details are chosen by each service, and meters carry no credentials.
 */
public final class AdminServer implements AutoCloseable {

  /** The admin port: 0 = any free port, -1 = disabled. */
  public static final String PORT = "admin.port";
  /** The address the admin port listens on. */
  public static final String BIND = "admin.bind";
  /** Listen on every interface: in a container the orchestrator's probes and Prometheus come from outside. */
  public static final String DEFAULT_BIND = "0.0.0.0";
  /** {@link #PORT} value that turns the admin server off. */
  public static final int DISABLED = -1;

  /** The Content-Type of {@code /metrics}: the Prometheus text exposition format 0.0.4. */
  public static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

  private static final String JSON_TYPE = "application/json";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Two threads: a slow scrape never delays a health probe. */
  private static final int THREADS = 2;

  /**
   * What a readiness check answers.
   *
   * @param ready whether the service does its work now
   * @param reason why not, when not ready (null when ready)
   * @param details more facts for people (state, counts), shown in both cases; no null values, never secrets
   */
  public record Health(boolean ready, String reason, Map<String, Object> details) {
    public Health {
      details = details == null ? Map.of() : Map.copyOf(details);
    }

    public static Health up() {
      return new Health(true, null, Map.of());
    }

    public static Health up(Map<String, ?> details) {
      return new Health(true, null, Map.copyOf(details));
    }

    public static Health down(String reason) {
      return new Health(false, Objects.requireNonNull(reason, "reason"), Map.of());
    }

    public static Health down(String reason, Map<String, ?> details) {
      return new Health(false, Objects.requireNonNull(reason, "reason"), Map.copyOf(details));
    }
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final PrometheusMeterRegistry registry;
  private final Supplier<Health> readiness;

  private AdminServer(HttpServer server, ExecutorService executor, PrometheusMeterRegistry registry,
                      Supplier<Health> readiness) {
    this.server = server;
    this.executor = executor;
    this.registry = registry;
    this.readiness = readiness;
  }

  /**
   * Adds {@link #PORT} (default {@code defaultPort}) and {@link #BIND} (default {@link #DEFAULT_BIND}) to a
   * service's configuration definition; returns {@code def}.
   */
  public static ConfigDef define(ConfigDef def, int defaultPort) {
    return def
        .define(PORT, Type.INT, defaultPort, Range.between(DISABLED, 65535), Importance.MEDIUM,
            "Port of the admin HTTP server: GET /health/live, /health/ready (200 when ready, else 503) and "
                + "/metrics (Prometheus text format). 0 picks a free port; -1 turns the admin server off.")
        .define(BIND, Type.STRING, DEFAULT_BIND, new ConfigDef.NonEmptyString(), Importance.LOW,
            "Address the admin port listens on: 0.0.0.0 (every interface, for containers) or e.g. 127.0.0.1.");
  }

  /**
   * A Prometheus registry with the JVM's own meters bound (memory, threads, class loading, CPU, uptime), for a
   * service to add its meters to and to serve with {@link #start}.
   */
  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  /** Starts the admin server {@code config} asks for (its {@link #PORT} and {@link #BIND}, see {@link #define}). */
  public static AdminServer start(AbstractConfig config, PrometheusMeterRegistry registry,
                                  Supplier<Health> readiness) {
    return start(config.getString(BIND), config.getInt(PORT), registry, readiness);
  }

  /**
   * Starts serving on {@code bindAddress:port} and returns once the port is bound; with {@code port}
   * {@link #DISABLED} it serves nothing and returns an inert server.
   *
   * @throws UncheckedIOException when the address cannot be resolved or the port cannot be bound, naming both
   */
  public static AdminServer start(String bindAddress, int port, PrometheusMeterRegistry registry,
                                  Supplier<Health> readiness) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(readiness, "readiness");
    if (port == DISABLED) {
      return new AdminServer(null, null, registry, readiness);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(PORT + " must be -1 (disabled), 0 (any free port) or a port, was " + port);
    }
    // The JDK server leaves Nagle's algorithm on: with the client's delayed ACKs every small answer would wait
    // ~40 ms. Read once when the JDK's server classes load, so it must be set before the first server.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(bindAddress), port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + bindAddress + ":" + port + " (" + PORT + ", " + BIND
          + "): " + e, e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, daemonThreads());
    AdminServer admin = new AdminServer(server, executor, registry, readiness);
    server.createContext("/", admin::handle);
    server.setExecutor(executor);
    server.start();
    return admin;
  }

  /** The port listened on (the one chosen when {@link #PORT} was 0), or {@link #DISABLED}. */
  public int port() {
    return server == null ? DISABLED : server.getAddress().getPort();
  }

  /** Whether this server listens at all ({@link #PORT} was not {@link #DISABLED}). */
  public boolean enabled() {
    return server != null;
  }

  /** Stops listening at once; requests in progress are cut off (the process is stopping anyway). */
  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
    }
  }

  // --- requests ----------------------------------------------------------------------------------------------

  private void handle(HttpExchange exchange) throws IOException {
    try {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      boolean known = switch (path) {
        case "/health", "/health/live", "/health/ready", "/metrics" -> true;
        default -> false;
      };
      if (!known) {
        respond(exchange, 404, JSON_TYPE, json(Map.of("status", "NOT_FOUND", "path", path)));
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        respond(exchange, 405, JSON_TYPE, json(Map.of("status", "METHOD_NOT_ALLOWED", "method", method)));
        return;
      }
      switch (path) {
        case "/health/live" -> respond(exchange, 200, JSON_TYPE, json(Map.of("status", "UP")));
        case "/metrics" -> metrics(exchange);
        default -> ready(exchange);
      }
    } finally {
      // Also after a failure half-way (the client then sees the connection close): never leak the exchange.
      exchange.close();
    }
  }

  private void ready(HttpExchange exchange) throws IOException {
    Health health;
    try {
      health = readiness.get();
    } catch (RuntimeException e) {
      health = Health.down("readiness check failed: " + e.getClass().getSimpleName());
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", health.ready() ? "UP" : "DOWN");
    if (!health.ready()) {
      body.put("reason", health.reason());
    }
    health.details().forEach(body::putIfAbsent);
    respond(exchange, health.ready() ? 200 : 503, JSON_TYPE, json(body));
  }

  private void metrics(HttpExchange exchange) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    registry.scrape(out, TEXT_FORMAT); // the registry picks its writer by this type: body and header agree
    respond(exchange, 200, TEXT_FORMAT, out.toByteArray());
  }

  private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : body.length);
    if (!head) {
      try (OutputStream os = exchange.getResponseBody()) {
        os.write(body);
      }
    }
  }

  private static byte[] json(Map<String, ?> value) {
    try {
      return JSON.writeValueAsString(value).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("health details must be JSON-serialisable", e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "admin-http-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
