package org.triggerbot.processor.policy;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The validated policy (SPEC section 4 keys), as plain values. Built from configuration by
 * {@code org.triggerbot.processor.app.PolicyConfig}; constructed directly in tests.
 */
public record PolicySettings(
    Set<String> branches,
    boolean requireTrySyntax,
    int retryCount,
    int requestedLimit,
    int budgetFloor,
    BigDecimal budgetRatio,
    long maxFailureTriggersPerHour,
    long maxRequestedTriggersPerHour,
    boolean triggeringEnabled,
    boolean dryRun,
    Set<String> triggerUsers,
    Set<String> ignoreUsers,
    List<Pattern> buildersDeny,
    Set<String> buildersHidden,
    Duration pushTtl,
    long pulseMaxBytes,
    int confirmPasses,
    int confirmFailures,
    int confirmMaxRetriggers,
    boolean taskclusterEnabled,
    String version) {

  public PolicySettings {
    branches = Set.copyOf(branches);
    triggerUsers = Set.copyOf(triggerUsers);
    ignoreUsers = Set.copyOf(ignoreUsers);
    buildersDeny = List.copyOf(buildersDeny);
    buildersHidden = Set.copyOf(buildersHidden);
    Objects.requireNonNull(budgetRatio, "budgetRatio");
    Objects.requireNonNull(pushTtl, "pushTtl");
    Objects.requireNonNull(version, "version");
  }

  /**
   * What one of {@code tasks} decision tasks enforces, so that all of them together stay within the global hourly
   * limits: {@code floor(limit / tasks)} of each (SPEC 2: scale-out is more partitions, one task each; a task sees
   * only its own pushes' triggers). The same policy, and version, for one task.
   */
  public PolicySettings sharedAmong(int tasks) {
    if (tasks < 1) {
      throw new IllegalArgumentException("tasks must be >= 1, was " + tasks);
    }
    return tasks == 1 ? this : withGlobalLimits(maxFailureTriggersPerHour / tasks, maxRequestedTriggersPerHour / tasks);
  }

  /** The same policy with other global hourly limits (and the same version: a share of the same policy). */
  public PolicySettings withGlobalLimits(long maxFailurePerHour, long maxRequestedPerHour) {
    return new PolicySettings(branches, requireTrySyntax, retryCount, requestedLimit, budgetFloor, budgetRatio,
        maxFailurePerHour, maxRequestedPerHour, triggeringEnabled, dryRun, triggerUsers, ignoreUsers, buildersDeny,
        buildersHidden, pushTtl, pulseMaxBytes, confirmPasses, confirmFailures, confirmMaxRetriggers,
        taskclusterEnabled,
        version);
  }
}
