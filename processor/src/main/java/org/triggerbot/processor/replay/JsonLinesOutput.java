package org.triggerbot.processor.replay;

import java.io.IOException;
import java.io.Writer;
import org.triggerbot.schemas.AvroJson;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.TriggerDecision;

/**
 * A replay's records as JSON Lines (SPEC section 7): one decision per line with the Avro field names, and
 * optionally one verdict per line. The writers are the caller's to close.
 */
public final class JsonLinesOutput implements ReplayOutput {

  private final Writer decisions;
  private final Writer verdicts;

  /** @param verdicts where verdicts go, or null to skip them (a replay without {@code --verdicts}) */
  public JsonLinesOutput(Writer decisions, Writer verdicts) {
    this.decisions = decisions;
    this.verdicts = verdicts;
  }

  @Override
  public void decision(TriggerDecision decision) throws IOException {
    decisions.write(AvroJson.toJsonLine(decision));
    decisions.write('\n');
  }

  @Override
  public boolean wantsVerdicts() {
    return verdicts != null;
  }

  @Override
  public void verdict(PushVerdict verdict) throws IOException {
    if (verdicts != null) {
      verdicts.write(AvroJson.toJsonLine(verdict));
      verdicts.write('\n');
    }
  }

  @Override
  public void flush() throws IOException {
    decisions.flush();
    if (verdicts != null) {
      verdicts.flush();
    }
  }

  @Override
  public void close() throws IOException {
    flush();
  }
}
