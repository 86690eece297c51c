package org.triggerbot.buildapisim.taskcluster;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.triggerbot.buildapisim.SimCli;

/**
 * {@code triggerbot taskcluster-sim}: runs a {@link TaskclusterSimulator} as a service until SIGTERM (or Ctrl-C), as
 * a container runs it: the queue, index and hooks over HTTP, the queue's Pulse messages published to an AMQP broker,
 * and optionally a day of try pushes ({@code --day}) run at start, so that a stack decides something without anyone
 * publishing.
 *
 * <p>Exit codes: 0 after a normal stop or {@code --help}; 2 on bad arguments or an unreadable secret file (with a
 * message on standard error); 1 if the port cannot be bound or the broker cannot be reached.
 *
 * <p>The broker's URI (it holds a password) and the client's access token come from files or the environment, never
 * from the command line (where {@code ps} would show them), and are never printed.
 */
public final class TaskclusterMain {

  static final int DEFAULT_PORT = 8011;
  static final String AMQP_URI_ENV = "TRIGGERBOT_AMQP_URI";
  static final String ACCESS_TOKEN_ENV = "TRIGGERBOT_TC_ACCESS_TOKEN";
  static final Duration DEFAULT_CLONE_LAG = Duration.ofSeconds(5);
  static final long DEFAULT_SEED = 2019;
  /** What the client of {@code --client-id} may do: trigger the level-1 in-tree action hooks (try's). */
  static final String CLIENT_SCOPE = "hooks:trigger-hook:project-gecko/in-tree-action-1-*";
  static final String DAY_PROJECT = "try";
  static final int MAX_DAY_PUSHES = 1000;
  static final int MAX_DAY_TASKS = 1000;
  /** The pause between two probes of {@code --day-after}'s URL. */
  private static final Duration PROBE_INTERVAL = Duration.ofSeconds(1);

  static final String USAGE = """
      usage: triggerbot taskcluster-sim [--port N] [--bind ADDRESS] [--amqp-uri-file FILE]
                                        [--routing-keys route-first|primary]
                                        [--client-id ID [--access-token-file FILE]]
                                        [--clone-lag DURATION] [--broken REGEX]
                                        [--day PUSHES,TASKS,FAILURE_PERCENT [--seed N] [--day-after URL]]

      Runs a Taskcluster simulator (queue, index and hooks; the queue's Pulse messages) until stopped
      (SIGTERM or Ctrl-C).
        --port N                  port to listen on (default 8011; 0 picks a free one)
        --bind ADDRESS            address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
        --amqp-uri-file FILE      the AMQP broker (Pulse) to publish the queue's task-completed, task-failed
                                  and task-exception messages to: the file's first line,
                                  amqp://USER:PASSWORD@HOST:PORT/VHOST. Without it, the TRIGGERBOT_AMQP_URI
                                  environment variable; without either, nothing is published
        --routing-keys KEYS       route-first (default): a message's routing key is its first
                                  route.tc-treeherder.v2... route, the primary key and other routes go in
                                  CC (bindings on the route work on every broker); primary: Taskcluster's
                                  exact form, the primary key with every route in CC (RabbitMQ only)
        --client-id ID            a Taskcluster client allowed to trigger the retrigger hooks (scope
                                  hooks:trigger-hook:project-gecko/in-tree-action-1-*). Without it every
                                  hook trigger gets 401
        --access-token-file FILE  ID's access token: the file's first line. Without it, the
                                  TRIGGERBOT_TC_ACCESS_TOKEN environment variable
        --clone-lag DURATION      a retrigger's clones run this ISO-8601 duration after it (default PT5S)
        --broken REGEX            clones of the labels in which REGEX finds a match fail; the others pass
                                  (default: every clone passes)
        --day P,T,F               at start, P try pushes of T test tasks each, run at once, F percent of
                                  all those tasks failing; prints a line per push
        --seed N                  --day's revisions, labels and failing tasks come from this seed
                                  (default 2019): the same seed gives the same day
        --day-after URL           run --day only once URL answers 200, e.g. http://bridge:9402/health/ready
                                  (the messages of a day published before a consumer's queue is bound go
                                  nowhere); probed every second
        --help                    this text
      Prints "taskcluster simulator at <root URL>" once it listens.
      Exit codes: 0 stopped normally, 1 failure (port in use, broker unreachable), 2 bad arguments.
      """;

  private TaskclusterMain() {}

  public static void main(String[] args) {
    CountDownLatch stop = new CountDownLatch(1);
    int code = run(Arrays.asList(args), System.getenv(), System.out, System.err, stop, true);
    if (code != 0) {
      System.exit(code);
    }
    // On success, return normally: exiting from here during a SIGTERM shutdown would block.
  }

  /** {@code --day}: pushes, test tasks per push, and the percentage of all those tasks that fail. */
  record Day(int pushes, int tasks, int failurePercent) {}

  /**
   * Parsed command line. {@code toString} leaves the secrets out ({@link AmqpTarget}'s own leaves its password out).
   *
   * @param amqp null: publish nothing
   * @param clientId null: no client
   * @param broken null: every clone passes
   * @param day null: no day
   * @param dayAfter null: run the day at once
   */
  record Config(int port, String bindAddress, AmqpTarget amqp, String clientId, String accessToken,
      Duration cloneLag, Pattern broken, Day day, long seed, URI dayAfter) {

    @Override
    public String toString() {
      return "Config[port=" + port + ", bind=" + bindAddress + ", amqp=" + amqp + ", clientId=" + clientId
          + ", cloneLag=" + cloneLag + ", broken=" + broken + ", day=" + day + ", seed=" + seed + ", dayAfter="
          + dayAfter + "]";
    }
  }

  /** One push of a day: its revision and owner, and each test task's label, test type and whether it fails. */
  record PlannedPush(String revision, String owner, List<PlannedTask> tasks) {}

  record PlannedTask(String label, String testType, boolean fails) {}

  /**
   * Parses {@code args}, starts the simulator, prints its root URL to {@code out}, runs the day if asked, and serves
   * until {@code stop} is counted down (by the shutdown hook if {@code installShutdownHook}).
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
      err.println("triggerbot taskcluster-sim: " + e.getMessage());
      err.println("Run 'triggerbot taskcluster-sim --help' for usage.");
      return 2;
    }
    if (config.amqp() == null) {
      out.println("No AMQP broker (--amqp-uri-file or " + AMQP_URI_ENV + "): the queue's Pulse messages are not "
          + "published");
    } else {
      out.println("Publishing the queue's Pulse messages to " + config.amqp());
    }
    if (config.clientId() == null) {
      out.println("No --client-id: every hook trigger gets 401");
    }
    TaskclusterSimulator simulator;
    try {
      simulator = TaskclusterSimulator.start(config.bindAddress(), config.port(), config.amqp());
    } catch (RuntimeException e) {
      err.println("triggerbot taskcluster-sim: " + hideSecrets(String.valueOf(e.getMessage()), config));
      return 1;
    }
    try {
      simulator.setCloneLag(config.cloneLag());
      if (config.broken() != null) {
        simulator.setCloneRule(brokenRule(config.broken()));
      }
      if (config.clientId() != null) {
        simulator.addClient(config.clientId(), config.accessToken(), List.of(CLIENT_SCOPE));
      }
      if (installShutdownHook) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          simulator.close();
          stop.countDown();
        }, "taskcluster-sim-shutdown"));
      }
      out.println("taskcluster simulator at " + simulator.rootUrl());
      out.flush();
      if (config.day() != null) {
        if (config.dayAfter() != null && !awaitReady(config.dayAfter(), out, stop)) {
          return 0; // stopped while waiting
        }
        try {
          runDay(simulator, plan(config.day(), config.seed()), out);
        } catch (RuntimeException e) {
          if (stop.getCount() == 0) {
            return 0; // stopped (and the simulator closed) during the day
          }
          err.println("triggerbot taskcluster-sim: the day failed: " + hideSecrets(String.valueOf(e), config));
          return 1;
        }
      }
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
    Path amqpUriFile = null;
    AmqpTarget.RoutingKeys routingKeys = AmqpTarget.RoutingKeys.ROUTE_FIRST;
    String clientId = null;
    Path accessTokenFile = null;
    Duration cloneLag = DEFAULT_CLONE_LAG;
    Pattern broken = null;
    Day day = null;
    Long seed = null;
    URI dayAfter = null;
    Iterator<String> it = args.iterator();
    while (it.hasNext()) {
      String arg = it.next();
      switch (arg) {
        case "--port" -> port = SimCli.parsePort(SimCli.value(arg, it));
        case "--bind" -> bind = nonBlank(arg, SimCli.value(arg, it));
        case "--amqp-uri-file" -> amqpUriFile = Path.of(SimCli.value(arg, it));
        case "--routing-keys" -> routingKeys = parseRoutingKeys(SimCli.value(arg, it));
        case "--client-id" -> clientId = nonBlank(arg, SimCli.value(arg, it));
        case "--access-token-file" -> accessTokenFile = Path.of(SimCli.value(arg, it));
        case "--clone-lag" -> cloneLag = SimCli.parseDuration(arg, SimCli.value(arg, it), "PT5S");
        case "--broken" -> broken = parseRegex(arg, SimCli.value(arg, it));
        case "--day" -> day = parseDay(SimCli.value(arg, it));
        case "--seed" -> seed = parseSeed(SimCli.value(arg, it));
        case "--day-after" -> dayAfter = parseUrl(arg, SimCli.value(arg, it));
        case "--amqp-uri" -> throw new SimCli.UsageException(
            "--amqp-uri is not accepted (it holds a password, which ps would show); use --amqp-uri-file or "
                + AMQP_URI_ENV);
        case "--access-token" -> throw new SimCli.UsageException(
            "--access-token is not accepted (ps would show it); use --access-token-file or " + ACCESS_TOKEN_ENV);
        default -> throw new SimCli.UsageException("unknown argument '" + arg + "'");
      }
    }
    if (day == null && seed != null) {
      throw new SimCli.UsageException("--seed needs --day");
    }
    if (day == null && dayAfter != null) {
      throw new SimCli.UsageException("--day-after needs --day");
    }
    AmqpTarget amqp = null;
    if (amqpUriFile != null) {
      amqp = amqpTarget(SimCli.readSecretLine("--amqp-uri-file", "AMQP URI", amqpUriFile),
          "--amqp-uri-file " + amqpUriFile);
    } else if (env.get(AMQP_URI_ENV) != null && !env.get(AMQP_URI_ENV).isBlank()) {
      amqp = amqpTarget(env.get(AMQP_URI_ENV).trim(), AMQP_URI_ENV);
    }
    if (amqp != null) {
      amqp = amqp.withRoutingKeys(routingKeys);
    }
    String accessToken = null;
    if (clientId != null) {
      accessToken = accessTokenFile != null
          ? SimCli.readSecretLine("--access-token-file", "access token", accessTokenFile)
          : env.get(ACCESS_TOKEN_ENV);
      if (accessToken == null || accessToken.isEmpty()) {
        throw new SimCli.UsageException(
            "--client-id " + clientId + " needs an access token: --access-token-file FILE or "
                + ACCESS_TOKEN_ENV);
      }
    } else if (accessTokenFile != null) {
      throw new SimCli.UsageException("--access-token-file needs --client-id");
    }
    return new Config(port, bind, amqp, clientId, accessToken, cloneLag, broken, day,
        seed == null ? DEFAULT_SEED : seed, dayAfter);
  }

  /**
   * The pushes of a day, from {@code seed} alone: random revisions and owners, labels of the Gecko form
   * {@code test-<platform>/<buildtype>-<suite>-<chunk>} (distinct within a push), and
   * {@code round(pushes * tasks * failurePercent / 100)} failing tasks chosen at random among all of them.
   */
  static List<PlannedPush> plan(Day day, long seed) {
    Random random = new Random(seed);
    int total = day.pushes() * day.tasks();
    int failures = (int) ((total * (long) day.failurePercent() + 50) / 100);
    // A partial Fisher-Yates shuffle: the first `failures` indices are the failing tasks.
    int[] order = new int[total];
    for (int i = 0; i < total; i++) {
      order[i] = i;
    }
    for (int i = 0; i < failures; i++) {
      int j = i + random.nextInt(total - i);
      int swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    boolean[] failing = new boolean[total];
    for (int i = 0; i < failures; i++) {
      failing[order[i]] = true;
    }
    List<PlannedPush> pushes = new ArrayList<>();
    for (int p = 0; p < day.pushes(); p++) {
      byte[] revision = new byte[20];
      random.nextBytes(revision);
      String owner = OWNERS.get(random.nextInt(OWNERS.size()));
      List<PlannedTask> tasks = new ArrayList<>();
      for (int t = 0; t < day.tasks(); t++) {
        // 5 platforms and 6 suites, coprime: the first 30 tasks are 30 distinct pairs, then the chunk goes up.
        String[] suite = SUITES.get(t % SUITES.size());
        String platform = PLATFORMS.get(t % PLATFORMS.size());
        int chunk = t / (SUITES.size() * PLATFORMS.size()) + 1;
        tasks.add(new PlannedTask("test-" + platform + "-" + suite[0] + "-" + chunk, suite[1],
            failing[p * day.tasks() + t]));
      }
      pushes.add(new PlannedPush(HexFormat.of().formatHex(revision), owner, List.copyOf(tasks)));
    }
    return List.copyOf(pushes);
  }

  /** Fictional pushers. */
  private static final List<String> OWNERS =
      List.of("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com");
  /** {@code <platform>/<buildtype>} of Gecko test labels. */
  private static final List<String> PLATFORMS = List.of("linux1804-64-qr/opt", "linux1804-64-qr/debug",
      "windows11-64-2009-qr/opt", "macosx1015-64-qr/opt", "android-em-7.0-x86_64-qr/opt");
  /** Suite and test type (the actions' {@code test-type} context). */
  private static final List<String[]> SUITES = List.of(new String[] {"mochitest-browser-chrome", "mochitest"},
      new String[] {"mochitest-plain", "mochitest"}, new String[] {"xpcshell", "xpcshell"},
      new String[] {"reftest", "reftest"}, new String[] {"web-platform-tests", "web-platform-tests"},
      new String[] {"crashtest", "reftest"});

  /** Clones of the labels in which {@code broken} finds a match fail; the others pass. */
  static CloneRule brokenRule(Pattern broken) {
    return (label, cloneIndex) -> broken.matcher(label).find() ? Outcome.FAILED : Outcome.COMPLETED;
  }

  /** Adds and runs the day's pushes, printing a line per push. */
  private static void runDay(TaskclusterSimulator simulator, List<PlannedPush> plan, PrintStream out) {
    long errorsBefore = simulator.publishErrors();
    int n = 0;
    for (PlannedPush planned : plan) {
      n++;
      TaskclusterSimulator.Push push = simulator.addPush(DAY_PROJECT, planned.revision(), planned.owner());
      List<String> taskIds = new ArrayList<>();
      for (PlannedTask task : planned.tasks()) {
        taskIds.add(simulator.addTestTask(push, task.label(), task.testType()));
      }
      int failed = 0;
      for (int i = 0; i < taskIds.size(); i++) {
        boolean fails = planned.tasks().get(i).fails();
        failed += fails ? 1 : 0;
        simulator.runTask(taskIds.get(i), fails ? Outcome.FAILED : Outcome.COMPLETED);
      }
      out.printf(Locale.ROOT, "day push %d/%d: %s %s by %s, task group %s: %d test tasks, %d failed%n", n,
          plan.size(), DAY_PROJECT, planned.revision(), planned.owner(), push.taskGroupId(), taskIds.size(),
          failed);
      out.flush();
    }
    long notPublished = simulator.publishErrors() - errorsBefore;
    if (notPublished > 0) {
      out.println("day: " + notPublished + " message(s) were not confirmed by the broker (see the log)");
    }
  }

  /** Waits until {@code url} answers 200; false if {@code stop} was counted down first. */
  private static boolean awaitReady(URI url, PrintStream out, CountDownLatch stop) throws InterruptedException {
    out.println("Waiting for " + url + " to answer 200 before the day's pushes");
    out.flush();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).GET().build();
    while (stop.getCount() > 0) {
      try {
        if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          out.println(url + " answers 200: running the day");
          out.flush();
          return true;
        }
      } catch (IOException e) {
        // Not up yet (refused, unknown host, timed out): probe again.
      }
      if (stop.await(PROBE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
        return false;
      }
    }
    return false;
  }

  /** {@code message} with the broker's password and the access token replaced, should a library have named them. */
  static String hideSecrets(String message, Config config) {
    String hidden = message;
    if (config.amqp() != null && !config.amqp().password().isEmpty()) {
      hidden = hidden.replace(config.amqp().password(), "[hidden]");
    }
    if (config.accessToken() != null) {
      hidden = hidden.replace(config.accessToken(), "[hidden]");
    }
    return hidden;
  }

  private static String nonBlank(String option, String value) throws SimCli.UsageException {
    if (value.isBlank()) {
      throw new SimCli.UsageException(option + " must not be blank");
    }
    return value;
  }

  private static AmqpTarget.RoutingKeys parseRoutingKeys(String value) throws SimCli.UsageException {
    return switch (value) {
      case "route-first" -> AmqpTarget.RoutingKeys.ROUTE_FIRST;
      case "primary" -> AmqpTarget.RoutingKeys.PRIMARY;
      default -> throw new SimCli.UsageException("--routing-keys must be route-first or primary, got '" + value + "'");
    };
  }

  private static Pattern parseRegex(String option, String value) throws SimCli.UsageException {
    try {
      return Pattern.compile(value);
    } catch (PatternSyntaxException e) {
      throw new SimCli.UsageException(option + " is not a regular expression: " + e.getDescription() + " in '" + value
          + "'");
    }
  }

  private static Day parseDay(String value) throws SimCli.UsageException {
    String expected = "--day must be PUSHES,TASKS,FAILURE_PERCENT (PUSHES 1-" + MAX_DAY_PUSHES + ", TASKS 1-"
        + MAX_DAY_TASKS + ", FAILURE_PERCENT 0-100), got '" + value + "'";
    String[] parts = value.split(",", -1);
    if (parts.length != 3) {
      throw new SimCli.UsageException(expected);
    }
    int[] numbers = new int[3];
    for (int i = 0; i < 3; i++) {
      try {
        numbers[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new SimCli.UsageException(expected);
      }
    }
    if (numbers[0] < 1 || numbers[0] > MAX_DAY_PUSHES || numbers[1] < 1 || numbers[1] > MAX_DAY_TASKS
        || numbers[2] < 0 || numbers[2] > 100) {
      throw new SimCli.UsageException(expected);
    }
    return new Day(numbers[0], numbers[1], numbers[2]);
  }

  private static long parseSeed(String value) throws SimCli.UsageException {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new SimCli.UsageException("--seed must be an integer, got '" + value + "'");
    }
  }

  private static URI parseUrl(String option, String value) throws SimCli.UsageException {
    try {
      URI uri = new URI(value);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
          || uri.getRawUserInfo() != null) {
        throw new URISyntaxException(value, "not an http(s) URL with a host and no credentials");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new SimCli.UsageException(option + " must be an http(s) URL such as http://bridge:9402/health/ready, got '"
          + value + "'");
    }
  }

  /** The URI as a target; the message names where it came from, never the URI (it holds a password). */
  private static AmqpTarget amqpTarget(String uri, String source) throws SimCli.UsageException {
    try {
      return AmqpTarget.fromUri(uri);
    } catch (IllegalArgumentException e) {
      throw new SimCli.UsageException(source + ": " + e.getMessage());
    }
  }

}
