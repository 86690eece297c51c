package org.triggerbot.common;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The push a Pulse body belongs to, as the key of {@code pulse.raw} and of every push-keyed record and store:
 * {@code branch/revision} with the revision cut to its first 12 characters (buildbot sends 12 or 40). A buildbot body
 * names it in its properties, a Taskcluster result enriched by the bridge in its task's treeherder route.
 *
 * <p>One definition for the bridge, which keys each record by it so that a push's messages stay in order on one
 * partition, and for the processor's parser, which builds its events' push from the same properties with the same
 * rules. Hence whenever the parser accepts a body, this key of the body is its event's push key: the processor can
 * decide straight from {@code pulse.raw} without repartitioning. A body that yields no push (no readable branch or
 * revision) is rejected or dropped by the processor, so its key does not matter; the bridge keeps the routing key.
 */
public final class PushKey {

  /** Characters of the revision in a push key. */
  public static final int REVISION_CHARS = 12;

  private PushKey() {}

  /** {@code branch/revision}, the revision cut to {@link #REVISION_CHARS}; {@code revision} must be one. */
  public static String of(String branch, String revision) {
    if (!isRevision(revision)) {
      throw new IllegalArgumentException("not a revision: " + revision);
    }
    return branch + "/" + revision.substring(0, REVISION_CHARS);
  }

  /** 12 to 40 lowercase hexadecimal characters. */
  public static boolean isRevision(String s) {
    if (s == null || s.length() < REVISION_CHARS || s.length() > 40) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The push of a buildbot {@code payload.build.properties} list ({@code [name, value, source]} entries; a
   * repeated name: the last wins), or null when it yields none: not a list, an entry that is not
   * {@code [name, value, ...]} with a string name, a branch that is not a string, or a revision that is not a
   * string of 12 to 40 lowercase hex characters. These are the processor's own rules: a body it accepts always
   * yields its push here. (An empty branch is a branch here, as in the parser; no configuration enables it.)
   */
  public static String fromProperties(JsonNode properties) {
    if (properties == null || !properties.isArray()) {
      return null;
    }
    JsonNode branch = null;
    JsonNode revision = null;
    for (JsonNode p : properties) {
      if (!p.isArray() || p.size() < 2 || !p.get(0).isTextual()) {
        return null;
      }
      switch (p.get(0).asText()) {
        case "branch" -> branch = p.get(1);
        case "revision" -> revision = p.get(1);
        default -> {}
      }
    }
    if (branch == null || !branch.isTextual() || revision == null
        || !revision.isTextual() || !isRevision(revision.asText())) {
      return null;
    }
    return of(branch.asText(), revision.asText());
  }

  /** The prefix of the route that names a Taskcluster task's push (SPEC 3b). */
  public static final String TREEHERDER_ROUTE = "tc-treeherder.v2.";

  /**
   * The push of a (pruned) body tree: a Taskcluster body enriched by the bridge (one with a {@code task} object)
   * by the first {@link TreeherderRoute} of its {@code task.routes}, a buildbot body by {@link #fromProperties} of its
   * {@code payload.build.properties}; null when it yields none.
   */
  public static String fromBody(JsonNode root) {
    if (root == null) {
      return null;
    }
    JsonNode task = root.get("task");
    if (task != null && task.isObject()) {
      TreeherderRoute route = TreeherderRoute.first(task.get("routes"));
      return route == null || !isRevision(route.revision()) ? null : of(route.project(), route.revision());
    }
    JsonNode build = root.path("payload").path("build");
    return build.isObject() ? fromProperties(build.get("properties")) : null;
  }

  /**
   * A Taskcluster task's {@code tc-treeherder.v2.<project>.<revision>[.<pushId>]} route: the push it belongs to
   * (SPEC 3b). The revision is as written, not yet checked.
   *
   * @param pushId the Treeherder push id, or null when the route has none
   */
  public record TreeherderRoute(String project, String revision, String pushId) {

    /**
     * The first route of {@code routes} (a JSON list) that starts with {@link #TREEHERDER_ROUTE} and has two or
     * three non-empty dot-separated parts after it, or null when there is none. Project names hold no dots (they
     * are Mercurial repository names such as {@code mozilla-central}), so the parts are unambiguous.
     */
    public static TreeherderRoute first(JsonNode routes) {
      if (routes == null || !routes.isArray()) {
        return null;
      }
      for (JsonNode r : routes) {
        if (!r.isTextual() || !r.asText().startsWith(TREEHERDER_ROUTE)) {
          continue;
        }
        String[] parts = r.asText().substring(TREEHERDER_ROUTE.length()).split("\\.", -1);
        if ((parts.length == 2 || parts.length == 3) && java.util.Arrays.stream(parts).noneMatch(String::isEmpty)) {
          return new TreeherderRoute(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
        }
      }
      return null;
    }
  }
}
