package org.triggerbot.processor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.DecisionReason;

/** SPEC section 4 on the pure {@link Policy}: no Kafka, an in-memory global window, hand-made state. */
class PolicyTest {

  private static final long T0 = Instant.parse("2015-06-01T10:00:00Z").toEpochMilli();
  private static final long MINUTE = 60_000L;
  private static final long HOUR = 60 * MINUTE;
  private static final String WHO = "dev@example.com";
  private static final String TRY = "try: -b o -p linux -u all -t none";

  // --- fixtures ----------------------------------------------------------------------------------------------

  /**
   * The policy of these tests: trigger-bot 2015's single retrigger ({@code confirm.failures=2
   * confirm.max.retriggers=1}, under which SPEC rule 4b never applies) plus {@code keyValues}. Every test here
   * predates confirmation retriggers and must decide exactly as before under it; {@link ConfirmationTest} covers
   * rule 4b and the verdicts under the defaults.
   */
  private static PolicySettings settings(String... keyValues) {
    List<String> all = new ArrayList<>(LEGACY);
    all.addAll(List.of(keyValues));
    return PolicyConfig.fromAssignments(all);
  }

  /** trigger-bot 2015's confirmation settings. */
  static final List<String> LEGACY = List.of("confirm.failures=2", "confirm.max.retriggers=1");

  /** A {@link GlobalWindow} in a map, with exactly the interface's semantics. */
  static final class MemoryWindow implements GlobalWindow {
    record Entry(TriggerKind kind, long eventTime, int jobs) {}

    final Map<String, Entry> entries = new LinkedHashMap<>();

    @Override
    public long jobs(TriggerKind kind, long fromExclusive, long toInclusive) {
      return entries.values().stream()
          .filter(e -> e.kind() == kind && e.eventTime() > fromExclusive && e.eventTime() <= toInclusive)
          .mapToLong(Entry::jobs).sum();
    }

    @Override
    public void record(TriggerKind kind, long eventTime, String id, int jobs) {
      Entry previous = entries.put(id, new Entry(kind, eventTime, jobs));
      assertNull(previous, "decision ids are unique");
    }

    long total(TriggerKind kind) {
      return jobs(kind, Long.MIN_VALUE, Long.MAX_VALUE);
    }
  }

  /** One job of a push: a builder name, whether it is a test job, and what its next message carries. */
  private static final class Job {
    private final String builder;
    private final boolean testJob;
    private long number;
    private long time = T0;
    private String comments = TRY;
    private String who = WHO;

    private Job(String builder, boolean testJob) {
      this.builder = builder;
      this.testJob = testJob;
    }

    static Job test(String suite) {
      return new Job("Ubuntu VM 12.04 try opt test " + suite, true);
    }

    static Job talos(String suite) {
      return new Job("Ubuntu HW 12.04 try talos " + suite, true);
    }

    static Job build(String platform) {
      return new Job("Linux x86-64 try build " + platform, false);
    }

    static Job named(String builder) {
      return new Job(builder, true);
    }

    Job n(long buildNumber) {
      this.number = buildNumber;
      return this;
    }

    Job atMillis(long t) {
      this.time = t;
      return this;
    }

    Job atMinutes(long m) {
      return atMillis(T0 + m * MINUTE);
    }

    Job comments(String c) {
      this.comments = c;
      return this;
    }

    Job who(String w) {
      this.who = w;
      return this;
    }

    PushEvent started() {
      return event(EventKind.STARTED, null);
    }

    PushEvent finished(Integer result) {
      return event(EventKind.FINISHED, result);
    }

    private PushEvent event(EventKind kind, Integer result) {
      String dir = builder.replace(' ', '_');
      return PushEvent.newBuilder()
          .setBranch("try")
          .setRevision("abcdef012345")
          .setBuilder(builder)
          .setRoutingKey("build." + dir + "." + number + "." + kind.name().toLowerCase(Locale.ROOT))
          .setBuildNumber(number)
          .setEvent(kind)
          .setResult(result)
          .setTestJob(testJob)
          .setComments(comments)
          .setWho(who)
          .setEventTime(time)
          .build();
    }
  }

  /** Follows the caller contract of {@link Policy}: expiry first, then apply (all messages here are distinct). */
  private static final class PushRun {
    final Policy policy;
    final MemoryWindow window;
    PushState push;
    final Map<String, BuilderState> builders = new HashMap<>();
    private static int runs;
    private final String idPrefix = "run" + runs++ + "-d";
    private int seq;

    PushRun(PolicySettings settings) {
      this(settings, new MemoryWindow());
    }

    PushRun(PolicySettings settings, MemoryWindow window) {
      this.policy = new Policy(settings);
      this.window = window;
    }

    Decision apply(PushEvent e) {
      if (push == null || policy.expired(push, e.getEventTime())) {
        push = Policy.newPush(e.getEventTime());
        builders.clear();
      }
      Policy.Applied applied = policy.apply(push, builders.get(e.getBuilder()), e, window, idPrefix + seq++);
      assertNotNull(applied.builder());
      builders.put(e.getBuilder(), applied.builder());
      return applied.decision();
    }

    BuilderState builder(Job job) {
      return builders.get(job.builder);
    }
  }

  // --- J: builders seen on the push --------------------------------------------------------------------------

  @Test
  void jCountsDistinctBuildersOfAnyKindIncludingTheCurrentOne() {
    PushRun run = new PushRun(settings());
    assertNull(run.apply(Job.build("linux64").started()));
    assertNull(run.apply(Job.build("linux64").finished(2)), "build jobs are never evaluated, even when red");
    assertEquals(1, run.push.getBuildersSeen());
    assertNull(run.apply(Job.test("a").started()));
    assertNull(run.apply(Job.test("a").finished(0)));
    assertEquals(2, run.push.getBuildersSeen());

    Decision d = run.apply(Job.test("b").finished(2));
    assertEquals(3, d.jobsOnPush(), "the build builder, a, and the current builder b");
    assertEquals(DecisionReason.TRIGGER_FAILURE, d.reason());

    Decision again = run.apply(Job.test("b").n(1).finished(2));
    assertEquals(3, again.jobsOnPush(), "another run of a seen builder does not add to J");
    assertEquals(DecisionReason.SKIP_ALREADY_TRIGGERED, again.reason());
  }

  @Test
  void theFirstMessageOfAPushCountsItsOwnBuilder() {
    PushRun run = new PushRun(settings());
    Decision d = run.apply(Job.test("a").finished(1));
    assertEquals(1, d.jobsOnPush());
    assertEquals(0, d.failuresOnPush());
  }

  @Test
  void buildersAreIdentifiedByNameNotByRun() {
    PushRun run = new PushRun(settings());
    for (int n = 0; n < 4; n++) {
      run.apply(Job.test("a").n(n).started());
      run.apply(Job.test("a").n(n).finished(0));
    }
    assertEquals(1, run.push.getBuildersSeen());
    assertEquals(Map.of("0", 0, "1", 0, "2", 0, "3", 0), run.builder(Job.test("a")).getRuns());
  }

  // --- try line and pusher, read before the message is evaluated ---------------------------------------------

  @Test
  void theTryLineOfTheEvaluatedMessageItselfApplies() {
    PushRun run = new PushRun(settings());
    Decision d = run.apply(Job.test("a").comments("try: -b o -p all --no-retry").finished(2));
    assertEquals(DecisionReason.SKIP_NO_RETRY, d.reason(), "not SKIP_NO_TRY_SYNTAX: the line is read first");
  }

  @Test
  void theRequestedCountOfTheFirstMessageItselfApplies() {
    PushRun run = new PushRun(settings());
    Decision d = run.apply(Job.test("a").comments("try: --rebuild 3").started());
    assertEquals(DecisionReason.TRIGGER_REQUESTED, d.reason());
    assertEquals(3, d.count());
  }

  @Test
  void thePusherOfTheEvaluatedMessageItselfApplies() {
    PushRun ignoring = new PushRun(settings("ignore.users=" + WHO));
    assertEquals(DecisionReason.SKIP_IGNORED_USER, ignoring.apply(Job.test("a").finished(2)).reason());

    PushRun realFor = new PushRun(settings("trigger.users=" + WHO));
    assertEquals(DecisionReason.TRIGGER_FAILURE, realFor.apply(Job.test("a").finished(2)).reason());
  }

  @Test
  void tryOptionsAreReadOnceFromTheFirstMessageWithATryLineEvenABuildJob() {
    PushRun run = new PushRun(settings());
    run.apply(Job.build("linux64").comments("Bug 1 - no try line").started());
    assertFalse(run.push.getTryLineSeen());
    run.apply(Job.build("win32").comments("try: -b o --rebuild 2").started());
    assertTrue(run.push.getTryLineSeen());
    Decision d = run.apply(Job.test("a").comments("try: --rebuild 9 --no-retry").started());
    assertEquals(2, d.count(), "the later try line is not read");
    assertFalse(run.push.getNoRetry());
  }

  @Test
  void aTryLineWithoutOptionsStillCountsAsSeen() {
    PushRun run = new PushRun(settings());
    run.apply(Job.test("x").comments("try: -b o -p all").started());
    Decision d = run.apply(Job.test("a").comments("try: --no-retry").finished(2));
    assertEquals(DecisionReason.TRIGGER_FAILURE, d.reason(),
        "options were read from the first try line, which had none");
  }

  @Test
  void thePusherIsTheWhoOfTheFirstMessageThatCarriesOne() {
    PushRun run = new PushRun(settings("ignore.users=second@example.com"));
    run.apply(Job.test("x").who(null).started());
    assertNull(run.push.getPusher());
    run.apply(Job.test("y").who("first@example.com").started());
    Decision d = run.apply(Job.test("a").who("second@example.com").finished(2));
    assertEquals("first@example.com", run.push.getPusher());
    assertEquals(DecisionReason.TRIGGER_FAILURE, d.reason(), "the later who is not the pusher");
  }

  // --- which events are evaluated ----------------------------------------------------------------------------

  @ParameterizedTest(name = "result {0}")
  @ValueSource(ints = {0, 3, 4, 5, 6, 7, -1})
  void onlyResultsOneAndTwoAreEvaluated(int result) {
    PushRun run = new PushRun(settings());
    assertNull(run.apply(Job.test("a").finished(result)));
    assertFalse(run.builder(Job.test("a")).getTriggered());
  }

  @Test
  void aFinishedWithoutResultIsNotEvaluated() {
    PushRun run = new PushRun(settings());
    assertNull(run.apply(Job.test("a").finished(null)));
  }

  @Test
  void requestedTriggersAreEvaluatedOnTheFirstStartOnly() {
    PushRun run = new PushRun(settings());
    Job a = Job.test("a").comments("try: --rebuild 2");
    Decision first = run.apply(a.n(0).started());
    assertEquals(DecisionReason.TRIGGER_REQUESTED, first.reason());
    assertEquals(2, first.count());
    assertNull(run.apply(a.n(1).started()), "the requested runs themselves are not evaluated");
    assertNull(run.apply(a.n(2).started()));
    assertEquals(2, run.builder(a).getJobsIssued());
  }

  @Test
  void aRefusedFirstStartIsNotEvaluatedAgainOnLaterStarts() {
    PushRun run = new PushRun(settings("global.max.requested.triggers.per.hour=1"));
    Job a = Job.test("a").comments("try: --rebuild 2");
    assertEquals(DecisionReason.SKIP_GLOBAL_LIMIT, run.apply(a.n(0).started()).reason());
    assertNull(run.apply(a.n(1).started()));
    assertFalse(run.builder(a).getTriggered());
  }

  @Test
  void startsAreNotEvaluatedWithoutARequestedCount() {
    PushRun run = new PushRun(settings());
    assertNull(run.apply(Job.test("a").comments("try: --rebuild 0 --no-retry").started()));
    assertNull(run.apply(Job.test("b").comments("no try line at all").started()));
  }

  @Test
  void buildJobsAreNeverEvaluatedEvenWithARequestedCount() {
    PushRun run = new PushRun(settings());
    assertNull(run.apply(Job.build("linux64").comments("try: --rebuild 5").started()));
    assertNull(run.apply(Job.build("linux64").n(1).finished(2)));
    assertFalse(run.builder(Job.build("linux64")).getTriggered());
  }

  @Test
  void rebuildTalosAppliesToBuildersWhoseNameContainsLowercaseTalos() {
    PushRun run = new PushRun(settings());
    String comments = "try: --rebuild 2 --rebuild-talos 4";
    assertEquals(4, run.apply(Job.talos("tp5o").comments(comments).started()).count());
    assertEquals(2, run.apply(Job.test("mochitest-1").comments(comments).started()).count());
    assertEquals(2, run.apply(Job.named("Rev3 Fedora 12 try Talos dromaeojs").comments(comments).started()).count(),
        "'talos' is a case-sensitive substring");
  }

  @Test
  void rebuildTalosZeroFallsBackToRebuild() {
    PushRun run = new PushRun(settings());
    assertEquals(3, run.apply(Job.talos("tp5o").comments("try: --rebuild 3 --rebuild-talos 0").started()).count());
  }

  @Test
  void rebuildTalosAloneDoesNotRequestNonTalosBuildersNorBlockFailures() {
    PushRun run = new PushRun(settings());
    String comments = "try: --rebuild-talos 4";
    assertNull(run.apply(Job.test("mochitest-1").comments(comments).started()));
    Decision d = run.apply(Job.test("mochitest-1").comments(comments).finished(2));
    assertEquals(DecisionReason.TRIGGER_FAILURE, d.reason());
  }

  @Test
  void noRetryAndThePushBudgetDoNotApplyToRequestedTriggers() {
    PushRun run = new PushRun(settings("budget.floor=0", "budget.ratio=0"));
    run.apply(Job.build("linux64").comments("try: --no-retry --rebuild 2").started());
    run.push.setFailureTriggered(50);
    Decision d = run.apply(Job.test("a").started());
    assertEquals(DecisionReason.TRIGGER_REQUESTED, d.reason());
    assertEquals(50, run.push.getFailureTriggered(), "a requested trigger does not count toward f");
  }

  // --- push budget (rule 5), exactly ------------------------------------------------------------------------

  /** Evaluates a failure of a new builder on a push that has f failure-retriggered builders and J-1 others. */
  private static Decision failureAt(PolicySettings s, int f, int j) {
    PushState push = Policy.newPush(T0);
    push.setTryLineSeen(true);
    push.setBuildersSeen(j - 1);
    push.setFailureTriggered(f);
    return new Policy(s).apply(push, null, Job.test("new").finished(2), new MemoryWindow(), "d").decision();
  }

  private static int expectedLimit(int floor, BigDecimal ratio, int j) {
    int byRatio = BigDecimal.valueOf(j).multiply(ratio).setScale(0, RoundingMode.FLOOR).intValueExact() + 1;
    return Math.max(floor, byRatio);
  }

  @ParameterizedTest(name = "floor {0}, ratio {1}, J {2}, f {3}: refused {4}")
  @CsvSource({
      // defaults: floor 5, ratio 0.03
      "5, 0.03, 1, 4, false",
      "5, 0.03, 1, 5, true",
      "5, 0.03, 166, 5, true",     // J*r = 4.98
      "5, 0.03, 167, 5, false",    // J*r = 5.01
      "5, 0.03, 167, 6, true",
      "5, 0.03, 200, 6, false",    // J*r = 6.00 exactly: 6 > 6 is false
      "5, 0.03, 200, 7, true",
      // below the floor is always allowed, whatever the ratio says
      "5, 0, 1000, 4, false",
      // at or above the floor, the ratio still allows up to J*r
      "3, 0.5, 8, 3, false",
      "3, 0.5, 8, 4, false",       // 4 > 4 is false
      "3, 0.5, 8, 5, true",
      // exact decimal where binary floating point would be wrong
      "0, 0.57, 100, 57, false",   // 0.57*100 = 56.99999999999999 in double
      "0, 0.57, 100, 58, true",
      "0, 0.29, 100, 29, false",
      "0, 0.333333333333333333333, 3, 1, true",  // J*r = 0.999...; in double 0.3333333333333333*3 = 1.0
      "0, 0.333333333333333333333, 3, 0, false",
      // floor 0, ratio 0: the first failure retrigger is allowed (0 > 0 is false), the second is not
      "0, 0, 1000, 0, false",
      "0, 0, 1000, 1, true",
      "10, 1, 10, 10, false",
      "10, 1, 10, 11, true",
      "10, 1, 3, 10, true"})
  void pushBudgetFormula(int floor, String ratio, int j, int f, boolean refused) {
    Decision d = failureAt(settings("budget.floor=" + floor, "budget.ratio=" + ratio), f, j);
    assertEquals(refused ? DecisionReason.SKIP_PUSH_BUDGET : DecisionReason.TRIGGER_FAILURE, d.reason());
    assertEquals(f, d.failuresOnPush());
    assertEquals(j, d.jobsOnPush());
    assertEquals(expectedLimit(floor, new BigDecimal(ratio), j), d.budgetLimit());
  }

  static Stream<Arguments> budgetPolicies() {
    return Stream.of(Arguments.of(5, "0.03"), Arguments.of(0, "0.29"), Arguments.of(3, "0.5"), Arguments.of(0, "0"),
        Arguments.of(2, "1.5"), Arguments.of(1, "0.0303"), Arguments.of(7, "0.1"));
  }

  @ParameterizedTest(name = "floor {0}, ratio {1}")
  @MethodSource("budgetPolicies")
  void budgetLimitIsTheNumberOfBuildersThePushMayFailureRetrigger(int floor, String ratio) {
    PolicySettings s = settings("budget.floor=" + floor, "budget.ratio=" + ratio);
    BigDecimal r = new BigDecimal(ratio);
    for (int j = 1; j <= 120; j++) {
      int limit = -1;
      for (int f = 0; f <= 40; f++) {
        boolean refused = f >= floor && BigDecimal.valueOf(f).compareTo(BigDecimal.valueOf(j).multiply(r)) > 0;
        Decision d = failureAt(s, f, j);
        assertEquals(refused ? DecisionReason.SKIP_PUSH_BUDGET : DecisionReason.TRIGGER_FAILURE, d.reason(),
            "J=" + j + " f=" + f);
        assertEquals(f >= d.budgetLimit(), refused, "budgetLimit " + d.budgetLimit() + " at J=" + j + " f=" + f);
        limit = d.budgetLimit();
      }
      assertEquals(expectedLimit(floor, r, j), limit, "J=" + j);
    }
  }

  @Test
  void fCountsBuildersNotJobs() {
    // retry.count 3 and floor 2: two builders may be failure-retriggered (6 jobs), the third is refused.
    PushRun run = new PushRun(settings("retry.count=3", "budget.floor=2", "budget.ratio=0"));
    List<DecisionReason> reasons = new ArrayList<>();
    for (String suite : List.of("a", "b", "c")) {
      reasons.add(run.apply(Job.test(suite).finished(2)).reason());
    }
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.TRIGGER_FAILURE,
        DecisionReason.SKIP_PUSH_BUDGET), reasons);
    assertEquals(2, run.push.getFailureTriggered());
    assertEquals(6, run.window.total(TriggerKind.FAILURE));
  }

  // --- precedence: the first rule that applies gives the reason ----------------------------------------------

  /** Each condition makes one rule of the table apply; {@link #reason} is the reason it gives. */
  enum FailureRule {
    IGNORED_USER(DecisionReason.SKIP_IGNORED_USER),
    NO_TRY_SYNTAX(DecisionReason.SKIP_NO_TRY_SYNTAX),
    NO_RETRY(DecisionReason.SKIP_NO_RETRY),
    REQUESTED_PUSH(DecisionReason.SKIP_REQUESTED_PUSH),
    ALREADY_TRIGGERED(DecisionReason.SKIP_ALREADY_TRIGGERED),
    DENIED_BUILDER(DecisionReason.SKIP_DENIED_BUILDER),
    HIDDEN_BUILDER(DecisionReason.SKIP_HIDDEN_BUILDER),
    PUSH_BUDGET(DecisionReason.SKIP_PUSH_BUDGET),
    DISABLED(DecisionReason.SKIP_DISABLED),
    GLOBAL_LIMIT(DecisionReason.SKIP_GLOBAL_LIMIT),
    DRY_RUN(DecisionReason.DRY_RUN);

    final DecisionReason reason;

    FailureRule(DecisionReason reason) {
      this.reason = reason;
    }
  }

  private static final String BUILDER = "Ubuntu VM 12.04 try opt test mochitest-1";

  /** The state of one evaluation where exactly the rules in {@code on} apply. */
  private static final class Setup {
    final PolicySettings settings;
    final PushState push;
    final BuilderState builder;
    final PushEvent event;
    final MemoryWindow window = new MemoryWindow();

    Setup(Set<FailureRule> on, boolean requested) {
      List<String> kv = new ArrayList<>();
      kv.add("retry.count=3");
      if (on.contains(FailureRule.IGNORED_USER)) {
        kv.add("ignore.users=" + WHO);
      }
      if (on.contains(FailureRule.DENIED_BUILDER)) {
        kv.add("builders.deny=mochitest-[0-9]");
      }
      if (on.contains(FailureRule.HIDDEN_BUILDER)) {
        kv.add("builders.hidden=" + BUILDER);
      }
      if (on.contains(FailureRule.DISABLED)) {
        kv.add("triggering.enabled=false");
      }
      if (on.contains(FailureRule.GLOBAL_LIMIT)) {
        kv.add("global.max.failure.triggers.per.hour=2");
        kv.add("global.max.requested.triggers.per.hour=2");
      }
      if (on.contains(FailureRule.DRY_RUN)) {
        kv.add("dry.run=true");
      }
      settings = settings(kv.toArray(String[]::new));

      String comments;
      if (requested) {
        comments = "try: --rebuild 4";
      } else if (on.contains(FailureRule.NO_TRY_SYNTAX)) {
        comments = "Bug 1 - no try line";
      } else {
        comments = "try: -b o" + (on.contains(FailureRule.NO_RETRY) ? " --no-retry" : "")
            + (on.contains(FailureRule.REQUESTED_PUSH) ? " --rebuild 2" : "");
      }

      push = Policy.newPush(T0);
      push.setBuildersSeen(3);
      if (on.contains(FailureRule.PUSH_BUDGET)) {
        push.setFailureTriggered(5); // default floor 5, ratio 0.03: 5 > 4 * 0.03
      }
      if (on.contains(FailureRule.ALREADY_TRIGGERED)) {
        builder = BuilderState.newBuilder().setTestJob(true).setTriggered(true).setJobsIssued(1)
            .setFailureTriggers(1).setRuns(new HashMap<>()).setDecisions(new ArrayList<>()).build();
      } else {
        builder = null;
      }
      Job job = Job.named(BUILDER).comments(comments).n(7);
      event = requested ? job.started() : job.finished(2);
    }

    Policy.Applied apply() {
      return new Policy(settings).apply(push, builder, event, window, "decision-1");
    }
  }

  static Stream<Arguments> failureRulePairs() {
    List<Arguments> pairs = new ArrayList<>();
    FailureRule[] rules = FailureRule.values();
    for (int i = 0; i < rules.length; i++) {
      for (int k = i + 1; k < rules.length; k++) {
        boolean contradictory = rules[i] == FailureRule.NO_TRY_SYNTAX
            && (rules[k] == FailureRule.NO_RETRY || rules[k] == FailureRule.REQUESTED_PUSH);
        if (!contradictory) {
          pairs.add(Arguments.of(rules[i], rules[k]));
        }
      }
    }
    return pairs.stream();
  }

  @ParameterizedTest(name = "{0} alone")
  @EnumSource(FailureRule.class)
  void eachFailureRuleAloneGivesItsReason(FailureRule rule) {
    Decision d = new Setup(EnumSet.of(rule), false).apply().decision();
    assertEquals(rule.reason, d.reason());
    assertEquals(3, d.count(), "the would-be count, also for a skip");
    assertEquals(TriggerKind.FAILURE, d.kind());
  }

  @Test
  void noRuleAppliesGivesTriggerFailure() {
    Decision d = new Setup(EnumSet.noneOf(FailureRule.class), false).apply().decision();
    assertEquals(DecisionReason.TRIGGER_FAILURE, d.reason());
  }

  @ParameterizedTest(name = "{0} beats {1}")
  @MethodSource("failureRulePairs")
  void theEarlierRuleOfEveryPairWins(FailureRule earlier, FailureRule later) {
    assertEquals(earlier.reason, new Setup(EnumSet.of(earlier, later), false).apply().decision().reason());
  }

  @ParameterizedTest(name = "{0} with every later rule")
  @EnumSource(FailureRule.class)
  void theEarliestApplicableRuleWinsOverAllLaterOnes(FailureRule first) {
    EnumSet<FailureRule> on = EnumSet.range(first, FailureRule.DRY_RUN);
    if (first == FailureRule.NO_TRY_SYNTAX) {
      on.remove(FailureRule.NO_RETRY);
      on.remove(FailureRule.REQUESTED_PUSH);
    }
    assertEquals(first.reason, new Setup(on, false).apply().decision().reason());
  }

  @Test
  void pushBudgetBeatsDisabled() {
    Decision d = new Setup(EnumSet.of(FailureRule.PUSH_BUDGET, FailureRule.DISABLED), false).apply().decision();
    assertEquals(DecisionReason.SKIP_PUSH_BUDGET, d.reason());
    assertEquals(5, d.failuresOnPush());
  }

  @Test
  void disabledBeatsGlobalLimitAndGlobalLimitBeatsDryRun() {
    assertEquals(DecisionReason.SKIP_DISABLED,
        new Setup(EnumSet.of(FailureRule.DISABLED, FailureRule.GLOBAL_LIMIT), false).apply().decision().reason());
    assertEquals(DecisionReason.SKIP_GLOBAL_LIMIT,
        new Setup(EnumSet.of(FailureRule.GLOBAL_LIMIT, FailureRule.DRY_RUN), false).apply().decision().reason());
  }

  static Stream<FailureRule> requestedRules() {
    // NO_TRY_SYNTAX, NO_RETRY, REQUESTED_PUSH and PUSH_BUDGET concern failures (or have no count) only.
    return Stream.of(FailureRule.IGNORED_USER, FailureRule.ALREADY_TRIGGERED, FailureRule.DENIED_BUILDER,
        FailureRule.HIDDEN_BUILDER, FailureRule.DISABLED, FailureRule.GLOBAL_LIMIT, FailureRule.DRY_RUN);
  }

  @ParameterizedTest(name = "requested, {0} with every later rule")
  @MethodSource("requestedRules")
  void requestedTriggersFollowTheSameOrder(FailureRule first) {
    EnumSet<FailureRule> on = EnumSet.range(first, FailureRule.DRY_RUN);
    on.retainAll(requestedRules().toList());
    Decision d = new Setup(on, true).apply().decision();
    assertEquals(first.reason, d.reason());
    assertEquals(4, d.count());
    assertEquals(TriggerKind.REQUESTED, d.kind());
  }

  @Test
  void failureOnlyRulesDoNotRefuseRequestedTriggers() {
    Setup s = new Setup(EnumSet.of(FailureRule.PUSH_BUDGET), true);
    assertEquals(DecisionReason.TRIGGER_REQUESTED, s.apply().decision().reason());
  }

  // --- what a decision changes -------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0} changes nothing")
  @EnumSource(value = FailureRule.class, names = {"DRY_RUN"}, mode = EnumSource.Mode.EXCLUDE)
  void refusedFailureDecisionsChangeNothing(FailureRule rule) {
    Setup s = new Setup(EnumSet.of(rule), false);
    boolean wasTriggered = s.builder != null && s.builder.getTriggered();
    int jobsBefore = s.builder == null ? 0 : s.builder.getJobsIssued();
    int fBefore = s.push.getFailureTriggered();
    Policy.Applied applied = s.apply();
    assertEquals(rule.reason, applied.decision().reason());
    assertEquals(wasTriggered, applied.builder().getTriggered());
    assertEquals(jobsBefore, applied.builder().getJobsIssued());
    assertEquals(fBefore, s.push.getFailureTriggered());
    assertEquals(Map.of(), s.window.entries);
  }

  @ParameterizedTest(name = "requested {0} changes nothing")
  @EnumSource(value = FailureRule.class, names = {"IGNORED_USER", "DENIED_BUILDER", "HIDDEN_BUILDER", "DISABLED",
      "GLOBAL_LIMIT"})
  void refusedRequestedDecisionsChangeNothing(FailureRule rule) {
    Setup s = new Setup(EnumSet.of(rule), true);
    Policy.Applied applied = s.apply();
    assertEquals(rule.reason, applied.decision().reason());
    assertFalse(applied.builder().getTriggered());
    assertEquals(0, applied.builder().getJobsIssued());
    assertEquals(0, s.push.getFailureTriggered());
    assertEquals(Map.of(), s.window.entries);
  }

  @Test
  void triggerFailureMarksTheBuilderCountsFIssuesJobsAndFillsTheWindow() {
    PushRun run = new PushRun(settings("retry.count=3"));
    Decision d = run.apply(Job.test("a").atMinutes(5).finished(2));
    assertEquals(DecisionReason.TRIGGER_FAILURE, d.reason());
    assertEquals(3, d.count());
    assertTrue(d.counts());
    assertTrue(d.issuesJobs());
    BuilderState b = run.builder(Job.test("a"));
    assertTrue(b.getTriggered());
    assertEquals(3, b.getJobsIssued());
    assertEquals(1, run.push.getFailureTriggered());
    assertEquals(List.of(new MemoryWindow.Entry(TriggerKind.FAILURE, T0 + 5 * MINUTE, 3)),
        List.copyOf(run.window.entries.values()));
  }

  @Test
  void triggerRequestedMarksTheBuilderIssuesJobsAndFillsTheWindowButNotF() {
    PushRun run = new PushRun(settings());
    Decision d = run.apply(Job.test("a").comments("try: --rebuild 4").started());
    assertEquals(DecisionReason.TRIGGER_REQUESTED, d.reason());
    BuilderState b = run.builder(Job.test("a"));
    assertTrue(b.getTriggered());
    assertEquals(4, b.getJobsIssued());
    assertEquals(0, run.push.getFailureTriggered());
    assertEquals(4, run.window.total(TriggerKind.REQUESTED));
    assertEquals(0, run.window.total(TriggerKind.FAILURE));
  }

  @Test
  void dryRunCountsTowardFAndTheWindowButIssuesNoJobs() {
    PushRun run = new PushRun(settings("dry.run=true", "retry.count=2"));
    Decision d = run.apply(Job.test("a").finished(2));
    assertEquals(DecisionReason.DRY_RUN, d.reason());
    assertTrue(d.counts());
    assertFalse(d.issuesJobs());
    BuilderState b = run.builder(Job.test("a"));
    assertTrue(b.getTriggered());
    assertEquals(0, b.getJobsIssued(), "jobsIssued counts TRIGGER_* jobs only");
    assertEquals(1, run.push.getFailureTriggered());
    assertEquals(2, run.window.total(TriggerKind.FAILURE));
    assertEquals(DecisionReason.SKIP_ALREADY_TRIGGERED, run.apply(Job.test("a").n(1).finished(2)).reason());
  }

  @Test
  void requestedDryRunFillsTheRequestedWindowButIssuesNoJobs() {
    PushRun run = new PushRun(settings("trigger.users=sheriff@example.com"));
    Decision d = run.apply(Job.test("a").comments("try: --rebuild 5").started());
    assertEquals(DecisionReason.DRY_RUN, d.reason());
    assertEquals(0, run.builder(Job.test("a")).getJobsIssued());
    assertEquals(5, run.window.total(TriggerKind.REQUESTED));
    assertEquals(0, run.push.getFailureTriggered());
  }

  @Test
  void dryRunsExhaustTheGlobalLimitLikeTriggers() {
    MemoryWindow window = new MemoryWindow();
    PolicySettings s = settings("dry.run=true", "global.max.failure.triggers.per.hour=1");
    new PushRun(s, window).apply(Job.test("a").finished(2));
    Decision other = new PushRun(s, window).apply(Job.test("b").atMinutes(1).finished(2));
    assertEquals(DecisionReason.SKIP_GLOBAL_LIMIT, other.reason());
  }

  @Test
  void dryRunsExhaustThePushBudgetLikeTriggers() {
    PushRun run = new PushRun(settings("dry.run=true", "budget.floor=2", "budget.ratio=0"));
    run.apply(Job.test("a").finished(2));
    run.apply(Job.test("b").finished(2));
    Decision d = run.apply(Job.test("c").finished(2));
    assertEquals(DecisionReason.SKIP_PUSH_BUDGET, d.reason());
    assertEquals(2, d.failuresOnPush());
  }

  @Test
  void pushersOutsideTriggerUsersGetDryRunsAndAMissingPusherIsOutside() {
    PolicySettings s = settings("trigger.users=sheriff@example.com, dev@example.com");
    assertEquals(DecisionReason.TRIGGER_FAILURE, new PushRun(s).apply(Job.test("a").finished(2)).reason());
    assertEquals(DecisionReason.DRY_RUN,
        new PushRun(s).apply(Job.test("a").who("Dev@example.com").finished(2)).reason(), "exact, case-sensitive");
    assertEquals(DecisionReason.DRY_RUN, new PushRun(s).apply(Job.test("a").who(null).finished(2)).reason());
  }

  @Test
  void deniedBuilderRegexIsFoundAnywhereHiddenBuilderIsTheWholeName() {
    PolicySettings s = settings("builders.deny=test moch", "builders.hidden=opt test reftest");
    assertEquals(DecisionReason.SKIP_DENIED_BUILDER,
        new PushRun(s).apply(Job.test("mochitest-1").finished(2)).reason());
    assertEquals(DecisionReason.TRIGGER_FAILURE, new PushRun(s).apply(Job.test("reftest").finished(2)).reason());
  }

  // --- global window (rule 6): (t - 1h, t], per kind, refused whole ------------------------------------------

  private static Decision failureWithWindow(long limit, MemoryWindow window, long t) {
    PushRun run = new PushRun(settings("global.max.failure.triggers.per.hour=" + limit), window);
    return run.apply(Job.test("a").atMillis(t).finished(2));
  }

  @Test
  void theGlobalWindowIsTheHourEndingAtTheEventInclusive() {
    long at = T0 + 5 * HOUR;
    long[][] cases = {
        // event time, expected: 1 = refused (the entry at 'at' is inside (t - 1h, t]), 0 = allowed
        {at, 1},
        {at + HOUR - 1, 1},
        {at + HOUR, 0},       // t - 1h = at: excluded
        {at + 2 * HOUR, 0},
        {at - 1, 0},          // the entry is after t: not in the window
    };
    for (long[] c : cases) {
      MemoryWindow window = new MemoryWindow();
      window.record(TriggerKind.FAILURE, at, "earlier", 1);
      Decision d = failureWithWindow(1, window, c[0]);
      assertEquals(c[1] == 1 ? DecisionReason.SKIP_GLOBAL_LIMIT : DecisionReason.TRIGGER_FAILURE, d.reason(),
          "event at " + (c[0] - at) + " ms from the recorded trigger");
    }
  }

  @Test
  void eachKindHasItsOwnGlobalLimit() {
    MemoryWindow window = new MemoryWindow();
    window.record(TriggerKind.REQUESTED, T0, "requested", 1000);
    assertEquals(DecisionReason.TRIGGER_FAILURE, failureWithWindow(1, window, T0).reason());

    MemoryWindow other = new MemoryWindow();
    other.record(TriggerKind.FAILURE, T0, "failure", 1000);
    PushRun run = new PushRun(settings("global.max.requested.triggers.per.hour=3"), other);
    assertEquals(DecisionReason.TRIGGER_REQUESTED,
        run.apply(Job.test("a").comments("try: --rebuild 3").started()).reason());
  }

  @Test
  void aTriggerMayReachTheLimitButNotExceedItAndIsRefusedWhole() {
    PolicySettings s = settings("global.max.requested.triggers.per.hour=10");
    MemoryWindow window = new MemoryWindow();
    window.record(TriggerKind.REQUESTED, T0, "seven", 7);

    PushRun fits = new PushRun(s, copy(window));
    Decision d = fits.apply(Job.test("a").comments("try: --rebuild 3").started());
    assertEquals(DecisionReason.TRIGGER_REQUESTED, d.reason(), "7 + 3 = 10 does not exceed 10");

    PushRun tooMany = new PushRun(s, copy(window));
    Decision refused = tooMany.apply(Job.test("a").comments("try: --rebuild 4").started());
    assertEquals(DecisionReason.SKIP_GLOBAL_LIMIT, refused.reason(), "7 + 4 > 10: refused whole");
    assertEquals(4, refused.count());
    assertEquals(7, tooMany.window.total(TriggerKind.REQUESTED), "nothing of it recorded");
    assertEquals(0, tooMany.builder(Job.test("a")).getJobsIssued());
  }

  @Test
  void theGlobalLimitSpansPushes() {
    MemoryWindow window = new MemoryWindow();
    PolicySettings s = settings("global.max.failure.triggers.per.hour=2");
    List<DecisionReason> reasons = new ArrayList<>();
    for (int push = 0; push < 3; push++) {
      reasons.add(new PushRun(s, window).apply(Job.test("a").atMinutes(push).finished(2)).reason());
    }
    assertEquals(List.of(DecisionReason.TRIGGER_FAILURE, DecisionReason.TRIGGER_FAILURE,
        DecisionReason.SKIP_GLOBAL_LIMIT), reasons);
  }

  private static MemoryWindow copy(MemoryWindow w) {
    MemoryWindow c = new MemoryWindow();
    c.entries.putAll(w.entries);
    return c;
  }

  // --- forgetting (rule 9) -----------------------------------------------------------------------------------

  @Test
  void aPushExpiresAtExactlyTheTtl() {
    Policy p = new Policy(settings("push.ttl=PT1H"));
    PushState push = Policy.newPush(T0);
    assertFalse(p.expired(push, T0));
    assertFalse(p.expired(push, T0 + HOUR - 1));
    assertTrue(p.expired(push, T0 + HOUR));
    assertTrue(p.expired(push, T0 + 2 * HOUR));
  }

  @Test
  void theDefaultTtlIsFourteenDays() {
    Policy p = new Policy(settings());
    PushState push = Policy.newPush(T0);
    assertFalse(p.expired(push, T0 + 14 * 24 * HOUR - 1));
    assertTrue(p.expired(push, T0 + 14 * 24 * HOUR));
  }

  @Test
  void aTtlTooLongForMillisecondsDoesNotBreakExpiry() {
    // 106751991167300 days fit a Duration but not a long of milliseconds.
    Policy p = new Policy(settings("push.ttl=P106751991167300D"));
    assertFalse(p.expired(Policy.newPush(T0), T0 + 100L * 366 * 24 * HOUR));
  }

  @Test
  void lastSeenIsTheLatestEventTimeNotTheLatestMessage() {
    Policy p = new Policy(settings("push.ttl=PT1H"));
    PushRun run = new PushRun(settings("push.ttl=PT1H"));
    run.apply(Job.test("a").atMinutes(30).started());
    run.apply(Job.test("b").atMinutes(10).started()); // late delivery of an older event
    assertEquals(T0 + 30 * MINUTE, run.push.getLastSeen());
    assertEquals(T0 + 30 * MINUTE, run.push.getLifeStart());
    assertFalse(p.expired(run.push, T0 + 89 * MINUTE));
    assertTrue(p.expired(run.push, T0 + 90 * MINUTE), "measured from the latest event time, 30 min");
  }

  @Test
  void newPushStartsEmpty() {
    PushState push = Policy.newPush(T0);
    assertEquals(T0, push.getLifeStart());
    assertEquals(T0, push.getLastSeen());
    assertEquals(0, push.getBuildersSeen());
    assertEquals(0, push.getFailureTriggered());
    assertFalse(push.getTryLineSeen());
    assertNull(push.getPusher());
  }

  @Test
  void aNewLifeAfterTheTtlStartsFromScratch() {
    PushRun run = new PushRun(settings("push.ttl=PT1H"));
    run.apply(Job.test("x").atMinutes(0).started());
    run.apply(Job.test("a").atMinutes(0).finished(2));
    Decision later = run.apply(Job.test("a").n(1).atMinutes(60).finished(2));
    assertEquals(DecisionReason.TRIGGER_FAILURE, later.reason());
    assertEquals(1, later.jobsOnPush());
    assertEquals(0, later.failuresOnPush());
  }
}
