package org.triggerbot.processor.whatif;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.replay.ReplayEngine;
import org.triggerbot.processor.replay.ReplaySource;

/**
 * Many policies over one feed: the {@link ReplayEngine} reads and parses the feed once into a compact copy of
 * what the policies see, then every policy decides over that copy (as many at once as there are threads), each
 * counted by its own {@link WhatIfTally}.
 */
public final class WhatIf {

  /** Rejected inputs, reported once (where, reason, error). */
  public interface Rejections {
    void rejected(String where, String reason, String error);
  }

  /** The rows, in the order of the policies given, and what was read. */
  public record Result(List<WhatIfRow> rows, InputSummary input) {}

  private final int threads;
  private final ReplayEngine.Progress progress;

  public WhatIf(int threads, ReplayEngine.Progress progress) {
    this.threads = threads;
    this.progress = progress;
  }

  /** {@link #run(ReplaySource, String, List, List, int, Rejections)} for a processor on one partition. */
  public Result run(ReplaySource source, String sourceName, List<String> labels, List<PolicySettings> policies,
      Rejections rejections) throws IOException {
    return run(source, sourceName, labels, policies, 1, rejections);
  }

  /**
   * Replays {@code source} under every policy (as many at once as there are threads), one row per policy.
   *
   * @param labels each policy's {@code policy} column
   * @param policies the policies, in grid order
   * @param partitions the partitions of {@code pulse.raw} the processor would run on
   */
  public Result run(ReplaySource source, String sourceName, List<String> labels, List<PolicySettings> policies,
      int partitions, Rejections rejections) throws IOException {
    List<WhatIfTally> tallies = new ArrayList<>();
    List<ReplayEngine.PolicyRun> runs = new ArrayList<>();
    for (PolicySettings p : policies) {
      WhatIfTally tally = new WhatIfTally();
      tallies.add(tally);
      runs.add(new ReplayEngine.PolicyRun(p, partitions, false, tally));
    }
    ReplayEngine.Summary s = new ReplayEngine(threads, progress).runInPasses(source, runs,
        (input, reason, error) -> rejections.rejected(input.where(), reason, error));
    List<WhatIfRow> rows = new ArrayList<>();
    for (int i = 0; i < policies.size(); i++) {
      rows.add(tallies.get(i).row(i + 1, labels.get(i), policies.get(i).version()));
    }
    InputSummary input = new InputSummary(sourceName, s.inputs(), s.bytes(), s.rejected(),
        s.firstSent() == null ? null : Instant.ofEpochMilli(s.firstSent()),
        s.lastSent() == null ? null : Instant.ofEpochMilli(s.lastSent()));
    return new Result(rows, input);
  }
}
