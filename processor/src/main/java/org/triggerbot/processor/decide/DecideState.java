package org.triggerbot.processor.decide;

import java.util.List;
import java.util.function.LongPredicate;
import org.triggerbot.processor.policy.GlobalWindow;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushState;

/**
 * Where a {@link Decider} keeps what it knows: the processor's changelogged stores, or plain maps for an offline
 * replay. The decider reads and writes only through this, so both decide alike by construction.
 */
public interface DecideState {

  /** The push's state, or null when the push is unknown (or forgotten). */
  PushState push(String pushKey);

  void putPush(String pushKey, PushState push);

  /** The builder's state on the push, or null when the push has not seen the builder. */
  BuilderState builder(String pushKey, String builder);

  void putBuilder(String pushKey, String builder, BuilderState state);

  /** Whether the push saw the routing key in its current life. */
  boolean seen(String pushKey, String routingKey);

  void markSeen(String pushKey, String routingKey, long eventTime);

  /** Deletes every trace of the push: its state, its builders, the routing keys it saw. */
  void forget(String pushKey);

  /**
   * The keys of the pushes whose last-seen time passes {@code lastSeen}, a threshold: a time that passes it means
   * every earlier time passes it too (the sweep's "expired long enough ago").
   */
  List<String> pushesLastSeen(LongPredicate lastSeen);

  /** The global trigger window (SPEC rule 6) shared by all pushes of this state. */
  GlobalWindow window();

  /** Deletes global-window entries with event times before {@code before}. */
  void purgeWindowBefore(long before);
}
