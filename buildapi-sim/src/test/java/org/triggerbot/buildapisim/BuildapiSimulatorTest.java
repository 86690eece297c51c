package org.triggerbot.buildapisim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.triggerbot.buildapisim.SimClient.fields;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.BuildapiSimulator.RecordedRequest;
import org.triggerbot.testsupport.Fixtures;

/** The endpoints, their statuses and bodies, authentication, encoding and the request log, over real HTTP. */
class BuildapiSimulatorTest {

  private static final Path FIXTURE =
      Fixtures.buildapiSamples().resolve("selfserve-rev-try-146071751b1e-response.json");

  private static final String REV = "146071751b1e5d16b87786f6e60485222c28c202";
  private static final String SHORT_REV = "146071751b1e";
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
  void listensOnLoopbackOnAFreePort() {
    assertTrue(sim.port() > 0);
    assertEquals("http://127.0.0.1:" + sim.port() + "/self-serve", sim.baseUrl());
  }

  @Test
  void aBuildItemHasTheFieldsOfTheCapturedSelfServeResponse() throws IOException {
    if (!Files.isRegularFile(FIXTURE)) {
      fail("fixture missing: " + FIXTURE + " (expected in the project's fixtures/buildapi-samples)");
    }
    JsonNode captured = SimClient.JSON.readTree(FIXTURE.toFile()).get(0);
    long buildId = sim.addBuild("try", REV, BUILDER, 0);

    JsonNode items = client.revisionItems("try", REV);

    assertEquals(1, items.size());
    JsonNode item = items.get(0);
    assertEquals(fieldNames(captured), fieldNames(item));
    assertEquals(fieldNames(captured.get("requests").get(0)), fieldNames(item.get("requests").get(0)));
    // Same JSON types as the captured response, field by field.
    captured.fieldNames()
        .forEachRemaining(name -> assertEquals(captured.get(name).getNodeType(), item.get(name).getNodeType(), name));
    captured.get("requests").get(0).fieldNames().forEachRemaining(name -> assertEquals(
        captured.get("requests").get(0).get(name).getNodeType(),
        item.get("requests").get(0).get(name).getNodeType(), "requests[0]." + name));
    assertEquals(buildId, item.get("build_id").asLong());
    assertEquals(0, item.get("status").asInt());
    assertEquals("try", item.get("branch").asText());
    assertEquals(BUILDER, item.get("buildername").asText());
    assertEquals(REV, item.get("revision").asText());
    assertEquals(1, item.get("requests").get(0).get("complete").asInt());
  }

  @Test
  void aGetMixesBuildsAndPendingRequestsBuildsFirst() {
    long pendingId = sim.addPendingRequest("try", REV, "Linux x86-64 try opt test mochitest-1");
    long buildId = sim.addBuild("try", REV, BUILDER, 2);

    JsonNode items = client.revisionItems("try", REV);

    assertEquals(2, items.size());
    JsonNode build = items.get(0);
    JsonNode pending = items.get(1);
    assertEquals(buildId, build.get("build_id").asLong());
    assertEquals(2, build.get("status").asInt());
    assertEquals(pendingId, pending.get("request_id").asLong());
    assertFalse(pending.has("build_id"), "a pending request has no build_id");
    assertFalse(pending.has("status"), "buildapi's requestFromRow has no status");
    assertEquals(Set.of("request_id", "buildername", "branch", "revision", "submittime", "complete",
        "complete_at", "priority", "claimed_at", "reason"), fieldNames(pending));
    assertEquals("Linux x86-64 try opt test mochitest-1", pending.get("buildername").asText());
    assertEquals(0, pending.get("complete").asInt());
    assertTrue(pending.get("complete_at").isNull());
    assertEquals(0, pending.get("claimed_at").asInt());
    assertTrue(pending.get("submittime").isIntegralNumber());
  }

  @Test
  void buildsAreListedNewestFirstAsBuildapiOrderedThem() {
    long first = sim.addBuild("try", REV, BUILDER, 2);
    long second = sim.addBuild("try", REV, BUILDER, 0);

    JsonNode items = client.revisionItems("try", REV);

    assertEquals(List.of(second, first), List.of(items.get(0).get("build_id").asLong(),
        items.get(1).get("build_id").asLong()));
  }

  @Test
  void anUnknownRevisionIs404WithBuildapisFailedBody() {
    sim.addBuild("mozilla-central", REV, BUILDER, 0);

    HttpResponse<String> unknown = client.getRevision("try", "abcdef123456");
    HttpResponse<String> otherBranch = client.getRevision("try", REV);

    assertEquals(404, unknown.statusCode());
    assertTrue(unknown.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonNode body = SimClient.parse(unknown.body());
    assertEquals("FAILED", body.get("status").asText());
    assertEquals("Revision abcdef123456 not found on branch try", body.get("msg").asText());
    assertEquals(404, otherBranch.statusCode());
  }

  @Test
  void aKnownRevisionWithoutItemsIsAnEmptyList() {
    sim.addRevision("try", REV);

    HttpResponse<String> response = client.getRevision("try", REV);

    assertEquals(200, response.statusCode());
    assertEquals("[]", response.body());
  }

  @Test
  void revisionsMatchByPrefixBothWays() {
    sim.addBuild("try", REV, BUILDER, 0);
    sim.addBuild("try", "0123456789ab", "short-stored", 0);

    assertEquals(1, client.revisionItems("try", SHORT_REV).size(), "short request, full stored");
    assertEquals(1, client.revisionItems("try", SHORT_REV.toUpperCase(Locale.ROOT)).size(), "case ignored");
    assertEquals(1, client.revisionItems("try", "0123456789ab" + "cdef0123456789abcdef0123456789").size(),
        "full request, short stored");
    assertEquals(404, client.getRevision("try", "146071751b1f").statusCode());
    assertEquals(1, sim.jobCount("try", SHORT_REV, BUILDER));
  }

  @Test
  void aBuildPostIsAcceptedAndCreatesCountPendingJobs() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);

    HttpResponse<String> response = client.rebuildBuild("try", buildId, 2);

    assertEquals(202, response.statusCode(), response.body());
    JsonNode body = SimClient.parse(response.body());
    assertEquals("OK", body.get("status").asText());
    assertTrue(body.get("request_id").isIntegralNumber());
    assertEquals(Set.of("status", "request_id"), fieldNames(body));
    assertEquals(3, sim.jobCount("try", REV, BUILDER));
    assertEquals(1, sim.rebuildPosts());
    JsonNode items = client.revisionItems("try", SHORT_REV);
    assertEquals(3, items.size());
    for (int i = 1; i < 3; i++) {
      JsonNode job = items.get(i);
      assertFalse(job.has("build_id"));
      assertEquals(BUILDER, job.get("buildername").asText());
      assertEquals(REV, job.get("revision").asText());
      assertEquals("Self-serve: Rebuilt by triggerbot", job.get("reason").asText());
    }
  }

  @Test
  void countDefaultsToOneAndEachPostHasItsOwnJobId() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);

    HttpResponse<String> first = client.postForm("/try/build", fields("build_id", Long.toString(buildId)));
    HttpResponse<String> second = client.postForm("/try/build", fields("build_id", Long.toString(buildId)));

    assertEquals(202, first.statusCode());
    assertEquals(202, second.statusCode());
    assertEquals(3, sim.jobCount("try", REV, BUILDER));
    assertTrue(SimClient.parse(first.body()).get("request_id").asLong()
        != SimClient.parse(second.body()).get("request_id").asLong());
    assertEquals(2, sim.rebuildPosts());
  }

  @Test
  void aRequestPostRebuildsAPendingRequestOrTheRequestOfABuild() {
    long pendingId = sim.addPendingRequest("try", REV, "pending builder");
    sim.addBuild("try", REV, BUILDER, 2);
    long buildRequestId = client.revisionItems("try", REV).get(0).get("requests").get(0)
        .get("request_id").asLong();

    HttpResponse<String> pending = client.rebuildRequest("try", pendingId, 1);
    HttpResponse<String> ofBuild = client.rebuildRequest("try", buildRequestId, 3);

    assertEquals(202, pending.statusCode(), pending.body());
    assertEquals(202, ofBuild.statusCode(), ofBuild.body());
    assertEquals("OK", SimClient.parse(ofBuild.body()).get("status").asText());
    assertEquals(2, sim.jobCount("try", REV, "pending builder"));
    assertEquals(4, sim.jobCount("try", REV, BUILDER));
    assertEquals(2, sim.rebuildPosts());
  }

  @Test
  void unknownIdsAre404AndCreateNothing() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    long pendingId = sim.addPendingRequest("try", REV, BUILDER);

    HttpResponse<String> unknownBuild = client.rebuildBuild("try", 42, 1);
    HttpResponse<String> otherBranch = client.rebuildBuild("mozilla-inbound", buildId, 1);
    HttpResponse<String> requestIdAsBuildId = client.rebuildBuild("try", pendingId, 1);
    HttpResponse<String> unknownRequest = client.rebuildRequest("try", 42, 1);
    HttpResponse<String> buildIdAsRequestId = client.rebuildRequest("try", buildId, 1);

    assertFailed(404, "Build 42 not found on branch try", unknownBuild);
    assertFailed(404, "Build " + buildId + " not found on branch mozilla-inbound", otherBranch);
    assertEquals(404, requestIdAsBuildId.statusCode());
    assertFailed(404, "Request 42 not found on branch try", unknownRequest);
    assertEquals(404, buildIdAsRequestId.statusCode());
    assertEquals(0, sim.rebuildPosts());
    assertEquals(2, sim.jobCount("try", REV, BUILDER));
  }

  @Test
  void missingOrInvalidFormFieldsAre400() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    String id = Long.toString(buildId);

    assertFailed(400, "Bad build_id", client.postForm("/try/build", fields()));
    assertFailed(400, "Bad build_id", client.postForm("/try/build", fields("build_id", "")));
    assertFailed(400, "Bad build_id", client.postForm("/try/build", fields("build_id", "12x")));
    assertFailed(400, "Bad count", client.postForm("/try/build", fields("build_id", id, "count", "0")));
    assertFailed(400, "Bad count", client.postForm("/try/build", fields("build_id", id, "count", "two")));
    assertFailed(400, "Bad count", client.postForm("/try/build", fields("build_id", id, "count", "101")));
    assertFailed(400, "Bad priority", client.postForm("/try/build", fields("build_id", id, "priority", "hi")));
    assertFailed(400, "Bad request_id", client.postForm("/try/request", fields("build_id", id)));
    // Fields in the query string or a JSON body are not form fields, as in buildapi.
    assertFailed(400, "Bad build_id", client.postForm("/try/build?build_id=" + id, fields()));
    assertFailed(400, "Bad build_id", client.send(client.request("/try/build")
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"build_id\": " + id + "}")).build()));
    assertEquals(0, sim.rebuildPosts());
    assertEquals(1, sim.jobCount("try", REV, BUILDER));
  }

  @Test
  void blanksAroundIntegersAreAcceptedAsFormencodeDid() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);

    HttpResponse<String> response = client.postForm("/try/build",
        fields("build_id", " " + buildId + " ", "count", "2 ", "priority", ""));

    assertEquals(202, response.statusCode(), response.body());
    assertEquals(3, sim.jobCount("try", REV, BUILDER));
  }

  @Test
  void anythingElseIs404Json() {
    sim.addBuild("try", REV, BUILDER, 0);

    List<HttpResponse<String>> responses = List.of(
        client.get("/try/build"),
        client.get("/try/rev/" + REV + "/extra"),
        client.get("/try/rev/"),
        client.get("//rev/" + REV),
        client.get(""),
        client.get("/jobs/1"),
        client.postForm("/try/rev/" + REV, fields()),
        client.send(client.request("/try/build").DELETE().build()),
        new SimClient(sim.baseUrl().replace("/self-serve", "/other"), "triggerbot", "sim-password")
            .get("/try/rev/" + REV));

    for (HttpResponse<String> response : responses) {
      assertEquals(404, response.statusCode(), response.uri().toString());
      assertEquals("FAILED", SimClient.parse(response.body()).get("status").asText());
    }
    assertEquals(0, sim.rebuildPosts());
  }

  @Test
  void everyEndpointNeedsTheConfiguredCredentials() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);
    List<SimClient> rejected = List.of(
        new SimClient(sim.baseUrl(), null, null),
        new SimClient(sim.baseUrl(), "triggerbot", "wrong"),
        new SimClient(sim.baseUrl(), "someone", "sim-password"));

    for (SimClient bad : rejected) {
      for (HttpResponse<String> response : List.of(bad.getRevision("try", REV),
          bad.rebuildBuild("try", buildId, 1), bad.get("/nowhere"))) {
        assertEquals(401, response.statusCode(), response.uri().toString());
        assertEquals("Basic realm=\"buildapi\"", response.headers().firstValue("WWW-Authenticate").orElse(null));
        assertFalse(response.body().contains("sim-password"));
      }
    }

    assertEquals(0, sim.rebuildPosts());
    assertEquals(1, sim.jobCount("try", REV, BUILDER));
    List<RecordedRequest> log = sim.requests();
    assertEquals(9, log.size());
    log.forEach(request -> assertNull(request.authUser(), request.toString()));
    assertEquals(200, client.getRevision("try", REV).statusCode());
    assertEquals("triggerbot", sim.requests().get(9).authUser());
  }

  @Test
  void malformedAuthorizationHeadersAreRejected() {
    sim.addRevision("try", REV);
    for (String header : List.of("Basic", "Basic !!!", "Bearer abc",
        "Basic " + java.util.Base64.getEncoder().encodeToString("no-colon".getBytes(StandardCharsets.UTF_8)))) {
      HttpResponse<String> response = client.send(client.request("/try/rev/" + REV)
          .setHeader("Authorization", header).GET().build());
      assertEquals(401, response.statusCode(), header);
    }
  }

  @Test
  void withoutAUserNoCredentialsAreNeeded() {
    try (BuildapiSimulator open = BuildapiSimulator.start(SimulatorOptions.defaults().withCredentials(null, null))) {
      open.addRevision("try", REV);

      assertEquals(200, new SimClient(open.baseUrl(), null, null).getRevision("try", REV).statusCode());
      assertEquals(200, new SimClient(open.baseUrl(), "anyone", "x").getRevision("try", REV).statusCode());

      assertNull(open.requests().get(0).authUser());
      assertEquals("anyone", open.requests().get(1).authUser());
    }
  }

  @Test
  void awkwardBuilderNamesRoundTripExactly() {
    String builder = "Ubuntu VM 12.04 x64 try/opt ? #3 mochitest-e10s-browser-chrome 50% + Ünïcødé ✓ 日本 🚀";
    String branch = "try ü+1";
    long buildId = sim.addBuild(branch, REV, builder, 2);
    long pendingId = sim.addPendingRequest(branch, REV, builder);

    HttpResponse<String> get = client.getRevision(branch, REV);
    HttpResponse<String> build = client.rebuildBuild(branch, buildId, 1);
    HttpResponse<String> request = client.rebuildRequest(branch, pendingId, 1);

    assertEquals(200, get.statusCode());
    assertTrue(StandardCharsets.US_ASCII.newEncoder().canEncode(get.body()),
        "non-ASCII is escaped as Python's json.dumps did: " + get.body());
    for (JsonNode item : SimClient.parse(get.body())) {
      assertEquals(builder, item.get("buildername").asText());
      assertEquals(branch, item.get("branch").asText());
    }
    assertEquals(202, build.statusCode(), build.body());
    assertEquals(202, request.statusCode(), request.body());
    assertEquals(4, sim.jobCount(branch, REV, builder));
    JsonNode items = client.revisionItems(branch, REV);
    assertEquals(4, items.size());
    items.forEach(item -> assertEquals(builder, item.get("buildername").asText()));
    RecordedRequest recorded = sim.requests().get(0);
    assertEquals("/" + branch + "/rev/" + REV, recorded.path());
    assertEquals("/self-serve/try%20%C3%BC%2B1/rev/" + REV, recorded.rawPath());
  }

  @Test
  void pathSegmentsThatAreNotUtf8Are400() {
    HttpResponse<String> response = client.get("/try/rev/%ff%fe");

    assertEquals(400, response.statusCode());
    assertTrue(SimClient.parse(response.body()).get("msg").asText().startsWith("Bad path"));
    assertEquals("/self-serve/try/rev/%ff%fe", sim.requests().get(0).path());
  }

  @Test
  void theLogRecordsEachRequestAsReceived() {
    long buildId = sim.addBuild("try", REV, BUILDER, 2);

    client.getRevision("try", SHORT_REV);
    client.postForm("/try/build", fields("build_id", Long.toString(buildId), "count", "1", "note", "a b&c"));
    client.getRevision("try", "unknown");

    List<RecordedRequest> log = sim.requests();
    assertEquals(3, log.size());
    RecordedRequest get = log.get(0);
    assertEquals("GET", get.method());
    assertEquals("/try/rev/" + SHORT_REV, get.path());
    assertEquals("/self-serve/try/rev/" + SHORT_REV, get.rawPath());
    assertEquals(Map.of("format", "json"), get.query());
    assertEquals(Map.of(), get.form());
    assertEquals("triggerbot", get.authUser());
    assertEquals(200, get.status());
    RecordedRequest post = log.get(1);
    assertEquals("POST", post.method());
    assertEquals("/try/build", post.path());
    assertEquals(Map.of("build_id", Long.toString(buildId), "count", "1", "note", "a b&c"), post.form());
    assertEquals(202, post.status());
    assertEquals(404, log.get(2).status());
    for (int i = 0; i < log.size(); i++) {
      assertNotNull(log.get(i).at());
      if (i > 0) {
        assertFalse(log.get(i).at().isBefore(log.get(i - 1).at()), "in order of arrival");
      }
    }
    assertThrows(UnsupportedOperationException.class, () -> log.add(get));
  }

  @Test
  void stateMethodsValidateTheirArguments() {
    assertThrows(IllegalArgumentException.class, () -> sim.addBuild("try", REV, BUILDER, 7));
    assertThrows(IllegalArgumentException.class, () -> sim.addBuild("try", REV, BUILDER, -1));
    assertThrows(IllegalArgumentException.class, () -> sim.addBuild("try", REV, BUILDER, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> sim.addBuild(" ", REV, BUILDER, 0));
    assertThrows(NullPointerException.class, () -> sim.addPendingRequest("try", null, BUILDER));
    assertThrows(IllegalArgumentException.class, () -> sim.failNext(100, 1));
    assertThrows(IllegalArgumentException.class, () -> sim.failNext(503, -1));
    assertThrows(IllegalArgumentException.class, () -> sim.dropNext(-1));
    assertThrows(IllegalArgumentException.class, () -> sim.setLatency(Duration.ofMillis(-1)));
    assertThrows(IllegalArgumentException.class, () -> sim.setJobLag(Duration.ofMillis(-1)));
  }

  @Test
  void closeStopsListeningAndIsIdempotent() {
    SimClient before = SimClient.of(sim);
    sim.addRevision("try", REV);
    assertEquals(200, before.getRevision("try", REV).statusCode());

    sim.close();
    sim.close();

    assertThrows(java.io.UncheckedIOException.class, () -> before.getRevision("try", REV));
  }

  private static void assertFailed(int status, String msg, HttpResponse<String> response) {
    assertEquals(status, response.statusCode(), response.body());
    JsonNode body = SimClient.parse(response.body());
    assertEquals("FAILED", body.get("status").asText());
    assertEquals(msg, body.get("msg").asText());
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
