package org.triggerbot.buildapisim;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The builds and build requests the simulator knows, and the JSON shapes buildapi gave them.
 *
 * <p>Shapes follow buildapi's {@code buildFromRow}/{@code requestFromRow} (mozilla-releng/build-buildapi
 * {@code buildapi/model/builds.py}) and the captured response in the project's {@code fixtures/buildapi-samples}:
 * a build item has {@code build_id}, {@code status}, {@code branch}, {@code buildername}, {@code claimed_by_name},
 * {@code buildnumber}, {@code starttime}, {@code requests}, {@code endtime}, {@code revision}; a pending
 * request item is a bare request ({@code request_id}, {@code buildername}, {@code branch}, {@code revision},
 * {@code submittime}, {@code complete}, {@code complete_at}, {@code priority}, {@code claimed_at},
 * {@code reason}) with neither {@code build_id} nor {@code status}.
 *
 * <p>Ids come from three disjoint ranges (builds, build requests, job requests), so a client that
 * posts one kind of id where another is expected gets a 404 instead of silently rebuilding the
 * wrong job.
 *
 * <p>Thread-safe: every method holds one lock; nothing here blocks.
 */
final class SelfServeState {

  static final long FIRST_BUILD_ID = 10_000_001L;
  static final long FIRST_REQUEST_ID = 20_000_001L;
  static final long FIRST_JOB_ID = 30_000_001L;

  /** Buildbot result codes: SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED. */
  static final int MAX_STATUS = 6;

  private static final String CLAIMED_BY = "buildbot-sim.triggerbot.invalid:/builds/buildbot/sim/master";

  private final Object lock = new Object();
  /** Every item, in creation order. */
  private final List<Item> items = new ArrayList<>();
  /** Known revisions per branch (a GET of any other revision is a 404). */
  private final Map<String, Set<String>> revisions = new HashMap<>();
  private final Map<String, Integer> lastBuildNumber = new HashMap<>();
  private long nextBuildId = FIRST_BUILD_ID;
  private long nextRequestId = FIRST_REQUEST_ID;
  private long nextJobId = FIRST_JOB_ID;

  /** A finished build with one complete request; see {@link BuildapiSimulator#addBuild}. */
  long addBuild(String branch, String revision, String buildername, int status, int hiddenForGets) {
    requireName("branch", branch);
    requireName("revision", revision);
    requireName("buildername", buildername);
    if (status < 0 || status > MAX_STATUS) {
      throw new IllegalArgumentException("status must be a buildbot result 0-" + MAX_STATUS + ", got " + status);
    }
    if (hiddenForGets < 0) {
      throw new IllegalArgumentException("hiddenForGets must not be negative, got " + hiddenForGets);
    }
    long now = Instant.now().getEpochSecond();
    synchronized (lock) {
      int number = lastBuildNumber.merge(buildername, 1, Integer::sum);
      Request request = new Request(nextRequestId++, branch, revision, buildername,
          now - 1500, now - 1200, 1, now - 59, 0, "scheduler");
      Build build = new Build(nextBuildId++, branch, revision, buildername, status, number,
          now - 1200, now - 60, request);
      build.hiddenForGets = hiddenForGets;
      items.add(build);
      knowRevision(branch, revision);
      return build.buildId;
    }
  }

  /** A pending (unclaimed) build request, visible at once. */
  long addPendingRequest(String branch, String revision, String buildername) {
    requireName("branch", branch);
    requireName("revision", revision);
    requireName("buildername", buildername);
    synchronized (lock) {
      Request request = newPending(branch, revision, buildername, 0, "scheduler", Duration.ZERO);
      knowRevision(branch, revision);
      return request.requestId;
    }
  }

  void addRevision(String branch, String revision) {
    requireName("branch", branch);
    requireName("revision", revision);
    synchronized (lock) {
      knowRevision(branch, revision);
    }
  }

  /**
   * The items a GET of this branch and revision returns now, as JSON-ready maps; empty if the
   * revision is unknown on that branch. Counts one GET against every matching hidden build.
   * Order as buildapi's {@code getRevision}: builds newest first, then pending requests newest first.
   */
  Optional<List<Map<String, Object>>> get(String branch, String revision, long nowNanos) {
    synchronized (lock) {
      if (!isKnown(branch, revision)) {
        return Optional.empty();
      }
      List<Map<String, Object>> result = new ArrayList<>();
      for (Item item : sortedForGet(branch, revision)) {
        if (item instanceof Build build && build.hiddenForGets > 0) {
          build.hiddenForGets--;
          continue;
        }
        if (item.visibleAt(nowNanos)) {
          result.add(item.toJson());
        }
      }
      return Optional.of(result);
    }
  }

  /** How many items for this builder a GET would list now; consumes nothing. */
  int jobCount(String branch, String revision, String buildername, long nowNanos) {
    synchronized (lock) {
      int count = 0;
      for (Item item : items) {
        if (item.matches(branch, revision) && item.buildername().equals(buildername)
            && item.visibleAt(nowNanos) && !(item instanceof Build build && build.hiddenForGets > 0)) {
          count++;
        }
      }
      return count;
    }
  }

  /**
   * Rebuilds build {@code buildId} of {@code branch}: {@code count} new pending requests for its
   * builder and revision. Like buildapi, the lookup ignores the GET cache (hidden and lagging
   * builds can be rebuilt). Returns the new job request id, or empty if there is no such build.
   */
  OptionalLong rebuildBuild(String branch, long buildId, int count, int priority, String who, Duration lag) {
    synchronized (lock) {
      for (Item item : items) {
        if (item instanceof Build build && build.buildId == buildId && build.branch.equals(branch)) {
          return OptionalLong.of(rebuild(build, count, priority, who, lag));
        }
      }
      return OptionalLong.empty();
    }
  }

  /**
   * Rebuilds build request {@code requestId} of {@code branch}: a pending request or the request
   * inside a build item, as buildapi's {@code getRequest} finds either. Returns the new job request
   * id, or empty if there is no such request.
   */
  OptionalLong rebuildRequest(String branch, long requestId, int count, int priority, String who, Duration lag) {
    synchronized (lock) {
      for (Item item : items) {
        Request request = item instanceof Build build ? build.request : (Request) item;
        if (request.requestId == requestId && request.branch.equals(branch)) {
          return OptionalLong.of(rebuild(item, count, priority, who, lag));
        }
      }
      return OptionalLong.empty();
    }
  }

  // ---------------------------------------------------------------------------------------

  private long rebuild(Item target, int count, int priority, String who, Duration lag) {
    String reason = "Self-serve: Rebuilt by " + (who == null ? "anonymous" : who);
    for (int i = 0; i < count; i++) {
      newPending(target.branch(), target.revision(), target.buildername(), priority, reason, lag);
    }
    // One job request per POST, whatever the count: buildapi's JobRequest row.
    return nextJobId++;
  }

  private Request newPending(String branch, String revision, String buildername, int priority, String reason,
      Duration lag) {
    Request request = new Request(nextRequestId++, branch, revision, buildername,
        Instant.now().getEpochSecond(), 0, 0, null, priority, reason);
    if (!lag.isZero() && !lag.isNegative()) {
      request.delayed = true;
      request.visibleAtNanos = System.nanoTime() + lag.toNanos();
    }
    items.add(request);
    return request;
  }

  private List<Item> sortedForGet(String branch, String revision) {
    List<Item> builds = new ArrayList<>();
    List<Item> pending = new ArrayList<>();
    for (Item item : items) {
      if (item.matches(branch, revision)) {
        (item instanceof Build ? builds : pending).add(item);
      }
    }
    builds.sort(Comparator.comparingLong((Item item) -> ((Build) item).buildId).reversed());
    pending.sort(Comparator.comparingLong((Item item) -> ((Request) item).submittime)
        .thenComparingLong(item -> ((Request) item).requestId).reversed());
    builds.addAll(pending);
    return builds;
  }

  private void knowRevision(String branch, String revision) {
    revisions.computeIfAbsent(branch, b -> new LinkedHashSet<>()).add(revision);
  }

  private boolean isKnown(String branch, String revision) {
    for (String known : revisions.getOrDefault(branch, Set.of())) {
      if (revisionsMatch(known, revision)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Prefix match both ways, ignoring case: buildapi looked revisions up by prefix (a 12-character
   * short revision finds the 40-character one), and MySQL compared them case-insensitively.
   */
  static boolean revisionsMatch(String stored, String requested) {
    String a = stored.toLowerCase(Locale.ROOT);
    String b = requested.toLowerCase(Locale.ROOT);
    return !b.isEmpty() && (a.startsWith(b) || b.startsWith(a));
  }

  private static void requireName(String what, String value) {
    Objects.requireNonNull(value, what);
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
  }

  // ---------------------------------------------------------------------------------------

  private abstract static class Item {
    /** Whether the item is kept out of GETs until {@link #visibleAtNanos} ({@link System#nanoTime}). */
    boolean delayed;
    long visibleAtNanos;

    abstract String branch();

    abstract String revision();

    abstract String buildername();

    abstract Map<String, Object> toJson();

    final boolean matches(String branch, String revision) {
      return branch().equals(branch) && revisionsMatch(revision(), revision);
    }

    final boolean visibleAt(long nowNanos) {
      // Difference, not comparison: nanoTime values may overflow.
      return !delayed || nowNanos - visibleAtNanos >= 0;
    }
  }

  /** A build request: pending on its own, or the complete request inside a build. */
  private static final class Request extends Item {
    final long requestId;
    final String branch;
    final String revision;
    final String buildername;
    final long submittime;
    final long claimedAt;
    final int complete;
    final Long completeAt;
    final int priority;
    final String reason;

    Request(long requestId, String branch, String revision, String buildername, long submittime,
        long claimedAt, int complete, Long completeAt, int priority, String reason) {
      this.requestId = requestId;
      this.branch = branch;
      this.revision = revision;
      this.buildername = buildername;
      this.submittime = submittime;
      this.claimedAt = claimedAt;
      this.complete = complete;
      this.completeAt = completeAt;
      this.priority = priority;
      this.reason = reason;
    }

    @Override
    String branch() {
      return branch;
    }

    @Override
    String revision() {
      return revision;
    }

    @Override
    String buildername() {
      return buildername;
    }

    @Override
    Map<String, Object> toJson() {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("request_id", requestId);
      json.put("buildername", buildername);
      json.put("branch", branch);
      json.put("revision", revision);
      json.put("submittime", submittime);
      json.put("complete", complete);
      json.put("complete_at", completeAt);
      json.put("priority", priority);
      json.put("claimed_at", claimedAt);
      json.put("reason", reason);
      return json;
    }
  }

  private static final class Build extends Item {
    final long buildId;
    final String branch;
    final String revision;
    final String buildername;
    final int status;
    final int buildnumber;
    final long starttime;
    final long endtime;
    final Request request;
    /** GETs of this revision still to leave this build out. */
    int hiddenForGets;

    Build(long buildId, String branch, String revision, String buildername, int status, int buildnumber,
        long starttime, long endtime, Request request) {
      this.buildId = buildId;
      this.branch = branch;
      this.revision = revision;
      this.buildername = buildername;
      this.status = status;
      this.buildnumber = buildnumber;
      this.starttime = starttime;
      this.endtime = endtime;
      this.request = request;
    }

    @Override
    String branch() {
      return branch;
    }

    @Override
    String revision() {
      return revision;
    }

    @Override
    String buildername() {
      return buildername;
    }

    @Override
    Map<String, Object> toJson() {
      // Field order as in the captured response (selfserve-rev-try-146071751b1e-response.json).
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("build_id", buildId);
      json.put("status", status);
      json.put("branch", branch);
      json.put("buildername", buildername);
      json.put("claimed_by_name", CLAIMED_BY);
      json.put("buildnumber", buildnumber);
      json.put("starttime", starttime);
      json.put("requests", List.of(request.toJson()));
      json.put("endtime", endtime);
      json.put("revision", revision);
      return json;
    }
  }
}
