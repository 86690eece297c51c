package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.sink.SinkHarness.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.triggerbot.buildapisim.BuildapiSimulator;
import org.triggerbot.buildapisim.SimulatorOptions;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.TriggerCommand;
import org.triggerbot.schemas.TriggerOutcome;
import org.triggerbot.schemas.TriggerResult;
import org.triggerbot.sink.state.EntryState;
import org.triggerbot.sink.state.SinkEntry;

/**
 * The sink between a real Kafka broker and a real HTTP buildapi simulator: each outcome of SPEC section 6 with the
 * POSTs counted, retries, restarts and crashes. Every test has its own simulator, revision, consumer group,
 * transactional id and journal; commands and results of other tests on the shared topics are told apart by
 * command id (another test's command meets an unknown revision here and is never POSTed).
 */
class TriggerSinkIntegrationTest {

  private static SinkHarness kafka;

  private BuildapiSimulator sim;
  private String revision;

  @BeforeAll
  static void startKafka() {
    kafka = SinkHarness.start();
  }

  @AfterAll
  static void stopKafka() throws InterruptedException {
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void startSimulator() {
    sim = BuildapiSimulator.start(SimulatorOptions.defaults());
    revision = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    kafka.stopSinks();
    sim.close();
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  private SinkConfig config(String... extra) {
    return kafka.config(revision, Map.of(SinkConfig.BUILDAPI_URL, sim.baseUrl(), SinkConfig.BUILDAPI_USER,
        "triggerbot", SinkConfig.BUILDAPI_PASSWORD, "sim-password"), extra);
  }

  private TriggerSink start(SinkConfig config) throws InterruptedException {
    return kafka.start(new TriggerSink(config));
  }

  private TriggerCommand command(String builder, int count) throws Exception {
    return command(builder, count, 0);
  }

  private TriggerCommand command(String builder, int count, int priorJobs) throws Exception {
    TriggerCommand c = TriggerCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setBranch("try").setRevision(revision).setBuilder(builder).setCount(count)
        .setReason(DecisionReason.TRIGGER_FAILURE).setRequestedAt(Instant.now()).setPriorJobs(priorJobs)
        .build();
    kafka.send("try/" + revision + "/" + builder, c);
    return c;
  }

  /** Lookups of this test's revision (the sink also looks up other tests' commands: unknown revisions here). */
  private long gets() {
    return mine().stream().filter(r -> r.method().equals("GET")).count();
  }

  private List<BuildapiSimulator.RecordedRequest> mine() {
    return sim.requests().stream().filter(r -> r.rawPath().contains(revision) || r.method().equals("POST")).toList();
  }

  // --- outcomes ----------------------------------------------------------------------------------------------

  @Test
  void rebuildsAFailedBuildOnceAndReportsTheRequestId() throws Exception {
    long buildId = sim.addBuild("try", revision, "Ubuntu VM 12.04 try opt test mochitest-1", 2);
    start(config());
    TriggerCommand c = command("Ubuntu VM 12.04 try opt test mochitest-1", 1);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome());
    assertEquals(202, r.getBuildapiStatus());
    assertNotNull(r.getJobRequestId());
    assertEquals(1, sim.rebuildPosts());
    var post = sim.requests().stream().filter(q -> q.method().equals("POST")).findFirst().orElseThrow();
    assertEquals("/try/build", post.path());
    assertEquals(Map.of("build_id", Long.toString(buildId), "count", "1"), post.form());
    assertEquals("triggerbot", post.authUser(), "Basic auth was sent");
  }

  @Test
  void aPendingRequestIsRebuiltByItsRequestIdWithTheCount() throws Exception {
    long requestId = sim.addPendingRequest("try", revision, "Ubuntu VM 12.04 try opt test reftest");
    start(config());
    TriggerCommand c = command("Ubuntu VM 12.04 try opt test reftest", 1);
    assertEquals(TriggerOutcome.SUBMITTED, kafka.awaitResult(c).getOutcome());
    var post = sim.requests().stream().filter(q -> q.method().equals("POST")).findFirst().orElseThrow();
    assertEquals("/try/request", post.path());
    assertEquals(Long.toString(requestId), post.form().get("request_id"));
  }

  @Test
  void moreJobsThanTheCountMeansAlreadyPresentAndNoPost() throws Exception {
    sim.addBuild("try", revision, "b", 2);
    sim.addBuild("try", revision, "b", 0);
    sim.addBuild("try", revision, "other", 2);
    start(config());
    TriggerResult r = kafka.awaitResult(command("b", 1));
    assertEquals(TriggerOutcome.ALREADY_PRESENT, r.getOutcome());
    assertEquals(0, sim.rebuildPosts());
  }

  @Test
  void aConfirmationRetriggerCountsTheJobsOfEarlierTriggers() throws Exception {
    // The original failed run and the first retrigger's run are listed; the confirmation asks for one more.
    long original = sim.addBuild("try", revision, "b", 2);
    long retriggered = sim.addBuild("try", revision, "b", 2);
    start(config());
    TriggerResult r = kafka.awaitResult(command("b", 1, 1));
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome(), String.valueOf(r.getError()));
    assertEquals(1, sim.rebuildPosts());
    var post = sim.requests().stream().filter(q -> q.method().equals("POST")).findFirst().orElseThrow();
    assertTrue(Set.of(Long.toString(original), Long.toString(retriggered)).contains(post.form().get("build_id")),
        "rebuilt one of b's builds: " + post.form());

    // Once its job is listed too (three jobs of b), the same confirmation is known to have happened.
    sim.addBuild("try", revision, "b", 0);
    TriggerResult again = kafka.awaitResult(command("b", 1, 1));
    assertEquals(TriggerOutcome.ALREADY_PRESENT, again.getOutcome());
    assertTrue(again.getError().contains("plus the 1 of earlier triggers"), again.getError());
    assertEquals(1, sim.rebuildPosts());
  }

  @Test
  void anUnknownRevisionIsLookedUpAgainThenNotFound() throws Exception {
    // Real buildapi also answers 404 for a revision whose jobs are not listed yet: retried like a missing id.
    start(config(SinkConfig.RETRY_MAX + "=2"));
    TriggerResult r = kafka.awaitResult(command("b", 1));
    assertEquals(TriggerOutcome.NOT_FOUND, r.getOutcome());
    assertEquals(404, r.getBuildapiStatus());
    assertTrue(r.getError().contains(revision), r.getError());
    assertEquals(3, gets());
    assertEquals(0, sim.rebuildPosts());
  }

  @Test
  void aRevisionThatAppearsLateIsRebuilt() throws Exception {
    start(config());
    TriggerCommand c = command("b", 1);
    await("a 404 lookup", () -> gets() >= 1);
    sim.addBuild("try", revision, "b", 2);
    assertEquals(TriggerOutcome.SUBMITTED, kafka.awaitResult(c).getOutcome());
    assertEquals(1, sim.rebuildPosts());
  }

  @Test
  void refusedCredentialsAreRejectedAndTheSecretIsNeverLogged() throws Exception {
    String secret = "wrong-" + UUID.randomUUID();
    sim.addBuild("try", revision, "b", 2);
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    TriggerResult r;
    try {
      start(config(SinkConfig.BUILDAPI_PASSWORD + "=" + secret));
      r = kafka.awaitResult(command("b", 1));
    } finally {
      System.setErr(originalErr);
    }
    assertEquals(TriggerOutcome.REJECTED, r.getOutcome());
    assertEquals(401, r.getBuildapiStatus());
    assertEquals(0, sim.rebuildPosts());
    String log = captured.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("REJECTED"), "the outcome is logged:\n" + log);
    assertFalse(log.contains(secret), "no password in the log");
    assertFalse(String.valueOf(r.getError()).contains(secret), "no password in the result");
    assertFalse(config(SinkConfig.BUILDAPI_PASSWORD + "=" + secret).toString().contains(secret));
  }

  @Test
  void dryRunCallsNothing() throws Exception {
    sim.addBuild("try", revision, "b", 2);
    start(config(SinkConfig.DRY_RUN + "=true"));
    assertEquals(TriggerOutcome.DRY_RUN, kafka.awaitResult(command("b", 1)).getOutcome());
    assertEquals(0, sim.requests().size(), "a dry-run sink calls buildapi for no command at all");
  }

  // --- retries -----------------------------------------------------------------------------------------------

  @Test
  void aJobIdThatAppearsAfterTwoRetriesIsRebuiltOnce() throws Exception {
    sim.addBuild("try", revision, "late", 2, 2);
    start(config());
    TriggerResult r = kafka.awaitResult(command("late", 1));
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome());
    assertEquals(4, r.getAttempts(), "three lookups and one POST");
    assertEquals(3, gets());
    assertEquals(1, sim.rebuildPosts());
  }

  @Test
  void noIdAfterTheRetriesIsGaveUpWithTheReason() throws Exception {
    sim.addRevision("try", revision);
    start(config(SinkConfig.RETRY_MAX + "=2"));
    TriggerResult r = kafka.awaitResult(command("never", 1));
    assertEquals(TriggerOutcome.GAVE_UP, r.getOutcome());
    assertTrue(r.getError().contains("no build_id or request_id"), r.getError());
    assertEquals(3, gets(), "the first lookup and two retries");
    assertEquals(0, sim.rebuildPosts());
  }

  @Test
  void aRestartWhileARetryIsPendingStillRetriesOnce() throws Exception {
    sim.addBuild("try", revision, "late", 2, 2);
    SinkConfig config = config(SinkConfig.RETRY_DELAY + "=PT1S");
    TriggerSink first = start(config);
    TriggerCommand c = command("late", 1);
    await("the first lookup", () -> gets() >= 1);
    first.close();
    first.awaitStopped();
    assertTrue(kafka.results(c).isEmpty(), "no result yet: the retry is pending");

    start(config);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome());
    assertEquals(1, sim.rebuildPosts());
    assertEquals(3, gets(), "the retry count survived the restart");
  }

  @Test
  void aCrashAfterThePostAndBeforeTheResultNeverPostsTwice() throws Exception {
    sim.addBuild("try", revision, "b", 2);
    SinkConfig config = config();
    TriggerSink crashing = new TriggerSink(config, new TriggerSink.Hooks() {
      @Override
      public void afterPost(String commandId) {
        throw new IllegalStateException("simulated crash after the POST, before the result is committed");
      }
    });
    kafka.start(crashing);
    TriggerCommand c = command("b", 1);
    await("the POST", () -> sim.rebuildPosts() == 1);
    crashing.awaitStopped();
    assertTrue(kafka.results(c).isEmpty(), "the crash lost the result");

    start(config);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome());
    assertTrue(r.getError().contains("confirmed by lookup"), r.getError());
    assertEquals(1, sim.rebuildPosts(), "exactly one rebuild POST, ever");
  }

  /**
   * The one window the journal cannot close: the POSTING entry committed, the sink died before the request left.
   * buildapi never saw the POST and nothing can tell that apart from a POST not listed yet, so the command ends
   * GAVE_UP after its verifications, saying so: a rebuild lost, never a second one sent.
   */
  @Test
  void aCrashBetweenThePostingCommitAndThePostGivesUpAndNeverPosts() throws Exception {
    sim.addBuild("try", revision, "b", 2);
    SinkConfig config = config(SinkConfig.RETRY_MAX + "=2");
    List<String> posting = new CopyOnWriteArrayList<>();
    TriggerSink crashing = kafka.start(new TriggerSink(config, SinkHarness.crashBeforePost(1, posting)));
    TriggerCommand c = command("b", 1);
    await("the crash before the POST", () -> posting.size() == 1);
    crashing.awaitStopped();
    assertEquals(EntryState.POSTING, kafka.journal(config).get(c.getCommandId()).getState(),
        "committed before the POST");
    assertEquals(1, gets(), "the lookup before the POST");

    start(config);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.GAVE_UP, r.getOutcome());
    assertTrue(r.getError().contains("may have been sent") && r.getError().contains("not sent again"), r.getError());
    assertEquals(0, mine().stream().filter(q -> q.method().equals("POST")).count(), "no POST, ever");
    assertEquals(4, gets(), "the lookup before the crash, then three verifications (sink.retry.max=2)");
  }

  /**
   * Each command's POSTING entry is committed on its own, right before its POST: a crash before the second POST of
   * a batch leaves that one command in doubt; the others of the batch are still PENDING, so they are rebuilt
   * after the restart instead of giving up.
   */
  @Test
  void aCrashInTheMiddleOfABatchLeavesOnlyTheCommandBeingPostedInDoubt() throws Exception {
    List<TriggerCommand> commands = new ArrayList<>();
    for (String builder : List.of("a", "b", "c", "d", "e")) {
      sim.addBuild("try", revision, builder, 2);
    }
    for (String builder : List.of("a", "b", "c", "d", "e")) {
      commands.add(command(builder, 1)); // queued before the sink starts: accepted in one poll
    }
    SinkConfig config = config(SinkConfig.RETRY_MAX + "=2");
    List<String> posting = new CopyOnWriteArrayList<>();
    TriggerSink crashing = kafka.start(new TriggerSink(config, SinkHarness.crashBeforePost(2, posting)));
    await("the crash before the second POST", () -> posting.size() == 2);
    crashing.awaitStopped();
    String inDoubt = posting.get(1);
    Map<String, SinkEntry> journal = kafka.journal(config);
    assertEquals(List.of(inDoubt), commands.stream().map(TriggerCommand::getCommandId)
        .filter(id -> journal.get(id).getState() == EntryState.POSTING).toList(), "one command in doubt, no more");
    assertEquals(1, sim.rebuildPosts(), "the first command's POST, before the crash");

    start(config);
    for (TriggerCommand c : commands) {
      TriggerResult r = kafka.awaitResult(c);
      if (c.getCommandId().equals(inDoubt)) {
        assertEquals(TriggerOutcome.GAVE_UP, r.getOutcome(), r.getError());
      } else {
        assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome(), c.getBuilder() + ": " + r.getError());
      }
    }
    assertEquals(4, sim.rebuildPosts(), "every command but the one in doubt, each once");
    Map<String, Long> postsPerBuild = mine().stream().filter(q -> q.method().equals("POST"))
        .collect(Collectors.groupingBy(q -> q.form().get("build_id"), Collectors.counting()));
    assertTrue(postsPerBuild.values().stream().allMatch(n -> n == 1), "no build rebuilt twice: " + postsPerBuild);
  }

  @Test
  void aStormOf503sIsRiddenOutWithoutBlockingOtherCommands() throws Exception {
    sim.addBuild("try", revision, "a", 2);
    sim.addBuild("try", revision, "b", 2);
    sim.failNext(503, 5);
    start(config());
    TriggerCommand a = command("a", 1);
    TriggerCommand b = command("b", 1);
    assertEquals(TriggerOutcome.SUBMITTED, kafka.awaitResult(a).getOutcome());
    assertEquals(TriggerOutcome.SUBMITTED, kafka.awaitResult(b).getOutcome());
    assertEquals(2, sim.rebuildPosts());
    assertEquals(5, sim.requests().stream().filter(q -> q.status() == 503).count());
  }

  @Test
  void anEndless503StormEndsInGaveUpSayingWhy() throws Exception {
    sim.addBuild("try", revision, "a", 2);
    sim.failNext(503, 1000);
    start(config(SinkConfig.TRANSIENT_MAX + "=4"));
    TriggerResult r = kafka.awaitResult(command("a", 1));
    assertEquals(TriggerOutcome.GAVE_UP, r.getOutcome());
    assertEquals(503, r.getBuildapiStatus());
    assertTrue(r.getError().contains("4 times") && r.getError().contains("503"), r.getError());
    assertEquals(0, sim.rebuildPosts());
  }

  @Test
  void slowResponsesTimeOutAndAreRetried() throws Exception {
    sim.addBuild("try", revision, "a", 2);
    sim.setLatency(Duration.ofMillis(1500));
    start(config(SinkConfig.BUILDAPI_TIMEOUT + "=PT0.3S"));
    TriggerCommand c = command("a", 1);
    await("a timed-out lookup", () -> gets() >= 1);
    sim.setLatency(Duration.ZERO);
    TriggerResult r = kafka.awaitResult(c);
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome());
    assertTrue(r.getAttempts() >= 3, "at least one timed-out lookup, one good lookup, one POST: " + r.getAttempts());
    assertEquals(1, sim.rebuildPosts());
  }

  // --- names, caps -------------------------------------------------------------------------------------------

  @Test
  void builderNamesWithSlashesQuestionMarksHashesSpacesAndNonAsciiMatchExactly() throws Exception {
    String builder = "Linux x86/64 try? opt #1 test mochitest-ü 测试";
    long buildId = sim.addBuild("try", revision, builder, 2);
    sim.addBuild("try", revision, "Linux x86/64 try? opt #1 test mochitest-u", 2);
    start(config());
    TriggerResult r = kafka.awaitResult(command(builder, 1));
    assertEquals(TriggerOutcome.SUBMITTED, r.getOutcome());
    assertEquals(Long.toString(buildId), sim.requests().stream().filter(q -> q.method().equals("POST"))
        .findFirst().orElseThrow().form().get("build_id"));
  }

  @Test
  void theHourlyPostCapHoldsCommandsBackWithoutDroppingThem() throws Exception {
    sim.addBuild("try", revision, "a", 2);
    sim.addBuild("try", revision, "b", 2);
    TriggerSink sink = start(config(SinkConfig.MAX_POSTS_PER_HOUR + "=1"));
    TriggerCommand a = command("a", 1);
    TriggerCommand b = command("b", 1);
    await("one command done", () -> !kafka.results(a).isEmpty() || !kafka.results(b).isEmpty());
    await("the other one looked up and held", () -> sink.pending() == 1 && gets() >= 2);
    assertEquals(1, sim.rebuildPosts());
    assertTrue(kafka.results(a).isEmpty() || kafka.results(b).isEmpty(), "the second waits for the cap");
  }

  @Test
  void anInvalidRevisionIsRejectedWithoutCallingBuildapi() throws Exception {
    revision = "NOT-A-REVISION";
    start(config());
    TriggerResult r = kafka.awaitResult(command("a", 1));
    assertEquals(TriggerOutcome.REJECTED, r.getOutcome());
    assertNull(r.getBuildapiStatus(), "buildapi never answered");
    assertTrue(r.getError().contains("not sent"), r.getError());
    assertTrue(sim.requests().stream().noneMatch(q -> q.rawPath().contains("NOT-A-REVISION")), "nothing was sent");
  }
}
