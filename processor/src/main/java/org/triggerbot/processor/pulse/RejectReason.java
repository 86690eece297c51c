package org.triggerbot.processor.pulse;

/** Stable codes of {@code RejectedMessage.reason}: what kind of problem made an input record unreadable. */
public enum RejectReason {
  /** The record value is not an Avro single-object encoded PulseMessage. */
  NOT_AVRO,
  /** The body is larger than {@code pulse.max.bytes}. */
  OVERSIZED,
  /** The body is not a JSON object. */
  NOT_JSON,
  /** A field the policy needs is absent or null. */
  MISSING_FIELD,
  /** A field has the wrong JSON type. */
  WRONG_TYPE,
  /** The revision is not 12 to 40 lowercase hex characters. */
  BAD_REVISION,
  /** {@code _meta.sent} is missing or not an RFC 3339 timestamp with offset: the message has no event time. */
  BAD_TIMESTAMP,
  /** A {@code build.*.started|finished} routing key without a build number. */
  BAD_ROUTING_KEY,
  /**
   * Written by the bridge (SPEC 3b): the definition of a Taskcluster message's task could not be fetched from the
   * queue in {@code tc.task.fetch.max} attempts; the original message is kept.
   */
  TASK_UNAVAILABLE
}
