package org.triggerbot.common;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * The command line every service shares: {@code triggerbot <service> [--config FILE] [--help]}. Reads the
 * arguments, loads the configuration (file plus {@code TRIGGERBOT_*} environment, see {@link ConfigSources}) and
 * says either "run with this configuration" or "exit with this code": 0 after {@code --help}, 2 for a bad argument
 * or an invalid configuration (with the key named on standard error).
 */
public final class ServiceArgs {

  /** Either a configuration to run with, or the exit code to end with. */
  public record Outcome<T>(T config, int exitCode) {
    public boolean run() {
      return config != null;
    }
  }

  /** A started service, as {@link #run} drives it. */
  public interface Running extends AutoCloseable {
    /** Waits until the service stopped by itself or was closed; returns the process's exit code (0 or 1). */
    int awaitExit() throws InterruptedException;

    /** Clean shutdown; idempotent. */
    @Override
    void close();
  }

  private ServiceArgs() {}

  /**
   * Starts a service, closes it on SIGTERM (shutdown hook), waits until it stops and returns its exit code: 1 when
   * it cannot start (e.g. its admin port is taken) or stopped on an error, else 0.
   */
  public static int run(String service, java.util.function.Supplier<Running> start, PrintStream err) {
    Running running;
    try {
      running = start.get();
    } catch (java.io.UncheckedIOException e) {
      err.println("triggerbot " + service + ": cannot start: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(running::close, service + "-shutdown"));
    int code;
    try {
      code = running.awaitExit();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      code = 1;
    }
    running.close();
    return code;
  }

  /**
   * Reads a service's command line: {@code --help}, the optional configuration file and the overrides; prints
   * help or the reason for a refusal itself, so the caller only runs the service or exits with the code.
   *
   * @param service the command name, for messages
   * @param about one paragraph of help: what the service does and which pass-through prefixes it takes
   * @param load reads and validates the configuration from the file (null when none was given)
   */
  public static <T> Outcome<T> parse(String service, List<String> args, ConfigDef keys, String about,
      Function<Path, T> load, PrintStream out, PrintStream err) {
    Path file = null;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--help") || arg.equals("-h")) {
        out.println("usage: triggerbot " + service + " [--config FILE]\n" + about
            + "\nConfiguration: TRIGGERBOT_<KEY> environment variables (key upper-cased, dots as underscores) or "
            + "the properties FILE; the environment wins. Keys:\n" + keys.toEnrichedRst());
        return new Outcome<>(null, 0);
      } else if (arg.equals("--config") && i + 1 < args.size()) {
        file = Path.of(args.get(++i));
      } else {
        err.println("triggerbot " + service + ": unknown argument '" + arg + "' (usage: triggerbot " + service
            + " [--config FILE] | --help)");
        return new Outcome<>(null, 2);
      }
    }
    try {
      return new Outcome<>(load.apply(file), 0);
    } catch (ConfigException e) {
      err.println("triggerbot " + service + ": invalid configuration: " + e.getMessage());
      return new Outcome<>(null, 2);
    }
  }
}
