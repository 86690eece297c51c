package org.triggerbot.processor.topology;

/** Names of the processor's state stores; their changelog topics are {@code <application.id>-<name>-changelog}. */
public final class StoreNames {
  /** branch/revision -> PushState. */
  public static final String PUSHES = "push-state";
  /** branch/revision/buildername -> BuilderState. */
  public static final String BUILDERS = "builder-state";
  /** branch/revision/routing-key -> event time: the routing keys a push has seen, for de-duplication. */
  public static final String SEEN_EVENTS = "seen-events";
  /** kind|event-time|decision-id -> jobs: counted triggers, for the global hourly limits. */
  public static final String GLOBAL_TRIGGERS = "global-triggers";

  private StoreNames() {}
}
