package org.triggerbot.testsupport.pulse;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A reproducible stream of Pulse bodies for whole-pipeline tests: several try pushes, each with build and test
 * jobs that start and finish, some failing (orange and red), try lines with and without --rebuild and
 * --no-retry, duplicate deliveries, log_uploaded repeats, another branch, and a few malformed messages.
 */
public final class ScenarioStream {

  private ScenarioStream() {}

  /**
   * Writes a generated feed as Pulse JSON Lines to standard output:
   * {@code ScenarioStream [--seed N] [--pushes N] [--jobs N]} (defaults 1, 3, 8). Used to make the README's demo
   * file and the replay benchmark's input.
   */
  public static void main(String[] args) {
    FeedArgs feed = FeedArgs.parse(args, new FeedArgs(1, 3, 8));
    java.io.PrintStream out = new java.io.PrintStream(
        new java.io.BufferedOutputStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), 1 << 16), false,
        java.nio.charset.StandardCharsets.UTF_8);
    for (String line : generate(feed.seed(), feed.pushes(), feed.jobs())) {
      out.println(line);
    }
    out.flush();
  }

  public static List<String> generate(long seed, int pushes, int testJobsPerPush) {
    return generate(seed, pushes, testJobsPerPush, true);
  }

  /**
   * A generated feed of {@code pushes} pushes with {@code testJobsPerPush} test jobs each, the same for a seed.
   *
   * @param recordedRetriggers whether half of the red jobs are followed by the run of a retrigger that passed, as
   *     a recorded feed has them; the demo, whose simulated CI runs the retriggers the pipeline asks for, wants
   *     none. The rest of the feed is the same either way.
   */
  public static List<String> generate(long seed, int pushes, int testJobsPerPush, boolean recordedRetriggers) {
    Random random = new Random(seed);
    List<String> out = new ArrayList<>();
    String[] tryLines = {
        "try: -b o -p linux64 -u all -t none",
        "try: -b do -p all -u all -t all --rebuild 2",
        "try: -b o -p linux -u mochitest-1 --no-retry",
        "Bug 123 - no try line here",
        "\"try: -b do -p linux64 -u all[x64] -t all --rebuild-talos 3\"",
    };
    for (int p = 0; p < pushes; p++) {
      String rev = String.format("%012x", seed * 7919 + p * 104729L + 0x10000000000L);
      String comments = tryLines[p % tryLines.length];
      String who = p % 7 == 6 ? "other@example.com" : "dev" + (p % 3) + "@example.com";
      // Pushes overlap in time (one every 7 minutes, jobs over ~50 minutes), as on a busy try day.
      long minute = p * 7L;
      out.add(PulseJson.build("linux64").rev(rev).comments(comments).who(who).atMinutes(minute).started());
      out.add(PulseJson.build("linux64").rev(rev).comments(comments).who(who).atMinutes(minute + 1).finished(0));
      for (int j = 0; j < testJobsPerPush; j++) {
        PulseJson job = (j % 5 == 4 ? PulseJson.talos("suite-" + j) : PulseJson.test("suite-" + j))
            .rev(rev).comments(comments).who(who);
        out.add(job.number(j).atMinutes(minute + 2 + j % 10).started());
        int roll = random.nextInt(100);
        int result = roll < 12 ? 2 : roll < 20 ? 1 : roll < 23 ? 4 + random.nextInt(3) : 0;
        String finished = job.number(j).atMinutes(minute + 12 + j % 10).finished(result);
        out.add(finished);
        if (roll % 9 == 0) {
          out.add(finished); // an at-least-once duplicate
        }
        if (roll % 4 == 0) {
          out.add(job.number(j).atMinutes(minute + 13 + j % 10).logUploaded(result));
        }
        if (recordedRetriggers && result == 2 && roll % 2 == 0) {
          // the retrigger ran and passed
          out.add(job.number(j + 1000).atMinutes(minute + 30 + j % 10).started());
          out.add(job.number(j + 1000).atMinutes(minute + 40 + j % 10).finished(0));
        }
      }
      if (p % 4 == 1) {
        out.add(PulseJson.test("suite-0").branch("mozilla-inbound").rev(rev).atMinutes(minute + 5).finished(2));
      }
      if (p % 5 == 2) {
        out.add("{not json at all");
        out.add(PulseJson.test("suite-x").rev("NOTAREVISION").atMinutes(minute + 6).finished(2));
      }
    }
    return out;
  }
}
