package org.triggerbot.processor.whatif;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;

/** The what-if CSV of SPEC section 7: a header, then one row per policy in grid order (RFC 4180 quoting). */
final class WhatIfCsv {

  private static final List<VerdictState> VERDICT_COLUMNS = List.of(VerdictState.GREEN,
      VerdictState.INTERMITTENT_ONLY, VerdictState.FAILING, VerdictState.UNKNOWN, VerdictState.PENDING);

  private WhatIfCsv() {}

  static String header() {
    List<String> columns = new ArrayList<>(List.of("policy", "policyVersion", "pushes"));
    VERDICT_COLUMNS.forEach(v -> columns.add(v.name()));
    columns.add("decisions");
    for (DecisionReason r : WhatIfRow.REASONS) {
      columns.add(r.name());
    }
    columns.addAll(List.of("triggerJobs", "failureTriggerJobs", "requestedTriggerJobs", "dryRunJobs",
        "budgetExhaustedPushes", "triggersPerPush"));
    return String.join(",", columns);
  }

  static String row(WhatIfRow row) {
    List<String> cells = new ArrayList<>();
    cells.add(quote(row.policy()));
    cells.add(quote(row.policyVersion()));
    cells.add(Long.toString(row.pushes()));
    VERDICT_COLUMNS.forEach(v -> cells.add(Long.toString(row.verdicts().getOrDefault(v, 0L))));
    cells.add(Long.toString(row.decisions()));
    for (DecisionReason r : WhatIfRow.REASONS) {
      cells.add(Long.toString(row.reasons().getOrDefault(r, 0L)));
    }
    cells.add(Long.toString(row.triggerJobs()));
    cells.add(Long.toString(row.failureTriggerJobs()));
    cells.add(Long.toString(row.requestedTriggerJobs()));
    cells.add(Long.toString(row.dryRunJobs()));
    cells.add(Long.toString(row.budgetExhaustedPushes()));
    cells.add(String.format(Locale.ROOT, "%.4f", row.triggersPerPush()));
    return String.join(",", cells);
  }

  /** Quoted only when it must be: a comma, a quote or a line end inside. */
  static String quote(String cell) {
    if (cell.indexOf(',') < 0 && cell.indexOf('"') < 0 && cell.indexOf('\n') < 0 && cell.indexOf('\r') < 0) {
      return cell;
    }
    return '"' + cell.replace("\"", "\"\"") + '"';
  }
}
