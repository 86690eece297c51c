package org.triggerbot.processor.whatif;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.replay.JsonLinesOutput;
import org.triggerbot.processor.replay.Replay;
import org.triggerbot.processor.replay.ReplayEngine;
import org.triggerbot.processor.replay.ReplaySource;
import org.triggerbot.processor.replay.VariedFeed;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * A what-if's rows, all policies decided in one pass, equal what the production topology decides for each policy
 * alone: decisions by reason, jobs, budget-exhausted pushes, and the final verdict of every push.
 *
 * <p>The topology's verdict records do not say which life of a push they belong to, so a push whose latest life
 * has no verdict yet (it came back after its TTL with build jobs only) still shows its old life's verdict there.
 * Over the varied feed (pushes do come back) the verdict columns are therefore compared with a what-if of each
 * policy alone and bounded by the topology; over a feed where no push lives twice they are compared with the
 * topology's exactly.
 */
class WhatIfEquivalenceTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void everyRowEqualsTheTopologyReplayOfItsPolicy() throws IOException {
    byte[] feed = VariedFeed.generate(7, 30, 10);
    Grid grid = new Grid();
    Set<String> keys = Set.copyOf(PolicyConfig.DEFINITION.names());
    grid.add("budget.floor=1,5", keys);
    grid.add("confirm.max.retriggers=1,3", keys);
    grid.add("push.ttl=PT20M,P14D", keys);
    grid.add("branches=try,try\\,mozilla-inbound", keys);
    List<Grid.Point> points = grid.points();
    assertEquals(16, points.size());
    assertEquals("budget.floor=1 confirm.max.retriggers=1 push.ttl=PT20M branches=try,mozilla-inbound",
        points.get(1).label(), "the first --grid varies slowest; \\, is a comma inside a value");
    List<PolicySettings> policies = policies(points);

    WhatIf.Result result = whatIf(feed, points.stream().map(Grid.Point::label).toList(), policies);

    for (int i = 0; i < policies.size(); i++) {
      WhatIfRow row = result.rows().get(i);
      WhatIfRow topology = fromTopology(feed, policies.get(i), i + 1, points.get(i).label());
      assertEquals(withVerdicts(topology, row.pushes(), row.verdicts()), row, points.get(i).label());
      assertTrue(row.pushes() <= topology.pushes());
      WhatIfRow alone = whatIf(feed, List.of(row.policy()), List.of(policies.get(i))).rows().get(0);
      assertEquals(withIndex(alone, row.index()), row, "one pass over all policies = each policy alone");
    }
    assertTrue(result.rows().stream().map(WhatIfRow::triggerJobs).distinct().count() > 2,
        "the grid must change what is decided, or the comparison proves little");
    assertTrue(result.input().rejected() > 0 && result.input().firstEvent() != null);
  }

  @Test
  void whereNoPushLivesTwiceTheVerdictColumnsEqualTheTopologysFinalVerdicts() throws IOException {
    byte[] feed = String.join("\n", ScenarioStream.generate(11, 25, 12)).getBytes(StandardCharsets.UTF_8);
    Grid grid = new Grid();
    grid.add("confirm.failures=1,2,3", Set.copyOf(PolicyConfig.DEFINITION.names()));
    List<Grid.Point> points = grid.points();
    List<PolicySettings> policies = policies(points);
    WhatIf.Result result = whatIf(feed, points.stream().map(Grid.Point::label).toList(), policies);
    for (int i = 0; i < policies.size(); i++) {
      assertEquals(fromTopology(feed, policies.get(i), i + 1, points.get(i).label()), result.rows().get(i));
    }
    assertTrue(result.rows().stream().map(r -> r.verdicts().get(VerdictState.FAILING)).distinct().count() > 1,
        "confirm.failures must change the verdicts, or the comparison proves little");
  }

  private static List<PolicySettings> policies(List<Grid.Point> points) {
    List<PolicySettings> policies = new ArrayList<>();
    for (Grid.Point p : points) {
      policies.add(PolicyConfig.fromAssignments(p.assignments()));
    }
    return policies;
  }

  /** A what-if of {@code policies} over {@code feed}, two policies at a time. */
  private static WhatIf.Result whatIf(byte[] feed, List<String> labels, List<PolicySettings> policies)
      throws IOException {
    try (ReplaySource source = ReplaySource.lines(new ByteArrayInputStream(feed), feed.length)) {
      return new WhatIf(2, ReplayEngine.Progress.NONE).run(source, "feed", labels, policies, (where, reason, e) -> {});
    }
  }

  private static WhatIfRow withVerdicts(WhatIfRow r, long pushes, Map<VerdictState, Long> verdicts) {
    return new WhatIfRow(r.index(), r.policy(), r.policyVersion(), pushes, verdicts, r.decisions(), r.reasons(),
        r.triggerJobs(), r.failureTriggerJobs(), r.requestedTriggerJobs(), r.dryRunJobs(), r.budgetExhaustedPushes());
  }

  private static WhatIfRow withIndex(WhatIfRow r, int index) {
    return new WhatIfRow(index, r.policy(), r.policyVersion(), r.pushes(), r.verdicts(), r.decisions(), r.reasons(),
        r.triggerJobs(), r.failureTriggerJobs(), r.requestedTriggerJobs(), r.dryRunJobs(), r.budgetExhaustedPushes());
  }

  /** The row of one policy computed from the topology replay's decision and verdict records alone. */
  private static WhatIfRow fromTopology(byte[] feed, PolicySettings policy, int index, String label)
      throws IOException {
    StringWriter decisions = new StringWriter();
    StringWriter verdicts = new StringWriter();
    try (ReplaySource source = ReplaySource.lines(new ByteArrayInputStream(feed), feed.length)) {
      new Replay(policy).run(source, new JsonLinesOutput(decisions, verdicts),
          new PrintStream(OutputStream.nullOutputStream()));
    }
    Map<DecisionReason, Long> reasons = new EnumMap<>(DecisionReason.class);
    for (DecisionReason r : WhatIfRow.REASONS) {
      reasons.put(r, 0L);
    }
    long failureJobs = 0;
    long requestedJobs = 0;
    long dryRunJobs = 0;
    long count = 0;
    Set<String> exhausted = new HashSet<>();
    for (String line : decisions.toString().lines().toList()) {
      JsonNode d = MAPPER.readTree(line);
      DecisionReason reason = DecisionReason.valueOf(d.get("reason").asText());
      int jobs = d.get("count").asInt();
      count++;
      reasons.merge(reason, 1L, Long::sum);
      switch (reason) {
        case TRIGGER_FAILURE -> failureJobs += jobs;
        case TRIGGER_REQUESTED -> requestedJobs += jobs;
        case DRY_RUN -> dryRunJobs += jobs;
        case SKIP_PUSH_BUDGET -> exhausted.add(d.get("branch").asText() + "/" + d.get("revision").asText());
        default -> {}
      }
    }
    Map<String, VerdictState> last = new LinkedHashMap<>();
    for (String line : verdicts.toString().lines().toList()) {
      JsonNode v = MAPPER.readTree(line);
      last.put(v.get("branch").asText() + "/" + v.get("revision").asText(),
          VerdictState.valueOf(v.get("state").asText()));
    }
    Map<VerdictState, Long> byState = new EnumMap<>(VerdictState.class);
    for (VerdictState s : VerdictState.values()) {
      byState.put(s, 0L);
    }
    last.values().forEach(s -> byState.merge(s, 1L, Long::sum));
    return new WhatIfRow(index, label, policy.version(), last.size(), byState, count, reasons,
        failureJobs + requestedJobs, failureJobs, requestedJobs, dryRunJobs, exhausted.size());
  }
}
