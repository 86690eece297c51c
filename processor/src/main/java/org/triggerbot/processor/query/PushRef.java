package org.triggerbot.processor.query;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One push as the HTTP interface names it: branch and revision (the 12-character form the processor keys its
 * state by, SPEC 3).
 *
 * @param branch the branch, decoded; may contain {@code /} and anything else but must not be empty
 * @param revision exactly 12 lowercase hex characters
 */
public record PushRef(String branch, String revision) {

  /** What a revision in a path may look like: the full 40-character hash or any prefix of at least 12. */
  static final Pattern REVISION = Pattern.compile("^[0-9a-f]{12,40}$");
  /** The processor keys pushes by the revision's first 12 characters (SPEC 3). */
  static final int REVISION_LENGTH = 12;

  public PushRef {
    Objects.requireNonNull(branch, "branch");
    Objects.requireNonNull(revision, "revision");
    if (branch.isEmpty() || revision.length() != REVISION_LENGTH) {
      throw new IllegalArgumentException("not a push: " + branch + "/" + revision);
    }
  }

  /**
   * Reads {@code {branch}/{revision}} from the raw (still percent-encoded) rest of a path: the revision is the
   * last segment, the branch everything before it, each then decoded, so a branch may contain {@code /}
   * (sent as is or as {@code %2F}) and any other character percent-encoded.
   *
   * @throws BadRequest when a part is missing, the encoding is malformed, or the revision is not 12 to 40
   *     lowercase hex characters
   */
  public static PushRef parse(String rawBranchAndRevision) throws BadRequest {
    int slash = rawBranchAndRevision.lastIndexOf('/');
    if (slash < 0) {
      throw new BadRequest("expected {branch}/{revision} after the prefix, got "
          + BadRequest.quote(rawBranchAndRevision));
    }
    String revision = UriCodec.decodePath(rawBranchAndRevision.substring(slash + 1));
    String branch = UriCodec.decodePath(rawBranchAndRevision.substring(0, slash));
    if (branch.isEmpty()) {
      throw new BadRequest("the branch is missing: expected {branch}/{revision}");
    }
    if (revision.isEmpty()) {
      throw new BadRequest("the revision is missing: expected {branch}/{revision}");
    }
    if (!REVISION.matcher(revision).matches()) {
      throw new BadRequest("revision " + BadRequest.quote(revision)
          + " is malformed: expected 12 to 40 lowercase hex characters (^[0-9a-f]{12,40}$)");
    }
    return new PushRef(branch, revision.substring(0, REVISION_LENGTH));
  }

  /** The key of the push in the processor's stores: {@code branch/revision}. */
  public String key() {
    return branch + "/" + revision;
  }

  /** The path of this push below a prefix such as {@code /api/pushes/}: branch and revision, encoded. */
  public String path() {
    return UriCodec.encodeBranch(branch) + "/" + revision;
  }

  @Override
  public String toString() {
    return key();
  }
}
