package org.triggerbot.processor.pulse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.triggerbot.common.JsonPrune;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.common.PushKey;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;

/**
 * Reads a mozillapulse buildbot message body (SPEC section 3) into a {@link PushEvent}, or says why it cannot.
 *
 * <p>Order of checks, which decides whether a message is dropped or rejected: size; JSON object; {@code _meta}
 * exchange (not the build exchange: out of scope); routing key (not {@code build.*.started|finished}: out of
 * scope); the {@code branch} property (not enabled: out of scope, before any further validation); then every
 * other field the policy needs. Only the fields the policy reads are looked at.
 *
 * <p>The event's push ({@code branch/revision}) follows {@link PushKey}'s rules, which the bridge keys
 * {@code pulse.raw} by: an accepted body's record key is its event's push key.
 *
 * <p>Pure and thread-safe; never throws on any input.
 */
public final class PulseParser {

  /** The build exchange as Pulse names it, and the name it had before 2014 (seen in the 2013 captures). */
  public static final Set<String> BUILD_EXCHANGES = Set.of("exchange/build/", "org.mozilla.exchange.build");

  private static final ObjectMapper MAPPER = PulseEnvelope.JSON;
  /**
   * The only parts of a body the rules read; the steps, times and other properties of a real message (most of
   * its bytes) are skipped while parsing, never turned into a tree.
   */
  private static final JsonPrune NEEDED = JsonPrune.fields(Map.of(
      "_meta", JsonPrune.whole(),
      "payload", JsonPrune.fields(Map.of(
          "build", JsonPrune.fields(Map.of(
              // ~25 properties; the rules read three. The others keep their names, so that every entry is
              // still checked for its shape.
              "properties", JsonPrune.namedEntries(Set.of("branch", "buildername", "revision")),
              "results", JsonPrune.whole(),
              "sourceStamp", JsonPrune.fields(Map.of("changes", JsonPrune.whole())))),
          // A Taskcluster message (SPEC 3b): small, read by TaskclusterParser.
          "status", JsonPrune.whole(),
          "runId", JsonPrune.whole())),
      // The task definition the bridge added to a Taskcluster message; its payload (commands, env) is skipped.
      "task", JsonPrune.fields(Map.of(
          "routes", JsonPrune.whole(),
          "tags", JsonPrune.whole(),
          "metadata", JsonPrune.fields(Map.of("name", JsonPrune.whole())),
          "taskGroupId", JsonPrune.whole(),
          "extra", JsonPrune.fields(Map.of("treeherder", JsonPrune.whole()))))));

  private final Set<String> enabledBranches;
  private final long maxBytes;
  /** Null when Taskcluster input is off. */
  private final TaskclusterParser taskcluster;
  private final Map<String, Pattern> testJobPatterns = new ConcurrentHashMap<>();
  private final Map<String, Boolean> testJobs = new ConcurrentHashMap<>();
  static final int TEST_JOB_CACHE_MAX = 50_000;

  /** A parser of buildbot messages only: Taskcluster messages are out of scope. */
  public PulseParser(Set<String> enabledBranches, long maxBytes) {
    this(enabledBranches, maxBytes, false);
  }

  /**
   * @param taskcluster whether Taskcluster task results enriched by the bridge (SPEC 3b) are read, as
   *     {@code taskcluster.enabled} says; when false they are out of scope
   */
  public PulseParser(Set<String> enabledBranches, long maxBytes, boolean taskcluster) {
    this.enabledBranches = Set.copyOf(enabledBranches);
    this.maxBytes = maxBytes;
    this.taskcluster = taskcluster ? new TaskclusterParser(this.enabledBranches) : null;
  }

  /** Whether {@code routingKey} is a test (or talos) job of {@code branch}: the trigger-bot pattern, whole key. */
  public boolean isTestJob(String branch, String routingKey) {
    Pattern p = testJobPatterns.computeIfAbsent(branch, b -> Pattern.compile(
        "build\\.((" + Pattern.quote(b) + ")[-_](.*?)(-debug|-o-debug|-pgo|_pgo|_test)?[-_](test|unittest|pgo)-(.*?))"
            + "\\.(\\d+)\\.(started|finished)"));
    return p.matcher(routingKey).matches();
  }

  /**
   * {@link #isTestJob(String, String)} through a cache by branch and builder directory: the pattern's answer
   * depends on nothing else (the number and event at the end of a key are fixed by its shape), and a branch has a
   * few hundred builders while the pattern's lazy groups cost more than the rest of a message's checks. Bounded:
   * past {@link #TEST_JOB_CACHE_MAX} entries (hostile input), answers are computed and not kept.
   */
  private boolean isTestJob(String branch, String dir, String routingKey) {
    String key = branch + '\n' + dir;
    Boolean known = testJobs.get(key);
    if (known == null) {
      known = isTestJob(branch, routingKey);
      if (testJobs.size() < TEST_JOB_CACHE_MAX) {
        testJobs.put(key, known);
      }
    }
    return known;
  }

  private static boolean asciiDigits(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  public ParseOutcome parse(byte[] body) {
    if (body.length > maxBytes) {
      return rejected(RejectReason.OVERSIZED,
          "body is " + body.length + " bytes, more than pulse.max.bytes=" + maxBytes);
    }
    JsonNode root;
    try {
      root = NEEDED.read(MAPPER, body);
    } catch (JsonProcessingException e) {
      return rejected(RejectReason.NOT_JSON, "body is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return rejected(RejectReason.NOT_JSON, "body is not JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      return rejected(RejectReason.NOT_JSON, "body is not a JSON object");
    }
    try {
      return parse(root);
    } catch (Invalid e) {
      return rejected(e.reason, e.getMessage());
    }
  }

  private ParseOutcome parse(JsonNode root) throws Invalid {
    JsonNode meta = object(root, "_meta", "_meta");
    String exchange = string(meta, "exchange", "_meta.exchange");
    if (exchange.startsWith(TaskclusterParser.QUEUE_EXCHANGE_PREFIX)) {
      return taskcluster == null
          ? new ParseOutcome.OutOfScope("exchange " + exchange + " (taskcluster.enabled=false)", sentText(meta))
          : taskcluster.parse(root, exchange, sentText(meta));
    }
    if (!BUILD_EXCHANGES.contains(exchange)) {
      return new ParseOutcome.OutOfScope("exchange " + exchange, sentText(meta));
    }
    String routingKey = string(meta, "routing_key", "_meta.routing_key");
    if (!routingKey.startsWith("build.") || !(routingKey.endsWith(".started") || routingKey.endsWith(".finished"))) {
      return new ParseOutcome.OutOfScope("event " + routingKey, sentText(meta));
    }
    JsonNode build = object(object(root, "payload", "payload"), "build", "payload.build");
    String branch = Properties.branchOf(build);
    if (!enabledBranches.contains(branch)) {
      return new ParseOutcome.OutOfScope("branch " + branch, sentText(meta));
    }

    // In scope: from here on, anything wrong is a rejection.
    Properties props = Properties.read(build);
    // build.<dir>.<number>.<event>: the prefix and the event were checked above; the number is the last
    // dot-separated part before the event, the builder's directory all before it (it may hold dots).
    EventKind kind = routingKey.endsWith(".started") ? EventKind.STARTED : EventKind.FINISHED;
    int eventDot = routingKey.lastIndexOf('.');
    String middle = eventDot > "build.".length() ? routingKey.substring("build.".length(), eventDot) : "";
    int dot = middle.lastIndexOf('.');
    String dir = dot < 0 ? "" : middle.substring(0, dot);
    String number = middle.substring(dot + 1);
    if (dir.isEmpty() || !asciiDigits(number)) {
      throw new Invalid(RejectReason.BAD_ROUTING_KEY, "_meta.routing_key " + quote(routingKey)
          + " is not build.<builder>.<number>.<event>");
    }
    long buildNumber;
    try {
      buildNumber = Long.parseLong(number);
    } catch (NumberFormatException e) {
      throw new Invalid(RejectReason.BAD_ROUTING_KEY, "build number of " + quote(routingKey) + " is too large");
    }
    String revision = props.string("revision");
    if (!PushKey.isRevision(revision)) {
      throw new Invalid(RejectReason.BAD_REVISION,
          "revision " + quote(revision) + " is not 12 to 40 lowercase hex characters");
    }
    String builder = props.string("buildername");
    long sent = sent(meta);

    Integer result = null;
    if (kind == EventKind.FINISHED) {
      JsonNode r = build.get("results");
      if (r == null || r.isNull()) {
        throw new Invalid(RejectReason.MISSING_FIELD, "payload.build.results is missing on a finished message");
      }
      if (!r.isIntegralNumber() || !r.canConvertToInt()) {
        throw new Invalid(RejectReason.WRONG_TYPE,
            "payload.build.results is " + r.getNodeType().toString().toLowerCase(Locale.ROOT)
                + " " + abbreviate(r.toString()) + ", not an integer");
      }
      result = r.intValue();
    }

    // The try line and the pusher are optional: a push without them is still a push (rule 2 decides).
    String comments = null;
    String who = null;
    JsonNode changes = build.path("sourceStamp").path("changes");
    if (changes.isArray() && !changes.isEmpty()) {
      JsonNode last = changes.get(changes.size() - 1);
      comments = optionalString(last, "comments");
      who = optionalString(last, "who");
    }

    return new ParseOutcome.Accepted(PushEvent.newBuilder()
        .setBranch(branch)
        .setRevision(revision.substring(0, PushKey.REVISION_CHARS))
        .setBuilder(builder)
        .setRoutingKey(routingKey)
        .setBuildNumber(buildNumber)
        .setEvent(kind)
        .setResult(result)
        .setTestJob(isTestJob(branch, dir, routingKey))
        .setComments(comments)
        .setWho(who)
        .setEventTime(sent)
        .build());
  }

  static String sentText(JsonNode meta) {
    JsonNode sent = meta.get("sent");
    return sent != null && sent.isTextual() ? sent.asText() : null;
  }

  private static long sent(JsonNode meta) throws Invalid {
    JsonNode sent = meta.get("sent");
    if (sent == null || sent.isNull()) {
      throw new Invalid(RejectReason.BAD_TIMESTAMP, "_meta.sent is missing: the message has no event time");
    }
    if (!sent.isTextual()) {
      throw new Invalid(RejectReason.BAD_TIMESTAMP, "_meta.sent is not a string: " + abbreviate(sent.toString()));
    }
    Long millis = PulseEnvelope.rfc3339Millis(sent.asText());
    if (millis == null) {
      throw new Invalid(RejectReason.BAD_TIMESTAMP, "_meta.sent " + quote(sent.asText())
          + " is not an RFC 3339 timestamp with offset");
    }
    return millis;
  }

  static JsonNode object(JsonNode parent, String field, String path) throws Invalid {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      throw new Invalid(RejectReason.MISSING_FIELD, path + " is missing");
    }
    if (!n.isObject()) {
      throw new Invalid(RejectReason.WRONG_TYPE, path + " is not an object");
    }
    return n;
  }

  static String string(JsonNode parent, String field, String path) throws Invalid {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      throw new Invalid(RejectReason.MISSING_FIELD, path + " is missing");
    }
    if (!n.isTextual()) {
      throw new Invalid(RejectReason.WRONG_TYPE, path + " is not a string: " + abbreviate(n.toString()));
    }
    return n.asText();
  }

  static String optionalString(JsonNode parent, String field) {
    JsonNode n = parent.get(field);
    return n != null && n.isTextual() ? n.asText() : null;
  }

  static String quote(String s) {
    return "\"" + abbreviate(s) + "\"";
  }

  static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static ParseOutcome rejected(RejectReason reason, String error) {
    return new ParseOutcome.Rejected(reason, error);
  }

  /** {@code payload.build.properties}: a list of {@code [name, value, source]}; a repeated name: the last wins. */
  private record Properties(Map<String, JsonNode> byName) {

    /**
     * The branch alone, read leniently (the last well-formed {@code branch} entry), so that a message of a
     * branch that is not enabled is dropped before any further validation.
     */
    static String branchOf(JsonNode build) throws Invalid {
      JsonNode branch = null;
      for (JsonNode p : list(build)) {
        if (p.isArray() && p.size() >= 2 && p.get(0).isTextual() && p.get(0).asText().equals("branch")) {
          branch = p.get(1);
        }
      }
      if (branch == null || branch.isNull()) {
        throw new Invalid(RejectReason.MISSING_FIELD, "property branch is missing");
      }
      if (!branch.isTextual()) {
        throw new Invalid(RejectReason.WRONG_TYPE, "property branch is not a string: " + abbreviate(branch.toString()));
      }
      return branch.asText();
    }

    static Properties read(JsonNode build) throws Invalid {
      JsonNode list = list(build);
      Map<String, JsonNode> byName = new java.util.HashMap<>();
      for (int i = 0; i < list.size(); i++) {
        JsonNode p = list.get(i);
        if (!p.isArray() || p.size() < 2 || !p.get(0).isTextual()) {
          throw new Invalid(RejectReason.WRONG_TYPE,
              "payload.build.properties[" + i + "] is not [name, value, source]");
        }
        byName.put(p.get(0).asText(), p.get(1));
      }
      return new Properties(byName);
    }

    private static JsonNode list(JsonNode build) throws Invalid {
      JsonNode list = build.get("properties");
      if (list == null || list.isNull()) {
        throw new Invalid(RejectReason.MISSING_FIELD, "payload.build.properties is missing");
      }
      if (!list.isArray()) {
        throw new Invalid(RejectReason.WRONG_TYPE, "payload.build.properties is not a list");
      }
      return list;
    }

    String string(String name) throws Invalid {
      JsonNode v = byName.get(name);
      String path = "property " + name;
      if (v == null || v.isNull()) {
        throw new Invalid(RejectReason.MISSING_FIELD, path + " is missing");
      }
      if (!v.isTextual()) {
        throw new Invalid(RejectReason.WRONG_TYPE, path + " is not a string: " + abbreviate(v.toString()));
      }
      if (v.asText().isEmpty()) {
        throw new Invalid(RejectReason.MISSING_FIELD, path + " is empty");
      }
      return v.asText();
    }
  }

  /** Internal control flow for the first problem found; carries no stack trace. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;
    final RejectReason reason;

    Invalid(RejectReason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }
}
