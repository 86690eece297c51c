package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The admin server over real HTTP on loopback. */
class AdminServerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final PrometheusMeterRegistry registry = AdminServer.newRegistry();
  private final AtomicReference<AdminServer.Health> health = new AtomicReference<>(AdminServer.Health.down("starting"));
  private AdminServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    registry.close();
  }

  private AdminServer start() {
    server = AdminServer.start("127.0.0.1", 0, registry, health::get);
    return server;
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
    return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  @Test
  void readinessSwitchesBetween503And200WithTheReasonAndDetails() throws Exception {
    start();
    HttpResponse<String> down = get("/health/ready");
    assertEquals(503, down.statusCode());
    assertEquals("application/json", down.headers().firstValue("Content-Type").orElse(""));
    JsonNode body = JSON.readTree(down.body());
    assertEquals("DOWN", body.get("status").asText());
    assertEquals("starting", body.get("reason").asText());
    assertEquals(503, get("/health").statusCode(), "/health is readiness too");
    assertEquals(200, get("/health/live").statusCode(), "live while not ready");

    health.set(AdminServer.Health.up(Map.of("state", "RUNNING", "pending", 3)));
    HttpResponse<String> up = get("/health/ready");
    assertEquals(200, up.statusCode());
    body = JSON.readTree(up.body());
    assertEquals("UP", body.get("status").asText());
    assertEquals("RUNNING", body.get("state").asText());
    assertEquals(3, body.get("pending").asInt());
    assertFalse(body.has("reason"));
    assertEquals(200, get("/health").statusCode());

    health.set(AdminServer.Health.down("rebalancing", Map.of("state", "REBALANCING")));
    body = JSON.readTree(get("/health").body());
    assertEquals("DOWN", body.get("status").asText());
    assertEquals("rebalancing", body.get("reason").asText());
    assertEquals("REBALANCING", body.get("state").asText());
  }

  @Test
  void aReadinessCheckThatThrowsIsNotReadyAndNamesOnlyTheExceptionClass() throws Exception {
    server = AdminServer.start("127.0.0.1", 0, registry, () -> {
      throw new IllegalStateException("secret=hunter2");
    });
    HttpResponse<String> r = get("/health/ready");
    assertEquals(503, r.statusCode());
    assertTrue(r.body().contains("IllegalStateException"), r.body());
    assertFalse(r.body().contains("hunter2"), r.body());
    assertEquals(200, get("/health/live").statusCode());
  }

  @Test
  void metricsAreThePrometheusTextFormatWithTheRegisteredMeters() throws Exception {
    start();
    Counter.builder("triggerbot.test.widgets").description("widgets made").tag("kind", "blue").register(registry)
        .increment(3);
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    String type = r.headers().firstValue("Content-Type").orElse("");
    assertEquals(AdminServer.TEXT_FORMAT, type);
    assertTrue(type.startsWith("text/plain") && type.contains("version=0.0.4"), type);
    assertTrue(r.body().contains("# TYPE triggerbot_test_widgets_total counter"), r.body());
    assertTrue(r.body().contains("triggerbot_test_widgets_total{kind=\"blue\"} 3.0"), r.body());
    assertTrue(r.body().contains("jvm_memory_used_bytes"), "the JVM's meters are bound");

    HttpResponse<String> asked = send(HttpRequest.newBuilder(uri("/metrics"))
        .header("Accept", "application/openmetrics-text; version=1.0.0,text/plain;q=0.5").GET());
    assertEquals(AdminServer.TEXT_FORMAT, asked.headers().firstValue("Content-Type").orElse(""),
        "one format, whatever the scraper prefers");
    assertFalse(asked.body().contains("# EOF"), "not OpenMetrics");
  }

  @Test
  void unknownPathsAre404AndOtherMethods405AndHeadHasNoBody() throws Exception {
    start();
    assertEquals(404, get("/").statusCode());
    assertEquals(404, get("/health/ready/x").statusCode());
    assertEquals(404, get("/metricsx").statusCode());
    HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/metrics")).POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(405, post.statusCode());
    assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
    HttpResponse<String> head = send(HttpRequest.newBuilder(uri("/health/live")).method("HEAD",
        HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, head.statusCode());
    assertEquals("", head.body());
  }

  @Test
  void portZeroBindsAFreePortAndTwoServersGetTwoPorts() throws Exception {
    start();
    assertTrue(server.enabled());
    assertTrue(server.port() > 0, "the bound port: " + server.port());
    try (AdminServer other = AdminServer.start("127.0.0.1", 0, registry, health::get)) {
      assertNotEquals(server.port(), other.port());
      assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + other.port()
          + "/health/live")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }

  @Test
  void minusOneDisablesTheServer() throws Exception {
    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    try (AdminServer disabled = AdminServer.start("127.0.0.1", AdminServer.DISABLED, registry, health::get)) {
      assertFalse(disabled.enabled());
      assertEquals(AdminServer.DISABLED, disabled.port());
    }
    // Nothing listens: a port just freed stays unanswered.
    assertThrows(ConnectException.class, () -> http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + free + "/health/live")).build(), HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  void aPortInUseIsAnErrorNamingTheKey() throws Exception {
    start();
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> AdminServer.start("127.0.0.1", server.port(), registry, health::get));
    assertTrue(e.getMessage().contains(AdminServer.PORT), e.getMessage());
  }

  @Test
  void mountedRoutesAnswerExactAndPrefixPathsWithTheirStatusTypeAndHeaders() throws Exception {
    AtomicReference<AdminServer.Request> seen = new AtomicReference<>();
    server = AdminServer.start("127.0.0.1", 0, registry, health::get, Map.of(
        "/", request -> AdminServer.Response.html(200, "<p>index</p>"),
        "/things", request -> AdminServer.Response.json(200, "{\"list\":true}".getBytes(StandardCharsets.UTF_8)),
        "/things/*", request -> {
          seen.set(request);
          return AdminServer.Response.json(503, "{\"one\":true}".getBytes(StandardCharsets.UTF_8))
              .withHeader("Retry-After", "2");
        },
        "/things/special/*", request -> AdminServer.Response.html(404, "special")));

    HttpResponse<String> index = get("/");
    assertEquals(200, index.statusCode());
    assertEquals(AdminServer.HTML_TYPE, index.headers().firstValue("Content-Type").orElse(""));
    assertEquals("no-store", index.headers().firstValue("Cache-Control").orElse(""));
    assertEquals("<p>index</p>", index.body());
    assertEquals("{\"list\":true}", get("/things").body(), "the exact pattern");

    HttpResponse<String> one = send(HttpRequest.newBuilder(uri("/things/a%2Fb/c+d?x=1&y=%20"))
        .header("X-Forwarded-Thing", "yes").GET());
    assertEquals(503, one.statusCode());
    assertEquals("2", one.headers().firstValue("Retry-After").orElse(""));
    assertEquals("application/json", one.headers().firstValue("Content-Type").orElse(""));
    assertEquals("no-store", one.headers().firstValue("Cache-Control").orElse(""));
    assertEquals("GET", seen.get().method());
    assertEquals("/things/a%2Fb/c+d", seen.get().rawPath(), "the path as sent, still encoded");
    assertEquals("x=1&y=%20", seen.get().rawQuery());
    assertEquals("yes", seen.get().header("x-forwarded-thing").orElse(""), "header names in any case");
    assertTrue(seen.get().header("X-Absent").isEmpty());

    assertEquals("special", get("/things/special/x").body(), "the longer prefix wins");
    assertEquals(404, get("/elsewhere").statusCode(), "no route, no built-in: 404 as before");
    assertEquals(404, get("/thingsx").statusCode(), "an exact pattern is not a prefix");
    assertEquals(200, get("/health/live").statusCode(), "the built-ins still answer");
    assertEquals(AdminServer.TEXT_FORMAT, get("/metrics").headers().firstValue("Content-Type").orElse(""));
  }

  @Test
  void mountedRoutesAreGetAndHeadOnlyAndHeadHasNoBody() throws Exception {
    AtomicReference<String> method = new AtomicReference<>();
    server = AdminServer.start("127.0.0.1", 0, registry, health::get, Map.of("/page/*", request -> {
      method.set(request.method());
      return AdminServer.Response.html(200, "<p>page</p>");
    }));
    HttpResponse<String> head = send(HttpRequest.newBuilder(uri("/page/1")).method("HEAD",
        HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, head.statusCode());
    assertEquals("", head.body());
    assertEquals(AdminServer.HTML_TYPE, head.headers().firstValue("Content-Type").orElse(""));
    assertEquals("HEAD", method.get());

    method.set(null);
    HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/page/1"))
        .POST(HttpRequest.BodyPublishers.ofString("x")));
    assertEquals(405, post.statusCode());
    assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
    assertEquals(null, method.get(), "a POST never reaches the route");
    assertEquals(404, send(HttpRequest.newBuilder(uri("/pag")).DELETE()).statusCode(), "unknown paths stay 404");
  }

  @Test
  void aRouteThatThrowsIs500NamingOnlyTheExceptionClass() throws Exception {
    server = AdminServer.start("127.0.0.1", 0, registry, health::get, Map.of("/boom", request -> {
      throw new IllegalStateException("password=hunter2");
    }));
    HttpResponse<String> r = get("/boom");
    assertEquals(500, r.statusCode());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    assertTrue(r.body().contains("IllegalStateException"), r.body());
    assertFalse(r.body().contains("hunter2"), r.body());
    assertEquals(200, get("/health/live").statusCode(), "the server keeps serving");
  }

  @Test
  void routePatternsAreCheckedAndCannotReplaceTheBuiltIns() {
    AdminServer.Route ok = request -> AdminServer.Response.html(200, "");
    for (String bad : List.of("no-slash", "/a*b", "/**", "/health", "/metrics", "/health/ready")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> AdminServer.start("127.0.0.1", 0, registry, health::get, Map.of(bad, ok)), bad);
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
    // A prefix that covers a built-in is allowed: the built-ins are matched first.
    server = AdminServer.start("127.0.0.1", 0, registry, health::get, Map.of("/*", ok));
  }

  @Test
  void aPrefixRouteOverEverythingStillLeavesTheBuiltInsAlone() throws Exception {
    server = AdminServer.start("127.0.0.1", 0, registry, health::get,
        Map.of("/*", request -> AdminServer.Response.html(200, "catch-all")));
    assertEquals("catch-all", get("/anything").body());
    assertEquals("catch-all", get("/health/livex").body());
    assertEquals(200, get("/health/live").statusCode());
    assertTrue(get("/health/live").body().contains("UP"));
  }

  @Test
  void theConfigKeysHaveDefaultsAndAreValidated() {
    ConfigDef def = AdminServer.define(new ConfigDef(), 9401);
    AbstractConfig defaults = new AbstractConfig(def, Map.of());
    assertEquals(9401, defaults.getInt(AdminServer.PORT));
    assertEquals("0.0.0.0", defaults.getString(AdminServer.BIND));
    assertEquals(-1, new AbstractConfig(def, Map.of(AdminServer.PORT, "-1")).getInt(AdminServer.PORT));
    ConfigException e =
        assertThrows(ConfigException.class, () -> new AbstractConfig(def, Map.of(AdminServer.PORT, "-2")));
    assertTrue(e.getMessage().contains(AdminServer.PORT), e.getMessage());
    assertThrows(ConfigException.class, () -> new AbstractConfig(def, Map.of(AdminServer.PORT, "65536")));
    assertThrows(ConfigException.class, () -> new AbstractConfig(def, Map.of(AdminServer.BIND, "")));
  }
}
