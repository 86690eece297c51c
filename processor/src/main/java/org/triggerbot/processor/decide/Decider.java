package org.triggerbot.processor.decide;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.UUID;
import org.triggerbot.processor.policy.Decision;
import org.triggerbot.processor.policy.Policy;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.processor.state.PushState;

/**
 * Applies the {@link Policy} to a stream of events over a {@link DecideState}, keeping the policy's contract for
 * its caller: forget an expired push first, drop a duplicate, apply, persist. The live topology and the offline
 * replay engine both decide through this class (on stores and on maps respectively), which is what makes a
 * replay decide exactly as the processor did.
 *
 * <p>Also the stream-time sweep of the processor's punctuator: pushes whose TTL passed more than
 * {@link #SWEEP_GRACE} ago are deleted, and global-window entries older than an hour plus that grace. The grace
 * keeps state for messages that arrive out of order by up to a day; the TTL rule itself is applied exactly, per
 * message, whether or not a sweep ran.
 */
public final class Decider {

  /** How often, in stream time, the processor sweeps (aligned to the epoch, as Kafka Streams aligns it). */
  public static final Duration SWEEP_INTERVAL = Duration.ofHours(1);
  public static final Duration SWEEP_GRACE = Duration.ofDays(1);
  private static final long HOUR_MS = Duration.ofHours(1).toMillis();

  /**
   * What one event did.
   *
   * @param pushKey {@code branch/revision}
   * @param decisionId the event's deterministic id (also a command's id)
   * @param push the push's state after the event (already persisted)
   * @param builder the builder's state after the event (already persisted)
   * @param decision the decision when the event was evaluated, else null
   * @param verdictChanged whether a test builder's classification or the push's verdict changed
   * @param newLife whether the event began a new life of the push (its first message, or the first after TTL)
   */
  public record Outcome(String pushKey, String decisionId, PushState push, BuilderState builder, Decision decision,
      boolean verdictChanged, boolean newLife) {}

  private final Policy policy;
  private final DecideState state;

  public Decider(Policy policy, DecideState state) {
    this.policy = policy;
    this.state = state;
  }

  public Policy policy() {
    return policy;
  }

  /** Decides one valid event of an enabled branch; null when it is a duplicate delivery (it changes nothing). */
  public Outcome decide(PushEvent event) {
    return decide(event, Keys.push(event.getBranch(), event.getRevision()));
  }

  /**
   * {@link #decide(PushEvent)} with the event's push key ({@link Keys#push}) already made: a what-if decides each
   * event under many policies, and makes the key once.
   */
  public Outcome decide(PushEvent event, String pushKey) {
    long t = event.getEventTime();
    PushState push = state.push(pushKey);
    if (push != null && policy.expired(push, t)) {
      state.forget(pushKey);
      push = null;
    }
    if (push != null && state.seen(pushKey, event.getRoutingKey())) {
      return null;
    }
    boolean newLife = push == null;
    if (newLife) {
      push = Policy.newPush(t);
    }
    state.markSeen(pushKey, event.getRoutingKey(), t);
    String decisionId = decisionId(pushKey, push.getLifeStart(), event.getRoutingKey());
    Policy.Applied applied = policy.apply(push, state.builder(pushKey, event.getBuilder()), event, state.window(),
        decisionId);
    state.putPush(pushKey, push);
    state.putBuilder(pushKey, event.getBuilder(), applied.builder());
    return new Outcome(pushKey, decisionId, push, applied.builder(), applied.decision(), applied.verdictChanged(),
        newLife);
  }

  /** The processor's punctuator at stream time {@code streamTime}: deletes what no message can need any more. */
  public void sweep(long streamTime) {
    long grace = SWEEP_GRACE.toMillis();
    state.pushesLastSeen(lastSeen -> policy.sweepable(lastSeen, streamTime, grace)).forEach(state::forget);
    state.purgeWindowBefore(streamTime - HOUR_MS - grace);
  }

  /**
   * Deterministic: the push, the life of the push and the routing key identify an evaluated event, because a
   * routing key is evaluated at most once per life.
   */
  public static String decisionId(String pushKey, long lifeStart, String routingKey) {
    // UUID.nameUUIDFromBytes, with one MD5 digest per thread instead of a provider look-up per call.
    byte[] md5 = MD5.get().digest((pushKey + "\n" + lifeStart + "\n" + routingKey).getBytes(StandardCharsets.UTF_8));
    md5[6] = (byte) ((md5[6] & 0x0f) | 0x30); // version 3: name-based, MD5
    md5[8] = (byte) ((md5[8] & 0x3f) | 0x80); // the IETF variant
    ByteBuffer bits = ByteBuffer.wrap(md5);
    return new UUID(bits.getLong(), bits.getLong()).toString();
  }

  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has MD5", e);
    }
  });
}
