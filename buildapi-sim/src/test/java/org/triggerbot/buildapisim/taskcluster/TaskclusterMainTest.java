package org.triggerbot.buildapisim.taskcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.buildapisim.taskcluster.TaskclusterMain.Day;
import org.triggerbot.buildapisim.taskcluster.TaskclusterMain.PlannedPush;
import org.triggerbot.buildapisim.taskcluster.TaskclusterMain.PlannedTask;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.Await;

/**
 * {@code triggerbot taskcluster-sim}: arguments and exit codes, the secrets, the printed root URL, and a run against a
 * real AMQP broker ({@link AmqpBroker}: embedded Qpid, or the RabbitMQ of {@code RABBITMQ_URL}) whose day is
 * published, served and retriggered.
 */
class TaskclusterMainTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern STARTED = Pattern.compile("taskcluster simulator at (http://\\S+)");
  private static final Pattern DAY_PUSH =
      Pattern.compile("day push (\\d+)/(\\d+): try ([0-9a-f]{40}) by \\S+, task group (\\S+): (\\d+) test tasks, "
          + "(\\d+) failed");
  private static final String CLIENT = "project/triggerbot/retrigger";
  /** Random per run: what the tests must never find printed. */
  private static final String TOKEN = "tc-" + java.util.UUID.randomUUID();
  private static final String BROKER_SECRET = "broker-" + java.util.UUID.randomUUID();
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .followRedirects(HttpClient.Redirect.NORMAL).build();

  @Test
  void helpPrintsUsageAndExitsZero() {
    assertEquals(0, run(List.of("--port", "bad", "--help"), Map.of(), new CountDownLatch(0)));
    String usage = text(out);
    assertTrue(usage.startsWith("usage: triggerbot taskcluster-sim"), usage);
    for (String option : List.of("--port", "--bind", "--amqp-uri-file", "--routing-keys", "--client-id",
        "--access-token-file", "--clone-lag", "--broken", "--day", "--seed", "--day-after",
        TaskclusterMain.AMQP_URI_ENV, TaskclusterMain.ACCESS_TOKEN_ENV)) {
      assertTrue(usage.contains(option), option);
    }
    assertEquals("", text(err));
  }

  @Test
  void eachBadArgumentExitsTwoWithAMessageNamingIt() throws IOException {
    Path token = Files.writeString(dir.resolve("token"), TOKEN + "\n");
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    Path httpUri = Files.writeString(dir.resolve("http-uri"), "http://broker.example/\n");
    String missing = dir.resolve("missing").toString();
    // Each case: the arguments, the environment, and what the message must name.
    record Case(List<String> args, Map<String, String> env, String names) {}
    List<Case> cases = List.of(
        new Case(List.of("--bogus"), Map.of(), "'--bogus'"),
        new Case(List.of("--port"), Map.of(), "--port"),
        new Case(List.of("--port", "eighty"), Map.of(), "--port"),
        new Case(List.of("--port", "70000"), Map.of(), "--port"),
        new Case(List.of("--port", "-1"), Map.of(), "--port"),
        new Case(List.of("--bind", " "), Map.of(), "--bind"),
        new Case(List.of("--amqp-uri-file", missing), Map.of(), "--amqp-uri-file"),
        new Case(List.of("--amqp-uri-file", empty.toString()), Map.of(), "--amqp-uri-file"),
        new Case(List.of("--amqp-uri-file", httpUri.toString()), Map.of(), "--amqp-uri-file"),
        new Case(List.of(), Map.of(TaskclusterMain.AMQP_URI_ENV, "rabbitmq:5672"), TaskclusterMain.AMQP_URI_ENV),
        new Case(List.of("--amqp-uri", "amqp://u:p@h/v"), Map.of(), "--amqp-uri "),
        new Case(List.of("--routing-keys", "sideways"), Map.of(), "--routing-keys"),
        new Case(List.of("--routing-keys"), Map.of(), "--routing-keys"),
        new Case(List.of("--client-id", CLIENT), Map.of(), "--client-id"),
        new Case(List.of("--client-id", ""), Map.of(), "--client-id"),
        new Case(List.of("--access-token-file", token.toString()), Map.of(), "--access-token-file"),
        new Case(List.of("--client-id", CLIENT, "--access-token-file", missing), Map.of(), "--access-token-file"),
        new Case(List.of("--client-id", CLIENT, "--access-token-file", empty.toString()), Map.of(),
            "--access-token-file"),
        new Case(List.of("--access-token", "visible"), Map.of(), "--access-token "),
        new Case(List.of("--clone-lag", "5s"), Map.of(), "--clone-lag"),
        new Case(List.of("--clone-lag", "PT-1S"), Map.of(), "--clone-lag"),
        new Case(List.of("--broken", "mochitest-("), Map.of(), "--broken"),
        new Case(List.of("--day", "3,10"), Map.of(), "--day"),
        new Case(List.of("--day", "3,10,x"), Map.of(), "--day"),
        new Case(List.of("--day", "0,10,5"), Map.of(), "--day"),
        new Case(List.of("--day", "3,0,5"), Map.of(), "--day"),
        new Case(List.of("--day", "3,10,101"), Map.of(), "--day"),
        new Case(List.of("--day", "1001,10,5"), Map.of(), "--day"),
        new Case(List.of("--day", "3,10,5", "--seed", "twenty"), Map.of(), "--seed"),
        new Case(List.of("--seed", "7"), Map.of(), "--seed"),
        new Case(List.of("--day-after", "http://bridge:9402/health/ready"), Map.of(), "--day-after"),
        new Case(List.of("--day", "3,10,5", "--day-after", "bridge:9402"), Map.of(), "--day-after"),
        new Case(List.of("--day", "3,10,5", "--day-after", "ftp://bridge/"), Map.of(), "--day-after"));
    for (Case c : cases) {
      err.reset();
      assertEquals(2, run(c.args(), c.env(), new CountDownLatch(0)), c.toString());
      String message = text(err);
      assertTrue(message.startsWith("triggerbot taskcluster-sim: "), c + ": " + message);
      assertTrue(message.contains(c.names()), c + ": " + message);
      assertFalse(message.contains("visible") || message.contains(TOKEN), "no secret is echoed: " + message);
    }
    assertEquals("", text(out), "nothing starts");
  }

  @Test
  void theSecretsAreNeverEchoed() throws Exception {
    String badPort = "amqp://triggerbot:" + BROKER_SECRET + "@rabbitmq:notaport/%2F";
    Path badPortFile = Files.writeString(dir.resolve("bad-port-uri"), badPort + "\n");
    Path amqps = Files.writeString(dir.resolve("amqps-uri"), "amqps://triggerbot:" + BROKER_SECRET + "@h/v\n");
    Path token = Files.writeString(dir.resolve("token"), TOKEN + "\n");
    List<List<String>> cases = List.of(
        List.of("--amqp-uri-file", badPortFile.toString()),
        List.of("--amqp-uri-file", amqps.toString()),
        List.of("--amqp-uri", badPort),
        List.of("--client-id", CLIENT, "--access-token-file", token.toString(), "--day", "1,1,500"),
        List.of("--access-token-file", token.toString()));
    for (List<String> args : cases) {
      err.reset();
      assertEquals(2, run(args, Map.of(), new CountDownLatch(0)), args.toString());
      assertSecretsHidden();
    }
    err.reset();
    assertEquals(2, run(List.of(), Map.of(TaskclusterMain.AMQP_URI_ENV, badPort), new CountDownLatch(0)));
    assertTrue(text(err).contains(TaskclusterMain.AMQP_URI_ENV), text(err));
    assertSecretsHidden();
    // The parsed configuration does not show them either (it may end up in a log line or a test failure).
    String config = TaskclusterMain.parse(List.of("--client-id", CLIENT, "--access-token-file", token.toString()),
        Map.of(TaskclusterMain.AMQP_URI_ENV, "amqp://triggerbot:" + BROKER_SECRET + "@rabbitmq:5672/%2F"))
        .toString();
    assertFalse(config.contains(BROKER_SECRET) || config.contains(TOKEN), config);
  }

  @Test
  void aBrokerThatCannotBeReachedExitsOneWithoutItsPassword() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Path uri = Files.writeString(dir.resolve("uri"),
        "amqp://triggerbot:" + BROKER_SECRET + "@127.0.0.1:" + closedPort + "/%2F\n");

    assertEquals(1, run(List.of("--port", "0", "--amqp-uri-file", uri.toString()), Map.of(),
        new CountDownLatch(0)));

    assertTrue(text(err).startsWith("triggerbot taskcluster-sim: "), text(err));
    assertTrue(text(err).contains("127.0.0.1:" + closedPort), text(err));
    assertFalse(STARTED.matcher(text(out)).find(), text(out));
    assertSecretsHidden();
  }

  @Test
  void aPortInUseExitsOne() {
    try (TaskclusterSimulator taken = TaskclusterSimulator.start("127.0.0.1", null)) {
      assertEquals(1, run(List.of("--port", Integer.toString(taken.port())), Map.of(), new CountDownLatch(0)));
      assertTrue(text(err).contains(Integer.toString(taken.port())), text(err));
    }
  }

  @Test
  void withoutABrokerNothingIsPublishedAndStartUpSaysSo() throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run(List.of("--port", "0",
        "--client-id", CLIENT, "--day", "2,3,0"), Map.of(TaskclusterMain.ACCESS_TOKEN_ENV, TOKEN), stop));
    try {
      String rootUrl = awaitRootUrl(exit);
      Await.until("the day's two pushes", WAIT, () -> dayPushes().size() == 2 || exit.isDone());
      List<MatchResult> pushes = dayPushes();
      assertEquals(2, pushes.size(), text(out));
      for (MatchResult push : pushes) {
        assertEquals("3", push.group(5));
        assertEquals("0", push.group(6), "0 percent fail");
        JsonNode group = getJson(rootUrl + "/api/queue/v1/task-group/" + push.group(4) + "/list");
        assertEquals(4, group.get("tasks").size(), "the decision task and 3 test tasks");
      }
      // The token came from the environment: the client may trigger (this task then is unknown: 400).
      assertEquals(400, trigger(rootUrl, CLIENT, TOKEN, hookPath(rootUrl, pushes.get(0).group(4)),
          "nosuchtask").statusCode());
    } finally {
      stop.countDown();
    }
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    assertTrue(text(out).contains("No AMQP broker (--amqp-uri-file or TRIGGERBOT_AMQP_URI): the queue's Pulse "
        + "messages are not published"), text(out));
    assertFalse(text(out).contains("No --client-id"), text(out));
    assertSecretsHidden();
  }

  @Test
  void theDayIsPublishedServedAndRetriggeredUntilStopped() throws Exception {
    try (AmqpBroker broker = AmqpBroker.start()) {
      // The queue is bound before the simulator starts (so the exchanges must exist, as Pulse's always do).
      broker.declareTopicExchange(PulsePublisher.TASK_FAILED);
      broker.declareTopicExchange(PulsePublisher.TASK_COMPLETED);
      ConnectionFactory factory = broker.connectionFactory();
      factory.setAutomaticRecoveryEnabled(false);
      try (Connection connection = factory.newConnection("taskcluster-main-test");
           Channel channel = connection.createChannel()) {
        String queue = channel.queueDeclare("", false, true, true, null).getQueue();
        channel.queueBind(queue, PulsePublisher.TASK_FAILED, "route.tc-treeherder.v2.try.#");
        channel.queueBind(queue, PulsePublisher.TASK_COMPLETED, "route.tc-treeherder.v2.try.#");
        Path uriFile = Files.writeString(dir.resolve("amqp-uri"), broker.uri() + "\n");
        Path tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
        CountDownLatch stop = new CountDownLatch(1);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run(List.of("--port", "0",
            "--amqp-uri-file", uriFile.toString(), "--client-id", CLIENT, "--access-token-file",
            tokenFile.toString(), "--clone-lag", "PT0S", "--broken", "xpcshell", "--day", "2,6,25", "--seed", "7"),
            Map.of(), stop));
        try {
          String rootUrl = awaitRootUrl(exit);
          // 2 pushes of 6 tasks: 12 results, round(12 * 25 %) = 3 of them failed.
          List<GetResponse> results = SimulatorCalls.receive(channel, queue, 12, WAIT);
          assertEquals(3, results.stream()
              .filter(r -> r.getEnvelope().getExchange().equals(PulsePublisher.TASK_FAILED)).count());
          Await.until("the day's lines", WAIT, () -> dayPushes().size() == 2);

          // Every result's task is served, on the push the day printed, and is the day the seed plans.
          List<PlannedPush> plan = TaskclusterMain.plan(new Day(2, 6, 25), 7);
          Map<String, String> groupByRevision = new HashMap<>();
          for (MatchResult push : dayPushes()) {
            groupByRevision.put(push.group(3), push.group(4));
          }
          assertEquals(Set.of(plan.get(0).revision(), plan.get(1).revision()), groupByRevision.keySet());
          Map<String, String> taskIdByLabel = new LinkedHashMap<>();
          for (GetResponse result : results) {
            String taskId = JSON.readTree(result.getBody()).at("/status/taskId").asText();
            JsonNode task = getJson(rootUrl + "/api/queue/v1/task/" + taskId);
            String revision = task.get("routes").get(0).asText().split("\\.", -1)[3];
            assertEquals(groupByRevision.get(revision), task.get("taskGroupId").asText());
            PlannedPush planned = plan.get(plan.get(0).revision().equals(revision) ? 0 : 1);
            String label = task.at("/tags/label").asText();
            PlannedTask plannedTask = planned.tasks().stream().filter(t -> t.label().equals(label)).findFirst()
                .orElseThrow(() -> new AssertionError("not in the plan: " + label));
            assertEquals(plannedTask.fails(), result.getEnvelope().getExchange().equals(PulsePublisher.TASK_FAILED),
                label);
            assertEquals(planned.owner(), task.at("/tags/createdForUser").asText());
            taskIdByLabel.put(revision + " " + label, taskId);
          }

          // The client may trigger the retrigger hook; clones of --broken labels fail, the others pass.
          String revision = plan.get(0).revision();
          String group = groupByRevision.get(revision);
          String hookPath = hookPath(rootUrl, group);
          String brokenLabel = plan.get(0).tasks().stream().map(PlannedTask::label)
              .filter(l -> l.contains("xpcshell")).findFirst().orElseThrow();
          String sound = plan.get(0).tasks().get(0).label();
          assertFalse(sound.contains("xpcshell"), sound);
          String brokenTask = taskIdByLabel.get(revision + " " + brokenLabel);
          String soundTask = taskIdByLabel.get(revision + " " + sound);
          assertNotNull(brokenTask, taskIdByLabel.toString());
          assertNotNull(soundTask, taskIdByLabel.toString());
          assertEquals(401, trigger(rootUrl, CLIENT, "not-the-token", hookPath, soundTask).statusCode());
          assertEquals(200, trigger(rootUrl, CLIENT, TOKEN, hookPath, brokenTask).statusCode());
          assertEquals(200, trigger(rootUrl, CLIENT, TOKEN, hookPath, soundTask).statusCode());
          Map<String, String> cloneExchanges = new HashMap<>();
          Await.until("the clones' results", WAIT, () -> {
            GetResponse next = channel.basicGet(queue, true);
            if (next != null) {
              JsonNode status = JSON.readTree(next.getBody()).get("status");
              JsonNode task = getJson(rootUrl + "/api/queue/v1/task/" + status.get("taskId").asText());
              if ("test".equals(task.at("/tags/kind").asText())) {
                assertFalse(taskIdByLabel.containsValue(status.get("taskId").asText()), "a new task");
                cloneExchanges.put(task.at("/tags/label").asText(), next.getEnvelope().getExchange());
              }
            }
            return cloneExchanges.size() == 2;
          });
          assertEquals(Map.of(brokenLabel, PulsePublisher.TASK_FAILED, sound, PulsePublisher.TASK_COMPLETED),
              cloneExchanges);
        } finally {
          stop.countDown();
        }
        assertEquals(0, exit.get(10, TimeUnit.SECONDS));
        assertTrue(text(out).contains("Publishing the queue's Pulse messages to AmqpTarget[amqp://"), text(out));
        String printed = text(out) + text(err);
        assertFalse(printed.contains(TOKEN) || printed.contains(broker.uri()), printed);
      }
    }
  }

  @Test
  void theDayIsTheSeeds() {
    Day day = new Day(4, 40, 10);
    List<PlannedPush> plan = TaskclusterMain.plan(day, TaskclusterMain.DEFAULT_SEED);

    assertEquals(plan, TaskclusterMain.plan(day, TaskclusterMain.DEFAULT_SEED), "the same seed, the same day");
    assertNotEquals(revisions(plan), revisions(TaskclusterMain.plan(day, 2020)));
    assertEquals(4, plan.size());
    assertEquals(16, plan.stream().flatMap(p -> p.tasks().stream()).filter(PlannedTask::fails).count(),
        "10 % of 160 tasks");
    for (PlannedPush push : plan) {
      assertTrue(push.revision().matches("[0-9a-f]{40}"), push.revision());
      assertEquals(40, push.tasks().size());
      Set<String> labels = new HashSet<>();
      for (PlannedTask task : push.tasks()) {
        assertTrue(task.label().matches("test-[^/]+/(opt|debug)-[a-z-]+-\\d+"), task.label());
        assertTrue(labels.add(task.label()), "labels are distinct within a push: " + task.label());
      }
    }
    assertEquals(4, revisions(plan).size(), "distinct revisions");
    assertEquals(0, TaskclusterMain.plan(new Day(2, 5, 0), 1).stream().flatMap(p -> p.tasks().stream())
        .filter(PlannedTask::fails).count());
    assertEquals(10, TaskclusterMain.plan(new Day(2, 5, 100), 1).stream().flatMap(p -> p.tasks().stream())
        .filter(PlannedTask::fails).count());
  }

  @Test
  void brokenLabelsFailTheirClones() {
    CloneRule rule = TaskclusterMain.brokenRule(Pattern.compile("xpcshell|/debug-"));
    assertEquals(Outcome.FAILED, rule.outcome("test-linux1804-64-qr/opt-xpcshell-1", 0));
    assertEquals(Outcome.FAILED, rule.outcome("test-linux1804-64-qr/debug-reftest-1", 3));
    assertEquals(Outcome.COMPLETED, rule.outcome("test-linux1804-64-qr/opt-reftest-1", 0));
  }

  // --- helpers -----------------------------------------------------------------------------

  private int run(List<String> args, Map<String, String> env, CountDownLatch stop) {
    return TaskclusterMain.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), stop, false);
  }

  private String awaitRootUrl(CompletableFuture<Integer> exit) {
    Await.until("the simulator to print its root URL", WAIT,
        () -> STARTED.matcher(text(out)).find() || exit.isDone());
    Matcher matcher = STARTED.matcher(text(out));
    if (!matcher.find()) {
      throw new AssertionError("exited with " + exit.join() + " before starting: " + text(err));
    }
    return matcher.group(1);
  }

  /** The day's lines printed so far. */
  private List<MatchResult> dayPushes() {
    return DAY_PUSH.matcher(text(out)).results().toList();
  }

  private JsonNode getJson(String url) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), url + ": " + response.body());
    return JSON.readTree(response.body());
  }

  /** The trigger path of the push's generic retrigger action, read from its actions.json (through the redirect). */
  private String hookPath(String rootUrl, String taskGroupId) throws IOException, InterruptedException {
    JsonNode file = getJson(rootUrl + "/api/queue/v1/task/" + taskGroupId + "/artifacts/public/actions.json");
    for (JsonNode action : file.get("actions")) {
      if (action.get("name").asText().equals("retrigger") && action.get("context").equals(JSON.readTree("[{}]"))) {
        return "/api/hooks/v1/hooks/" + action.get("hookGroupId").asText() + "/"
            + action.get("hookId").asText().replace("/", "%2F") + "/trigger";
      }
    }
    throw new AssertionError("no generic retrigger action in " + file);
  }

  private HttpResponse<String> trigger(String rootUrl, String clientId, String accessToken, String path,
      String taskId) throws IOException, InterruptedException {
    ObjectNode payload = JSON.createObjectNode();
    ObjectNode user = payload.putObject("user");
    user.put("taskId", taskId);
    user.putObject("input").put("times", 1);
    return SimulatorCalls.trigger(http, URI.create(rootUrl + path), payload, clientId, accessToken);
  }

  private void assertSecretsHidden() {
    String printed = text(out) + text(err);
    assertFalse(printed.contains(BROKER_SECRET), printed);
    assertFalse(printed.contains(TOKEN), printed);
  }

  private static Set<String> revisions(List<PlannedPush> plan) {
    Set<String> revisions = new HashSet<>();
    plan.forEach(p -> revisions.add(p.revision()));
    return revisions;
  }

  private static String text(ByteArrayOutputStream stream) {
    return stream.toString(StandardCharsets.UTF_8);
  }
}
