package org.triggerbot.processor.query;

/** HTML escaping, for every value a page shows: builder names, branches and pushers come from the CI feed. */
final class Html {

  private Html() {}

  /**
   * {@code text} safe inside an element and inside a double- or single-quoted attribute value: {@code & < > " '}
   * become character references. Null is the empty string.
   */
  static String escape(Object text) {
    if (text == null) {
      return "";
    }
    String s = text.toString();
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      String ref = switch (s.charAt(i)) {
        case '&' -> "&amp;";
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '"' -> "&quot;";
        case '\'' -> "&#39;";
        default -> null;
      };
      if (ref != null && out == null) {
        out = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (out != null) {
        if (ref != null) {
          out.append(ref);
        } else {
          out.append(s.charAt(i));
        }
      }
    }
    return out == null ? s : out.toString();
  }
}
