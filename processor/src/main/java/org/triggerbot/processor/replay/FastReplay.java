package org.triggerbot.processor.replay;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.triggerbot.processor.decide.DecisionRecords;
import org.triggerbot.processor.policy.PolicySettings;

/**
 * {@code replay} on the {@link ReplayEngine}: the processor's decisions (and verdicts) over a file or a topic at
 * the speed of parsing, without Kafka Streams. Writes exactly what {@link Replay} (the topology on
 * {@code TopologyTestDriver}) writes, in the same order.
 */
public final class FastReplay {

  private final PolicySettings policy;
  private final int partitions;
  private final int threads;
  private final ReplayEngine.Progress progress;

  /** @param partitions the partitions of {@code pulse.raw} the processor would run on ({@link Partitioning}) */
  public FastReplay(PolicySettings policy, int partitions, int threads, ReplayEngine.Progress progress) {
    this.policy = policy;
    this.partitions = partitions;
    this.threads = threads;
    this.progress = progress;
  }

  /** A processor on one partition. */
  public FastReplay(PolicySettings policy, int threads, ReplayEngine.Progress progress) {
    this(policy, 1, threads, progress);
  }

  public FastReplay(PolicySettings policy) {
    this(policy, 1, ReplayEngine.defaultThreads(), ReplayEngine.Progress.NONE);
  }

  /** Replays {@code source} into {@code out}; rejected inputs are reported on {@code err} (where, reason, error). */
  public Replay.Summary run(ReplaySource source, ReplayOutput out, PrintStream err) throws IOException {
    String version = policy.version();
    long[] counts = new long[2];
    ReplayEngine.PolicyRun run = new ReplayEngine.PolicyRun(policy, partitions, out.wantsVerdicts(),
        (o, event, state) -> {
          try {
            if (o.decision() != null) {
              out.decision(DecisionRecords.decision(o, event, version, null));
              counts[0]++;
            }
            if (o.verdictChanged()) {
              counts[1]++;
              if (out.wantsVerdicts()) {
                out.verdict(DecisionRecords.verdict(event, o.push(), state.verdictEntries(o.pushKey())));
              }
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
    ReplayEngine.Summary s;
    try {
      s = new ReplayEngine(threads, progress).run(source, List.of(run),
          (input, reason, error) -> err.println(input.where() + ": " + reason + ": " + error));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    out.flush();
    return new Replay.Summary(s.inputs(), counts[0], s.rejected(), s.blank(), counts[1]);
  }
}
