package org.triggerbot.processor.whatif;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The policies of a what-if: the cartesian product of the {@code --grid key=v1,v2,...} values, the first grid
 * varying slowest (SPEC section 7). Values are split on commas; {@code \,} is a comma inside a value (for list
 * keys such as {@code builders.deny}). Syntax and keys are checked here; values by the policy's own
 * configuration when each policy is built.
 */
final class Grid {

  /** One policy of the grid: its assignments, in grid order. */
  record Point(List<String> assignments) {
    /** The CSV's {@code policy} column: the assignments separated by single spaces. */
    String label() {
      return String.join(" ", assignments);
    }
  }

  private final Map<String, List<String>> axes = new LinkedHashMap<>();

  /**
   * Adds one {@code --grid} argument.
   *
   * @throws IllegalArgumentException naming what is wrong: no {@code =}, an unknown or repeated key, an empty value
   */
  void add(String argument, Set<String> knownKeys) {
    int eq = argument.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("--grid " + argument + ": expected key=value1,value2,...");
    }
    String key = argument.substring(0, eq).trim();
    if (!knownKeys.contains(key)) {
      throw new IllegalArgumentException("--grid " + argument + ": unknown policy key '" + key + "'");
    }
    if (axes.containsKey(key)) {
      throw new IllegalArgumentException("--grid " + key + " is given twice: give all its values in one --grid");
    }
    List<String> values = split(argument.substring(eq + 1));
    for (String v : values) {
      if (v.isEmpty()) {
        throw new IllegalArgumentException("--grid " + argument + ": an empty value (two commas, or one at an end)");
      }
    }
    axes.put(key, values);
  }

  Set<String> keys() {
    return axes.keySet();
  }

  /** Every policy of the grid, the first axis varying slowest; one empty point when there is no axis. */
  List<Point> points() {
    List<List<String>> points = new ArrayList<>();
    points.add(List.of());
    for (Map.Entry<String, List<String>> axis : axes.entrySet()) {
      List<List<String>> next = new ArrayList<>();
      for (List<String> p : points) {
        for (String value : axis.getValue()) {
          List<String> q = new ArrayList<>(p);
          q.add(axis.getKey() + "=" + value);
          next.add(q);
        }
      }
      points = next;
    }
    return points.stream().map(p -> new Point(List.copyOf(p))).toList();
  }

  /** Splits on commas not preceded by a backslash; {@code \,} becomes a comma, other characters stay. */
  static List<String> split(String values) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < values.length(); i++) {
      char c = values.charAt(i);
      if (c == '\\' && i + 1 < values.length() && values.charAt(i + 1) == ',') {
        current.append(',');
        i++;
      } else if (c == ',') {
        out.add(current.toString().trim());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    out.add(current.toString().trim());
    return out;
  }
}
