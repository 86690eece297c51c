package org.triggerbot.processor.replay;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress line of a long replay or what-if on standard error: inputs read, inputs/s, share done and the
 * time left. Silent for the first seconds, so a short run prints nothing but its summary.
 */
public final class StderrProgress implements ReplayEngine.Progress {

  private static final long FIRST_NANOS = 3_000_000_000L;
  private static final long EVERY_NANOS = 5_000_000_000L;

  private final PrintStream err;
  private final String what;
  private final long start = System.nanoTime();
  private long next = start + FIRST_NANOS;

  public StderrProgress(PrintStream err, String what) {
    this.err = err;
    this.what = what;
  }

  @Override
  public void update(long inputs, double share) {
    long now = System.nanoTime();
    if (now < next) {
      return;
    }
    next = now + EVERY_NANOS;
    err.println(line(inputs, share, (now - start) / 1e9));
  }

  @Override
  public void done(long inputs) {
    // the command prints its own summary
  }

  /** {@code what: 1,234,567 lines read, 123,456 lines/s, 42 % done, about 35 s left}. */
  String line(long inputs, double share, double seconds) {
    double rate = inputs / Math.max(seconds, 1e-9);
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%s: %,d read, %,.0f/s", what, inputs, rate));
    if (!Double.isNaN(share) && share > 0) {
      double left = seconds * (1 - share) / share;
      s.append(String.format(Locale.ROOT, ", %.0f %% done, about %.0f s left", share * 100, left));
    }
    return s.toString();
  }
}
