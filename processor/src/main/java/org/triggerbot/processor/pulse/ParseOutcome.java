package org.triggerbot.processor.pulse;

import org.triggerbot.processor.state.PushEvent;

/** What {@link PulseParser} made of one Pulse body: exactly one of accepted, out of scope, or rejected. */
public sealed interface ParseOutcome {

  /** A valid buildbot started/finished message of an enabled branch. */
  record Accepted(PushEvent event) implements ParseOutcome {}

  /**
   * Valid enough to know it is none of our business (another exchange, another event kind such as
   * {@code log_uploaded}, or a branch that is not enabled): dropped, counted, neither rejected nor decided.
   *
   * @param sent the message's {@code _meta.sent} in epoch milliseconds, null when absent or unreadable: a replay
   *     advances its stream time with it, as the processor's stream time advances with every record
   */
  record OutOfScope(String why, Long sent) implements ParseOutcome {}

  /** Bad input: goes to {@code pulse.rejected} with a stable reason code and a sentence for people. */
  record Rejected(RejectReason reason, String error) implements ParseOutcome {}
}
