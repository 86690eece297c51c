package org.triggerbot.buildapisim.taskcluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.buildapisim.HttpCodec;
import org.triggerbot.buildapisim.SimHttp;
import org.triggerbot.common.Hawk;

/**
 * A Taskcluster simulator: the part of the queue, index and hooks services that triggerbot uses (reading task
 * definitions, statuses, task groups and a decision task's {@code actions.json}; triggering the retrigger hook), over
 * real HTTP with Taskcluster's paths and JSON shapes, and the queue's Pulse messages published to a real AMQP
 * broker. It stands in for Mozilla's CI in the tests of the bridge and the trigger-sink (SPEC §3b, §6b), with faults
 * that can be switched on while it runs.
 *
 * <h2>State</h2>
 * {@linkplain #addPush Pushes}, each with a completed Gecko decision task whose taskId is the push's task group id,
 * and {@linkplain #addTestTask test tasks} in that group, pending until {@linkplain #runTask run}. Task ids are
 * {@linkplain Slugid#nice() nice slugids}; definitions look like real ones ({@code routes}
 * {@code tc-treeherder.v2.<project>.<revision>.<pushlogId>}, {@code tags}, {@code metadata}, {@code extra.treeherder},
 * see {@code fixtures/taskcluster-samples}). Tasks never expire and are never deleted.
 *
 * <h2>Endpoints</h2>
 * Under {@link #rootUrl()}; answers are {@code application/json; charset=utf-8}; errors are Taskcluster's
 * {@code {"code", "message", "requestInfo"}}.
 * <ul>
 *   <li>{@code GET /api/queue/v1/task/{taskId}}: the definition; 404 {@code ResourceNotFound}.</li>
 *   <li>{@code GET /api/queue/v1/task/{taskId}/status}: {@code {"status": {...}}}.</li>
 *   <li>{@code GET /api/queue/v1/task/{taskId}/artifacts/public/actions.json} (the name may also be sent as one
 *       segment, {@code public%2Factions.json}): for a decision task, 303 See Other to
 *       {@code /artifacts-store/{taskId}/public/actions.json}, which serves the file, as the real queue redirects to
 *       its storage (a client must follow the redirect). The redirect names the host and port of the request's
 *       {@code Host} header (else those of {@link #rootUrl()}), so that it works for a client that reached the
 *       simulator by another name, e.g. a container's service name; 404 {@code ResourceNotFound} for any other artifact, a task
 *       without that artifact or after {@link #removeActionsJson}.</li>
 *   <li>{@code GET /api/index/v1/task/{namespace}}: {@code {namespace, taskId, rank, data, expires}} for every
 *       {@code index.}-route of a task, e.g. {@code gecko.v2.<project>.revision.<revision>.taskgraph.decision}
 *       (the latest task wins); 404 {@code ResourceNotFound}.</li>
 *   <li>{@code GET /api/queue/v1/task-group/{taskGroupId}/list[?limit=N&continuationToken=T]}: {@code {taskGroupId,
 *       tasks: [{status, task}], continuationToken?}} in creation order (the decision task first), at most
 *       {@code limit} (default and maximum {@value #MAX_PAGE}) a page; the token is opaque, absent on the last page.
 *       400 {@code InputError} for a bad limit or token, 404 for an unknown group.</li>
 *   <li>{@code POST /api/hooks/v1/hooks/{hookGroupId}/{hookId}/trigger}, the hook id URL-encoded as one segment
 *       ({@code in-tree-action-1-generic%2Fbb2dee27f9}; sent unencoded it names no route: 404). In this order:
 *       Hawk authentication against the {@linkplain #addClient clients} (checked with {@link Hawk#verify}, against
 *       the {@code Host} header's host and port, 15 minutes of clock skew allowed): 401 {@code AuthenticationFailed};
 *       the scope {@code hooks:trigger-hook:<hookGroupId>/<hookId>} (a client scope ending in {@code *} covers
 *       what it prefixes): 403 {@code InsufficientScopes}; a hook that the actions template names: else 404; the
 *       payload: a JSON object with {@code user.taskId} (a known task) and {@code user.input.times} (1-{@value
 *       #MAX_TIMES}, the template's schema maximum), and, where present, {@code user.taskGroupId} and
 *       {@code decision.action.taskGroupId} equal to that task's group and {@code decision.action.cb_name} equal to
 *       {@code retrigger} (this simulator runs no other action): else 400 {@code InputError}. On success 200
 *       {@code {"status": {...}, "taskId": T}}: as Taskcluster's triggerHook, the status of the task the hook created
 *       (the action task, pending), plus a top-level {@code taskId} (the same id) for convenience, which the real
 *       service does not send. The action task ({@code tags.kind: action-callback}, {@code metadata.name: "Action:
 *       Retrigger"}) and {@code times} clones of {@code user.taskId} (same definition, label and group; new taskId;
 *       {@code created} now; {@code tags.action: "retrigger-task"}) are in the task group at once. The action task
 *       then completes (its {@code task-completed} message is published at once, from another thread), and each
 *       clone runs after the {@linkplain #setCloneLag clone lag} with the outcome its {@linkplain #setCloneRule rule}
 *       chose when it was created.</li>
 *   <li>Anything else: 404 {@code ResourceNotFound}.</li>
 * </ul>
 *
 * <h2>Pulse messages</h2>
 * With an {@link AmqpTarget}, {@link #start} connects and declares the durable topic exchanges
 * {@code exchange/taskcluster-queue/v1/task-completed}, {@code task-failed} and {@code task-exception}, so that a
 * bridge can bind to them passively. Each resolved run is published to one of them, as the queue does: body
 * {@code {"status", "runId", "task": {"tags"}, "workerGroup", "workerId", "version": 1}} (the worker fields absent
 * for a run that never started), {@code application/json}, persistent, with publisher confirms. Taskcluster's
 * routing key is the primary key {@code primary.<taskId>.<runId>.<workerGroup>.<workerId>.<provisionerId>.
 * <workerType>.<schedulerId>.<taskGroupId>._} ({@code _} for a missing worker) and each task route goes as
 * {@code route.<route>} in the {@code CC} header, RabbitMQ's sender-selected distribution.
 * <b>Deviation:</b> Qpid Broker-J, the embedded broker of the tests, ignores {@code CC} (checked by
 * {@code TaskclusterSimulatorTest}), so by default ({@link AmqpTarget.RoutingKeys#ROUTE_FIRST}) the message is
 * published with the first {@code route.tc-treeherder.v2...} key as its routing key and the primary key and other
 * routes in {@code CC}: a binding of {@code route.tc-treeherder.v2.<branch>.#} then works on both brokers, and on
 * RabbitMQ every binding matches as with Taskcluster; only the delivery's own routing key differs. (On Qpid only
 * that routing key routes: bindings on the primary key or on a later route match nothing.)
 * {@link AmqpTarget.RoutingKeys#PRIMARY} publishes Taskcluster's exact form. A message the broker does not confirm
 * (after one reconnect) is logged as an error and counted ({@link #publishErrors()}); {@link #pulseMessages()} lists
 * every message with whether it was confirmed. No {@code task-pending}, {@code task-running} or other queue
 * messages are sent, and the decision task's completion is not published (it completed before the simulator is
 * watched).
 *
 * <h2>Per request, in this order</h2>
 * Wait the {@linkplain #setLatency latency}; answer an {@linkplain #failNext injected failure} if one is pending;
 * route (a hook trigger takes effect here); {@linkplain #requests() record}; answer. A client that has its response
 * therefore finds its request in the log. The log never holds the {@code Authorization} header, only the Hawk
 * client id it proved.
 *
 * <p>Thread-safe: every method may be called from any thread while the server runs.
 */
public final class TaskclusterSimulator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TaskclusterSimulator.class);

  /** Page size of a task group listing, and the largest {@code limit} honoured. */
  public static final int MAX_PAGE = 1000;
  /** Largest {@code user.input.times} of a retrigger: the template's action schema maximum. */
  public static final int MAX_TIMES = 6;
  /** How many requests and Pulse messages are kept (the oldest are forgotten first). */
  public static final int MAX_RECORDED = 100_000;
  /** Where the decision task's {@code actions.json} is served after the queue's redirect. */
  public static final String ARTIFACT_STORE = "/artifacts-store";
  /** The artifact a decision task has. */
  public static final String ACTIONS_ARTIFACT = "public/actions.json";
  /** Hawk timestamps may be this far from the simulator's clock, as Taskcluster allows. */
  static final long SKEW_SECONDS = 15 * 60;

  static final int THREADS = 16;
  private static final int MAX_BODY_BYTES = 1 << 20;
  private static final String LOOPBACK = "127.0.0.1";
  private static final String JSON_TYPE = "application/json; charset=utf-8";
  private static final Pattern REVISION = Pattern.compile("^[0-9a-f]{40}$");
  private static final Pattern PROJECT = Pattern.compile("^[A-Za-z0-9_-]+$");
  private static final Pattern HAWK_ID = Pattern.compile("\\bid=\"([^\"]*)\"");
  /** A {@code Host} header fit to put in a {@code Location}: a name or address, an optional port. */
  private static final Pattern HOST_HEADER = Pattern.compile("^(?:[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(?::\\d{1,5})?$");

  private final HttpServer server;
  private final ExecutorService executor;
  private final ScheduledExecutorService runner;
  private final String rootUrl;
  private final PulsePublisher publisher;
  private final AmqpTarget.RoutingKeys routingKeys;
  private final ObjectMapper json = JsonMapper.builder().build();
  private final ObjectNode actionsTemplate;
  private final Set<String> hooks;

  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();

  private final Object lock = new Object();
  /** Guarded by lock. */
  private final Map<String, Task> tasks = new HashMap<>();
  /** Task ids by group, in creation order. Guarded by lock. */
  private final Map<String, List<String>> groups = new HashMap<>();
  /** Pushes by task group. Guarded by lock. */
  private final Map<String, Push> pushes = new HashMap<>();
  /** The served actions.json by task group (absent once removed). Guarded by lock. */
  private final Map<String, ObjectNode> actions = new HashMap<>();
  /** Namespace to taskId. Guarded by lock. */
  private final Map<String, String> index = new HashMap<>();
  /** How many clones each (group, label) has had. Guarded by lock. */
  private final Map<String, Integer> cloneCounts = new HashMap<>();
  private final AtomicLong pushlogIds = new AtomicLong(100_000);
  private final AtomicLong workerSerial = new AtomicLong();

  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private volatile CloneRule cloneRule = CloneRule.ALL_PASS;
  private volatile Duration cloneLag = Duration.ZERO;

  private final AtomicLong arrivals = new AtomicLong();
  /** Arrival number to record; guarded by itself. */
  private final TreeMap<Long, RecordedRequest> log = new TreeMap<>();
  private final List<Trigger> triggers = new CopyOnWriteArrayList<>();
  /** Guarded by itself. */
  private final ArrayDeque<PulseMessage> messages = new ArrayDeque<>();

  private final Object faultLock = new Object();
  private int failStatus;
  private int failRemaining;
  private volatile Duration latency = Duration.ZERO;

  /**
   * A push: its decision task's taskId is its task group id.
   *
   * @param project the branch, e.g. {@code try}
   * @param revision the 40-hex-digit revision
   * @param pushlogId the pushlog id, unique in this simulator
   * @param owner who pushed ({@code tags.createdForUser} of its tasks)
   * @param decisionTaskId the decision task's taskId, also the task group id
   */
  public record Push(String project, String revision, long pushlogId, String owner, String decisionTaskId) {
    /** The push's task group: its decision task's id. */
    public String taskGroupId() {
      return decisionTaskId;
    }
  }

  /**
   * A hook trigger that created an action task (refused triggers are only in {@link #requests()}).
   *
   * @param hookGroupId e.g. {@code project-gecko}
   * @param hookId decoded, e.g. {@code in-tree-action-1-generic/bb2dee27f9}
   * @param clientId the Hawk client that triggered it
   * @param payload the request body
   * @param actionTaskId the action task created
   * @param cloneTaskIds the clones of {@code user.taskId} created, in order
   * @param at when it was received
   */
  public record Trigger(String hookGroupId, String hookId, String clientId, JsonNode payload, String actionTaskId,
      List<String> cloneTaskIds, Instant at) {
    public Trigger {
      payload = payload.deepCopy();
      cloneTaskIds = List.copyOf(cloneTaskIds);
    }

    /** The payload (a copy: the record stays unchanged). */
    @Override
    public JsonNode payload() {
      return payload.deepCopy();
    }
  }

  /**
   * One request as received, with the status it got. Never the {@code Authorization} header or the body.
   *
   * @param method the HTTP method
   * @param path the path, each segment percent-decoded and joined with {@code /} (the raw path if undecodable)
   * @param rawPath the path exactly as sent
   * @param query the raw query string; null if none
   * @param clientId the Hawk client id the request proved; null if it sent no valid Hawk header (or needed none)
   * @param status the response status
   * @param at when it arrived
   */
  public record RecordedRequest(String method, String path, String rawPath, String query, String clientId,
      int status, Instant at) {}

  /**
   * A Pulse message the simulator produced.
   *
   * @param exchange e.g. {@code exchange/taskcluster-queue/v1/task-failed}
   * @param routingKey the key it was published with (see the class comment)
   * @param cc the routing keys of its {@code CC} header
   * @param primaryKey Taskcluster's primary routing key of the message
   * @param body the message body
   * @param confirmed true if the broker confirmed it; false without an {@link AmqpTarget} or when publishing failed
   */
  public record PulseMessage(String exchange, String routingKey, List<String> cc, String primaryKey, JsonNode body,
      boolean confirmed) {
    public PulseMessage {
      cc = List.copyOf(cc);
      body = body.deepCopy();
    }

    /** The body (a copy: the record stays unchanged). */
    @Override
    public JsonNode body() {
      return body.deepCopy();
    }
  }

  private record Client(String accessToken, Set<String> scopes) {}

  /** A task and its runs. Guarded by the simulator's lock; {@code definition} is never changed once made. */
  private static final class Task {
    final String taskId;
    final ObjectNode definition;
    final List<Run> runs = new ArrayList<>();
    int retriesLeft = 5;

    Task(String taskId, ObjectNode definition) {
      this.taskId = taskId;
      this.definition = definition;
    }

    Run lastRun() {
      return runs.isEmpty() ? null : runs.get(runs.size() - 1);
    }

    String state() {
      Run last = lastRun();
      return last == null ? "unscheduled" : last.state;
    }

    String text(String field) {
      return definition.path(field).asText();
    }
  }

  /** One run. Guarded by the simulator's lock. */
  private static final class Run {
    final int runId;
    final String reasonCreated;
    final Instant scheduled;
    String state = "pending";
    String reasonResolved;
    String workerGroup;
    String workerId;
    Instant takenUntil;
    Instant started;
    Instant resolved;

    Run(int runId, String reasonCreated, Instant scheduled) {
      this.runId = runId;
      this.reasonCreated = reasonCreated;
      this.scheduled = scheduled;
    }

    boolean isResolved() {
      return resolved != null;
    }
  }

  private TaskclusterSimulator(HttpServer server, ExecutorService executor, AmqpTarget amqp,
      PulsePublisher publisher) {
    this.server = server;
    this.executor = executor;
    this.publisher = publisher;
    this.routingKeys = amqp == null ? AmqpTarget.RoutingKeys.ROUTE_FIRST : amqp.routingKeys();
    this.runner = Executors.newSingleThreadScheduledExecutor(SimHttp.daemonThreads("taskcluster-sim-runner-"));
    this.actionsTemplate = ActionsJson.template(json);
    this.hooks = Set.copyOf(ActionsJson.hooks(actionsTemplate));
    InetSocketAddress bound = server.getAddress();
    String host = bound.getAddress().isAnyLocalAddress() ? LOOPBACK : bound.getAddress().getHostAddress();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    this.rootUrl = "http://" + host + ":" + bound.getPort();
  }

  /**
   * Starts a simulator on {@code bindAddress} and a free port.
   *
   * @param amqp where to publish Pulse messages; null to publish none (they are still listed by
   *     {@link #pulseMessages()})
   * @throws UncheckedIOException if the address cannot be resolved or bound
   * @throws IllegalStateException if the AMQP broker cannot be reached or refuses the exchanges
   */
  public static TaskclusterSimulator start(String bindAddress, AmqpTarget amqp) {
    return start(bindAddress, 0, amqp);
  }

  /**
   * Starts a simulator on {@code bindAddress} and {@code port} (0: a free one). {@link #rootUrl()} names
   * {@code 127.0.0.1} for a wildcard address.
   *
   * @param amqp where to publish Pulse messages; null to publish none
   * @throws UncheckedIOException if the address cannot be resolved or bound
   * @throws IllegalStateException if the AMQP broker cannot be reached or refuses the exchanges
   */
  public static TaskclusterSimulator start(String bindAddress, int port, AmqpTarget amqp) {
    Objects.requireNonNull(bindAddress, "bindAddress");
    InetSocketAddress address;
    try {
      address = new InetSocketAddress(InetAddress.getByName(bindAddress), port);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve bind address " + bindAddress, e);
    }
    // The JDK server leaves Nagle's algorithm on: with the client's delayed ACKs every small response would
    // wait ~40 ms. Read once when the JDK's server classes load, so it must be set before the first server.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    PulsePublisher publisher = amqp == null ? null : PulsePublisher.connect(amqp);
    HttpServer server;
    try {
      server = HttpServer.create(address, 0);
    } catch (IOException e) {
      if (publisher != null) {
        publisher.close();
      }
      throw new UncheckedIOException("Cannot listen on " + bindAddress + ":" + port + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, SimHttp.daemonThreads("taskcluster-sim-"));
    TaskclusterSimulator simulator = new TaskclusterSimulator(server, executor, amqp, publisher);
    server.createContext("/", simulator::handle);
    server.setExecutor(executor);
    server.start();
    LOG.info("Taskcluster simulator listening at {} (Pulse messages to {})", simulator.rootUrl,
        amqp == null ? "nowhere" : amqp);
    return simulator;
  }

  /** {@code http://HOST:PORT}, with no trailing slash: the Taskcluster root URL clients are configured with. */
  public String rootUrl() {
    return rootUrl;
  }

  /** The port listened on. */
  public int port() {
    return server.getAddress().getPort();
  }

  // --- state -------------------------------------------------------------------------------

  /**
   * Adds a push with its completed decision task (and its {@code actions.json} and index routes); no message is
   * published.
   *
   * @param project the branch, letters, digits, {@code -} and {@code _} (it is a routing key word)
   * @param revision 40 lowercase hex digits
   * @param owner the pusher, e.g. an email address
   */
  public Push addPush(String project, String revision, String owner) {
    Objects.requireNonNull(project, "project");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(owner, "owner");
    if (!PROJECT.matcher(project).matches()) {
      throw new IllegalArgumentException("project must be letters, digits, '-' or '_', got '" + project + "'");
    }
    if (!REVISION.matcher(revision).matches()) {
      throw new IllegalArgumentException("revision must be 40 lowercase hex digits, got '" + revision + "'");
    }
    if (owner.isBlank()) {
      throw new IllegalArgumentException("owner must not be blank");
    }
    Push push = new Push(project, revision, pushlogIds.incrementAndGet(), owner, Slugid.nice());
    Instant now = Instant.now();
    ObjectNode definition = TaskDefinitions.decisionTask(push, now);
    ObjectNode file = ActionsJson.forPush(actionsTemplate, push, TaskDefinitions.repositoryUrl(project));
    synchronized (lock) {
      Task decision = addTask(push.decisionTaskId(), definition);
      Run run = new Run(0, "scheduled", now);
      decision.runs.add(run);
      claim(decision, run, now);
      run.state = "completed";
      run.reasonResolved = "completed";
      run.resolved = now;
      pushes.put(push.taskGroupId(), push);
      actions.put(push.taskGroupId(), file);
    }
    return push;
  }

  /**
   * Adds a pending test task to the push's group ({@code tags.kind: test}, {@code extra.treeherder.jobKind: test}).
   * A label of the Gecko form {@code test-<platform>/<buildtype>-<suite>} gives the platform, collection and
   * worker; any other label gets linux64/opt.
   *
   * @return its taskId
   */
  public String addTestTask(Push push, String label, String testType) {
    Objects.requireNonNull(push, "push");
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(testType, "testType");
    if (label.isBlank()) {
      throw new IllegalArgumentException("label must not be blank");
    }
    Instant now = Instant.now();
    String taskId = Slugid.nice();
    synchronized (lock) {
      if (!push.equals(pushes.get(push.taskGroupId()))) {
        throw new IllegalArgumentException("Unknown push " + push);
      }
      Task task = addTask(taskId, TaskDefinitions.testTask(push, label, testType, now));
      task.runs.add(new Run(0, "scheduled", now));
    }
    return taskId;
  }

  /**
   * Runs the task's current run to {@code outcome} and publishes the Pulse message of each run it resolves (two
   * for a {@link Outcome#retryThen retry}), returning once they are published (or failed to be). If the task's last
   * run is already resolved, a new run is created first ({@code reasonCreated: "rerun"}), as {@code rerunTask}
   * does.
   *
   * @throws IllegalArgumentException if there is no such task
   */
  public void runTask(String taskId, Outcome outcome) {
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(outcome, "outcome");
    List<PendingMessage> resolved = resolve(taskId, outcome, false);
    if (resolved == null) {
      throw new IllegalArgumentException("Unknown task " + taskId);
    }
    publishAll(resolved);
  }

  /** The task's definition (a copy), if it exists. */
  public Optional<JsonNode> taskDefinition(String taskId) {
    synchronized (lock) {
      Task task = tasks.get(taskId);
      return task == null ? Optional.empty() : Optional.of(task.definition.deepCopy());
    }
  }

  /** The task's status (the {@code status} object of the status endpoint), if it exists. */
  public Optional<JsonNode> taskStatus(String taskId) {
    synchronized (lock) {
      Task task = tasks.get(taskId);
      return task == null ? Optional.empty() : Optional.of(status(task));
    }
  }

  /** The taskIds of a task group in creation order; empty if unknown. */
  public List<String> taskGroup(String taskGroupId) {
    synchronized (lock) {
      return List.copyOf(groups.getOrDefault(taskGroupId, List.of()));
    }
  }

  /** The {@code actions.json} the push's decision task serves now (a copy), if any. */
  public Optional<JsonNode> actionsJson(String taskGroupId) {
    synchronized (lock) {
      ObjectNode file = actions.get(taskGroupId);
      return file == null ? Optional.empty() : Optional.of(file.deepCopy());
    }
  }

  /**
   * Serves {@code file} as the decision task's {@code actions.json} instead, e.g. one with a JSON-e construct a
   * client does not support. Hook triggers still accept only the template's hooks.
   *
   * @throws IllegalArgumentException if {@code taskGroupId} is not a push's
   */
  public void setActionsJson(String taskGroupId, JsonNode file) {
    Objects.requireNonNull(file, "file");
    if (!file.isObject()) {
      throw new IllegalArgumentException("actions.json must be a JSON object");
    }
    synchronized (lock) {
      if (!pushes.containsKey(taskGroupId)) {
        throw new IllegalArgumentException("No push has task group " + taskGroupId);
      }
      actions.put(taskGroupId, ((ObjectNode) file).deepCopy());
    }
  }

  /**
   * The decision task has no {@code actions.json} any more (404), as for an old push whose artifacts expired or a
   * decision task that failed early; the index still finds the decision task.
   */
  public void removeActionsJson(String taskGroupId) {
    synchronized (lock) {
      actions.remove(taskGroupId);
    }
  }

  // --- hooks, clones -----------------------------------------------------------------------

  /**
   * Lets {@code clientId} authenticate with {@code accessToken} and gives it {@code scopes} (e.g.
   * {@link #triggerScope}; {@code hooks:trigger-hook:*} covers every hook). Replaces an earlier client of that id.
   * Without clients every trigger gets 401.
   */
  public void addClient(String clientId, String accessToken, Collection<String> scopes) {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(accessToken, "accessToken");
    if (clientId.isEmpty() || accessToken.isEmpty()) {
      throw new IllegalArgumentException("clientId and accessToken must not be empty");
    }
    clients.put(clientId, new Client(accessToken, Set.copyOf(scopes)));
  }

  /** The scope Taskcluster requires to trigger a hook: {@code hooks:trigger-hook:<hookGroupId>/<hookId>}. */
  public static String triggerScope(String hookGroupId, String hookId) {
    return "hooks:trigger-hook:" + hookGroupId + "/" + hookId;
  }

  /** Chooses the outcome of each clone's run from now on (decided when the clone is created). */
  public void setCloneRule(CloneRule rule) {
    cloneRule = Objects.requireNonNull(rule, "rule");
  }

  /** Clones made from now on run this long after their trigger ({@link Duration#ZERO}: at once). */
  public void setCloneLag(Duration lag) {
    Objects.requireNonNull(lag, "lag");
    if (lag.isNegative()) {
      throw new IllegalArgumentException("clone lag must not be negative, got " + lag);
    }
    cloneLag = lag;
  }

  /** Every accepted hook trigger, in order. */
  public List<Trigger> triggers() {
    return List.copyOf(triggers);
  }

  /** How many hook triggers were accepted (created an action task). */
  public int triggerCount() {
    return triggers.size();
  }

  // --- logs --------------------------------------------------------------------------------

  /** Every request received (the last {@value #MAX_RECORDED}), in order of arrival; a snapshot. */
  public List<RecordedRequest> requests() {
    synchronized (log) {
      return List.copyOf(log.values());
    }
  }

  /** Every Pulse message produced (the last {@value #MAX_RECORDED}), in order; a snapshot. */
  public List<PulseMessage> pulseMessages() {
    synchronized (messages) {
      return List.copyOf(messages);
    }
  }

  /** How many Pulse messages could not be published (the broker was gone or did not confirm). */
  public long publishErrors() {
    return publisher == null ? 0 : publisher.errors();
  }

  // --- faults ------------------------------------------------------------------------------

  /**
   * The next {@code times} requests get {@code status} (400-599) with a Taskcluster error body and change nothing
   * (401 {@code AuthenticationFailed}, 403 {@code InsufficientScopes}, 5xx as from the service or its proxy).
   * Replaces any failures still pending; {@code times} 0 cancels them.
   */
  public void failNext(int status, int times) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status must be 400-599, got " + status);
    }
    if (times < 0) {
      throw new IllegalArgumentException("times must not be negative, got " + times);
    }
    synchronized (faultLock) {
      failStatus = status;
      failRemaining = times;
    }
  }

  /** Every response first waits this long (a slow Taskcluster); {@link Duration#ZERO} for none. */
  public void setLatency(Duration d) {
    Objects.requireNonNull(d, "latency");
    if (d.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative, got " + d);
    }
    latency = d;
  }

  /**
   * Stops listening, ends requests in progress, drops clone runs not yet due and closes the AMQP connection.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
    runner.shutdownNow();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS) || !runner.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("Taskcluster simulator threads still running 5 s after close");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (publisher != null) {
      publisher.close();
    }
    LOG.info("Taskcluster simulator at {} stopped", rootUrl);
  }

  // --- task state --------------------------------------------------------------------------

  /** A message to publish, made under the lock. */
  private record PendingMessage(String exchange, String primaryKey, List<String> routes, ObjectNode body) {}

  /** Guarded by lock. */
  private Task addTask(String taskId, ObjectNode definition) {
    Task task = new Task(taskId, definition);
    tasks.put(taskId, task);
    groups.computeIfAbsent(task.text("taskGroupId"), g -> new ArrayList<>()).add(taskId);
    for (JsonNode route : definition.path("routes")) {
      if (route.asText().startsWith("index.")) {
        index.put(route.asText().substring("index.".length()), taskId);
      }
    }
    return task;
  }

  /**
   * Resolves the task's current run (or, if resolved, a new one) to {@code outcome}; the messages to publish, or
   * null for an unknown task. With {@code onlyIfPending}, does nothing (no messages) unless the last run is still
   * unresolved: a clone's scheduled run after a test already ran it.
   */
  private List<PendingMessage> resolve(String taskId, Outcome outcome, boolean onlyIfPending) {
    Instant now = Instant.now();
    List<PendingMessage> out = new ArrayList<>();
    synchronized (lock) {
      Task task = tasks.get(taskId);
      if (task == null) {
        return null;
      }
      Run run = task.lastRun();
      if (run == null || run.isResolved()) {
        if (onlyIfPending) {
          return out;
        }
        run = new Run(task.runs.size(), run == null ? "scheduled" : "rerun", now);
        task.runs.add(run);
      }
      resolveRun(task, run, outcome, now, out);
    }
    return out;
  }

  /** Guarded by lock. */
  private void resolveRun(Task task, Run run, Outcome outcome, Instant now, List<PendingMessage> out) {
    if (outcome instanceof Outcome.RetryThen retry) {
      if (run.started == null) {
        claim(task, run, now);
      }
      finish(run, "exception", "worker-shutdown", now);
      if (task.retriesLeft > 0) {
        task.retriesLeft--;
        Run next = new Run(run.runId + 1, "retry", now);
        task.runs.add(next);
        out.add(message(task, run));
        resolveRun(task, next, retry.then(), now, out);
      } else {
        out.add(message(task, run));
      }
      return;
    }
    Outcome.Resolved end = (Outcome.Resolved) outcome;
    if (end.started() && run.started == null) {
      claim(task, run, now);
    }
    finish(run, end.state(), end.reasonResolved(), now);
    out.add(message(task, run));
  }

  /** A worker claims the run. Guarded by lock. */
  private void claim(Task task, Run run, Instant now) {
    String[] worker = TaskDefinitions.worker(task.definition, workerSerial.incrementAndGet());
    run.state = "running";
    run.workerGroup = worker[0];
    run.workerId = worker[1];
    run.started = now;
    run.takenUntil = now.plus(Duration.ofMinutes(20));
  }

  private static void finish(Run run, String state, String reason, Instant now) {
    run.state = state;
    run.reasonResolved = reason;
    run.resolved = now;
  }

  /** The message of a just resolved run, with the task's status as it is now. Guarded by lock. */
  private PendingMessage message(Task task, Run run) {
    ObjectNode body = json.createObjectNode();
    body.set("status", status(task));
    body.put("runId", run.runId);
    body.putObject("task").set("tags", task.definition.path("tags").deepCopy());
    if (run.workerGroup != null) {
      body.put("workerGroup", run.workerGroup);
      body.put("workerId", run.workerId);
    }
    body.put("version", 1);
    String primary = "primary." + task.taskId + "." + run.runId + "." + TaskDefinitions.orUnderscore(run.workerGroup)
        + "." + TaskDefinitions.orUnderscore(run.workerId) + "." + task.text("provisionerId") + "."
        + task.text("workerType") + "." + task.text("schedulerId") + "." + task.text("taskGroupId") + "._";
    List<String> routes = new ArrayList<>();
    for (JsonNode route : task.definition.path("routes")) {
      routes.add("route." + route.asText());
    }
    String exchange = switch (run.state) {
      case "completed" -> PulsePublisher.TASK_COMPLETED;
      case "failed" -> PulsePublisher.TASK_FAILED;
      default -> PulsePublisher.TASK_EXCEPTION;
    };
    return new PendingMessage(exchange, primary, routes, body);
  }

  /** The task's status JSON. Guarded by lock. */
  private ObjectNode status(Task task) {
    ObjectNode status = json.createObjectNode();
    status.put("taskId", task.taskId);
    status.put("provisionerId", task.text("provisionerId"));
    status.put("workerType", task.text("workerType"));
    status.put("schedulerId", task.text("schedulerId"));
    status.put("taskGroupId", task.text("taskGroupId"));
    status.put("deadline", task.text("deadline"));
    status.put("expires", task.text("expires"));
    status.put("retriesLeft", task.retriesLeft);
    status.put("state", task.state());
    ArrayNode runs = status.putArray("runs");
    for (Run run : task.runs) {
      ObjectNode r = runs.addObject();
      r.put("runId", run.runId);
      r.put("state", run.state);
      r.put("reasonCreated", run.reasonCreated);
      if (run.reasonResolved != null) {
        r.put("reasonResolved", run.reasonResolved);
      }
      if (run.workerGroup != null) {
        r.put("workerGroup", run.workerGroup);
        r.put("workerId", run.workerId);
        r.put("takenUntil", TaskDefinitions.time(run.takenUntil));
      }
      r.put("scheduled", TaskDefinitions.time(run.scheduled));
      if (run.started != null) {
        r.put("started", TaskDefinitions.time(run.started));
      }
      if (run.resolved != null) {
        r.put("resolved", TaskDefinitions.time(run.resolved));
      }
    }
    return status;
  }

  private void publishAll(List<PendingMessage> pending) {
    if (pending == null) {
      return; // unknown task: nothing resolved
    }
    for (PendingMessage m : pending) {
      String routingKey = m.primaryKey();
      List<String> cc = new ArrayList<>(m.routes());
      if (routingKeys == AmqpTarget.RoutingKeys.ROUTE_FIRST) {
        Optional<String> treeherder = m.routes().stream()
            .filter(r -> r.startsWith("route.tc-treeherder.v2.")).findFirst();
        if (treeherder.isPresent()) {
          routingKey = treeherder.get();
          cc.remove(routingKey);
          cc.add(0, m.primaryKey());
        }
      }
      byte[] body = toJson(m.body());
      boolean confirmed = publisher != null && publisher.publish(m.exchange(), routingKey, cc, body);
      synchronized (messages) {
        messages.add(new PulseMessage(m.exchange(), routingKey, cc, m.primaryKey(), m.body(), confirmed));
        if (messages.size() > MAX_RECORDED) {
          messages.removeFirst();
        }
      }
    }
  }

  // --- serving -----------------------------------------------------------------------------

  /** A response to write. */
  // A response on its way to the client, never compared or hashed: identity equality on the body is never used.
  @SuppressWarnings("ArrayRecordComponent")
  private record Response(int status, byte[] body, Map<String, String> headers) {}

  private void handle(HttpExchange exchange) {
    long arrival;
    Instant at;
    synchronized (arrivals) { // order number and time together, so the log's order is the time order
      arrival = arrivals.getAndIncrement();
      at = Instant.now();
    }
    String method = exchange.getRequestMethod();
    URI uri = exchange.getRequestURI();
    String rawPath = uri.getRawPath() == null ? "" : uri.getRawPath();
    String rawQuery = uri.getRawQuery();
    try {
      byte[] body = SimHttp.readBody(exchange, MAX_BODY_BYTES);
      if (!SimHttp.awaitLatency(latency, closed)) {
        return; // closed while waiting; the finally below closes the connection
      }
      List<String> segments = null;
      String path = rawPath;
      try {
        segments = HttpCodec.decodePathSegments(rawPath);
        path = "/" + String.join("/", segments);
      } catch (IllegalArgumentException e) {
        LOG.debug("Undecodable path {}: {}", rawPath, e.getMessage());
      }
      String[] clientId = new String[1];
      Response response;
      int injected = takeFailure();
      if (injected != 0) {
        response = injectedFailure(injected, method, path);
      } else if (body == null) {
        response = error(413, "InputError", "Request body larger than " + MAX_BODY_BYTES + " bytes", "", Map.of());
      } else if (segments == null) {
        response = error(400, "InputError", "Bad percent-encoding in path " + rawPath, "", Map.of());
      } else {
        response = route(exchange, method, segments, rawPath, rawQuery, body, clientId);
      }
      SimHttp.record(log, arrival, new RecordedRequest(method, path, rawPath, rawQuery, clientId[0], response.status(),
          at), MAX_RECORDED);
      SimHttp.send(exchange, method, response.status(), JSON_TYPE, response.headers(), response.body());
      LOG.debug("{} {} -> {}", method, rawPath, response.status());
    } catch (IOException e) {
      LOG.debug("{} {}: connection failed: {}", method, rawPath, e.toString());
    } catch (RuntimeException e) {
      LOG.error("{} {}: simulator failure", method, rawPath, e);
    } finally {
      exchange.close();
    }
  }

  private Response route(HttpExchange exchange, String method, List<String> s, String rawPath, String rawQuery,
      byte[] body, String[] clientId) {
    int n = s.size();
    boolean get = method.equals("GET");
    if (n >= 5 && s.get(0).equals("api") && s.get(1).equals("queue") && s.get(2).equals("v1") && get) {
      if (s.get(3).equals("task") && n == 5) {
        return task(s.get(4));
      }
      if (s.get(3).equals("task") && n == 6 && s.get(5).equals("status")) {
        return taskStatusResponse(s.get(4));
      }
      if (s.get(3).equals("task") && n >= 7 && s.get(5).equals("artifacts")) {
        return artifact(exchange, s.get(4), String.join("/", s.subList(6, n)));
      }
      if (s.get(3).equals("task-group") && n == 6 && s.get(5).equals("list")) {
        return listTaskGroup(s.get(4), rawQuery);
      }
    }
    if (n == 5 && s.get(0).equals("api") && s.get(1).equals("index") && s.get(2).equals("v1") && get
        && s.get(3).equals("task")) {
      return findTask(s.get(4));
    }
    if (n == 7 && s.get(0).equals("api") && s.get(1).equals("hooks") && s.get(2).equals("v1")
        && s.get(3).equals("hooks") && s.get(6).equals("trigger") && method.equals("POST")) {
      return triggerHook(exchange, s.get(4), s.get(5), rawPath, rawQuery, body, clientId);
    }
    if (n == 4 && s.get(0).equals(ARTIFACT_STORE.substring(1)) && get
        && (s.get(2) + "/" + s.get(3)).equals(ACTIONS_ARTIFACT)) {
      return storedActions(s.get(1));
    }
    return error(404, "ResourceNotFound", "No such resource: " + method + " " + rawPath, "", Map.of());
  }

  private Response task(String taskId) {
    synchronized (lock) {
      Task task = tasks.get(taskId);
      if (task != null) {
        return json(200, task.definition, Map.of());
      }
    }
    return taskNotFound("task", taskId);
  }

  private Response taskStatusResponse(String taskId) {
    synchronized (lock) {
      Task task = tasks.get(taskId);
      if (task != null) {
        ObjectNode answer = json.createObjectNode();
        answer.set("status", status(task));
        return json(200, answer, Map.of());
      }
    }
    return taskNotFound("status", taskId);
  }

  private Response artifact(HttpExchange exchange, String taskId, String name) {
    boolean present;
    synchronized (lock) {
      present = name.equals(ACTIONS_ARTIFACT) && actions.containsKey(taskId);
    }
    if (!present) {
      return error(404, "ResourceNotFound", "Artifact `" + name + "` not found on task `" + taskId + "`",
          "getLatestArtifact", Map.of("taskId", taskId, "name", name));
    }
    String host = exchange.getRequestHeaders().getFirst("Host");
    String base = host != null && HOST_HEADER.matcher(host).matches() ? "http://" + host : rootUrl;
    String location = base + ARTIFACT_STORE + "/" + taskId + "/" + ACTIONS_ARTIFACT;
    ObjectNode answer = json.createObjectNode();
    answer.put("storageType", "s3");
    answer.put("url", location);
    return json(303, answer, Map.of("Location", location));
  }

  private Response storedActions(String taskGroupId) {
    synchronized (lock) {
      ObjectNode file = actions.get(taskGroupId);
      if (file != null) {
        return json(200, file, Map.of());
      }
    }
    return error(404, "ResourceNotFound", "No such object: " + taskGroupId + "/" + ACTIONS_ARTIFACT, "", Map.of());
  }

  private Response listTaskGroup(String taskGroupId, String rawQuery) {
    Map<String, String> query;
    try {
      query = HttpCodec.decodeForm(rawQuery);
    } catch (IllegalArgumentException e) {
      return error(400, "InputError", "Bad query string: " + e.getMessage(), "listTaskGroup",
          Map.of("taskGroupId", taskGroupId));
    }
    int limit = MAX_PAGE;
    if (query.containsKey("limit")) {
      try {
        limit = Math.min(MAX_PAGE, Integer.parseInt(query.get("limit")));
      } catch (NumberFormatException e) {
        limit = 0;
      }
      if (limit < 1) {
        return error(400, "InputError", "limit must be a positive integer, got '" + query.get("limit") + "'",
            "listTaskGroup", Map.of("taskGroupId", taskGroupId));
      }
    }
    int offset = 0;
    String token = query.get("continuationToken");
    if (token != null) {
      offset = decodeToken(token);
      if (offset < 0) {
        return error(400, "InputError", "Invalid continuationToken", "listTaskGroup",
            Map.of("taskGroupId", taskGroupId));
      }
    }
    ObjectNode answer = json.createObjectNode();
    synchronized (lock) {
      List<String> ids = groups.get(taskGroupId);
      if (ids == null) {
        return error(404, "ResourceNotFound", "No task-group with taskGroupId `" + taskGroupId + "`",
            "listTaskGroup", Map.of("taskGroupId", taskGroupId));
      }
      answer.put("taskGroupId", taskGroupId);
      ArrayNode list = answer.putArray("tasks");
      int end = Math.min(ids.size(), offset + limit);
      for (int i = offset; i < end; i++) {
        Task task = tasks.get(ids.get(i));
        ObjectNode entry = list.addObject();
        entry.set("status", status(task));
        entry.set("task", task.definition.deepCopy());
      }
      if (end < ids.size()) {
        answer.put("continuationToken", encodeToken(end));
      }
    }
    return json(200, answer, Map.of());
  }

  private Response findTask(String namespace) {
    ObjectNode answer = json.createObjectNode();
    synchronized (lock) {
      String taskId = index.get(namespace);
      if (taskId == null) {
        return error(404, "ResourceNotFound", "Indexed task not found", "findTask", Map.of("indexPath", namespace));
      }
      Task task = tasks.get(taskId);
      answer.put("namespace", namespace);
      answer.put("taskId", taskId);
      answer.put("rank", Instant.parse(task.text("created")).getEpochSecond());
      answer.putObject("data");
      answer.put("expires", task.text("expires"));
    }
    return json(200, answer, Map.of());
  }

  private Response triggerHook(HttpExchange exchange, String hookGroupId, String hookId, String rawPath,
      String rawQuery, byte[] body, String[] clientIdOut) {
    Map<String, String> params = Map.of("hookGroupId", hookGroupId, "hookId", hookId);
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    String host = exchange.getRequestHeaders().getFirst("Host");
    String hostName = host == null ? "" : host;
    int port = 80;
    if (host != null) {
      int colon = host.lastIndexOf(':');
      if (colon > host.lastIndexOf(']')) {
        hostName = host.substring(0, colon);
        try {
          port = Integer.parseInt(host.substring(colon + 1));
        } catch (NumberFormatException e) {
          port = -1;
        }
      }
    }
    String resource = rawQuery == null ? rawPath : rawPath + "?" + rawQuery;
    String refusal = Hawk.verify(authorization, "POST", resource, hostName, port, body,
        exchange.getRequestHeaders().getFirst("Content-Type"),
        id -> {
          Client c = clients.get(id);
          return c == null ? null : c.accessToken();
        }, Instant.now().getEpochSecond(), SKEW_SECONDS);
    if (refusal != null) {
      return error(401, "AuthenticationFailed", refusal, "triggerHook", params);
    }
    Matcher idMatch = HAWK_ID.matcher(authorization);
    String clientId = idMatch.find() ? idMatch.group(1) : "";
    clientIdOut[0] = clientId;
    String scope = triggerScope(hookGroupId, hookId);
    Client client = clients.get(clientId);
    if (client == null || !satisfies(client.scopes(), scope)) {
      return error(403, "InsufficientScopes", "Client ID " + clientId
          + " does not have sufficient scopes and is missing the following scopes:\n\n```\n" + scope
          + "\n```\n\nThis request requires the client to satisfy the following scope expression:\n\n```\n"
          + scope + "\n```", "triggerHook", params);
    }
    if (!hooks.contains(hookGroupId + "/" + hookId)) {
      return error(404, "ResourceNotFound", "No such hook " + hookGroupId + "/" + hookId, "triggerHook", params);
    }
    JsonNode payload;
    try {
      payload = json.readTree(body);
    } catch (JsonProcessingException e) {
      return error(400, "InputError", "Body is not JSON: " + e.getOriginalMessage(), "triggerHook", params);
    } catch (IOException e) {
      throw new UncheckedIOException("Reading a byte array failed", e);
    }
    if (payload == null || !payload.isObject()) {
      return error(400, "InputError", "Payload must be a JSON object", "triggerHook", params);
    }
    return retrigger(hookGroupId, hookId, clientId, payload, params);
  }

  private Response retrigger(String hookGroupId, String hookId, String clientId, JsonNode payload,
      Map<String, String> params) {
    JsonNode user = payload.path("user");
    JsonNode times = user.path("input").path("times");
    if (!user.path("taskId").isTextual()) {
      return error(400, "InputError", "Payload has no user.taskId", "triggerHook", params);
    }
    if (!times.canConvertToExactIntegral() || times.asInt() < 1 || times.asInt() > MAX_TIMES) {
      return error(400, "InputError", "user.input.times must be an integer 1-" + MAX_TIMES + ", got " + times,
          "triggerHook", params);
    }
    JsonNode cbName = payload.path("decision").path("action").path("cb_name");
    if (!cbName.isMissingNode() && !cbName.asText().equals("retrigger")) {
      return error(400, "InputError", "Only the retrigger action is simulated, got cb_name " + cbName,
          "triggerHook", params);
    }
    String taskId = user.get("taskId").asText();
    Instant now = Instant.now();
    String actionTaskId = Slugid.nice();
    List<String> cloneIds = new ArrayList<>();
    List<Outcome> cloneOutcomes = new ArrayList<>();
    ObjectNode answer = json.createObjectNode();
    CloneRule rule = cloneRule;
    synchronized (lock) {
      Task original = tasks.get(taskId);
      if (original == null) {
        return error(400, "InputError", "user.taskId " + taskId + " is no known task", "triggerHook", params);
      }
      String group = original.text("taskGroupId");
      for (JsonNode claimed : new JsonNode[] {user.path("taskGroupId"),
          payload.path("decision").path("action").path("taskGroupId")}) {
        if (!claimed.isMissingNode() && !claimed.asText().equals(group)) {
          return error(400, "InputError", "Task group " + claimed + " in the payload is not task " + taskId
              + "'s group " + group, "triggerHook", params);
        }
      }
      Push push = pushes.get(group);
      if (push == null) {
        return error(400, "InputError", "Task " + taskId + " belongs to no push", "triggerHook", params);
      }
      Task action = addTask(actionTaskId,
          TaskDefinitions.actionTask(push, actionTaskId, clientId, payload, now));
      action.runs.add(new Run(0, "scheduled", now));
      answer.set("status", status(action));
      answer.put("taskId", actionTaskId);
      String label = original.definition.path("metadata").path("name").asText();
      for (int i = 0; i < times.asInt(); i++) {
        String cloneId = Slugid.nice();
        Task clone = addTask(cloneId, TaskDefinitions.clone(original.definition, now));
        clone.runs.add(new Run(0, "scheduled", now));
        int cloneIndex = cloneCounts.merge(group + "\n" + label, 1, Integer::sum) - 1;
        cloneIds.add(cloneId);
        cloneOutcomes.add(Objects.requireNonNull(rule.outcome(label, cloneIndex), "clone rule outcome"));
      }
    }
    triggers.add(new Trigger(hookGroupId, hookId, clientId, payload, actionTaskId, cloneIds, now));
    LOG.info("Hook {}/{} triggered by {}: action task {}, {} clone(s) of {}", hookGroupId, hookId, clientId,
        actionTaskId, cloneIds.size(), taskId);
    later(Duration.ZERO, actionTaskId, Outcome.COMPLETED);
    Duration lag = cloneLag;
    for (int i = 0; i < cloneIds.size(); i++) {
      later(lag, cloneIds.get(i), cloneOutcomes.get(i));
    }
    return json(200, answer, Map.of());
  }

  /** Runs the task's pending run to {@code outcome} after {@code delay}, on the runner thread. */
  private void later(Duration delay, String taskId, Outcome outcome) {
    // The outcome is logged here, not through the Future: nothing waits on it.
    var unused = runner.schedule(() -> {
      try {
        publishAll(resolve(taskId, outcome, true));
      } catch (RuntimeException e) {
        LOG.error("Running task {} to {} failed", taskId, outcome, e);
      }
    }, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Whether {@code scopes} satisfy {@code required}: equal, or a {@code *}-ended prefix of it. */
  static boolean satisfies(Set<String> scopes, String required) {
    for (String scope : scopes) {
      if (scope.equals(required)
          || (scope.endsWith("*") && required.startsWith(scope.substring(0, scope.length() - 1)))) {
        return true;
      }
    }
    return false;
  }

  private static String encodeToken(int offset) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(("offset:" + offset).getBytes(StandardCharsets.UTF_8));
  }

  /** The offset of a token, or -1 if it is not one of ours. */
  private static int decodeToken(String token) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (!text.startsWith("offset:")) {
        return -1;
      }
      int offset = Integer.parseInt(text.substring("offset:".length()));
      return offset < 0 ? -1 : offset;
    } catch (IllegalArgumentException e) { // bad base64, or NumberFormatException
      return -1;
    }
  }

  private Response taskNotFound(String apiMethod, String taskId) {
    return error(404, "ResourceNotFound", "`" + taskId + "` does not correspond to a task that exists.\n"
        + "Are you sure this task has already been submitted?", apiMethod, Map.of("taskId", taskId));
  }

  private Response injectedFailure(int status, String method, String path) {
    String code = switch (status) {
      case 400 -> "InputError";
      case 401 -> "AuthenticationFailed";
      case 403 -> "InsufficientScopes";
      case 404 -> "ResourceNotFound";
      case 409 -> "RequestConflict";
      default -> status >= 500 ? "InternalServerError" : "InputError";
    };
    return error(status, code, "Injected failure (" + status + ") for " + method + " " + path, "", Map.of());
  }

  /** Taskcluster's error body: {@code {"code", "message", "requestInfo": {"method", "params", "payload", "time"}}}. */
  private Response error(int status, String code, String message, String apiMethod, Map<String, String> params) {
    ObjectNode body = json.createObjectNode();
    body.put("code", code);
    body.put("message", message);
    ObjectNode info = body.putObject("requestInfo");
    info.put("method", apiMethod);
    ObjectNode p = info.putObject("params");
    new TreeMap<>(params).forEach(p::put);
    info.putObject("payload");
    info.put("time", TaskDefinitions.time(Instant.now()));
    return json(status, body, Map.of());
  }

  private Response json(int status, JsonNode body, Map<String, String> headers) {
    return new Response(status, toJson(body), headers);
  }

  private byte[] toJson(JsonNode value) {
    try {
      return json.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write JSON", e);
    }
  }

  /** The injected status for this request, or 0. */
  private int takeFailure() {
    synchronized (faultLock) {
      if (failRemaining > 0) {
        failRemaining--;
        return failStatus;
      }
      return 0;
    }
  }

}
