package org.triggerbot.processor.replay;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.decide.Decider;
import org.triggerbot.processor.decide.MemoryDecideState;
import org.triggerbot.processor.policy.Policy;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.processor.state.PushEvent;

/**
 * The replay at the speed of parsing: each input is read and parsed once, on as many threads as there are cores,
 * and every policy of the run decides over the parsed events in input order, through the same {@link Decider}
 * and {@link Policy} as the processor, on state in memory instead of stores.
 *
 * <p>It reproduces the topology's replay exactly (the equivalence test holds it to that), including what the
 * topology does with time: each input advances stream time to its {@code _meta.sent} (an input without a readable
 * one keeps the time of the previous input, as the topology replay stamps it), and the processor's stream-time
 * sweep runs whenever stream time crosses an hour boundary, before the input that crossed it is decided.
 *
 * <p>Memory: the state of the pushes alive at once, and a bounded number of parsed chunks in flight.
 */
public final class ReplayEngine {

  /** Inputs per parse task: large enough to amortise the hand-over, small enough to keep memory flat. */
  static final int CHUNK = 1024;

  /** What a policy's run reports, in input order. */
  public interface Listener {
    /** An evaluated or otherwise applied event (never a duplicate). */
    void outcome(Decider.Outcome outcome, PushEvent event, MemoryDecideState state);
  }

  /** A rejected input, reported once for the whole run (not per policy). */
  public interface Rejections {
    void rejected(Input input, String reason, String error);
  }

  /** One policy's decisions over the input. */
  public static final class PolicyRun {
    private final PolicySettings settings;
    private final Decider decider;
    private final MemoryDecideState state;
    private final Listener listener;
    private final Set<String> branches;
    private final long maxBytes;
    private long streamTime = -1; // as Kafka Streams: unknown until the first record
    private long nextSweep;
    private boolean started;

    /** @param verdictEntries whether the listener reads {@link MemoryDecideState#verdictEntries} */
    public PolicyRun(PolicySettings settings, boolean verdictEntries, Listener listener) {
      this.settings = settings;
      this.state = new MemoryDecideState(verdictEntries);
      this.decider = new Decider(new Policy(settings), state);
      this.listener = listener;
      this.branches = Set.copyOf(settings.branches());
      this.maxBytes = settings.pulseMaxBytes();
    }

    public PolicySettings settings() {
      return settings;
    }

    public MemoryDecideState state() {
      return state;
    }

    /** One input, with {@code time} the stream time it carries (its record timestamp in the topology). */
    void accept(Parsed p, long time) {
      if (!started || time > streamTime) {
        streamTime = started ? Math.max(streamTime, time) : time;
        started = true;
      }
      if (streamTime >= nextSweep) {
        decider.sweep(streamTime);
        long hour = Decider.SWEEP_INTERVAL.toMillis();
        nextSweep = (Math.floorDiv(streamTime, hour) + 1) * hour;
      }
      if (p.outcome() instanceof ParseOutcome.Accepted a && p.input().body().length <= maxBytes
          && branches.contains(a.event().getBranch())) {
        Decider.Outcome o = decider.decide(a.event());
        if (o != null) {
          listener.outcome(o, a.event(), state);
        }
      }
    }
  }

  /**
   * One input, parsed.
   *
   * @param outcome null for a blank line
   * @param sent the input's {@code _meta.sent} in epoch milliseconds, null when it has none readable
   */
  record Parsed(Input input, ParseOutcome outcome, Long sent) {}

  /**
   * What a run read.
   *
   * @param bytes the bodies' bytes (line ends not counted)
   * @param firstSent the earliest readable {@code _meta.sent}, null when no input had one
   * @param lastSent the latest readable {@code _meta.sent}, null when no input had one
   */
  public record Summary(long inputs, long blank, long rejected, long bytes, Long firstSent, Long lastSent) {}

  private final int threads;
  private final Progress progress;

  /**
   * @param threads parse (and evaluation) threads; the caller's thread orders and decides
   * @param progress told after every chunk; {@link Progress#NONE} for silence
   */
  public ReplayEngine(int threads, Progress progress) {
    this.threads = Math.max(1, threads);
    this.progress = progress;
  }

  /** Threads by default: one per core. */
  public static int defaultThreads() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * Replays {@code source} under every run's policy, in one pass: each input is parsed once (with the union of the
   * runs' branches and the largest {@code pulse.max.bytes}; each run then keeps what its own policy would).
   */
  public Summary run(ReplaySource source, List<PolicyRun> runs, Rejections rejections) throws IOException {
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("no policy to replay");
    }
    Set<String> branches = new HashSet<>();
    long maxBytes = 0;
    for (PolicyRun r : runs) {
      branches.addAll(r.branches);
      maxBytes = Math.max(maxBytes, r.maxBytes);
    }
    PulseParser parser = new PulseParser(branches, maxBytes);
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "replay-" + threadNumber.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    BlockingQueue<Future<List<Parsed>>> chunks = new ArrayBlockingQueue<>(threads * 4);
    Thread reader = new Thread(() -> read(source, parser, pool, chunks), "replay-reader");
    reader.setDaemon(true);
    reader.start();
    long inputs = 0;
    long blank = 0;
    long rejected = 0;
    long lastTime = 0;
    long bytes = 0;
    Long firstSent = null;
    Long lastSent = null;
    try {
      while (true) {
        List<Parsed> chunk = take(chunks);
        if (chunk == null) {
          break;
        }
        long[] times = new long[chunk.size()];
        int n = 0;
        List<Parsed> piped = new ArrayList<>(chunk.size());
        for (Parsed p : chunk) {
          inputs++;
          bytes += p.input().body() == null ? 0 : p.input().body().length;
          if (p.sent() != null) {
            firstSent = firstSent == null ? p.sent() : Math.min(firstSent, p.sent());
            lastSent = lastSent == null ? p.sent() : Math.max(lastSent, p.sent());
          }
          if (p.outcome() == null) {
            blank++;
            continue;
          }
          lastTime = p.sent() == null ? lastTime : p.sent();
          times[n++] = lastTime;
          piped.add(p);
          if (p.outcome() instanceof ParseOutcome.Rejected r) {
            rejected++;
            rejections.rejected(p.input(), r.reason().name(), r.error());
          }
        }
        if (runs.size() == 1) {
          decide(runs.get(0), piped, times);
        } else {
          List<Callable<Void>> tasks = new ArrayList<>(runs.size());
          for (PolicyRun run : runs) {
            tasks.add(() -> {
              decide(run, piped, times);
              return null;
            });
          }
          for (Future<Void> f : pool.invokeAll(tasks)) {
            f.get();
          }
        }
        progress.update(inputs, source.progress());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("replay interrupted", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    } finally {
      reader.interrupt();
      pool.shutdownNow();
    }
    progress.done(inputs);
    return new Summary(inputs, blank, rejected, bytes, firstSent, lastSent);
  }

  private static void decide(PolicyRun run, List<Parsed> piped, long[] times) {
    for (int i = 0; i < piped.size(); i++) {
      run.accept(piped.get(i), times[i]);
    }
  }

  /** The next chunk in input order, null at the end; a failure of the reader or a parse task is thrown here. */
  private static List<Parsed> take(BlockingQueue<Future<List<Parsed>>> chunks)
      throws InterruptedException, ExecutionException {
    return chunks.take().get();
  }

  private static void read(ReplaySource source, PulseParser parser, ExecutorService pool,
                           BlockingQueue<Future<List<Parsed>>> chunks) {
    try {
      while (true) {
        List<Input> inputs = source.next(CHUNK);
        if (inputs.isEmpty()) {
          chunks.put(CompletableFuture.completedFuture(null));
          return;
        }
        chunks.put(pool.submit(() -> parse(parser, inputs)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the run ended (or failed) without us
    } catch (IOException | RuntimeException e) {
      try {
        chunks.put(CompletableFuture.failedFuture(e));
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static List<Parsed> parse(PulseParser parser, List<Input> inputs) {
    List<Parsed> parsed = new ArrayList<>(inputs.size());
    for (Input in : inputs) {
      parsed.add(parse(parser, in));
    }
    return parsed;
  }

  static Parsed parse(PulseParser parser, Input in) {
    if (in.undecodable() != null) {
      return new Parsed(in, new ParseOutcome.Rejected(
          org.triggerbot.processor.pulse.RejectReason.NOT_AVRO, in.undecodable()), null);
    }
    if (in.blank()) {
      return new Parsed(in, null, null);
    }
    ParseOutcome o = parser.parse(in.body());
    Long sent;
    if (o instanceof ParseOutcome.Accepted a) {
      sent = a.event().getEventTime();
    } else if (o instanceof ParseOutcome.OutOfScope s) {
      sent = s.sent();
    } else {
      sent = PulseEnvelope.read(in.body()).sent();
    }
    return new Parsed(in, o, sent);
  }

  private static IOException rethrow(Throwable cause) {
    if (cause instanceof IOException io) {
      return io;
    }
    if (cause instanceof RuntimeException re) {
      throw re;
    }
    if (cause instanceof Error error) {
      throw error;
    }
    return new IOException(cause);
  }

  /** Told how far a run got. */
  public interface Progress {
    Progress NONE = new Progress() {
      @Override
      public void update(long inputs, double share) {}

      @Override
      public void done(long inputs) {}
    };

    /** @param share the share of the input read, 0 to 1, NaN when unknown */
    void update(long inputs, double share);

    void done(long inputs);
  }
}
