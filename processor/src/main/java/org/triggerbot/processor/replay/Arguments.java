package org.triggerbot.processor.replay;

import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command lines of {@code replay} and {@code whatif}: {@code --help}, or options that each take one value, in
 * order (a repeated option is the command's to keep or reject).
 *
 * @param help whether {@code --help} (or {@code -h}) was asked for
 * @param problem what is wrong (an unknown option, a missing value), or null
 * @param options the options with their values, in the order given
 */
public record Arguments(boolean help, String problem, List<Map.Entry<String, String>> options) {

  /** Reads {@code args}, every option of {@code valueOptions} taking the argument after it as its value. */
  public static Arguments parse(List<String> args, Set<String> valueOptions) {
    List<Map.Entry<String, String>> options = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--help") || arg.equals("-h")) {
        return new Arguments(true, null, List.of());
      }
      if (!valueOptions.contains(arg)) {
        return new Arguments(false, "unknown argument '" + arg + "'", List.of());
      }
      if (i + 1 >= args.size()) {
        return new Arguments(false, arg + " needs a value", List.of());
      }
      options.add(new SimpleImmutableEntry<>(arg, args.get(++i)));
    }
    return new Arguments(false, null, List.copyOf(options));
  }
}
