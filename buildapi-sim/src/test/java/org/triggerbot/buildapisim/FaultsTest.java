package org.triggerbot.buildapisim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.BuildapiSimulator.RecordedRequest;

/** Injected failures, dropped connections, latency, job lag, late jobs and concurrent clients. */
class FaultsTest {

  private static final String REV = "146071751b1e5d16b87786f6e60485222c28c202";
  private static final String BUILDER = "Linux x86-64 try build";

  private BuildapiSimulator sim;
  private SimClient client;

  @BeforeEach
  void start() {
    sim = BuildapiSimulator.start(SimulatorOptions.defaults());
    client = SimClient.of(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void failNextAnswersTheInjectedStatusWithAProxysHtmlThenRecovers() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    sim.failNext(503, 2);

    HttpResponse<String> get = client.getRevision("try", REV);
    HttpResponse<String> post = client.rebuildBuild("try", buildId, 1);
    HttpResponse<String> recovered = client.getRevision("try", REV);

    assertEquals(503, get.statusCode());
    assertTrue(get.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertTrue(get.body().contains("<title>503 Service Unavailable</title>"), get.body());
    assertEquals(503, post.statusCode());
    assertEquals(200, recovered.statusCode());
    assertEquals(0, sim.rebuildPosts(), "a failed POST changes nothing");
    assertEquals(1, sim.jobCount("try", REV, BUILDER));
    assertEquals(List.of(503, 503, 200), statuses(sim.requests()));
  }

  @Test
  void failNextComesAfterAuthenticationAndCanBeChangedAtRunTime() {
    sim.addRevision("try", REV);
    sim.failNext(500, 1);

    HttpResponse<String> unauthenticated = new SimClient(sim.baseUrl(), null, null).getRevision("try", REV);
    HttpResponse<String> failed = client.getRevision("try", REV);
    sim.failNext(502, 5);
    sim.failNext(502, 0);
    HttpResponse<String> cancelled = client.getRevision("try", REV);

    assertEquals(401, unauthenticated.statusCode());
    assertEquals(500, failed.statusCode());
    assertEquals(200, cancelled.statusCode());
    assertEquals(List.of(401, 500, 200), statuses(sim.requests()));
  }

  @Test
  void dropNextClosesTheConnectionWithoutAResponseAndChangesNothing() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    sim.dropNext(1);

    HttpRequest post = client.request("/try/build")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("build_id=" + buildId + "&count=1"))
        .build();
    IOException failure = assertThrows(IOException.class, () -> client.sendOrThrow(post));
    HttpResponse<String> next = client.rebuildBuild("try", buildId, 1);

    assertFalse(failure instanceof HttpTimeoutException, "closed at once, not timed out: " + failure);
    assertEquals(202, next.statusCode());
    assertEquals(1, sim.rebuildPosts());
    assertEquals(2, sim.jobCount("try", REV, BUILDER));
    List<RecordedRequest> log = sim.requests();
    assertEquals(List.of(BuildapiSimulator.DROPPED, 202), statuses(log));
    assertEquals("/try/build", log.get(0).path());
    assertEquals("1", log.get(0).form().get("count"));
  }

  @Test
  void droppedGetsFailTheClient() {
    sim.addRevision("try", REV);
    // Two drops: java.net.http (JDK 17) retries an idempotent GET once when the connection closes
    // before a response, so a single drop goes unnoticed by the client (the log shows it); two do not.
    sim.dropNext(2);

    assertThrows(IOException.class, () -> client.sendOrThrow(client.request("/try/rev/" + REV).GET().build()));
    HttpResponse<String> next = client.getRevision("try", REV);

    assertEquals(200, next.statusCode());
    List<Integer> statuses = statuses(sim.requests());
    assertEquals(200, statuses.get(statuses.size() - 1));
    assertTrue(statuses.subList(0, statuses.size() - 1).stream().allMatch(s -> s == BuildapiSimulator.DROPPED),
        statuses.toString());
  }

  @Test
  void latencyDelaysEveryResponseAndCanOutlastAClientTimeout() throws IOException {
    sim.addRevision("try", REV);
    sim.setLatency(Duration.ofMillis(400));

    long begin = System.nanoTime();
    HttpResponse<String> slow = client.getRevision("try", REV);
    long elapsedMillis = (System.nanoTime() - begin) / 1_000_000;
    HttpRequest impatient = client.request("/try/rev/" + REV).timeout(Duration.ofMillis(100)).GET().build();
    assertThrows(HttpTimeoutException.class, () -> client.sendOrThrow(impatient));
    sim.setLatency(Duration.ZERO);
    HttpResponse<String> fast = client.getRevision("try", REV);

    assertEquals(200, slow.statusCode());
    assertTrue(elapsedMillis >= 400, "answered after " + elapsedMillis + " ms");
    assertEquals(200, fast.statusCode());
  }

  @Test
  void closeDoesNotWaitOutTheLatency() {
    sim.addRevision("try", REV);
    sim.setLatency(Duration.ofMinutes(5));
    CompletableFuture<HttpResponse<String>> pending = client.http().sendAsync(
        client.request("/try/rev/" + REV).GET().build(), HttpResponse.BodyHandlers.ofString());
    SimClient.awaitCondition("the request to reach the simulator", Duration.ofSeconds(5),
        () -> !pending.isDone() && threadsWaitingOutLatency() > 0);
    assertTrue(sim.requests().isEmpty(), "nothing is recorded before the latency has passed");

    long begin = System.nanoTime();
    sim.close();

    assertTrue(System.nanoTime() - begin < Duration.ofSeconds(4).toNanos(), "close took too long");
    SimClient.awaitCondition("the client to see the connection close", Duration.ofSeconds(5), pending::isDone);
    assertTrue(pending.isCompletedExceptionally());
  }

  @Test
  void aHeldResponseComesAfterThePostTookEffectAndWasRecorded() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    try (BuildapiSimulator.ResponseHold hold = sim.holdResponses(r -> r.method().equals("POST"))) {
      CompletableFuture<HttpResponse<String>> post = client.http().sendAsync(
          client.request("/try/build").header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString("build_id=" + buildId + "&count=1")).build(),
          HttpResponse.BodyHandlers.ofString());
      SimClient.awaitCondition("the POST to be held", Duration.ofSeconds(5), () -> hold.held().size() == 1);
      HttpResponse<String> get = client.getRevision("try", REV);

      assertFalse(post.isDone(), "the client still waits for its answer");
      assertEquals(1, sim.rebuildPosts(), "the POST took effect");
      assertEquals(2, sim.jobCount("try", REV, BUILDER));
      assertEquals(200, get.statusCode(), "requests the hold does not select are answered");
      assertEquals(List.of(202, 200), statuses(sim.requests()), "recorded before its answer");
      assertEquals("/try/build", hold.held().get(0).path());

      hold.release();
      assertEquals(202, post.join().statusCode());
      assertEquals(202, client.rebuildBuild("try", buildId, 1).statusCode(), "not held after the release");
    }
  }

  @Test
  void closeReleasesAHeldResponse() {
    sim.addRevision("try", REV);
    BuildapiSimulator.ResponseHold hold = sim.holdResponses(r -> true);
    CompletableFuture<HttpResponse<String>> get = client.http().sendAsync(
        client.request("/try/rev/" + REV).GET().build(), HttpResponse.BodyHandlers.ofString());
    SimClient.awaitCondition("the GET to be held", Duration.ofSeconds(5), () -> hold.held().size() == 1);

    long begin = System.nanoTime();
    sim.close();

    assertTrue(System.nanoTime() - begin < Duration.ofSeconds(4).toNanos(), "close took too long");
    SimClient.awaitCondition("the client to be answered or see the connection close", Duration.ofSeconds(5),
        get::isDone);
  }

  @Test
  void jobsFromPostsAppearOnlyAfterTheJobLag() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    Duration lag = Duration.ofMillis(700);
    sim.setJobLag(lag);

    long posted = System.nanoTime();
    HttpResponse<String> post = client.rebuildBuild("try", buildId, 2);
    JsonNode right = client.revisionItems("try", REV);

    assertEquals(202, post.statusCode());
    assertEquals(1, right.size(), "only the original build, right after the POST");
    assertEquals(1, sim.jobCount("try", REV, BUILDER));
    SimClient.awaitCondition("the rebuilt jobs to show in a GET", Duration.ofSeconds(10),
        () -> client.revisionItems("try", REV).size() == 3);
    long shownAfter = System.nanoTime() - posted;
    assertTrue(shownAfter >= lag.toNanos(), "shown after " + shownAfter / 1_000_000 + " ms");
    assertEquals(3, sim.jobCount("try", REV, BUILDER));
  }

  @Test
  void theJobLagOfTheOptionsAppliesFromTheStart() {
    try (BuildapiSimulator lagging = BuildapiSimulator.start(
        SimulatorOptions.defaults().withJobLag(Duration.ofMinutes(10)))) {
      long buildId = lagging.addBuild("try", REV, BUILDER, 2);
      long pendingId = lagging.addPendingRequest("try", REV, BUILDER);

      HttpResponse<String> post = SimClient.of(lagging).rebuildBuild("try", buildId, 1);

      assertEquals(202, post.statusCode());
      assertEquals(2, lagging.jobCount("try", REV, BUILDER), "items added by the test show at once");
      assertEquals(2, SimClient.of(lagging).revisionItems("try", REV).size());
      assertTrue(pendingId > 0);
    }
  }

  @Test
  void aHiddenBuildAppearsOnlyAfterThatManyGetsOfItsRevision() {
    long visible = sim.addBuild("try", REV, "other builder", 0);
    long hidden = sim.addBuild("try", REV, BUILDER, 2, 2);

    assertEquals(0, sim.jobCount("try", REV, BUILDER), "hidden from jobCount too");
    assertEquals(List.of(visible), buildIds(client.revisionItems("try", REV)));
    assertEquals(0, sim.jobCount("try", REV, BUILDER), "jobCount counts no GET");
    assertEquals(List.of(visible), buildIds(client.revisionItems("try", REV.substring(0, 12))));
    assertEquals(List.of(hidden, visible), buildIds(client.revisionItems("try", REV)));
    assertEquals(1, sim.jobCount("try", REV, BUILDER));
  }

  @Test
  void aHiddenBuildCanStillBeRebuiltAndGetsOfOtherRevisionsDoNotCount() {
    sim.addRevision("try", "aaaaaaaaaaaa");
    long hidden = sim.addBuild("try", REV, BUILDER, 2, 1);

    client.revisionItems("try", "aaaaaaaaaaaa");
    HttpResponse<String> post = client.rebuildBuild("try", hidden, 1);
    JsonNode first = client.revisionItems("try", REV);
    JsonNode second = client.revisionItems("try", REV);

    assertEquals(202, post.statusCode());
    assertEquals(List.of(), buildIds(first));
    assertEquals(1, first.size(), "the rebuilt job, pending");
    assertEquals(List.of(hidden), buildIds(second));
  }

  @Test
  void concurrentRequestsAreAllAnsweredAndRecorded() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    sim.setLatency(Duration.ofMillis(50)); // keeps requests overlapping
    int posts = 40;
    int gets = 40;
    List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
    for (int i = 0; i < posts + gets; i++) {
      HttpRequest request = i % 2 == 0
          ? client.request("/try/build")
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString("build_id=" + buildId + "&count=2"))
              .build()
          : client.request("/try/rev/" + REV + "?format=json&n=" + i).GET().build();
      futures.add(client.http().sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();

    Set<Long> jobIds = new HashSet<>();
    for (CompletableFuture<HttpResponse<String>> future : futures) {
      HttpResponse<String> response = future.join();
      if (response.request().method().equals("POST")) {
        assertEquals(202, response.statusCode(), response.body());
        jobIds.add(SimClient.parse(response.body()).get("request_id").asLong());
      } else {
        assertEquals(200, response.statusCode(), response.body());
      }
    }
    assertEquals(posts, jobIds.size(), "each POST has its own job id");
    assertEquals(posts, sim.rebuildPosts());
    assertEquals(1 + 2 * posts, sim.jobCount("try", REV, BUILDER));
    List<RecordedRequest> log = sim.requests();
    assertEquals(posts + gets, log.size());
    assertEquals(posts, log.stream().filter(r -> r.method().equals("POST") && r.status() == 202).count());
    Set<String> getQueries = new HashSet<>();
    log.stream().filter(r -> r.method().equals("GET")).forEach(r -> {
      assertEquals(200, r.status());
      getQueries.add(r.query().get("n"));
    });
    assertEquals(gets, getQueries.size(), "every GET recorded once");
    for (int i = 1; i < log.size(); i++) {
      assertFalse(log.get(i).at().isBefore(log.get(i - 1).at()), "in order of arrival");
    }
  }

  private static List<Integer> statuses(List<RecordedRequest> log) {
    return log.stream().map(RecordedRequest::status).toList();
  }

  private static List<Long> buildIds(JsonNode items) {
    List<Long> ids = new ArrayList<>();
    items.forEach(item -> {
      if (item.has("build_id")) {
        ids.add(item.get("build_id").asLong());
      }
    });
    return ids;
  }

  /** Simulator threads inside the latency wait. */
  private static long threadsWaitingOutLatency() {
    return Thread.getAllStackTraces().entrySet().stream()
        .filter(e -> e.getKey().getName().startsWith("buildapi-sim-"))
        .filter(e -> java.util.Arrays.stream(e.getValue())
            .anyMatch(frame -> frame.getMethodName().equals("awaitLatency")))
        .count();
  }
}
