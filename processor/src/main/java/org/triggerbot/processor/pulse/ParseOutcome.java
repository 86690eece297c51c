package org.triggerbot.processor.pulse;

import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.state.PushEvent;

/** What {@link PulseParser} made of one Pulse body: exactly one of accepted, out of scope, or rejected. */
public sealed interface ParseOutcome {

  /** A valid buildbot started/finished message of an enabled branch. */
  record Accepted(PushEvent event) implements ParseOutcome {}

  /**
   * Valid enough to know it is none of our business (another exchange, another event kind such as
   * {@code log_uploaded}, or a branch that is not enabled): dropped, counted, neither rejected nor decided.
   *
   * @param sentText the message's {@code _meta.sent} as written, null when absent or not a string
   */
  record OutOfScope(String why, String sentText) implements ParseOutcome {
    /**
     * {@code _meta.sent} in epoch milliseconds, null when absent or unreadable: a replay advances its stream time
     * with it, as the processor's stream time advances with every record. Read only when asked, so that the
     * processor, which drops the message, pays nothing for it.
     */
    public Long sent() {
      return sentText == null ? null : PulseEnvelope.rfc3339Millis(sentText);
    }
  }

  /** Bad input: goes to {@code pulse.rejected} with a stable reason code and a sentence for people. */
  record Rejected(RejectReason reason, String error) implements ParseOutcome {}
}
