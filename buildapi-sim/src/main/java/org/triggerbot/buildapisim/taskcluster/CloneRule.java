package org.triggerbot.buildapisim.taskcluster;

/**
 * Decides how the run of a clone made by a retrigger ends: a test of retriggering wants "the first clone fails
 * again, the others pass" or "always fails" without scripting each clone.
 */
@FunctionalInterface
public interface CloneRule {

  /** Every clone passes: the default, an intermittent failure that does not come back. */
  CloneRule ALL_PASS = (label, cloneIndex) -> Outcome.COMPLETED;

  /**
   * The outcome of a clone's first run.
   *
   * @param label the cloned task's label ({@code metadata.name}, also {@code tags.label})
   * @param cloneIndex 0 for the first clone of this label in its task group, 1 for the next, ... counted over every
   *     retrigger in that group, in creation order
   */
  Outcome outcome(String label, int cloneIndex);
}
