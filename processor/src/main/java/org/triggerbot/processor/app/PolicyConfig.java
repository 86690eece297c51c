package org.triggerbot.processor.app;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigException;
import org.triggerbot.common.ConfigSources;
import org.triggerbot.processor.policy.PolicySettings;

/**
 * The policy keys of SPEC section 4, typed and validated. Every key has a type, a default, a validator and a
 * doc string; an unknown key or an invalid value is a {@link ConfigException} that names the key, never a silent
 * default.
 *
 * <p>Booleans are exactly {@code true} or {@code false}; lists are split on {@code ,}, items trimmed and empty
 * items dropped; {@code budget.ratio} is read as a decimal (no floating point anywhere in the budget rule).
 */
public final class PolicyConfig extends AbstractConfig {

  public static final String BRANCHES = "branches";
  public static final String REQUIRE_TRY_SYNTAX = "require.try.syntax";
  public static final String RETRY_COUNT = "retry.count";
  public static final String REQUESTED_LIMIT = "requested.limit";
  public static final String BUDGET_FLOOR = "budget.floor";
  public static final String BUDGET_RATIO = "budget.ratio";
  public static final String GLOBAL_MAX_FAILURE = "global.max.failure.triggers.per.hour";
  public static final String GLOBAL_MAX_REQUESTED = "global.max.requested.triggers.per.hour";
  public static final String TRIGGERING_ENABLED = "triggering.enabled";
  public static final String DRY_RUN = "dry.run";
  public static final String TRIGGER_USERS = "trigger.users";
  public static final String IGNORE_USERS = "ignore.users";
  public static final String BUILDERS_DENY = "builders.deny";
  public static final String BUILDERS_HIDDEN = "builders.hidden";
  public static final String PUSH_TTL = "push.ttl";
  public static final String PULSE_MAX_BYTES = "pulse.max.bytes";
  public static final String CONFIRM_PASSES = "confirm.passes";
  public static final String CONFIRM_FAILURES = "confirm.failures";
  public static final String CONFIRM_MAX_RETRIGGERS = "confirm.max.retriggers";
  public static final String TASKCLUSTER_ENABLED = "taskcluster.enabled";

  private static final ConfigDef.Validator BOOLEAN = ConfigDef.ValidString.in("true", "false");

  public static final ConfigDef DEFINITION = define(new ConfigDef());

  /** Adds the policy keys to {@code def} (the processor's service configuration includes them). */
  public static ConfigDef define(ConfigDef def) {
    return def
        .define(BRANCHES, ConfigDef.Type.STRING, "try", nonEmptyList(), Importance.HIGH,
            "Comma-separated branches whose jobs are considered. Messages of other branches are dropped (counted, not rejected).")
        .define(REQUIRE_TRY_SYNTAX, ConfigDef.Type.STRING, "true", BOOLEAN, Importance.MEDIUM,
            "A push needs a 'try: ' line in its commit comments to get any trigger.")
        .define(RETRY_COUNT, ConfigDef.Type.INT, 1, Range.between(1, 1000), Importance.HIGH,
            "Jobs triggered per failure retrigger.")
        .define(REQUESTED_LIMIT, ConfigDef.Type.INT, 20, Range.between(0, 1000), Importance.MEDIUM,
            "Cap for --rebuild and --rebuild-talos values.")
        .define(BUDGET_FLOOR, ConfigDef.Type.INT, 5, Range.atLeast(0), Importance.HIGH,
            "Builders that may always be failure-retriggered on a push.")
        .define(BUDGET_RATIO, ConfigDef.Type.STRING, "0.03", decimal(), Importance.HIGH,
            "Beyond the floor, failure-retriggered builders allowed up to this share of the builders seen on the push (decimal, >= 0).")
        .define(GLOBAL_MAX_FAILURE, ConfigDef.Type.LONG, 500L, Range.atLeast(0), Importance.HIGH,
            "Failure-retrigger jobs allowed per rolling hour of event time, all pushes together.")
        .define(GLOBAL_MAX_REQUESTED, ConfigDef.Type.LONG, 10_000L, Range.atLeast(0), Importance.HIGH,
            "Requested (--rebuild) jobs allowed per rolling hour of event time, all pushes together.")
        .define(TRIGGERING_ENABLED, ConfigDef.Type.STRING, "true", BOOLEAN, Importance.HIGH,
            "Kill switch: false refuses every would-be trigger (SKIP_DISABLED) without stopping the pipeline.")
        .define(DRY_RUN, ConfigDef.Type.STRING, "false", BOOLEAN, Importance.HIGH,
            "Decide and record (DRY_RUN), never emit a command.")
        .define(TRIGGER_USERS, ConfigDef.Type.STRING, "", Importance.MEDIUM,
            "Comma-separated pushers for whom triggers are real; others get DRY_RUN. Empty = everyone.")
        .define(IGNORE_USERS, ConfigDef.Type.STRING, "", Importance.MEDIUM,
            "Comma-separated pushers whose pushes are skipped (SKIP_IGNORED_USER).")
        .define(BUILDERS_DENY, ConfigDef.Type.STRING, "", regexList(), Importance.MEDIUM,
            "Comma-separated regexes; a builder name in which one is found is never triggered.")
        .define(BUILDERS_HIDDEN, ConfigDef.Type.STRING, "", Importance.MEDIUM,
            "Comma-separated builder names treated as hidden (never triggered).")
        .define(PUSH_TTL, ConfigDef.Type.STRING, "P14D", ConfigSources.duration(), Importance.MEDIUM,
            "A push not seen for this long (event time) is forgotten; java.time.Duration syntax.")
        .define(PULSE_MAX_BYTES, ConfigDef.Type.LONG, 1_048_576L, Range.atLeast(1), Importance.LOW,
            "Pulse bodies larger than this many bytes are rejected.")
        .define(CONFIRM_PASSES, ConfigDef.Type.INT, 1, Range.atLeast(1), Importance.HIGH,
            "Passed runs (and at least as many as failed runs) that make a failing builder INTERMITTENT (SPEC 4.1).")
        .define(CONFIRM_FAILURES, ConfigDef.Type.INT, 3, Range.atLeast(1), Importance.HIGH,
            "Failed runs that make a builder CONSISTENT_FAILURE when it is not INTERMITTENT (SPEC 4.1).")
        .define(CONFIRM_MAX_RETRIGGERS, ConfigDef.Type.INT, 3, Range.atLeast(1), Importance.HIGH,
            "Counted failure-retrigger decisions per builder: the first (rule 4) plus confirmations (rule 4b). "
                + "1 turns confirmation retriggers off; with confirm.failures=2 that is trigger-bot 2015's policy.")
        .define(TASKCLUSTER_ENABLED, ConfigDef.Type.STRING, "false", BOOLEAN, Importance.HIGH,
            "Also decide on Taskcluster task results enriched by the bridge (SPEC 3b); off, they are dropped "
                + "(counted, not rejected).");
  }

  public PolicyConfig(Map<String, ?> values) {
    super(DEFINITION, values, false);
  }

  /**
   * Validates {@code values} (policy keys only; anything else is an error naming the key) and builds the policy.
   */
  public static PolicySettings parse(Map<String, String> values) {
    for (String key : values.keySet()) {
      if (!DEFINITION.names().contains(key)) {
        throw new ConfigException(key, values.get(key), "unknown policy key (known: "
            + String.join(", ", new java.util.TreeSet<>(DEFINITION.names())) + ")");
      }
    }
    return new PolicyConfig(values).settings();
  }

  /**
   * The policy from {@code key=value} assignments (as {@code --set} takes them); a later assignment of a key
   * wins. An assignment without {@code =} or with an empty key is a {@link ConfigException}.
   */
  public static PolicySettings fromAssignments(java.util.Collection<String> assignments) {
    return parse(values(assignments));
  }

  /**
   * The {@code key=value} assignments as a map, not yet validated (a service's configuration takes it); a later
   * assignment of a key wins. An assignment without {@code =} or with an empty key is a {@link ConfigException}.
   */
  public static Map<String, String> values(java.util.Collection<String> assignments) {
    Map<String, String> values = new java.util.LinkedHashMap<>();
    for (String assignment : assignments) {
      int eq = assignment.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("policy settings take key=value, got '" + assignment + "'");
      }
      values.put(assignment.substring(0, eq).trim(), assignment.substring(eq + 1));
    }
    return values;
  }

  /** The validated policy. */
  public PolicySettings settings() {
    Set<String> branches = list(BRANCHES);
    BigDecimal ratio = new BigDecimal(getString(BUDGET_RATIO).trim());
    Set<String> triggerUsers = list(TRIGGER_USERS);
    Set<String> ignoreUsers = list(IGNORE_USERS);
    Set<String> deny = list(BUILDERS_DENY);
    Set<String> hidden = list(BUILDERS_HIDDEN);
    Duration ttl = Duration.parse(getString(PUSH_TTL).trim());
    // The version fingerprints what the policy means, not how it was spelled: sets sorted, the ratio without
    // trailing zeros, the TTL normalised, so equal policies share a version.
    String canonical = String.join("\n",
        BRANCHES + "=" + sorted(branches),
        REQUIRE_TRY_SYNTAX + "=" + bool(REQUIRE_TRY_SYNTAX),
        RETRY_COUNT + "=" + getInt(RETRY_COUNT),
        REQUESTED_LIMIT + "=" + getInt(REQUESTED_LIMIT),
        BUDGET_FLOOR + "=" + getInt(BUDGET_FLOOR),
        BUDGET_RATIO + "=" + ratio.stripTrailingZeros().toPlainString(),
        GLOBAL_MAX_FAILURE + "=" + getLong(GLOBAL_MAX_FAILURE),
        GLOBAL_MAX_REQUESTED + "=" + getLong(GLOBAL_MAX_REQUESTED),
        TRIGGERING_ENABLED + "=" + bool(TRIGGERING_ENABLED),
        DRY_RUN + "=" + bool(DRY_RUN),
        TRIGGER_USERS + "=" + sorted(triggerUsers),
        IGNORE_USERS + "=" + sorted(ignoreUsers),
        BUILDERS_DENY + "=" + sorted(deny),
        BUILDERS_HIDDEN + "=" + sorted(hidden),
        PUSH_TTL + "=" + ttl,
        PULSE_MAX_BYTES + "=" + getLong(PULSE_MAX_BYTES),
        CONFIRM_PASSES + "=" + getInt(CONFIRM_PASSES),
        CONFIRM_FAILURES + "=" + getInt(CONFIRM_FAILURES),
        CONFIRM_MAX_RETRIGGERS + "=" + getInt(CONFIRM_MAX_RETRIGGERS))
        // Only when on, so that every buildbot-only policy keeps the version it had before the key existed.
        + (bool(TASKCLUSTER_ENABLED) ? "\n" + TASKCLUSTER_ENABLED + "=true" : "");
    return new PolicySettings(
        branches,
        bool(REQUIRE_TRY_SYNTAX),
        getInt(RETRY_COUNT),
        getInt(REQUESTED_LIMIT),
        getInt(BUDGET_FLOOR),
        ratio,
        getLong(GLOBAL_MAX_FAILURE),
        getLong(GLOBAL_MAX_REQUESTED),
        bool(TRIGGERING_ENABLED),
        bool(DRY_RUN),
        triggerUsers,
        ignoreUsers,
        deny.stream().map(Pattern::compile).toList(),
        hidden,
        ttl,
        getLong(PULSE_MAX_BYTES),
        getInt(CONFIRM_PASSES),
        getInt(CONFIRM_FAILURES),
        getInt(CONFIRM_MAX_RETRIGGERS),
        bool(TASKCLUSTER_ENABLED),
        fingerprint(canonical));
  }

  /** A short, stable fingerprint of the policy, so analysts can tell which policy made a decision. */
  private static String fingerprint(String canonical) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  private static String sorted(Set<String> values) {
    return String.join(",", new java.util.TreeSet<>(values));
  }

  private boolean bool(String key) {
    return Boolean.parseBoolean(getString(key));
  }

  private Set<String> list(String key) {
    return new LinkedHashSet<>(split(getString(key)));
  }

  /** SPEC list syntax: split on ',', items trimmed, empty items dropped. */
  public static List<String> split(String value) {
    return ConfigSources.list(value);
  }

  private static ConfigDef.Validator nonEmptyList() {
    return (name, value) -> {
      if (value == null || split(value.toString()).isEmpty()) {
        throw new ConfigException(name, value, "needs at least one branch");
      }
    };
  }

  private static ConfigDef.Validator decimal() {
    return (name, value) -> {
      try {
        if (value == null || new BigDecimal(value.toString().trim()).signum() < 0) {
          throw new ConfigException(name, value, "must be a decimal number >= 0");
        }
      } catch (NumberFormatException e) {
        throw new ConfigException(name, value, "must be a decimal number >= 0, e.g. 0.03");
      }
    };
  }

  private static ConfigDef.Validator regexList() {
    return (name, value) -> {
      for (String regex : split(value == null ? "" : value.toString())) {
        try {
          Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
          throw new ConfigException(name, value, "'" + regex + "' is not a valid regex: " + e.getDescription());
        }
      }
    };
  }
}
