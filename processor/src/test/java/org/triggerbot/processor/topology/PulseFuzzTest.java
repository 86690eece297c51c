package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.TriggerDecision;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * 100,000 inputs made from a realistic feed by the mutations that real trouble produces (truncation, wrong types,
 * deep nesting, huge strings, invalid UTF-8, numbers out of range, flipped bytes, missing or repeated fields), plus
 * record values that are not PulseMessages at all. They go through the parser alone, then through the whole
 * topology: nothing may throw or stop it, every input is accepted, out of scope or rejected with a reason, the
 * three counts add up to the inputs and agree between the parser, the topology's sensors and {@code pulse.rejected},
 * and a clean feed afterwards is decided exactly as on a fresh processor.
 */
class PulseFuzzTest {

  private static final int INPUTS = 100_000;
  private static final int NOT_AVRO = 500;
  private static final long SEED = 20_150_601L;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final List<String> POLICY = TopologyHarness.policy();

  /** One kind of damage. */
  enum Mutation {
    NONE, TRUNCATE, WRONG_TYPE, DEEP_NESTING, HUGE_STRING, INVALID_UTF8, NUMBER_OUT_OF_RANGE,
    FLIPPED_BYTES, MISSING_FIELD, REPEATED_FIELD
  }

  /** One fuzzed input: the body's bytes, and how the bridge would key it. */
  @SuppressWarnings("ArrayRecordComponent") // a plain carrier, never compared, hashed or printed as a whole
  record Input(Mutation mutation, byte[] body, String key, String routingKey) {}

  @TempDir
  Path dir;

  @Test
  void everyInputIsDecidedOutOfScopeOrRejectedWithAReasonAndNothingStopsThePipeline() {
    List<Input> inputs = fuzz(SEED, INPUTS);
    Map<Mutation, Integer> made = new EnumMap<>(Mutation.class);
    inputs.forEach(i -> made.merge(i.mutation(), 1, Integer::sum));
    assertEquals(Mutation.values().length, made.size(), "every mutation is made: " + made);

    // 1. The parser alone: it never throws, and names a reason for every body it refuses.
    PolicySettings settings = PolicyConfig.fromAssignments(POLICY);
    PulseParser parser = new PulseParser(settings.branches(), settings.pulseMaxBytes());
    int accepted = 0;
    int outOfScope = 0;
    Map<String, Integer> reasons = new TreeMap<>();
    Map<Mutation, int[]> byMutation = new EnumMap<>(Mutation.class); // accepted, out of scope, rejected
    for (Input input : inputs) {
      ParseOutcome outcome = parser.parse(input.body());
      assertNotNull(outcome);
      byMutation.computeIfAbsent(input.mutation(), m -> new int[3])[outcome instanceof ParseOutcome.Accepted ? 0
          : outcome instanceof ParseOutcome.OutOfScope ? 1 : 2]++;
      if (outcome instanceof ParseOutcome.Accepted) {
        accepted++;
      } else if (outcome instanceof ParseOutcome.OutOfScope) {
        outOfScope++;
      } else {
        ParseOutcome.Rejected rejected = (ParseOutcome.Rejected) outcome;
        assertNotNull(rejected.reason());
        assertFalse(rejected.error() == null || rejected.error().isBlank(), "an error text for " + rejected);
        reasons.merge(rejected.reason().name(), 1, Integer::sum);
      }
    }
    int rejectedByParser = reasons.values().stream().mapToInt(Integer::intValue).sum();
    assertEquals(INPUTS, accepted + outOfScope + rejectedByParser);
    assertTrue(accepted > INPUTS / 5 && rejectedByParser > INPUTS / 5,
        "the fuzz both keeps and breaks bodies: " + accepted + " accepted, " + rejectedByParser + " rejected");

    // 2. The topology: the same inputs, then values that are not PulseMessages.
    List<TriggerDecision> decisions;
    List<RejectedMessage> rejected;
    Map<String, Double> sensors;
    try (TopologyHarness h = new TopologyHarness(POLICY, dir.resolve("fuzz"))) {
      for (Input input : inputs) {
        h.pipeBytes(input.key(), input.routingKey(), input.body());
      }
      Random random = new Random(SEED);
      for (int i = 0; i < NOT_AVRO; i++) {
        byte[] value = new byte[random.nextInt(64)];
        random.nextBytes(value);
        h.pipeRawValue(value);
      }
      decisions = h.decisions();
      rejected = h.rejected();
      sensors = parseSensors(h.driver.metrics());

      // 3. Still working: a clean feed of new pushes is decided as a fresh processor decides it.
      List<String> clean = ScenarioStream.generate(SEED + 1, 20, 8);
      h.pipe(clean.toArray(String[]::new));
      List<TriggerDecision> after = h.decisions();
      List<TriggerDecision> fresh = TopologyHarness.replay(POLICY, dir.resolve("fresh"), clean).decisions();
      assertTrue(fresh.size() > 20, "the clean feed decides: " + fresh.size());
      assertEquals(fresh, after, "a clean feed after the fuzz is decided as on a fresh processor");
    }

    Map<String, Integer> topologyReasons = new TreeMap<>();
    rejected.forEach(r -> topologyReasons.merge(r.getReason(), 1, Integer::sum));
    Map<String, Integer> expectedReasons = new TreeMap<>(reasons);
    expectedReasons.put("NOT_AVRO", NOT_AVRO);
    assertEquals(expectedReasons, topologyReasons, "pulse.rejected holds each refused input once, with its reason");
    assertEquals((double) accepted, sensors.get("pulse-accepted-total"));
    assertEquals((double) outOfScope, sensors.get("pulse-out-of-scope-total"));
    assertEquals((double) rejectedByParser + NOT_AVRO, sensors.get("pulse-rejected-total"));
    assertEquals(INPUTS + NOT_AVRO, (int) (sensors.get("pulse-accepted-total") + sensors.get("pulse-out-of-scope-total")
        + sensors.get("pulse-rejected-total")), "the counts add up to the inputs");
    assertTrue(decisions.size() > 1_000 && decisions.size() <= accepted,
        "accepted inputs are decided (a start or a pass has nothing to decide): " + decisions.size());

    System.out.printf("fuzz: %,d inputs (%s) + %,d not Avro: %,d accepted (%,d decisions), %,d out of scope, "
        + "%,d rejected%n", INPUTS, made, NOT_AVRO, accepted, decisions.size(), outOfScope,
        rejectedByParser + NOT_AVRO);
    topologyReasons.forEach((reason, n) -> System.out.printf("fuzz: rejected %-16s %,7d%n", reason, n));
    byMutation.forEach((mutation, n) -> System.out.printf("fuzz: %-19s %,6d accepted %,6d out of scope %,6d rejected%n",
        mutation, n[0], n[1], n[2]));
  }

  /** The parse processor's sensors, summed over tasks: name (e.g. pulse-accepted-total) to value. */
  private static Map<String, Double> parseSensors(Map<MetricName, ? extends Metric> metrics) {
    Map<String, Double> out = new TreeMap<>();
    metrics.forEach((name, metric) -> {
      if (name.group().equals("stream-triggerbot-metrics") && name.name().startsWith("pulse-")
          && name.name().endsWith("-total")) {
        out.merge(name.name(), ((Number) metric.metricValue()).doubleValue(), Double::sum);
      }
    });
    return out;
  }

  // --- the fuzz ----------------------------------------------------------------------------------------------

  /**
   * n inputs: the bodies of a generated feed in order, cycled, each mutated (one in five left whole). Each is keyed
   * as the bridge keys it (the push it names, else the routing key), from the mutated bytes.
   */
  static List<Input> fuzz(long seed, int n) {
    Random random = new Random(seed);
    List<String> feed = ScenarioStream.generate(seed, n / 20, 8);
    Mutation[] kinds = Mutation.values();
    List<Input> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] whole = feed.get(i % feed.size()).getBytes(StandardCharsets.UTF_8);
      Mutation mutation = random.nextInt(5) == 0 ? Mutation.NONE : kinds[1 + random.nextInt(kinds.length - 1)];
      byte[] body = mutate(mutation, whole, random);
      PulseEnvelope envelope = PulseEnvelope.read(body);
      String routingKey = envelope.routingKey() == null ? "unknown" : envelope.routingKey();
      out.add(new Input(mutation, body, envelope.recordKey(routingKey), routingKey));
    }
    return out;
  }

  static byte[] mutate(Mutation mutation, byte[] body, Random random) {
    return switch (mutation) {
      case NONE -> body;
      case TRUNCATE -> Arrays.copyOf(body, random.nextInt(body.length));
      case FLIPPED_BYTES -> {
        byte[] b = body.clone();
        for (int k = 1 + random.nextInt(4); k > 0; k--) {
          b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        }
        yield b;
      }
      case INVALID_UTF8 -> invalidUtf8(body, random);
      case WRONG_TYPE, DEEP_NESTING, HUGE_STRING, NUMBER_OUT_OF_RANGE, MISSING_FIELD -> {
        ObjectNode tree = tree(body);
        List<Slot> slots = new ArrayList<>();
        if (tree != null) {
          collect(tree, slots);
        }
        Slot slot = pick(slots, mutation, random);
        if (slot == null) {
          yield body; // the feed's own malformed bodies stay as they are
        }
        if (mutation == Mutation.MISSING_FIELD) {
          slot.remove();
          yield write(tree);
        }
        if (mutation == Mutation.DEEP_NESTING) {
          // Spliced in as text: Jackson would refuse to write a tree this deep (its own nesting limit).
          String old = new String(write(slot.get()), StandardCharsets.UTF_8);
          slot.set(JsonNodeFactory.instance.textNode(DEEP));
          String text = new String(write(tree), StandardCharsets.UTF_8);
          yield text.replace("\"" + DEEP + "\"", nested(old, random)).getBytes(StandardCharsets.UTF_8);
        }
        slot.set(replacement(mutation, slot.get(), random));
        yield write(tree);
      }
      case REPEATED_FIELD -> repeatedField(body, random);
    };
  }

  /** A place in the tree: a field of an object or an element of an array. */
  record Slot(JsonNode parent, String field, int index) {
    JsonNode get() {
      return field != null ? parent.get(field) : parent.get(index);
    }

    void set(JsonNode value) {
      if (field != null) {
        ((ObjectNode) parent).set(field, value);
      } else {
        ((ArrayNode) parent).set(index, value);
      }
    }

    void remove() {
      if (field != null) {
        ((ObjectNode) parent).remove(field);
      } else {
        ((ArrayNode) parent).remove(index);
      }
    }
  }

  private static void collect(JsonNode node, List<Slot> slots) {
    if (node.isObject()) {
      node.fieldNames().forEachRemaining(f -> {
        slots.add(new Slot(node, f, -1));
        collect(node.get(f), slots);
      });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        slots.add(new Slot(node, null, i));
        collect(node.get(i), slots);
      }
    }
  }

  /** A slot that suits the mutation (a number for NUMBER_OUT_OF_RANGE, a string for HUGE_STRING), or any. */
  private static Slot pick(List<Slot> slots, Mutation mutation, Random random) {
    List<Slot> suitable = slots.stream().filter(s -> switch (mutation) {
      case NUMBER_OUT_OF_RANGE -> s.get().isNumber();
      case HUGE_STRING -> s.get().isTextual();
      default -> true;
    }).toList();
    List<Slot> from = suitable.isEmpty() ? slots : suitable;
    return from.isEmpty() ? null : from.get(random.nextInt(from.size()));
  }

  private static JsonNode replacement(Mutation mutation, JsonNode old, Random random) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return switch (mutation) {
      case WRONG_TYPE -> {
        // A node of another type than the old one.
        JsonNode[] others = {f.numberNode(random.nextInt(1000) - 500), f.textNode("x" + random.nextInt(100)),
            f.booleanNode(random.nextBoolean()), f.nullNode(), f.arrayNode().add(1).add("two"),
            f.objectNode().put("k", "v"), f.numberNode(random.nextDouble())};
        JsonNode pick;
        do {
          pick = others[random.nextInt(others.length)];
        } while (pick.getNodeType() == old.getNodeType());
        yield pick;
      }
      case HUGE_STRING -> {
        // Mostly large but under pulse.max.bytes (1 MiB); one in a hundred over it.
        int length = random.nextInt(100) == 0 ? 1_100_000 : 1_000 + random.nextInt(20_000);
        char[] chars = new char[length];
        Arrays.fill(chars, (char) ('a' + random.nextInt(26)));
        yield f.textNode(new String(chars));
      }
      case NUMBER_OUT_OF_RANGE -> {
        JsonNode[] far = {f.numberNode(new BigInteger("123456789012345678901234567890")),
            f.numberNode(BigInteger.TWO.pow(64)), f.numberNode(Long.MIN_VALUE), f.numberNode(-1),
            f.numberNode(Integer.MAX_VALUE + 1L), f.numberNode(1e308), f.numberNode(-1e308), f.numberNode(0.5),
            f.numberNode(new java.math.BigDecimal("1e400"))};
        yield far[random.nextInt(far.length)];
      }
      default -> throw new IllegalArgumentException(mutation.name());
    };
  }

  private static final String DEEP = "@@deep@@";

  /** value inside arrays and objects nested deeper than any parser's default limit, now and then far deeper. */
  private static String nested(String value, Random random) {
    int depth = random.nextInt(50) == 0 ? 20_000 + random.nextInt(20_000) : 500 + random.nextInt(2_000);
    StringBuilder open = new StringBuilder();
    StringBuilder close = new StringBuilder();
    for (int d = 0; d < depth; d++) {
      boolean array = random.nextBoolean();
      open.append(array ? "[" : "{\"n\":");
      close.append(array ? ']' : '}');
    }
    return open + value + close.reverse();
  }

  /** Invalid UTF-8 sequences put inside the body: lone continuation, overlong, surrogate, truncated, 0xFF. */
  private static byte[] invalidUtf8(byte[] body, Random random) {
    byte[][] bad = {{(byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xE2, (byte) 0x82}, {(byte) 0xFF}, {(byte) 0xC3, (byte) 0x28}, {(byte) 0xF8, (byte) 0x88,
            (byte) 0x80, (byte) 0x80, (byte) 0x80}};
    // Inside a string when possible (after a quote), where a lenient reader would let it through.
    int at = random.nextInt(body.length);
    for (int k = at; k < body.length; k++) {
      if (body[k] == '"') {
        at = k + 1;
        break;
      }
    }
    byte[] insert = bad[random.nextInt(bad.length)];
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + insert.length);
    out.write(body, 0, at);
    out.writeBytes(insert);
    out.write(body, at, body.length - at);
    return out.toByteArray();
  }

  /** A field of the body written twice, the first time with another value (JSON allows it; Jackson's last wins). */
  private static byte[] repeatedField(byte[] body, Random random) {
    String text = new String(body, StandardCharsets.UTF_8);
    String[] fields = {"\"buildername\":", "\"revision\":", "\"results\":", "\"sent\":", "\"branch\":",
        "\"routing_key\":", "\"properties\":"};
    String field = fields[random.nextInt(fields.length)];
    int at = text.indexOf(field);
    if (at < 0) {
      return body;
    }
    String[] values = {"null", "2", "\"try\"", "\"0123456789ab\"", "[]", "{}", "\"2015-06-01T10:00:00+00:00\""};
    return (text.substring(0, at) + field + values[random.nextInt(values.length)] + "," + text.substring(at))
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The body as a tree, or null for the few bodies of the feed that are malformed on purpose. */
  private static ObjectNode tree(byte[] body) {
    try {
      return MAPPER.readTree(body) instanceof ObjectNode object ? object : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static byte[] write(JsonNode tree) {
    try {
      return MAPPER.writeValueAsBytes(tree);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
