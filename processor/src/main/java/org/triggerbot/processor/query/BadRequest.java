package org.triggerbot.processor.query;

import java.util.List;

/**
 * A request this interface cannot answer because of the request itself (HTTP 400): the message names the problem
 * and, where there is a closed set, {@link #allowed()} lists the values that would have worked.
 */
public final class BadRequest extends Exception {

  private static final long serialVersionUID = 1L;
  /** Longest piece of the caller's input quoted back in a message: enough to recognise it, never a wall of text. */
  private static final int QUOTE_MAX = 60;

  private final List<String> allowed;

  public BadRequest(String message) {
    this(message, List.of());
  }

  public BadRequest(String message, List<String> allowed) {
    super(message, null, false, false); // an answer, not a failure: no stack trace to fill
    this.allowed = List.copyOf(allowed);
  }

  /** The values that would have been accepted (empty when the set is not closed). */
  public List<String> allowed() {
    return allowed;
  }

  /** {@code input} in single quotes, cut to a readable length. */
  static String quote(String input) {
    String s = input.length() <= QUOTE_MAX ? input : input.substring(0, QUOTE_MAX) + "...";
    return "'" + s + "'";
  }
}
