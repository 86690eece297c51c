package org.triggerbot.testsupport.pulse;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A realistic Pulse load for benchmarks: a busy try day as buildbot sent it. Each push has a few build jobs and
 * ~130 test jobs, each job sends {@code started}, {@code finished} and {@code log_uploaded}; bodies carry the steps
 * and properties real messages carry ({@link PulseJson#full}), so they weigh several KB. About 4% of test jobs
 * fail intermittently, some get a retrigger that passes, one push in twenty is broken (half its jobs fail), a third
 * of the pushes are on other branches (out of scope, as most of Pulse is), try syntax varies, 0.5% of deliveries
 * are duplicated and a few bodies are malformed. Events are interleaved across pushes in time order, as they
 * arrive from Pulse.
 *
 * <p>Only small descriptors are kept in memory; bodies are rendered one at a time ({@link #render}), so a load of
 * hundreds of MB streams instead of filling the heap.
 */
public final class PulseLoad {

  /** One message of the load: which job and event, when; {@link #render} makes its body. */
  public record Event(int push, int job, int run, String kind, Integer result, long sentMillis, boolean malformed) {}

  private static final String[] TRY_LINES = {
      "try: -b do -p all -u all -t all",
      "try: -b o -p linux64,macosx64 -u all -t none --rebuild 2",
      "try: -b do -p linux64 -u mochitest-1,xpcshell -t none --no-retry",
      "Bug 1170000 - Fix the thing; r=someone",
      "try: -b o -p all -u none -t all --rebuild-talos 3",
      "\"try: -b do -p win32 -u all[Windows 7] -t none\"",
  };
  private static final int[] TRY_WEIGHTS = {45, 15, 10, 10, 10, 10};
  private static final String[] OTHER_BRANCHES = {"mozilla-inbound", "fx-team", "mozilla-central"};
  private static final String[] PLATFORMS = {"linux64", "macosx64", "win32"};
  private static final Instant DAY_START = Instant.parse("2015-06-01T08:00:00Z");

  private final long seed;
  private final int pushes;
  private final int testJobsPerPush;
  private final List<Event> events;

  private PulseLoad(long seed, int pushes, int testJobsPerPush) {
    this.seed = seed;
    this.pushes = pushes;
    this.testJobsPerPush = testJobsPerPush;
    this.events = generate();
  }

  /** The load of {@code pushes} pushes with {@code testJobsPerPush} test jobs each; the same seed, the same load. */
  public static PulseLoad of(long seed, int pushes, int testJobsPerPush) {
    return new PulseLoad(seed, pushes, testJobsPerPush);
  }

  /** Every message, in the order Pulse sends them (by {@code _meta.sent}). */
  public List<Event> events() {
    return events;
  }

  public int size() {
    return events.size();
  }

  /** The body of {@code e} as Pulse sends it, with its own {@code _meta.sent}. */
  public String render(Event e) {
    return render(e, Instant.ofEpochMilli(e.sentMillis()));
  }

  /**
   * The body of {@code e} stamped {@code sent} instead: a live load at a fixed rate stamps each message with the
   * wall clock when it is produced, to measure latency from the message's timestamp.
   */
  public String render(Event e, Instant sent) {
    if (e.malformed()) {
      return e.push() % 2 == 0 ? "{\"payload\": {\"build\": truncated"
          : job(e).rev("NOT-A-REVISION").at(sent).finished(2);
    }
    PulseJson job = job(e).number(e.run()).at(sent);
    return switch (e.kind()) {
      case "started" -> job.started();
      case "finished" -> job.finished(e.result());
      default -> job.logUploaded(e.result());
    };
  }

  /** The routing key a bridge would use as the record key. */
  public String routingKey(Event e) {
    return e.malformed() ? "build.malformed" : job(e).number(e.run()).routingKey(e.kind());
  }

  /** Writes the load as JSON Lines. */
  public void write(Writer out) throws IOException {
    for (Event e : events) {
      out.write(render(e));
      out.write('\n');
    }
    out.flush();
  }

  /** {@code PulseLoad [--seed N] [--pushes N] [--jobs N]}: the load as JSON Lines on standard output. */
  public static void main(String[] args) throws IOException {
    FeedArgs feed = FeedArgs.parse(args, new FeedArgs(1, 20, 130));
    Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    of(feed.seed(), feed.pushes(), feed.jobs()).write(out);
  }

  private PulseJson job(Event e) {
    int p = e.push();
    String branch = branch(p);
    PulseJson job;
    if (e.job() < 0) {
      job = PulseJson.build(PLATFORMS[-e.job() - 1]);
    } else if (e.job() % 8 == 7) {
      job = PulseJson.talos("suite-" + e.job());
    } else {
      job = PulseJson.test("suite-" + e.job());
    }
    if (!"try".equals(branch)) {
      job.branch(branch);
    }
    return job.rev(revision(p)).comments(tryLine(p)).who("dev" + (p % 17) + "@example.com").full(true);
  }

  private String branch(int push) {
    return push % 3 == 2 ? OTHER_BRANCHES[(push / 3) % OTHER_BRANCHES.length] : "try";
  }

  private String revision(int push) {
    return String.format("%012x", 0x100000000000L + seed * 1_000_003L + push * 7_919L);
  }

  private String tryLine(int push) {
    int roll = new Random(seed * 31 + push).nextInt(100);
    for (int i = 0; i < TRY_WEIGHTS.length; i++) {
      roll -= TRY_WEIGHTS[i];
      if (roll < 0) {
        return TRY_LINES[i];
      }
    }
    return TRY_LINES[0];
  }

  private List<Event> generate() {
    Random random = new Random(seed);
    List<Event> out = new ArrayList<>();
    for (int p = 0; p < pushes; p++) {
      // A push every two minutes, about 30 an hour: a busy day on try.
      long pushAt = DAY_START.toEpochMilli() + p * 120_000L;
      boolean broken = random.nextInt(20) == 0;
      long buildsDone = pushAt;
      for (int b = 1; b <= PLATFORMS.length; b++) {
        long start = pushAt + 60_000L + random.nextInt(60_000);
        long end = start + 25 * 60_000L + random.nextInt(10 * 60_000);
        int result = broken && b == 1 && random.nextBoolean() ? 2 : 0;
        addJob(out, p, -b, 0, start, end, result);
        buildsDone = Math.max(buildsDone, end);
      }
      for (int j = 0; j < testJobsPerPush; j++) {
        long start = buildsDone + random.nextInt(20 * 60_000);
        long end = start + 10 * 60_000L + random.nextInt(30 * 60_000);
        int result = testResult(random, broken);
        addJob(out, p, j, j, start, end, result);
        if ((result == 1 || result == 2) && !broken && random.nextBoolean()) {
          // A person (or an earlier triggerbot) retriggered it; the rerun passes.
          long again = end + 5 * 60_000L + random.nextInt(10 * 60_000);
          addJob(out, p, j, j + 1000, again, again + 20 * 60_000L, random.nextInt(10) == 0 ? result : 0);
        }
      }
    }
    out.sort(Comparator.comparingLong(Event::sentMillis));
    // Deliveries Pulse repeats (at least once) and the odd broken body, placed among the others.
    List<Event> withNoise = new ArrayList<>(out.size() + out.size() / 100);
    for (Event e : out) {
      withNoise.add(e);
      int roll = random.nextInt(2000);
      if (roll < 10) {
        withNoise.add(e);
      } else if (roll == 10) {
        withNoise.add(new Event(e.push(), e.job(), e.run(), "finished", 2, e.sentMillis(), true));
      }
    }
    return List.copyOf(withNoise);
  }

  private static int testResult(Random random, boolean broken) {
    int roll = random.nextInt(1000);
    if (broken) {
      return roll < 500 ? 2 : 0;
    }
    if (roll < 30) {
      return 1; // orange: the usual intermittent
    }
    if (roll < 40) {
      return 2;
    }
    if (roll < 45) {
      return 4; // exception
    }
    if (roll < 55) {
      return 5; // retry
    }
    return 0;
  }

  private static void addJob(List<Event> out, int push, int job, int run, long start, long end, int result) {
    out.add(new Event(push, job, run, "started", null, start, false));
    out.add(new Event(push, job, run, "finished", result, end, false));
    out.add(new Event(push, job, run, "log_uploaded", result, end + 30_000L + (run % 7) * 1000L, false));
  }
}
