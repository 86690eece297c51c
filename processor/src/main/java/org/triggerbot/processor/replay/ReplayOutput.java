package org.triggerbot.processor.replay;

import java.io.IOException;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerDecision;

/** Where a replay's records go, in emission order: JSON Lines files, or topics. */
public interface ReplayOutput extends AutoCloseable {

  void decision(TriggerDecision decision) throws IOException;

  /** Whether {@link #verdict} wants the records (building them costs a copy of the push's builders). */
  boolean wantsVerdicts();

  void verdict(PushVerdict verdict) throws IOException;

  /** Makes everything written so far durable (flushed, or acknowledged by the broker). */
  void flush() throws IOException;

  @Override
  void close() throws IOException;
}
