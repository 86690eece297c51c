package org.triggerbot.processor.policy;

/** The two kinds of trigger, each with its own global limit so that requests never starve failure retriggers. */
public enum TriggerKind {
  REQUESTED,
  FAILURE
}
