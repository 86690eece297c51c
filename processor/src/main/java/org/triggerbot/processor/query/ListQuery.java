package org.triggerbot.processor.query;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.triggerbot.schemas.VerdictState;

/**
 * The parameters of the list of recent pushes: {@code ?state=FAILING&limit=50}, both optional.
 *
 * @param state only pushes with this verdict; null for every push that has a verdict
 * @param limit at most this many pushes, {@value #MIN_LIMIT} to {@value #MAX_LIMIT}
 */
public record ListQuery(VerdictState state, int limit) {

  public static final int DEFAULT_LIMIT = 50;
  public static final int MIN_LIMIT = 1;
  /** Beyond this a list is no longer something a person reads, and every instance would ship its whole store. */
  public static final int MAX_LIMIT = 500;
  static final String STATE = "state";
  static final String LIMIT = "limit";

  public ListQuery {
    if (limit < MIN_LIMIT || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit " + limit + " not in " + MIN_LIMIT + ".." + MAX_LIMIT);
    }
  }

  /** Every push with a verdict, the default number of them. */
  public static ListQuery defaults() {
    return new ListQuery(null, DEFAULT_LIMIT);
  }

  /**
   * Reads a raw query string (null or empty: the defaults). An empty {@code state=} means every state (what an
   * HTML form's "any" option sends); an unknown or repeated parameter is an error rather than ignored, so that a
   * typo never silently answers something else.
   *
   * @throws BadRequest naming the parameter, with the allowed values
   */
  public static ListQuery parse(String rawQuery) throws BadRequest {
    VerdictState state = null;
    int limit = DEFAULT_LIMIT;
    if (rawQuery == null || rawQuery.isEmpty()) {
      return new ListQuery(state, limit);
    }
    Set<String> seen = new HashSet<>();
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = UriCodec.decodeQuery(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : UriCodec.decodeQuery(pair.substring(eq + 1));
      if (!name.equals(STATE) && !name.equals(LIMIT)) {
        throw new BadRequest("unknown parameter " + BadRequest.quote(name) + ": the parameters are state and limit",
            List.of(STATE, LIMIT));
      }
      if (!seen.add(name)) {
        throw new BadRequest("parameter " + name + " given twice");
      }
      if (name.equals(STATE)) {
        state = value.isEmpty() ? null : state(value);
      } else if (!value.isEmpty()) {
        limit = limit(value);
      }
    }
    return new ListQuery(state, limit);
  }

  /** The verdict symbols {@code state} accepts, in the schema's order. */
  public static List<String> states() {
    return Arrays.stream(VerdictState.values()).map(Enum::name).toList();
  }

  /** This query as a raw query string (without {@code ?}); the parameters that differ from the defaults only. */
  public String toQueryString() {
    StringBuilder q = new StringBuilder();
    if (state != null) {
      q.append(STATE).append('=').append(state.name());
    }
    if (limit != DEFAULT_LIMIT) {
      q.append(q.length() == 0 ? "" : "&").append(LIMIT).append('=').append(limit);
    }
    return q.toString();
  }

  private static VerdictState state(String value) throws BadRequest {
    for (VerdictState s : VerdictState.values()) {
      if (s.name().equals(value)) {
        return s;
      }
    }
    throw new BadRequest("state " + BadRequest.quote(value) + " is not a verdict: expected one of "
        + String.join(", ", states()), states());
  }

  private static int limit(String value) throws BadRequest {
    String problem = "limit " + BadRequest.quote(value) + " is not a whole number from " + MIN_LIMIT + " to "
        + MAX_LIMIT;
    if (!value.matches("[0-9]{1,4}")) {
      throw new BadRequest(problem);
    }
    int limit = Integer.parseInt(value);
    if (limit < MIN_LIMIT || limit > MAX_LIMIT) {
      throw new BadRequest(problem);
    }
    return limit;
  }
}
