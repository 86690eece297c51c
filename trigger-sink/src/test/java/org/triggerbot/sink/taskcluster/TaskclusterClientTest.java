package org.triggerbot.sink.taskcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.Hawk;
import org.triggerbot.testsupport.Fixtures;

/** Against a real HTTP server on the loopback (the JDK's), no mocks. */
class TaskclusterClientTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TASK_GROUP = "LpCJV9wUQHSAm5SHyW4Olw";
  private static final String TASK = "KkDeSaLFSq-OFo1QGc-hGQ";
  private static final String DECISION = "NdzxKw8bS5Sw5DRhoiM14w";
  private static final String REVISION = "c5429a8112e41dfabe22da0d7d0876fe05a17e67";
  private static final String CLIENT_ID = "project/triggerbot/test";
  private static final String ACCESS_TOKEN = "s3cret-Access-Token-never-shown-0123456789";
  private static final Hawk.Credentials CREDENTIALS = new Hawk.Credentials(CLIENT_ID, ACCESS_TOKEN);
  private static final String HOOK_GROUP = "project-gecko";
  private static final String HOOK_ID = "in-tree-action-1-generic/bb2dee27f9";
  private static final InetAddress LOOPBACK = loopback();

  private static InetAddress loopback() {
    try {
      return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the server received. (Not a record: it holds the body's bytes.) */
  static final class Received {
    private final String method;
    private final URI uri;
    private final String host;
    private final String authorization;
    private final String contentType;
    private final byte[] body;

    Received(String method, URI uri, String host, String authorization, String contentType, byte[] body) {
      this.method = method;
      this.uri = uri;
      this.host = host;
      this.authorization = authorization;
      this.contentType = contentType;
      this.body = body.clone();
    }

    String method() {
      return method;
    }

    URI uri() {
      return uri;
    }

    String host() {
      return host;
    }

    String authorization() {
      return authorization;
    }

    String contentType() {
      return contentType;
    }

    byte[] body() {
      return body.clone();
    }
  }

  /** What the server answers. */
  record Answer(int status, String body, Map<String, String> headers) {
    static Answer json(int status, String body) {
      return new Answer(status, body, Map.of("Content-Type", "application/json"));
    }
  }

  interface Route {
    Answer answer(Received r) throws IOException;
  }

  private HttpServer server;
  private ExecutorService executor;
  private final Map<String, Route> routes = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private SimpleMeterRegistry registry;
  private TaskclusterClient client;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 0);
    executor = Executors.newCachedThreadPool();
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    registry = new SimpleMeterRegistry();
    client = new TaskclusterClient(root(), CREDENTIALS, Duration.ofSeconds(5), registry);
  }

  @AfterEach
  void stop() throws InterruptedException {
    release.countDown();
    server.stop(0);
    executor.shutdownNow();
    assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS));
  }

  private String root() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      Received r = new Received(exchange.getRequestMethod(), exchange.getRequestURI(),
          exchange.getRequestHeaders().getFirst("Host"), exchange.getRequestHeaders().getFirst("Authorization"),
          exchange.getRequestHeaders().getFirst("Content-Type"), body);
      received.add(r);
      Route route = routes.get(r.uri().getRawPath());
      Answer a = route == null ? Answer.json(404, "{\"code\":\"ResourceNotFound\",\"message\":\"no such thing\"}")
          : route.answer(r);
      a.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
      byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(a.status(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        try (OutputStream os = exchange.getResponseBody()) {
          os.write(out);
        }
      }
    }
  }

  private static String sample(String name) throws IOException {
    return Files.readString(Fixtures.taskclusterSamples().resolve(name));
  }

  private double errors(String endpoint, String kind) {
    var c = registry.find("triggerbot.sink.taskcluster.errors").tag("endpoint", endpoint).tag("kind", kind).counter();
    return c == null ? 0 : c.count();
  }

  private long requests(String endpoint, String status) {
    var t = registry.find("triggerbot.sink.taskcluster.requests").tag("endpoint", endpoint).tag("status", status)
        .timer();
    return t == null ? 0 : t.count();
  }

  @Test
  void taskReadsTheDefinitionWithoutCredentials() throws Exception {
    JsonNode definitions = JSON.readTree(sample("treeherder-taskcluster-task-definitions-2019.json"));
    String taskId = definitions.properties().iterator().next().getKey();
    String definition = definitions.get(taskId).toString();
    routes.put("/api/queue/v1/task/" + taskId, r -> Answer.json(200, definition));

    TaskclusterClient.Reply reply = client.task(taskId);
    assertEquals(200, reply.status());
    assertTrue(reply.ok());
    assertNull(reply.error());
    assertEquals(definitions.get(taskId), reply.body());
    assertEquals("GET", received.get(0).method());
    assertNull(received.get(0).authorization(), "reads carry no credentials");
    assertEquals(1, requests("task", "200"));

    TaskclusterClient.Reply missing = client.task(TASK);
    assertEquals(404, missing.status());
    assertFalse(missing.transientFailure());
    assertEquals("no such thing", missing.message());
    assertEquals(1, errors("task", "client"));
  }

  @Test
  void actionsJsonFollowsTheQueuesRedirectToTheArtifact() throws Exception {
    String actions = sample("scriptworker-try-actions-2018.json");
    routes.put("/api/queue/v1/task/" + TASK_GROUP + "/artifacts/public/actions.json",
        r -> new Answer(303, "{\"storageType\":\"s3\",\"url\":\"" + root() + "/storage/actions.json\"}",
            Map.of("Location", root() + "/storage/actions.json", "Content-Type", "application/json")));
    routes.put("/storage/actions.json", r -> Answer.json(200, actions));

    TaskclusterClient.Reply reply = client.actionsJson(TASK_GROUP, "try", REVISION);
    assertEquals(200, reply.status());
    assertEquals(JSON.readTree(actions), reply.body());
    assertEquals(List.of("/api/queue/v1/task/" + TASK_GROUP + "/artifacts/public/actions.json",
        "/storage/actions.json"), received.stream().map(r -> r.uri().getPath()).toList());
    Actions parsed = Actions.parse(reply.body());
    assertTrue(parsed.retriggerAction(Map.of("kind", "test")).isPresent());
  }

  @Test
  void actionsJsonFallsBackToTheIndexWhenTheGroupHasNone() throws Exception {
    String actions = sample("scriptworker-try-actions-2018.json");
    String namespace = "gecko.v2.try.revision." + REVISION + ".taskgraph.decision";
    routes.put("/api/index/v1/task/" + namespace, r -> Answer.json(200, "{\"namespace\":\"" + namespace
        + "\",\"taskId\":\"" + DECISION + "\",\"rank\":0,\"data\":{},\"expires\":\"2019-12-19T18:19:09.000Z\"}"));
    routes.put("/api/queue/v1/task/" + DECISION + "/artifacts/public/actions.json",
        r -> Answer.json(200, actions));

    TaskclusterClient.Reply reply = client.actionsJson(TASK_GROUP, "try", REVISION);
    assertEquals(200, reply.status());
    assertEquals(JSON.readTree(actions), reply.body());
    assertEquals(List.of("/api/queue/v1/task/" + TASK_GROUP + "/artifacts/public/actions.json",
        "/api/index/v1/task/" + namespace, "/api/queue/v1/task/" + DECISION + "/artifacts/public/actions.json"),
        received.stream().map(r -> r.uri().getPath()).toList());

    // Without project and revision there is nothing to look up: the 404 is the answer.
    received.clear();
    assertEquals(404, client.actionsJson(TASK_GROUP, null, null).status());
    assertEquals(1, received.size());

    // The index has no such push: its 404.
    received.clear();
    TaskclusterClient.Reply none = client.actionsJson(TASK_GROUP, "try", "0123456789abcdef0123456789abcdef01234567");
    assertEquals(404, none.status());
    assertEquals(2, received.size());

    // An index entry whose taskId is not a slugid is not followed.
    routes.put("/api/index/v1/task/" + namespace, r -> Answer.json(200, "{\"taskId\":\"../../x\"}"));
    received.clear();
    assertEquals(TaskclusterClient.INVALID, client.actionsJson(TASK_GROUP, "try", REVISION).status());
    assertEquals(2, received.size());

    // A project or revision that would change the index path is not sent.
    received.clear();
    assertEquals(TaskclusterClient.INVALID, client.actionsJson(TASK_GROUP, "try.evil", REVISION).status());
    assertEquals(TaskclusterClient.INVALID, client.actionsJson(TASK_GROUP, "try", "HEAD").status());
    assertEquals(2, received.size(), "only the two direct actions.json reads");
  }

  @Test
  void listTaskGroupFollowsContinuationTokens() throws Exception {
    String path = "/api/queue/v1/task-group/" + TASK_GROUP + "/list";
    String token = "page/2+token=";
    routes.put(path, r -> {
      String query = r.uri().getQuery();
      if (query == null) {
        return Answer.json(200, "{\"taskGroupId\":\"" + TASK_GROUP + "\",\"continuationToken\":\"" + token + "\","
            + "\"tasks\":[" + entry(TASK, "test-a") + "," + entry(DECISION, "test-b") + "]}");
      }
      assertEquals("continuationToken=" + token, query);
      return Answer.json(200, "{\"taskGroupId\":\"" + TASK_GROUP + "\",\"tasks\":[" + entry(TASK_GROUP, "test-c")
          + "]}");
    });

    TaskclusterClient.Reply reply = client.listTaskGroup(TASK_GROUP);
    assertEquals(200, reply.status());
    assertNull(reply.error());
    assertEquals(List.of("test-a", "test-b", "test-c"), stream(reply.body().get("tasks"))
        .map(t -> t.at("/task/metadata/name").asText()).toList());
    assertEquals(TASK, reply.body().at("/tasks/0/status/taskId").asText());
    assertEquals(2, received.size());
    assertEquals(2, requests("list", "200"));
  }

  @Test
  void aListingThatRepeatsItsTokenOrFailsMidwayStops() {
    String path = "/api/queue/v1/task-group/" + TASK_GROUP + "/list";
    routes.put(path, r -> Answer.json(200, "{\"continuationToken\":\"same\",\"tasks\":[]}"));
    TaskclusterClient.Reply loop = client.listTaskGroup(TASK_GROUP);
    assertEquals(TaskclusterClient.INVALID, loop.status());
    assertEquals(2, received.size());

    routes.put(path, r -> r.uri().getQuery() == null
        ? Answer.json(200, "{\"continuationToken\":\"next\",\"tasks\":[]}")
        : Answer.json(503, "{\"message\":\"try later\"}"));
    TaskclusterClient.Reply failed = client.listTaskGroup(TASK_GROUP);
    assertEquals(503, failed.status());
    assertTrue(failed.transientFailure());
  }

  private static String entry(String taskId, String name) {
    return "{\"status\":{\"taskId\":\"" + taskId + "\",\"state\":\"completed\"},\"task\":{\"metadata\":{\"name\":\""
        + name + "\"},\"tags\":{\"label\":\"" + name + "\"}}}";
  }

  private static java.util.stream.Stream<JsonNode> stream(JsonNode array) {
    return java.util.stream.StreamSupport.stream(array.spliterator(), false);
  }

  @Test
  void triggerHookPostsTheJsonWithAHawkHeaderTheServerVerifies() throws Exception {
    JsonNode payload =
        JSON.readTree(sample("scriptworker-try-retrigger-hook-context-2018.json")).get("payload");
    String path = "/api/hooks/v1/hooks/project-gecko/in-tree-action-1-generic%2Fbb2dee27f9/trigger";
    String[] verdict = new String[2];
    routes.put(path, r -> {
      String host = r.host();
      int colon = host.lastIndexOf(':');
      long now = System.currentTimeMillis() / 1000;
      verdict[0] = Hawk.verify(r.authorization(), r.method(), r.uri().getRawPath(), host.substring(0, colon),
          Integer.parseInt(host.substring(colon + 1)), r.body(), r.contentType(), Map.of(CLIENT_ID, ACCESS_TOKEN)::get,
          now, 60);
      verdict[1] = Hawk.verify(r.authorization(), r.method(), r.uri().getRawPath(), host.substring(0, colon),
          Integer.parseInt(host.substring(colon + 1)), r.body(), r.contentType(), Map.of(CLIENT_ID, "wrong")::get,
          now, 60);
      return Answer.json(200, "{\"status\":{\"taskId\":\"" + DECISION + "\"},\"taskId\":\"" + DECISION + "\"}");
    });

    TaskclusterClient.Reply reply = client.triggerHook(HOOK_GROUP, HOOK_ID, payload);
    assertEquals(200, reply.status());
    assertEquals(DECISION, reply.body().get("taskId").asText());
    assertNull(verdict[0], "the Hawk header verifies with the client's key");
    assertEquals("bad Hawk mac", verdict[1]);
    Received r = received.get(0);
    assertEquals("POST", r.method());
    assertEquals(path, r.uri().getRawPath(), "the hook id's '/' is sent as %2F");
    assertEquals("application/json", r.contentType());
    assertEquals(payload, JSON.readTree(r.body()));
    assertTrue(r.authorization().startsWith("Hawk id=\"" + CLIENT_ID + "\", ts=\""), r.authorization());
    assertTrue(r.authorization().contains(", hash=\"" + Hawk.payloadHash("application/json", r.body()) + "\""));
    assertFalse(r.authorization().contains(ACCESS_TOKEN));
    assertFalse(r.uri().toString().contains(ACCESS_TOKEN));
    assertEquals(1, requests("trigger", "200"));
  }

  @Test
  void unauthorizedForbiddenAndServerErrors() throws Exception {
    String path = "/api/hooks/v1/hooks/project-gecko/in-tree-action-1-generic%2Fbb2dee27f9/trigger";
    JsonNode payload = JSON.readTree("{\"user\":{\"taskId\":\"" + TASK + "\"}}");
    int[] status = {401};
    routes.put(path, r -> Answer.json(status[0], "{\"code\":\"InsufficientScopes\",\"message\":\"Client ID "
        + CLIENT_ID + " does not have sufficient scopes\\nmore detail\",\"requestInfo\":{}}"));

    TaskclusterClient.Reply unauthorized = client.triggerHook(HOOK_GROUP, HOOK_ID, payload);
    assertEquals(401, unauthorized.status());
    assertFalse(unauthorized.ok());
    assertFalse(unauthorized.transientFailure());
    assertEquals("HTTP 401", unauthorized.error());
    assertEquals("Client ID " + CLIENT_ID + " does not have sufficient scopes", unauthorized.message());

    status[0] = 403;
    TaskclusterClient.Reply forbidden = client.triggerHook(HOOK_GROUP, HOOK_ID, payload);
    assertEquals(403, forbidden.status());
    assertFalse(forbidden.transientFailure());
    assertEquals(2, errors("trigger", "client"));

    status[0] = 500;
    TaskclusterClient.Reply serverError = client.triggerHook(HOOK_GROUP, HOOK_ID, payload);
    assertEquals(500, serverError.status());
    assertTrue(serverError.transientFailure());
    assertEquals(1, errors("trigger", "server"));

    routes.put(path, r -> new Answer(502, "<html>Bad Gateway</html>", Map.of("Content-Type", "text/html")));
    TaskclusterClient.Reply gateway = client.triggerHook(HOOK_GROUP, HOOK_ID, payload);
    assertEquals(502, gateway.status());
    assertTrue(gateway.transientFailure());
    assertEquals("HTTP 502 with a body that is not JSON", gateway.error());

    for (TaskclusterClient.Reply r : List.of(unauthorized, forbidden, serverError, gateway)) {
      assertFalse(r.toString().contains(ACCESS_TOKEN), r.toString());
    }
  }

  @Test
  void aTimeoutIsStatusZero() {
    routes.put("/api/queue/v1/task/" + TASK, r -> {
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Answer.json(200, "{}");
    });
    TaskclusterClient slow = new TaskclusterClient(root(), CREDENTIALS, Duration.ofMillis(300), registry);
    TaskclusterClient.Reply reply = slow.task(TASK);
    assertEquals(0, reply.status());
    assertTrue(reply.transientFailure());
    assertTrue(reply.error().startsWith("HttpTimeoutException"), reply.error());
    assertEquals(1, requests("task", "none"));
    assertEquals(1, errors("task", "transport"));
  }

  @Test
  void aRefusedConnectionIsStatusZero() throws IOException {
    HttpServer closed = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 0);
    int port = closed.getAddress().getPort();
    closed.stop(0);
    TaskclusterClient nowhere =
        new TaskclusterClient("http://127.0.0.1:" + port + "/", CREDENTIALS, Duration.ofSeconds(2), registry);
    TaskclusterClient.Reply reply = nowhere.triggerHook(HOOK_GROUP, HOOK_ID, JSON.createObjectNode());
    assertEquals(0, reply.status());
    assertTrue(reply.transientFailure());
    assertFalse(reply.error().contains(ACCESS_TOKEN));
    assertFalse(reply.error().contains("127.0.0.1"), "no URL in the error: " + reply.error());
  }

  @Test
  void invalidIdsAreNotSent() {
    for (String bad : new String[] {"", "not-a-slug", "../../../secrets", "KkDeSaLFSq-OFo1QGc-hG", TASK + "x",
        "KkDeSaLFAq-OFo1QGc-hGQ", "KkDeSaLFSq-OFo1QGc-hGB"}) {
      assertEquals(TaskclusterClient.INVALID, client.task(bad).status(), bad);
      assertEquals(TaskclusterClient.INVALID, client.actionsJson(bad, "try", REVISION).status(), bad);
      assertEquals(TaskclusterClient.INVALID, client.listTaskGroup(bad).status(), bad);
    }
    assertEquals(TaskclusterClient.INVALID, client.task(null).status());
    assertEquals(TaskclusterClient.INVALID, client.triggerHook("project gecko", HOOK_ID, JSON.createObjectNode())
        .status());
    assertEquals(TaskclusterClient.INVALID, client.triggerHook(HOOK_GROUP, "a?b", JSON.createObjectNode()).status());
    assertEquals(TaskclusterClient.INVALID, client.triggerHook(HOOK_GROUP, "", JSON.createObjectNode()).status());
    TaskclusterClient readOnly = new TaskclusterClient(root(), null, Duration.ofSeconds(2), registry);
    TaskclusterClient.Reply noCredentials = readOnly.triggerHook(HOOK_GROUP, HOOK_ID, JSON.createObjectNode());
    assertEquals(TaskclusterClient.INVALID, noCredentials.status());
    assertFalse(noCredentials.ok());
    assertFalse(noCredentials.transientFailure());
    assertTrue(received.isEmpty(), "nothing was sent");
    assertEquals(8, errors("task", "invalid"));
    assertTrue(TaskclusterClient.isSlugId(TASK));
    assertTrue(TaskclusterClient.isSlugId(TASK_GROUP));
    assertTrue(TaskclusterClient.isSlugId(DECISION));
  }
}
