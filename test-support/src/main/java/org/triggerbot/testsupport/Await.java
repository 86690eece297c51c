package org.triggerbot.testsupport;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Waiting on a condition with a deadline, the only way tests and test brokers wait: the condition is checked
 * every {@link #POLL_INTERVAL} until it holds or the deadline passes. Checked exceptions thrown by the check
 * count as "not yet" (a broker still coming up) and become the cause of the timeout; unchecked ones propagate
 * at once.
 */
public final class Await {

  static final Duration POLL_INTERVAL = Duration.ofMillis(50);

  private Await() {}

  /** Waits until {@code check} holds, for at most {@code timeout}; throws {@link IllegalStateException} if not. */
  public static void until(String description, Duration timeout, Callable<Boolean> check) {
    until(description, deadlineIn(timeout), check);
  }

  /** Waits until {@code check} holds or {@link System#nanoTime()} passes {@code deadline}. */
  public static void until(String description, long deadline, Callable<Boolean> check) {
    Exception lastFailure = null;
    while (true) {
      try {
        if (check.call()) {
          return;
        }
        lastFailure = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for " + description, e);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        lastFailure = e;
      }
      long remainingNanos = deadline - System.nanoTime();
      if (remainingNanos <= 0) {
        throw new IllegalStateException("Timed out waiting for " + description, lastFailure);
      }
      try {
        // The pause between two checks of the condition; the deadline bounds the whole wait.
        Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(POLL_INTERVAL.toNanos(), remainingNanos))));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for " + description, e);
      }
    }
  }

  /** The {@link System#nanoTime()} deadline {@code timeout} from now. */
  public static long deadlineIn(Duration timeout) {
    return System.nanoTime() + timeout.toNanos();
  }

  /** Milliseconds since {@code beginNanos} (a {@link System#nanoTime()}), for log lines. */
  public static long elapsedMillis(long beginNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - beginNanos);
  }
}
