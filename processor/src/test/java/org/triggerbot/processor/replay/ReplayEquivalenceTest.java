package org.triggerbot.processor.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;

/**
 * The fast engine decides exactly as the production topology: the same decisions, verdicts and rejections, byte
 * for byte and in the same order, over varied feeds ({@link VariedFeed}) and under policies that between them
 * change every policy key.
 */
class ReplayEquivalenceTest {

  /** Between them, these change every policy key ({@link #thePoliciesChangeEveryPolicyKey}). */
  static final List<List<String>> POLICIES = List.of(
      List.of(),
      List.of("budget.floor=1", "budget.ratio=0.5", "retry.count=2"),
      List.of("confirm.passes=2", "confirm.failures=2", "confirm.max.retriggers=1"),
      List.of("confirm.passes=1", "confirm.failures=5", "confirm.max.retriggers=6", "budget.floor=50"),
      List.of("push.ttl=PT20M", "global.max.failure.triggers.per.hour=7", "global.max.requested.triggers.per.hour=9"),
      List.of("push.ttl=P2D", "require.try.syntax=false", "requested.limit=1", "taskcluster.enabled=true"),
      List.of("branches=try,mozilla-inbound", "pulse.max.bytes=3000", "dry.run=true"),
      List.of("trigger.users=dev0@example.com,big@example.com", "ignore.users=dev1@example.com",
          "builders.deny=talos,suite-1[0-9]", "builders.hidden=Ubuntu VM 12.04 try opt test suite-3"),
      List.of("triggering.enabled=false", "branches=mozilla-inbound"),
      List.of("taskcluster.enabled=true", "branches=try,mozilla-inbound"));

  static Stream<Arguments> cases() {
    return Stream.of(1L, 2L, 3L).flatMap(seed -> POLICIES.stream().map(p -> Arguments.of(seed, p)));
  }

  @ParameterizedTest(name = "seed {0}, {1}")
  @MethodSource("cases")
  void theFastEngineDecidesExactlyAsTheTopology(long seed, List<String> assignments) throws IOException {
    byte[] feed = VariedFeed.generate(seed, 24, 10);
    PolicySettings policy = PolicyConfig.fromAssignments(assignments);

    Run topology = run(feed, (source, out, err) -> new Replay(policy).run(source, out, err));
    Run fast = run(feed, (source, out, err) -> new FastReplay(policy, 2, ReplayEngine.Progress.NONE)
        .run(source, out, err));

    assertTrue(topology.summary.decisions() > 0, "the feed must give decisions to compare");
    assertEquals(assignments.contains("taskcluster.enabled=true"), topology.decisions.contains("task-failed."),
        "Taskcluster results are decided on exactly when the policy enables them");
    assertEquals(topology.decisions, fast.decisions);
    assertEquals(topology.verdicts, fast.verdicts);
    assertEquals(topology.errors, fast.errors);
    assertEquals(topology.summary, fast.summary);
  }

  static Stream<Arguments> partitionedCases() {
    return Stream.of(1L, 2L).flatMap(seed -> Stream.of(POLICIES.get(0), POLICIES.get(4), POLICIES.get(2))
        .flatMap(p -> Stream.of(Arguments.of(seed, p, 3), Arguments.of(seed, p, 4))));
  }

  /**
   * A processor on N partitions is N processors on one, each on the records the bridge's producer put in its
   * partition and with 1/N of the global limits: the fast engine's partitioned replay must decide each partition
   * exactly as the topology decides that partition's records alone.
   */
  @ParameterizedTest(name = "seed {0}, {1}, {2} partitions")
  @MethodSource("partitionedCases")
  void aPartitionedReplayDecidesEachPartitionAsTheTopologyDecidesItsRecordsAlone(long seed, List<String> assignments,
      int partitions) throws IOException {
    byte[] feed = VariedFeed.generate(seed, 24, 10);
    PolicySettings policy = PolicyConfig.fromAssignments(assignments);
    List<ByteArrayOutputStream> parts = new java.util.ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      parts.add(new ByteArrayOutputStream());
    }
    try (ReplaySource lines = ReplaySource.lines(new ByteArrayInputStream(feed), feed.length)) {
      for (List<Input> chunk = lines.next(100); !chunk.isEmpty(); chunk = lines.next(100)) {
        for (Input in : chunk) {
          if (!in.blank()) {
            ByteArrayOutputStream part = parts.get(bridgePartition(in.body(), partitions));
            part.writeBytes(in.body());
            part.write('\n');
          }
        }
      }
    }

    Run fast = run(feed, (source, out, err) -> new FastReplay(policy, partitions, 2, ReplayEngine.Progress.NONE)
        .run(source, out, err));
    long decisions = 0;
    long rejected = 0;
    for (int p = 0; p < partitions; p++) {
      byte[] part = parts.get(p).toByteArray();
      Run alone = run(part, (source, out, err) -> new Replay(policy.sharedAmong(partitions)).run(source, out, err));
      decisions += alone.summary.decisions();
      rejected += alone.summary.rejected();
      assertEquals(alone.decisions, linesOfPartition(fast.decisions, p, partitions), "decisions of partition " + p);
      assertEquals(alone.verdicts, linesOfPartition(fast.verdicts, p, partitions), "verdicts of partition " + p);
    }
    assertTrue(decisions > 0, "the feed must give decisions to compare");
    assertEquals(decisions, fast.summary.decisions());
    assertEquals(rejected, fast.summary.rejected());
  }

  /** Where the bridge's producer puts a body: Kafka's default partitioner over the record key it gives it. */
  private static int bridgePartition(byte[] body, int partitions) {
    org.triggerbot.common.PulseEnvelope e = org.triggerbot.common.PulseEnvelope.read(body);
    String key = e.recordKey(e.routingKey() == null ? "" : e.routingKey());
    return org.apache.kafka.common.utils.Utils.toPositive(
        org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** The JSON lines (decisions or verdicts) of the pushes in partition {@code p}, in order. */
  private static String linesOfPartition(String jsonLines, int p, int partitions) {
    StringBuilder out = new StringBuilder();
    for (String line : jsonLines.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      try {
        var node = JSON.readTree(line);
        String key = node.get("branch").asText() + "/" + node.get("revision").asText();
        if (org.apache.kafka.common.utils.Utils.toPositive(
            org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions == p) {
          out.append(line).append('\n');
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return out.toString();
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  @Test
  void thePoliciesChangeEveryPolicyKey() {
    Set<String> changed = new TreeSet<>();
    POLICIES.forEach(p -> p.forEach(a -> changed.add(a.substring(0, a.indexOf('=')))));
    assertEquals(new TreeSet<>(PolicyConfig.DEFINITION.names()), changed);
  }

  private record Run(Replay.Summary summary, String decisions, String verdicts, String errors) {}

  private interface Engine {
    Replay.Summary run(ReplaySource source, ReplayOutput out, PrintStream err) throws IOException;
  }

  private static Run run(byte[] feed, Engine engine) throws IOException {
    StringWriter decisions = new StringWriter();
    StringWriter verdicts = new StringWriter();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    Replay.Summary summary;
    try (ReplaySource source = ReplaySource.lines(new ByteArrayInputStream(feed), feed.length)) {
      summary = engine.run(source, new JsonLinesOutput(decisions, verdicts),
          new PrintStream(errors, true, StandardCharsets.UTF_8));
    }
    return new Run(summary, decisions.toString(), verdicts.toString(), errors.toString(StandardCharsets.UTF_8));
  }
}
