package org.triggerbot.processor.policy;

/**
 * The retrigger options a developer wrote in the push's try line (SPEC section 4, rule 2).
 *
 * @param rebuild {@code --rebuild N}, capped to {@code requested.limit}; 0 when absent
 * @param rebuildTalos {@code --rebuild-talos N}, capped likewise; 0 when absent
 * @param noRetry {@code --no-retry} was given
 */
public record TryOptions(int rebuild, int rebuildTalos, boolean noRetry) {

  public static final TryOptions NONE = new TryOptions(0, 0, false);

  /**
   * Finds the try line in commit comments and reads its options; {@code null} when no line contains
   * {@code "try: "}.
   *
   * <p>The first line containing {@code "try: "} (case-sensitive, with the space) is the try line; its options
   * are the text after the first {@code "try: "}, with one pair of surrounding double quotes removed: either
   * around the whole line (autoland writes {@code "try: ..."}) or around the text after {@code try: }.
   */
  public static TryOptions fromComments(String comments, int requestedLimit) {
    if (comments == null) {
      return null;
    }
    for (String line : comments.split("\n", -1)) {
      int at = line.indexOf("try: ");
      if (at >= 0) {
        return parse(optionText(line, at), requestedLimit);
      }
    }
    return null;
  }

  private static String optionText(String line, int at) {
    String stripped = line.strip();
    if (stripped.length() >= 2 && stripped.startsWith("\"") && stripped.endsWith("\"")) {
      // Autoland quotes the whole line: "try: -b do -p all --rebuild 2"
      String unquoted = stripped.substring(1, stripped.length() - 1);
      int inner = unquoted.indexOf("try: ");
      if (inner >= 0) {
        return unquoted.substring(inner + "try: ".length());
      }
    }
    String text = line.substring(at + "try: ".length());
    String trimmed = text.strip();
    if (trimmed.length() >= 2 && trimmed.startsWith("\"") && trimmed.endsWith("\"")) {
      return trimmed.substring(1, trimmed.length() - 1); // try: "--rebuild 2"
    }
    return text;
  }

  /**
   * Reads options from the text after {@code try: }. Tokens are runs of non-space characters in which a
   * {@code [...]} group may contain spaces; an option inside brackets is therefore never an option. Unknown
   * tokens are ignored. A value is an unsigned decimal integer, capped to {@code requestedLimit}; a token that
   * is not one is not consumed (the option is ignored and the token read as the next one). The last valid value
   * of a repeated option wins.
   */
  public static TryOptions parse(String text, int requestedLimit) {
    java.util.List<String> tokens = tokens(text);
    int rebuild = 0;
    int rebuildTalos = 0;
    boolean noRetry = false;
    for (int i = 0; i < tokens.size(); i++) {
      String t = tokens.get(i);
      switch (t) {
        case "--no-retry" -> noRetry = true;
        case "--rebuild", "--rebuild-talos" -> {
          if (i + 1 < tokens.size() && isUnsigned(tokens.get(i + 1))) {
            int value = capped(tokens.get(++i), requestedLimit);
            if (t.equals("--rebuild")) {
              rebuild = value;
            } else {
              rebuildTalos = value;
            }
          }
        }
        default -> {} // unknown tokens (-b, -p, -u, -t, ...) are not ours
      }
    }
    return new TryOptions(rebuild, rebuildTalos, noRetry);
  }

  static java.util.List<String> tokens(String text) {
    java.util.List<String> tokens = new java.util.ArrayList<>();
    int n = text.length();
    int i = 0;
    while (i < n) {
      if (Character.isWhitespace(text.charAt(i))) {
        i++;
        continue;
      }
      int start = i;
      while (i < n && !Character.isWhitespace(text.charAt(i))) {
        if (text.charAt(i) == '[') {
          int close = text.indexOf(']', i + 1);
          if (close > 0) {
            i = close + 1; // a [...] group, spaces and all, belongs to the token
            continue;
          }
        }
        i++;
      }
      tokens.add(text.substring(start, i));
    }
    return tokens;
  }

  private static boolean isUnsigned(String token) {
    if (token.isEmpty()) {
      return false;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static int capped(String digits, int limit) {
    String significant = digits.replaceFirst("^0+(?=.)", "");
    if (significant.length() > 9) {
      return limit; // larger than any int limit, however large
    }
    return Math.min(Integer.parseInt(significant), limit);
  }
}
