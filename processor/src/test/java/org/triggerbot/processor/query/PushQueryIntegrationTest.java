package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.query.QueryCluster.DEADLINE;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.processor.app.ProcessorConfig;
import org.triggerbot.processor.app.ProcessorService;
import org.triggerbot.processor.topology.StoreNames;
import org.triggerbot.testsupport.Await;

/**
 * The HTTP interface of two processor instances (one application, {@code pulse.raw} with two partitions, one
 * each) over a real KRaft broker: every push answered the same by both (one reads its own store, the other
 * forwards to it), the list assembled from both, the errors, and 503 while an instance restores its state.
 */
class PushQueryIntegrationTest {

  private static final String APP = "triggerbot-iq";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path stateRoot;

  private static QueryCluster cluster;
  private static ProcessorService first;
  private static ProcessorService second;
  private static List<QueryScenario.Push> pushes;

  @BeforeAll
  static void startTwoInstancesAndPipeThePushes() throws Exception {
    cluster = QueryCluster.start(stateRoot, 2);
    first = cluster.instance(APP, null);
    second = cluster.instance(APP, null);
    // Both join before any data, so the assignor spreads the two decide tasks one per instance.
    QueryCluster.awaitBalanced(1, first, second);

    pushes = QueryScenario.pushes(8);
    cluster.produce(QueryScenario.bodies(pushes));
    Await.until("every push to reach its final verdict", DEADLINE, () -> {
      for (QueryScenario.Push p : pushes) {
        HttpResponse<String> r = cluster.get(first, "/api/pushes/" + p.path());
        if (r.statusCode() != 200 || !p.verdict().equals(JSON.readTree(r.body()).path("verdict").asText())
            || JSON.readTree(r.body()).path("builders").path(0).path("runs").size() != p.runs().size()) {
          return false;
        }
      }
      return true;
    });
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void eachInstanceOwnsSomeOfThePushes() {
    Map<HostInfo, Integer> owned = new HashMap<>();
    for (QueryScenario.Push p : pushes) {
      KeyQueryMetadata md = first.streams().queryMetadataForKey(StoreNames.PUSHES, p.key(), new StringSerializer());
      owned.merge(md.activeHost(), 1, Integer::sum);
    }
    assertEquals(Set.of(new HostInfo("127.0.0.1", first.adminPort()), new HostInfo("127.0.0.1", second.adminPort())),
        owned.keySet(), "both instances own pushes, so half the answers are forwarded: " + owned);
  }

  @Test
  void bothInstancesAnswerEveryPushWithTheSameCorrectBody() throws Exception {
    for (QueryScenario.Push p : pushes) {
      HttpResponse<String> a = cluster.get(first, "/api/pushes/" + p.path());
      HttpResponse<String> b = cluster.get(second, "/api/pushes/" + p.path());
      assertEquals(200, a.statusCode(), a.body());
      assertEquals(200, b.statusCode(), b.body());
      assertEquals(a.body(), b.body(), "the owner's answer and the forwarded one, byte for byte: " + p);
      assertEquals("application/json", a.headers().firstValue("Content-Type").orElse(""));
      assertEquals("no-store", b.headers().firstValue("Cache-Control").orElse(""));
      assertPush(p, JSON.readTree(a.body()));

      HttpResponse<String> full = cluster.get(second, "/api/pushes/" + p.branch() + "/" + p.fullRevision());
      assertEquals(a.body(), full.body(), "the 40-character revision names the same push");
      String encoded = "/api/pushes/" + p.branch().replace("/", "%2F") + "/" + p.revision();
      assertEquals(a.body(), cluster.get(first, encoded).body(), "an encoded slash in the branch too");
    }
  }

  @Test
  void thePushPageFromEitherInstanceShowsTheVerdictAndTheFailingBuildersDecisions() throws Exception {
    for (QueryScenario.Push p : pushes) {
      for (ProcessorService s : List.of(first, second)) {
        HttpResponse<String> page = cluster.get(s, "/pushes/" + p.path());
        assertEquals(200, page.statusCode(), page.body());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElse(""));
        assertTrue(page.body().contains("badge v-" + p.verdict()), p + ": " + page.body());
        if (!p.reasons().isEmpty()) {
          assertTrue(page.body().contains("<code>TRIGGER_FAILURE</code>"), page.body());
          assertTrue(page.body().contains("Failing builders (1)"), page.body());
        } else {
          assertTrue(page.body().contains("Failing builders (0)"), page.body());
        }
      }
    }
  }

  @Test
  void theListFromEitherInstanceHasEveryPushNewestFirst() throws Exception {
    List<QueryScenario.Push> newestFirst = new ArrayList<>(pushes);
    newestFirst.sort(Comparator.comparing(QueryScenario.Push::lastSeen).reversed()
        .thenComparing(QueryScenario.Push::key));
    HttpResponse<String> a = cluster.get(first, "/api/pushes");
    HttpResponse<String> b = cluster.get(second, "/api/pushes");
    assertEquals(200, a.statusCode(), a.body());
    assertEquals(a.body(), b.body(), "the same list whichever instance assembles it");
    JsonNode list = JSON.readTree(a.body());
    assertEquals(50, list.get("limit").asInt());
    assertTrue(list.get("state").isNull());
    assertEquals(newestFirst.stream().map(QueryScenario.Push::key).toList(), keys(list));
    JsonNode item = list.get("pushes").get(0);
    QueryScenario.Push newest = newestFirst.get(0);
    assertEquals(newest.verdict(), item.get("verdict").asText());
    assertEquals(newest.lastSeen(), item.get("lastSeen").asText());
    assertEquals("dev@example.com", item.get("pusher").asText());
    assertEquals(newest.jobsOnPush(), item.get("jobsOnPush").asInt());
    assertEquals(newest.failuresOnPush(), item.get("failuresOnPush").asInt());
    assertEquals(1, item.get("classifications").get(newest.classification()).asInt());

    JsonNode intermittent = JSON.readTree(cluster.get(second, "/api/pushes?state=INTERMITTENT_ONLY&limit=2").body());
    assertEquals(newestFirst.stream().filter(p -> p.kind() == QueryScenario.Kind.INTERMITTENT).limit(2)
        .map(QueryScenario.Push::key).toList(), keys(intermittent));
    assertEquals("INTERMITTENT_ONLY", intermittent.get("state").asText());

    HttpResponse<String> index = cluster.get(second, "/");
    assertEquals(200, index.statusCode());
    for (QueryScenario.Push p : pushes) {
      assertTrue(index.body().contains("href=\"/pushes/" + p.path() + "\""), "a link to " + p + ": " + index.body());
    }
  }

  @Test
  void errorsAreJsonWithAStatusThatSaysWhich() throws Exception {
    for (ProcessorService s : List.of(first, second)) {
      // Which instance owns an unknown push depends on its key; both instances answer 404 all the same.
      for (String unknown : List.of("try/0123456789ab", "try/ba9876543210", "nowhere/0123456789ab")) {
        HttpResponse<String> r = cluster.get(s, "/api/pushes/" + unknown);
        assertEquals(404, r.statusCode(), unknown + ": " + r.body());
        assertTrue(JSON.readTree(r.body()).get("error").asText().contains("no push " + unknown), r.body());
      }
      HttpResponse<String> badRevision = cluster.get(s, "/api/pushes/try/XYZ");
      assertEquals(400, badRevision.statusCode());
      assertTrue(JSON.readTree(badRevision.body()).get("error").asText().contains("revision 'XYZ' is malformed"));
      HttpResponse<String> badLimit = cluster.get(s, "/api/pushes?limit=501");
      assertEquals(400, badLimit.statusCode());
      assertTrue(badLimit.body().contains("from 1 to 500"), badLimit.body());
      HttpResponse<String> badState = cluster.get(s, "/api/pushes?state=RED");
      assertEquals(400, badState.statusCode());
      assertEquals(5, JSON.readTree(badState.body()).get("allowed").size(), badState.body());
      HttpResponse<String> notFoundPage = cluster.get(s, "/pushes/try/0123456789ab");
      assertEquals(404, notFoundPage.statusCode());
      assertEquals("text/html; charset=utf-8", notFoundPage.headers().firstValue("Content-Type").orElse(""));
      assertEquals(400, cluster.get(s, "/pushes/try/0123").statusCode());
      assertEquals(404, cluster.get(s, "/nothing-here").statusCode(), "other paths stay 404");
      assertEquals(200, cluster.get(s, "/health/ready").statusCode(), "health is still served");
    }
  }

  /**
   * A fresh instance on an empty state directory restores the push state from the changelogs; while it does
   * (held there by a restore listener until the assertions are done, so no timing decides the outcome) every
   * query is a 503 with Retry-After, never an empty or partial answer; once it runs, the same bodies as before.
   */
  @Test
  void whileAnInstanceRestoresItsStateQueriesAre503ThenTheSameAnswers() throws Exception {
    String app = "triggerbot-iq-restore";
    ProcessorService original = cluster.instance(app, null);
    QueryCluster.awaitBalanced(2, original);
    Map<String, String> before = new HashMap<>();
    Await.until("the restore test's own application to decide every push", DEADLINE, () -> {
      for (QueryScenario.Push p : pushes) {
        HttpResponse<String> r = cluster.get(original, "/api/pushes/" + p.path());
        if (r.statusCode() != 200 || !p.verdict().equals(JSON.readTree(r.body()).path("verdict").asText())) {
          return false;
        }
        before.put(p.key(), r.body());
      }
      return true;
    });
    String listBefore = cluster.get(original, "/api/pushes").body();
    cluster.stop(original);

    CountDownLatch restoring = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Set<String> restoredStores = new HashSet<>();
    ProcessorService fresh = cluster.instance(app, new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
        restoredStores.add(store);
        restoring.countDown();
        try {
          // Bounded, so that a failed test never leaves a thread stuck: the test releases it long before.
          release.await(DEADLINE.toSeconds() * 2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long restored) {}

      @Override
      public void onRestoreEnd(TopicPartition partition, String store, long total) {}
    });
    try {
      assertTrue(restoring.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the fresh instance starts restoring");
      QueryScenario.Push p = pushes.get(0);
      HttpResponse<String> one = cluster.get(fresh, "/api/pushes/" + p.path());
      assertEquals(503, one.statusCode(), one.body());
      assertEquals(String.valueOf(PushApi.RETRY_AFTER_SECONDS), one.headers().firstValue("Retry-After").orElse(""));
      JsonNode body = JSON.readTree(one.body());
      assertEquals("REBALANCING", body.get("state").asText(), one.body());
      assertTrue(body.get("error").asText().contains("restored"), one.body());
      HttpResponse<String> list = cluster.get(fresh, "/api/pushes");
      assertEquals(503, list.statusCode(), list.body());
      assertTrue(list.headers().firstValue("Retry-After").isPresent());
      HttpResponse<String> page = cluster.get(fresh, "/pushes/" + p.path());
      assertEquals(503, page.statusCode());
      assertTrue(page.body().contains("try again"), page.body());
      assertEquals(503, cluster.get(fresh, "/").statusCode());
      assertEquals(503, cluster.get(fresh, "/health/ready").statusCode());
    } finally {
      release.countDown();
    }
    Await.until("the restored instance to be ready", DEADLINE,
        () -> cluster.get(fresh, "/health/ready").statusCode() == 200);
    assertTrue(restoredStores.contains(StoreNames.PUSHES), "push-state was restored: " + restoredStores);
    for (QueryScenario.Push p : pushes) {
      HttpResponse<String> after = cluster.get(fresh, "/api/pushes/" + p.path());
      assertEquals(200, after.statusCode(), after.body());
      assertEquals(before.get(p.key()), after.body(), "restored from the changelog alone: " + p);
    }
    assertEquals(listBefore, cluster.get(fresh, "/api/pushes").body());
    cluster.stop(fresh);
  }

  /**
   * An instance whose advertised address does not answer (its {@code application.server} names a port nothing
   * listens on, as a crashed or unreachable instance would): the others answer its pushes with 502 naming it,
   * and the list, which needs its part, too; its own port still answers for its own pushes.
   */
  @Test
  void anOwnerThatDoesNotAnswerIsA502NamingIt() throws Exception {
    String app = "triggerbot-iq-unreachable";
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    String nowhere = "127.0.0.1:" + closedPort;
    ProcessorService reachable = cluster.instance(app, null);
    ProcessorService unreachable = cluster.instance(app, null,
        Map.of(ProcessorConfig.STREAMS_PREFIX + StreamsConfig.APPLICATION_SERVER_CONFIG, nowhere));
    try {
      QueryCluster.awaitBalanced(1, reachable, unreachable);
      QueryScenario.Push theirs = pushes.stream().filter(p -> reachable.streams().queryMetadataForKey(
          StoreNames.PUSHES, p.key(), new StringSerializer()).activeHost().equals(HostInfo.buildFromEndpoint(nowhere)))
          .findFirst().orElseThrow();
      Await.until("the unreachable instance to decide " + theirs, DEADLINE, () -> cluster.get(unreachable,
          "/api/pushes/" + theirs.path()).statusCode() == 200);

      HttpResponse<String> one = cluster.get(reachable, "/api/pushes/" + theirs.path());
      assertEquals(502, one.statusCode(), one.body());
      JsonNode body = JSON.readTree(one.body());
      assertEquals(nowhere, body.get("owner").asText());
      assertTrue(body.get("error").asText().contains(nowhere + ", did not answer: ConnectException"), one.body());
      assertEquals(502, cluster.get(reachable, "/api/pushes").statusCode(), "the list needs every part");
      HttpResponse<String> page = cluster.get(reachable, "/pushes/" + theirs.path());
      assertEquals(502, page.statusCode());
      assertTrue(page.body().contains("did not answer"), page.body());
    } finally {
      cluster.stop(reachable);
      cluster.stop(unreachable);
    }
  }

  private static void assertPush(QueryScenario.Push p, JsonNode push) {
    assertEquals(p.branch(), push.get("branch").asText());
    assertEquals(p.revision(), push.get("revision").asText());
    assertEquals(p.verdict(), push.get("verdict").asText(), p.toString());
    assertEquals(p.verdictUpdatedAt(), push.get("verdictUpdatedAt").asText());
    assertEquals(p.lastSeen(), push.get("lastSeen").asText());
    assertEquals(QueryScenario.time(p.startMinute()).toString(), push.get("lifeStart").asText());
    assertEquals("dev@example.com", push.get("pusher").asText());
    assertEquals(p.jobsOnPush(), push.get("jobsOnPush").asInt(), "J");
    assertEquals(p.failuresOnPush(), push.get("failuresOnPush").asInt(), "f");
    JsonNode tryOptions = push.get("tryOptions");
    assertTrue(tryOptions.get("trySyntaxSeen").asBoolean());
    assertEquals(0, tryOptions.get("rebuild").asInt());
    assertFalse(tryOptions.get("noRetry").asBoolean());

    assertEquals(1, push.get("builders").size(), "the test builder only, not the build job");
    JsonNode builder = push.get("builders").get(0);
    assertEquals(p.builder(), builder.get("builder").asText());
    assertEquals(p.classification(), builder.get("classification").asText());
    List<String> runs = new ArrayList<>();
    builder.get("runs").forEach(r -> runs.add(r.get("buildNumber").asLong() + ":" + r.get("result").asInt()));
    assertEquals(p.runs().stream().map(r -> r[0] + ":" + r[1]).toList(), runs);
    assertEquals(p.reasons().size(), builder.get("jobsIssued").asInt());
    assertEquals(p.reasons().size(), builder.get("failureTriggers").asInt());
    List<String> reasons = new ArrayList<>();
    builder.get("decisions").forEach(d -> reasons.add(d.get("reason").asText()));
    assertEquals(p.reasons(), reasons);
    if (!reasons.isEmpty()) {
      JsonNode d = builder.get("decisions").get(0);
      assertEquals("FINISHED", d.get("event").asText());
      assertEquals(0, d.get("buildNumber").asLong());
      assertEquals(2, d.get("result").asInt());
      assertEquals(1, d.get("count").asInt());
      assertEquals(0, d.get("failuresOnPush").asInt());
      assertEquals(1, d.get("jobsOnPush").asInt());
      assertEquals(QueryScenario.time(p.startMinute()).toString(), d.get("eventTime").asText());
      assertNotEquals("", d.get("decisionId").asText());
    }
  }

  private static List<String> keys(JsonNode list) {
    List<String> keys = new ArrayList<>();
    list.get("pushes").forEach(p -> keys.add(p.get("branch").asText() + "/" + p.get("revision").asText()));
    return keys;
  }
}
