package org.triggerbot.buildapisim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code triggerbot buildapi-sim}: runs a {@link BuildapiSimulator} as a service until SIGTERM (or
 * Ctrl-C).
 *
 * <p>Exit codes: 0 after a normal stop or {@code --help}; 2 on bad arguments, an unreadable password
 * or seed file (with a message on standard error); 1 if the port cannot be bound.
 *
 * <p>The password comes from {@code --password-file} or the environment, never from the command line
 * (where {@code ps} would show it), and is never printed.
 */
public final class Main {

  static final int DEFAULT_PORT = 8010;
  static final String PASSWORD_ENV = "TRIGGERBOT_BUILDAPI_PASSWORD";

  static final String USAGE = """
      usage: triggerbot buildapi-sim [--port N] [--bind ADDRESS] [--user USER [--password-file FILE]]
                                     [--job-lag DURATION] [--seed FILE.json]

      Runs a buildapi self-serve simulator until stopped (SIGTERM or Ctrl-C).
        --port N              port to listen on (default 8010; 0 picks a free one)
        --bind ADDRESS        address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
        --user USER           require Basic authentication as USER (default: no authentication)
        --password-file FILE  USER's password: the file's first line. Without it, the
                              TRIGGERBOT_BUILDAPI_PASSWORD environment variable
        --job-lag DURATION    rebuilt jobs show in GETs only after this ISO-8601 duration,
                              e.g. PT30S (default PT0S)
        --seed FILE.json      builds to preload: a JSON list of
                              {"branch", "revision", "buildername", "status" (0-6, default 0)}
        --help                this text
      Prints "buildapi simulator at <base URL>" once it listens.
      Exit codes: 0 stopped normally, 1 failure, 2 bad arguments.
      """;

  private Main() {}

  public static void main(String[] args) {
    CountDownLatch stop = new CountDownLatch(1);
    int code = run(Arrays.asList(args), System.getenv(), System.out, System.err, stop, true);
    if (code != 0) {
      System.exit(code);
    }
    // On success, return normally: exiting from here during a SIGTERM shutdown would block.
  }

  /** Parsed command line. {@code toString} leaves the password out. */
  record Config(SimulatorOptions options, String bindAddress, List<SeedBuild> seed) {}

  record SeedBuild(String branch, String revision, String buildername, int status) {}

  /**
   * Parses {@code args}, starts the simulator, prints its base URL to {@code out} and serves until
   * {@code stop} is counted down (by the shutdown hook if {@code installShutdownHook}).
   */
  static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err,
      CountDownLatch stop, boolean installShutdownHook) {
    if (args.contains("--help") || args.contains("-h")) {
      out.print(USAGE);
      return 0;
    }
    Config config;
    try {
      config = parse(args, env);
    } catch (SimCli.UsageException e) {
      err.println("triggerbot buildapi-sim: " + e.getMessage());
      err.println("Run 'triggerbot buildapi-sim --help' for usage.");
      return 2;
    }
    BuildapiSimulator simulator;
    try {
      simulator = BuildapiSimulator.start(config.options(), config.bindAddress());
    } catch (RuntimeException e) {
      err.println("triggerbot buildapi-sim: " + e.getMessage());
      return 1;
    }
    try {
      for (SeedBuild build : config.seed()) {
        simulator.addBuild(build.branch(), build.revision(), build.buildername(), build.status());
      }
      if (installShutdownHook) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          simulator.close();
          stop.countDown();
        }, "buildapi-sim-shutdown"));
      }
      out.println("buildapi simulator at " + simulator.baseUrl());
      out.flush();
      stop.await();
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } finally {
      simulator.close();
    }
  }

  static Config parse(List<String> args, Map<String, String> env) throws SimCli.UsageException {
    int port = DEFAULT_PORT;
    String bind = "127.0.0.1";
    String user = null;
    Path passwordFile = null;
    Duration jobLag = Duration.ZERO;
    Path seedFile = null;
    Iterator<String> it = args.iterator();
    while (it.hasNext()) {
      String arg = it.next();
      switch (arg) {
        case "--port" -> port = SimCli.parsePort(SimCli.value(arg, it));
        case "--bind" -> bind = SimCli.value(arg, it);
        case "--user" -> user = SimCli.value(arg, it);
        case "--password-file" -> passwordFile = Path.of(SimCli.value(arg, it));
        case "--job-lag" -> jobLag = SimCli.parseDuration(arg, SimCli.value(arg, it), "PT30S");
        case "--seed" -> seedFile = Path.of(SimCli.value(arg, it));
        case "--password" -> throw new SimCli.UsageException(
            "--password is not accepted (it would show in ps); use --password-file or " + PASSWORD_ENV);
        default -> throw new SimCli.UsageException("unknown argument '" + arg + "'");
      }
    }
    String password = null;
    if (user != null) {
      password = passwordFile != null ? SimCli.readSecretLine("--password-file", "password", passwordFile)
          : env.get(PASSWORD_ENV);
      if (password == null || password.isEmpty()) {
        throw new SimCli.UsageException("--user " + user + " needs a password: --password-file FILE or "
            + PASSWORD_ENV);
      }
    } else if (passwordFile != null) {
      throw new SimCli.UsageException("--password-file needs --user");
    }
    SimulatorOptions options;
    try {
      options = new SimulatorOptions(port, user, password, jobLag);
    } catch (IllegalArgumentException e) {
      throw new SimCli.UsageException(e.getMessage());
    }
    List<SeedBuild> seed = seedFile == null ? List.of() : readSeed(seedFile);
    return new Config(options, bind, seed);
  }

  private static final Set<String> SEED_FIELDS = Set.of("branch", "revision", "buildername", "status");

  static List<SeedBuild> readSeed(Path file) throws SimCli.UsageException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new SimCli.UsageException("cannot read seed file " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isArray()) {
      throw new SimCli.UsageException("seed file " + file + " must hold a JSON list of builds");
    }
    List<SeedBuild> builds = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode item = root.get(i);
      String where = "seed file " + file + ", item " + i;
      if (!item.isObject()) {
        throw new SimCli.UsageException(where + ": must be an object");
      }
      for (Iterator<String> names = item.fieldNames(); names.hasNext();) {
        String name = names.next();
        if (!SEED_FIELDS.contains(name)) {
          throw new SimCli.UsageException(where + ": unknown field '" + name + "' (expected " + SEED_FIELDS + ")");
        }
      }
      String branch = text(item, "branch", where);
      String revision = text(item, "revision", where);
      String buildername = text(item, "buildername", where);
      int status = 0;
      JsonNode statusNode = item.get("status");
      if (statusNode != null) {
        if (!statusNode.isInt() || statusNode.asInt() < 0 || statusNode.asInt() > SelfServeState.MAX_STATUS) {
          throw new SimCli.UsageException(where + ": status must be an integer 0-" + SelfServeState.MAX_STATUS);
        }
        status = statusNode.asInt();
      }
      builds.add(new SeedBuild(branch, revision, buildername, status));
    }
    return builds;
  }

  private static String text(JsonNode item, String field, String where) throws SimCli.UsageException {
    JsonNode node = item.get(field);
    if (node == null || !node.isTextual() || node.asText().isBlank()) {
      throw new SimCli.UsageException(where + ": '" + field + "' must be a non-blank string");
    }
    return node.asText();
  }
}
