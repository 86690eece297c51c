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
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *   <li>Routes a service mounts ({@link #start(AbstractConfig, PrometheusMeterRegistry, Supplier, Map)}): each
 *       path pattern is either exact ({@code /api/pushes}) or, ending in {@code *}, a prefix ({@code /api/pushes/*}
 *       matches every path that starts with {@code /api/pushes/}); an exact pattern wins over a prefix and a longer
 *       prefix over a shorter one. The built-in paths above are matched first, so a route can never hide a health
 *       check. A route is a function from {@link Request} to {@link Response}; the server does the HTTP around it
 *       the same way for every route, so each service's handlers stay plain and testable without a socket.</li>
 *   <li>{@code HEAD} is answered like {@code GET} without a body; other methods get 405, other paths 404 (JSON).
 *       A route that throws answers 500 naming only the exception's class (its message may quote configuration
 *       or data), and the exception is logged.</li>
 *   <li>Every answer carries {@code Cache-Control: no-store}: health, metrics and queried state are all "now".</li>
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

  /** The Content-Type of JSON answers. JSON is UTF-8 by definition (RFC 8259), so it takes no charset. */
  public static final String JSON_TYPE = "application/json";
  /** The Content-Type of HTML answers. */
  public static final String HTML_TYPE = "text/html; charset=utf-8";

  /** The JDK's logger facade: common has no logging dependency of its own, and this logs one thing only. */
  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Two threads: a slow scrape never delays a health probe. */
  private static final int THREADS = 2;
  /**
   * Threads when routes are mounted. A route may wait on another instance's admin port (the processor forwards
   * a query to the instance that owns the data), and that instance needs a free thread to answer while this one
   * waits: with two threads each, two instances forwarding to each other at once could hold every thread until
   * the forwarding timeout. Ten leave room for health probes and scrapes beside eight queries in flight.
   */
  private static final int THREADS_WITH_ROUTES = 10;
  private static final Set<String> BUILT_IN = Set.of("/health", "/health/live", "/health/ready", "/metrics");

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

  /**
   * A request as a route sees it.
   *
   * @param method {@code GET} or {@code HEAD} (other methods never reach a route)
   * @param rawPath the path as sent, still percent-encoded, so that a route can split it into segments before
   *     decoding them (an encoded {@code /} inside a segment stays part of that segment)
   * @param rawQuery the query string as sent, without the {@code ?}; null when there is none
   * @param headers the request headers, names matched without regard to case
   */
  public record Request(String method, String rawPath, String rawQuery, Map<String, List<String>> headers) {
    public Request {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(rawPath, "rawPath");
      Map<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      if (headers != null) {
        headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
      }
      headers = Collections.unmodifiableMap(copy);
    }

    /** A GET of {@code rawPath} (which may carry {@code ?query}), with the given headers; for tests and callers. */
    public static Request get(String rawPathAndQuery, Map<String, List<String>> headers) {
      int q = rawPathAndQuery.indexOf('?');
      return q < 0 ? new Request("GET", rawPathAndQuery, null, headers)
          : new Request("GET", rawPathAndQuery.substring(0, q), rawPathAndQuery.substring(q + 1), headers);
    }

    /** The first value of header {@code name} (any case), if it was sent. */
    public Optional<String> header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }
  }

  /**
   * What a route answers. The server adds {@code Cache-Control: no-store} and drops the body for {@code HEAD}.
   *
   * @param status the HTTP status
   * @param contentType e.g. {@link #JSON_TYPE} or {@link #HTML_TYPE}
   * @param body the bytes of the body
   * @param headers more response headers (e.g. {@code Retry-After}); {@code Content-Type} and
   *     {@code Cache-Control} are the server's
   */
  // A response on its way to the client, never compared or hashed: identity equality on the body is never used.
  @SuppressWarnings("ArrayRecordComponent")
  public record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    public Response {
      if (status < 100 || status > 599) {
        throw new IllegalArgumentException("not an HTTP status: " + status);
      }
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
      headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    public static Response json(int status, byte[] body) {
      return new Response(status, JSON_TYPE, body, Map.of());
    }

    public static Response html(int status, String body) {
      return new Response(status, HTML_TYPE, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** This response with one more header. */
    public Response withHeader(String name, String value) {
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(name, value);
      return new Response(status, contentType, body, more);
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** A service's handler of a mounted path pattern (see the class comment for the patterns). */
  @FunctionalInterface
  public interface Route {
    /**
     * Answers one request; may block (e.g. on another instance). Called on one of the server's threads, possibly
     * on several at once.
     */
    Response handle(Request request) throws Exception;
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final PrometheusMeterRegistry registry;
  private final Supplier<Health> readiness;
  private final Map<String, Route> exact;
  /** Prefix (the pattern without its {@code *}) to route, longest prefix first. */
  private final List<Map.Entry<String, Route>> prefixes;

  private AdminServer(HttpServer server, ExecutorService executor, PrometheusMeterRegistry registry,
      Supplier<Health> readiness, Map<String, Route> routes) {
    this.server = server;
    this.executor = executor;
    this.registry = registry;
    this.readiness = readiness;
    Map<String, Route> exactRoutes = new HashMap<>();
    List<Map.Entry<String, Route>> prefixRoutes = new ArrayList<>();
    routes.forEach((pattern, route) -> {
      Objects.requireNonNull(route, "route of " + pattern);
      int star = pattern == null ? -1 : pattern.indexOf('*');
      if (pattern == null || !pattern.startsWith("/") || (star >= 0 && star != pattern.length() - 1)) {
        throw new IllegalArgumentException("a route pattern is /exact/path or /prefix/* (one * at the end), was "
            + pattern);
      }
      if (pattern.endsWith("*")) {
        prefixRoutes.add(Map.entry(pattern.substring(0, pattern.length() - 1), route));
      } else if (BUILT_IN.contains(pattern)) {
        throw new IllegalArgumentException(pattern + " is the admin server's own; a route cannot replace it");
      } else {
        exactRoutes.put(pattern, route);
      }
    });
    prefixRoutes.sort(Comparator.comparing((Map.Entry<String, Route> e) -> e.getKey().length()).reversed());
    this.exact = Map.copyOf(exactRoutes);
    this.prefixes = List.copyOf(prefixRoutes);
  }

  /**
   * Adds {@link #PORT} (default {@code defaultPort}) and {@link #BIND} (default {@link #DEFAULT_BIND}) to a
   * service's configuration definition; returns {@code def}.
   */
  public static ConfigDef define(ConfigDef def, int defaultPort) {
    return def
        .define(PORT, ConfigDef.Type.INT, defaultPort, Range.between(DISABLED, 65535), Importance.MEDIUM,
            "Port of the admin HTTP server: GET /health/live, /health/ready (200 when ready, else 503), "
                + "/metrics (Prometheus text format) and the service's own pages, if any. 0 picks a free port; "
                + "-1 turns the admin server off.")
        .define(BIND, ConfigDef.Type.STRING, DEFAULT_BIND, new ConfigDef.NonEmptyString(), Importance.LOW,
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
    return start(config, registry, readiness, Map.of());
  }

  /**
   * Starts the admin server {@code config} asks for, with a service's own {@code routes} beside health and metrics
   * (path pattern to route, see the class comment).
   *
   * @throws IllegalArgumentException when a pattern is malformed or names a built-in path
   */
  public static AdminServer start(AbstractConfig config, PrometheusMeterRegistry registry,
      Supplier<Health> readiness, Map<String, Route> routes) {
    return start(config.getString(BIND), config.getInt(PORT), registry, readiness, routes);
  }

  /**
   * Starts serving on {@code bindAddress:port} and returns once the port is bound; with {@code port}
   * {@link #DISABLED} it serves nothing and returns an inert server.
   *
   * @throws UncheckedIOException when the address cannot be resolved or the port cannot be bound, naming both
   */
  public static AdminServer start(String bindAddress, int port, PrometheusMeterRegistry registry,
      Supplier<Health> readiness) {
    return start(bindAddress, port, registry, readiness, Map.of());
  }

  /**
   * Starts serving on {@code bindAddress:port}, with {@code routes} beside health and metrics, and returns once
   * the port is bound; with {@code port} {@link #DISABLED} it serves nothing and returns an inert server.
   *
   * @throws UncheckedIOException when the address cannot be resolved or the port cannot be bound, naming both
   * @throws IllegalArgumentException when a route pattern is malformed or names a built-in path
   */
  public static AdminServer start(String bindAddress, int port, PrometheusMeterRegistry registry,
      Supplier<Health> readiness, Map<String, Route> routes) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(readiness, "readiness");
    Objects.requireNonNull(routes, "routes");
    if (port == DISABLED) {
      return new AdminServer(null, null, registry, readiness, routes);
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
    ExecutorService executor = Executors.newFixedThreadPool(routes.isEmpty() ? THREADS : THREADS_WITH_ROUTES,
        daemonThreads());
    AdminServer admin;
    try {
      admin = new AdminServer(server, executor, registry, readiness, routes);
    } catch (RuntimeException e) {
      executor.shutdownNow();
      server.stop(0);
      throw e;
    }
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
      String rawPath = exchange.getRequestURI().getRawPath();
      boolean builtIn = BUILT_IN.contains(path);
      Route route = builtIn ? null : route(rawPath);
      if (!builtIn && route == null) {
        respond(exchange, 404, JSON_TYPE, json(Map.of("status", "NOT_FOUND", "path", path)));
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        respond(exchange, 405, JSON_TYPE, json(Map.of("status", "METHOD_NOT_ALLOWED", "method", method)));
        return;
      }
      if (route != null) {
        serve(exchange, route);
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

  /** The route of {@code rawPath}: an exact pattern, else the longest matching prefix; null when none. */
  private Route route(String rawPath) {
    Route route = exact.get(rawPath);
    if (route != null) {
      return route;
    }
    for (Map.Entry<String, Route> prefix : prefixes) {
      if (rawPath.startsWith(prefix.getKey())) {
        return prefix.getValue();
      }
    }
    return null;
  }

  private static void serve(HttpExchange exchange, Route route) throws IOException {
    Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
        exchange.getRequestURI().getRawQuery(), exchange.getRequestHeaders());
    Response response;
    try {
      response = route.handle(request);
      Objects.requireNonNull(response, "the route answered null");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while answering " + request.rawPath(), e);
    } catch (Exception e) {
      LOG.error("admin route {} {} failed", request.method(), request.rawPath(), e);
      respond(exchange, 500, JSON_TYPE, json(Map.of("status", "INTERNAL_ERROR",
          "error", e.getClass().getSimpleName())));
      return;
    }
    response.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
    respond(exchange, response.status(), response.contentType(), response.body());
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
