package org.triggerbot.processor.replay;

import java.io.IOException;
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
import org.triggerbot.processor.decide.Keys;
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
 * <p>For a processor on several partitions ({@link Partitioning}), all of that is per partition, as the processor's
 * tasks have it: each partition's inputs go to its own state, stream time and sweep, under its share of the global
 * limits.
 *
 * <p>Memory: the state of the pushes alive at once, and a bounded number of parsed chunks in flight ({@link #run});
 * with {@link #runInPasses}, also a compact copy of the input's accepted events.
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

  /**
   * One policy's decisions over the input: one decision task per partition of {@code pulse.raw}, as the processor
   * runs them, each with its own state, stream time and sweep, and its share of the global limits.
   */
  public static final class PolicyRun {
    private final Task[] tasks;
    private final Listener listener;
    private final Set<String> branches;
    /** Whether this run decides on Taskcluster events: the shared parser reads them when any run does. */
    private final boolean taskcluster;
    private final long maxBytes;

    /** What the processor's task of one partition holds. */
    private static final class Task {
      final Decider decider;
      final MemoryDecideState state;
      long streamTime = -1; // as Kafka Streams: unknown until the first record
      long nextSweep;
      boolean started;

      Task(Policy policy, boolean verdictEntries) {
        this.state = new MemoryDecideState(verdictEntries);
        this.decider = new Decider(policy, state);
      }
    }

    /**
     * @param partitions the partitions of {@code pulse.raw}, i.e. the processor's decision tasks
     * @param verdictEntries whether the listener reads {@link MemoryDecideState#verdictEntries}
     */
    public PolicyRun(PolicySettings settings, int partitions, boolean verdictEntries, Listener listener) {
      PolicySettings share = settings.sharedAmong(partitions);
      this.tasks = new Task[partitions];
      for (int i = 0; i < partitions; i++) {
        tasks[i] = new Task(new Policy(share, false), verdictEntries);
      }
      this.listener = listener;
      this.branches = Set.copyOf(settings.branches());
      this.taskcluster = settings.taskclusterEnabled();
      this.maxBytes = settings.pulseMaxBytes();
    }

    int partitions() {
      return tasks.length;
    }

    /** Drops every task's state (a pass is over and its listener has what it needs). */
    void clear() {
      for (Task t : tasks) {
        t.state.clear();
      }
    }

    /**
     * One input, with {@code time} the stream time it carries (its record timestamp in the topology).
     *
     * @param event the input's event when the parser accepted it, else null (it only moves stream time)
     * @param pushKey the event's push key when made already, else null
     * @param bodyLength the input's size, for this policy's {@code pulse.max.bytes}
     * @param partition the input's task ({@link Partitioning})
     */
    void accept(PushEvent event, String pushKey, int bodyLength, long time, int partition) {
      Task task = tasks[partition];
      if (!task.started || time > task.streamTime) {
        task.streamTime = task.started ? Math.max(task.streamTime, time) : time;
        task.started = true;
      }
      if (task.streamTime >= task.nextSweep) {
        task.decider.sweep(task.streamTime);
        long hour = Decider.SWEEP_INTERVAL.toMillis();
        task.nextSweep = (Math.floorDiv(task.streamTime, hour) + 1) * hour;
      }
      if (event != null && bodyLength <= maxBytes && branches.contains(event.getBranch())
          && (taskcluster || event.getTaskId() == null)) {
        Decider.Outcome o = pushKey == null ? task.decider.decide(event) : task.decider.decide(event, pushKey);
        if (o != null) {
          listener.outcome(o, event, task.state);
        }
      }
    }
  }

  /**
   * One input, parsed.
   *
   * @param outcome null for a blank line
   * @param sent the input's {@code _meta.sent} in epoch milliseconds, null when it has none readable
   * @param partition the decision task it belongs to ({@link Partitioning})
   */
  record Parsed(Input input, ParseOutcome outcome, Long sent, int partition) {}

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
   * runs' branches and the largest {@code pulse.max.bytes}; each run then keeps what its own policy would), and
   * the policies decide over each chunk as it comes, on the caller's thread. Memory: the live pushes' state of
   * every policy, and nothing that grows with the input. For one policy ({@code replay}); many policies are
   * faster with {@link #runInPasses}.
   */
  public Summary run(ReplaySource source, List<PolicyRun> runs, Rejections rejections) throws IOException {
    return read(source, runs, rejections, null);
  }

  /**
   * The same decisions as {@link #run}, for many policies: the input is read and parsed once into a compact copy
   * of what the policies see (the accepted events and the stream time; the bodies are not kept), then the
   * policies pass over that copy, as many at once as there are threads. Memory: the copy (grows with the
   * accepted events of the input, some hundred bytes each) and the live pushes' state of those few policies,
   * instead of every policy's state at once, which for a grid of dozens of policies is far more.
   */
  public Summary runInPasses(ReplaySource source, List<PolicyRun> runs, Rejections rejections) throws IOException {
    Steps kept = new Steps(CHUNK);
    Summary summary = read(source, runs, rejections, kept);
    List<Callable<Void>> passes = new ArrayList<>(runs.size());
    for (PolicyRun run : runs) {
      passes.add(() -> {
        kept.replay(run);
        run.clear(); // the listener has counted what it needs; the next pass gets the memory
        return null;
      });
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads, daemon("whatif-pass-"));
    try {
      for (Future<Void> f : pool.invokeAll(passes)) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("replay interrupted", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return summary;
  }

  private static java.util.concurrent.ThreadFactory daemon(String prefix) {
    AtomicInteger number = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + number.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Reads and parses {@code source}; decides every chunk in the runs, or keeps its steps in {@code kept}. */
  private Summary read(ReplaySource source, List<PolicyRun> runs, Rejections rejections, Steps kept)
      throws IOException {
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("no policy to replay");
    }
    Set<String> branches = new HashSet<>();
    long maxBytes = 0;
    boolean taskcluster = false;
    for (PolicyRun r : runs) {
      branches.addAll(r.branches);
      maxBytes = Math.max(maxBytes, r.maxBytes);
      taskcluster |= r.taskcluster;
    }
    PulseParser parser = new PulseParser(branches, maxBytes, taskcluster);
    int partitions = runs.get(0).partitions();
    if (runs.stream().anyMatch(r -> r.partitions() != partitions)) {
      throw new IllegalArgumentException("the runs of one replay must have as many partitions each");
    }
    Partitioning partitioning = Partitioning.of(partitions, source);
    ExecutorService pool = Executors.newFixedThreadPool(threads, daemon("replay-"));
    BlockingQueue<Future<List<Parsed>>> chunks = new ArrayBlockingQueue<>(threads * 4);
    Thread reader = new Thread(() -> feed(source, parser, partitioning, pool, chunks), "replay-reader");
    reader.setDaemon(true);
    reader.start();
    long inputs = 0;
    long blank = 0;
    long rejected = 0;
    // Per task, the time of its previous input: what an input without a readable _meta.sent carries (the topology
    // replay stamps such a record with its predecessor's time; a task sees only its own partition's records).
    long[] lastTimes = new long[partitions];
    long bytes = 0;
    Long firstSent = null;
    Long lastSent = null;
    try {
      while (true) {
        List<Parsed> chunk = take(chunks);
        if (chunk == null) {
          break;
        }
        Steps steps = new Steps(chunk.size());
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
          if (p.sent() != null) {
            lastTimes[p.partition()] = p.sent();
          }
          steps.add(p.outcome() instanceof ParseOutcome.Accepted a ? a.event() : null,
              p.input().body() == null ? 0 : p.input().body().length, lastTimes[p.partition()], p.partition());
          if (p.outcome() instanceof ParseOutcome.Rejected r) {
            rejected++;
            rejections.rejected(p.input(), r.reason().name(), r.error());
          }
        }
        if (kept != null) {
          kept.addAll(steps);
        } else {
          for (PolicyRun run : runs) {
            steps.replay(run);
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

  /**
   * What the policies see of the inputs, in order: each input's event (null when not accepted), size and stream
   * time. Inputs without an event matter only when they move stream time forward, so a copy kept for later passes
   * ({@link #addAll}) leaves out the others, which change nothing for any policy.
   */
  static final class Steps {
    private PushEvent[] events;
    private String[] pushKeys; // made once for all passes; null in a chunk's steps
    private int[] lengths;
    private long[] times;
    private int[] partitions;
    private int size;
    /** Per partition, the latest stream time kept (grown as partitions appear). */
    private long[] maxTimes = new long[0];

    Steps(int capacity) {
      events = new PushEvent[Math.max(capacity, 16)];
      pushKeys = new String[events.length];
      lengths = new int[events.length];
      times = new long[events.length];
      partitions = new int[events.length];
    }

    void add(PushEvent event, int length, long time, int partition) {
      add(event, null, length, time, partition);
    }

    private void add(PushEvent event, String pushKey, int length, long time, int partition) {
      if (size == events.length) {
        int grown = size * 2;
        events = java.util.Arrays.copyOf(events, grown);
        pushKeys = java.util.Arrays.copyOf(pushKeys, grown);
        lengths = java.util.Arrays.copyOf(lengths, grown);
        times = java.util.Arrays.copyOf(times, grown);
        partitions = java.util.Arrays.copyOf(partitions, grown);
      }
      events[size] = event;
      pushKeys[size] = pushKey;
      lengths[size] = length;
      times[size] = time;
      partitions[size] = partition;
      size++;
    }

    /**
     * Appends {@code other}'s steps, leaving out those that neither decide nor move their task's stream time
     * forward. A kept
     * event's strings that repeat across events (branch, revision, builder, try line, pusher) are made one
     * object each: a kept copy holds hundreds of thousands of events, and the collector copies every object of it.
     */
    void addAll(Steps other) {
      for (int i = 0; i < other.size; i++) {
        PushEvent e = other.events[i];
        int p = other.partitions[i];
        if (p >= maxTimes.length) {
          int known = maxTimes.length;
          maxTimes = java.util.Arrays.copyOf(maxTimes, p + 1);
          java.util.Arrays.fill(maxTimes, known, maxTimes.length, Long.MIN_VALUE);
        }
        // A task's first input starts its stream time, whatever that is (Long.MIN_VALUE is no time).
        if (e != null || maxTimes[p] == Long.MIN_VALUE || other.times[i] > maxTimes[p]) {
          if (e != null) {
            e.setBranch(canonical(e.getBranch()));
            e.setRevision(canonical(e.getRevision()));
            e.setBuilder(canonical(e.getBuilder()));
            e.setComments(canonical(e.getComments()));
            e.setWho(canonical(e.getWho()));
          }
          add(e, e == null ? null : canonical(Keys.push(e.getBranch(), e.getRevision())), other.lengths[i],
              other.times[i], p);
        }
        maxTimes[p] = Math.max(maxTimes[p], other.times[i]);
      }
    }

    private final java.util.Map<String, String> strings = new java.util.HashMap<>();

    private String canonical(String s) {
      return s == null ? null : strings.computeIfAbsent(s, k -> k);
    }

    int size() {
      return size;
    }

    void replay(PolicyRun run) {
      for (int i = 0; i < size; i++) {
        run.accept(events[i], pushKeys[i], lengths[i], times[i], partitions[i]);
      }
    }
  }

  /** The next chunk in input order, null at the end; a failure of the reader or a parse task is thrown here. */
  private static List<Parsed> take(BlockingQueue<Future<List<Parsed>>> chunks)
      throws InterruptedException, ExecutionException {
    return chunks.take().get();
  }

  private static void feed(ReplaySource source, PulseParser parser, Partitioning partitioning, ExecutorService pool,
      BlockingQueue<Future<List<Parsed>>> chunks) {
    try {
      while (true) {
        List<Input> inputs = source.next(CHUNK);
        if (inputs.isEmpty()) {
          chunks.put(CompletableFuture.completedFuture(null));
          return;
        }
        chunks.put(pool.submit(() -> parse(parser, partitioning, inputs)));
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

  static List<Parsed> parse(PulseParser parser, Partitioning partitioning, List<Input> inputs) {
    List<Parsed> parsed = new ArrayList<>(inputs.size());
    for (Input in : inputs) {
      parsed.add(parse(parser, partitioning, in));
    }
    return parsed;
  }

  static Parsed parse(PulseParser parser, Partitioning partitioning, Input in) {
    if (in.undecodable() != null) {
      ParseOutcome rejected = new ParseOutcome.Rejected(
          org.triggerbot.processor.pulse.RejectReason.NOT_AVRO, in.undecodable());
      return new Parsed(in, rejected, null, partitioning.of(in, rejected));
    }
    if (in.blank()) {
      return new Parsed(in, null, null, 0);
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
    return new Parsed(in, o, sent, partitioning.of(in, o));
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

    /**
     * Called as the run reads.
     *
     * @param share the share of the input read, 0 to 1, NaN when unknown
     */
    void update(long inputs, double share);

    void done(long inputs);
  }
}
