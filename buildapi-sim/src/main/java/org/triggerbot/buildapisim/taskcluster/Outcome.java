package org.triggerbot.buildapisim.taskcluster;

import java.util.Objects;
import java.util.Set;

/**
 * How one run of a task ends in the simulator: what {@link TaskclusterSimulator#runTask} and a {@link CloneRule}
 * choose. Each outcome is a Taskcluster run state with its {@code reasonResolved}, the values the real queue uses, so
 * that a consumer's mapping of them (SPEC §3b: completed → pass, failed → failure, exception → by reason) meets the
 * real vocabulary.
 */
public sealed interface Outcome permits Outcome.Resolved, Outcome.RetryThen {

  /** The run passed: {@code task-completed}, state and reason {@code completed}. */
  Resolved COMPLETED = new Resolved("completed", "completed", true);
  /** The run failed (non-zero exit): {@code task-failed}, state and reason {@code failed}. */
  Resolved FAILED = new Resolved("failed", "failed", true);
  /** Canceled by a user or a newer push while running: {@code task-exception}, reason {@code canceled}. */
  Resolved EXCEPTION_CANCELED = new Resolved("exception", "canceled", true);
  /** Never got a worker before its deadline: {@code task-exception}, reason {@code deadline-exceeded}, not started. */
  Resolved EXCEPTION_DEADLINE = new Resolved("exception", "deadline-exceeded", false);
  /** Superseded by a later task (coalescing): {@code task-exception}, reason {@code superseded}. */
  Resolved EXCEPTION_SUPERSEDED = new Resolved("exception", "superseded", true);
  /** The worker's own error: {@code task-exception}, reason {@code internal-error}. */
  Resolved EXCEPTION_INTERNAL_ERROR = new Resolved("exception", "internal-error", true);

  /**
   * The run ends with {@code exception}/{@code worker-shutdown} (the worker went away) and the queue retries
   * automatically: a new run with {@code reasonCreated: "retry"} is added in the same status update, so the
   * {@code task-exception} message already shows it, and that new run then ends with {@code then}. With no retries
   * left the queue does not retry: the run ends with the exception alone and {@code then} is not used.
   */
  static Outcome retryThen(Outcome then) {
    return new RetryThen(then);
  }

  /** An exception with another {@code reasonResolved}, e.g. {@code malformed-payload}; {@code started}: see below. */
  static Resolved exception(String reasonResolved, boolean started) {
    return new Resolved("exception", reasonResolved, started);
  }

  /**
   * A final run state.
   *
   * @param state {@code completed}, {@code failed} or {@code exception}
   * @param reasonResolved the run's {@code reasonResolved}; {@code completed} and {@code failed} for those states
   * @param started whether a worker claimed the run first (then it has {@code started}, {@code workerGroup},
   *     {@code workerId} and {@code takenUntil}); completed and failed runs always were
   */
  record Resolved(String state, String reasonResolved, boolean started) implements Outcome {

    private static final Set<String> STATES = Set.of("completed", "failed", "exception");

    public Resolved {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(reasonResolved, "reasonResolved");
      if (!STATES.contains(state)) {
        throw new IllegalArgumentException("state must be one of " + STATES + ", got " + state);
      }
      if (!state.equals("exception") && (!reasonResolved.equals(state) || !started)) {
        throw new IllegalArgumentException("a " + state + " run is started and resolved as " + state);
      }
    }
  }

  /** See {@link Outcome#retryThen}. */
  record RetryThen(Outcome then) implements Outcome {
    public RetryThen {
      Objects.requireNonNull(then, "then");
    }
  }
}
