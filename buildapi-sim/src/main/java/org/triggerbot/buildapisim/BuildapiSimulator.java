package org.triggerbot.buildapisim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A buildapi self-serve simulator: a real HTTP server with the endpoints the trigger-sink uses, a
 * log of every request it received, and faults that can be switched on while it runs.
 *
 * <h2>Endpoints</h2>
 * All under {@code /self-serve} ({@link #baseUrl()}); responses are JSON ({@code application/json;
 * charset=UTF-8}, non-ASCII escaped as {@code \}{@code uXXXX} as Python's {@code json.dumps} did).
 * <ul>
 *   <li>{@code GET /{branch}/rev/{revision}}: 200 with the list of build items and pending request
 *       items of that revision (builds newest first, then pending requests newest first, as buildapi
 *       ordered them); 404 {@code {"status":"FAILED","msg":"Revision R not found on branch B"}} if the
 *       revision is unknown on that branch. Revisions match by prefix either way, ignoring case, so a
 *       12-character short revision finds its 40-character full one and the other way round. The
 *       {@code format} query parameter is accepted and ignored: the answer is always JSON.</li>
 *   <li>{@code POST /{branch}/build} with form fields {@code build_id} (required), {@code count}
 *       (default 1, 1-{@value #MAX_COUNT}) and {@code priority} (default 0): 202
 *       {@code {"status":"OK","request_id":N}} and {@code count} new pending request items for the
 *       build's builder and revision, shown by GETs after the job lag. {@code N} is a job request id,
 *       as in buildapi (not the id of a new build request). Unknown build (on that branch): 404
 *       {@code "Build N not found on branch B"}. Missing or non-integer field: 400 {@code "Bad build_id"},
 *       {@code "Bad count"}, {@code "Bad priority"}.</li>
 *   <li>{@code POST /{branch}/request} with {@code request_id}, {@code count}, {@code priority}: the
 *       same for a build request, pending or inside a build item; 404 {@code "Request N not found on
 *       branch B"}, 400 {@code "Bad request_id"}.</li>
 *   <li>Anything else: 404 {@code {"status":"FAILED","msg":"..."}}.</li>
 * </ul>
 * Path segments are percent-decoded as UTF-8 after splitting on {@code /}; query strings and form
 * bodies ({@code application/x-www-form-urlencoded}, other content types carry no fields) are decoded
 * as UTF-8 with {@code +} as space. A malformed escape or non-UTF-8 bytes get a 400.
 *
 * <h2>Authentication</h2>
 * When {@link SimulatorOptions#user()} is set, every request needs Basic credentials for that user
 * and password; otherwise it gets 401 with {@code WWW-Authenticate: Basic realm="buildapi"} and an
 * HTML body (as the front-end proxy sent). The password and the {@code Authorization} header are
 * never logged, recorded or echoed.
 *
 * <h2>Per request, in this order</h2>
 * <ol>
 *   <li>wait the {@linkplain #setLatency latency};</li>
 *   <li>{@linkplain #dropNext drop}: close the connection without a response;</li>
 *   <li>check credentials (401);</li>
 *   <li>{@linkplain #failNext injected failure}: answer that status with an HTML body;</li>
 *   <li>route (a rebuild POST takes effect here);</li>
 *   <li>record the request;</li>
 *   <li>{@linkplain #holdResponses hold} the response while a hold selects the request;</li>
 *   <li>answer.</li>
 * </ol>
 * Each request is recorded (see {@link #requests()}) once its outcome is decided and before its
 * response is written, so a client that has its response also finds its request in the log.
 *
 * <h2>Limits</h2>
 * Builds stay finished and pending requests stay pending forever. There are no other buildapi
 * endpoints ({@code /jobs/}, cancel, ...) and no branch list: every branch exists. The log keeps the
 * last {@value #MAX_RECORDED} requests. At most {@value #THREADS} requests are served at once; more
 * wait for a thread.
 *
 * <p>Thread-safe: the state, log and fault methods may be called from any thread while the server runs.
 */
public final class BuildapiSimulator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BuildapiSimulator.class);

  /** The path under which buildapi served self-serve. */
  public static final String BASE_PATH = "/self-serve";
  /** Upper bound of the {@code count} form field. */
  public static final int MAX_COUNT = 100;
  /** How many requests {@link #requests()} keeps (the oldest are forgotten first). */
  public static final int MAX_RECORDED = 100_000;
  /** The status recorded for a request whose connection was {@linkplain #dropNext dropped}. */
  public static final int DROPPED = 0;

  static final int THREADS = 16;
  private static final int MAX_BODY_BYTES = 1 << 20;
  private static final String LOOPBACK = "127.0.0.1";
  private static final String JSON_TYPE = "application/json; charset=UTF-8";
  private static final String HTML_TYPE = "text/html; charset=UTF-8";

  private final SimulatorOptions options;
  private final HttpServer server;
  private final ExecutorService executor;
  private final String baseUrl;
  private final SelfServeState state = new SelfServeState();
  /** Python's json.dumps escaped non-ASCII by default; so does this, so clients meet the real thing. */
  private final ObjectMapper json = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
  /** Counted down by close; latency waits on it, so close never waits out a long latency. */
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();

  private final AtomicLong arrivals = new AtomicLong();
  /** Arrival number to record; guarded by itself. */
  private final TreeMap<Long, RecordedRequest> log = new TreeMap<>();
  private final AtomicLong rebuildPosts = new AtomicLong();

  private final Object faultLock = new Object();
  private int failStatus;
  private int failRemaining;
  private int dropRemaining;
  private volatile Duration latency = Duration.ZERO;
  private volatile Duration jobLag;
  private final AtomicReference<ResponseHold> hold = new AtomicReference<>();

  /**
   * One request as received, with the status it got.
   *
   * @param method the HTTP method
   * @param path the path percent-decoded, without {@value #BASE_PATH} (e.g. {@code /try/rev/abc}); a
   *     path outside the base stays whole; the raw path if it could not be decoded
   * @param rawPath the path exactly as sent, base included (e.g. {@code /self-serve/try/rev/abc})
   * @param query decoded query parameters (last value wins); empty if none or undecodable
   * @param form decoded form fields of an {@code application/x-www-form-urlencoded} body (last value
   *     wins); empty otherwise
   * @param authUser the authenticated user; {@code null} if no or wrong credentials were sent. With
   *     authentication off, the user name of any well-formed Basic header
   * @param status the response status, or {@link #DROPPED} (0) if the connection was dropped
   * @param at when the request arrived
   */
  public record RecordedRequest(String method, String path, String rawPath, Map<String, String> query,
      Map<String, String> form, String authUser, int status, Instant at) {}

  private BuildapiSimulator(SimulatorOptions options, HttpServer server, ExecutorService executor) {
    this.options = options;
    this.server = server;
    this.executor = executor;
    this.jobLag = options.jobLag();
    InetSocketAddress bound = server.getAddress();
    String host = bound.getAddress().isAnyLocalAddress() ? LOOPBACK : bound.getAddress().getHostAddress();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    this.baseUrl = "http://" + host + ":" + bound.getPort() + BASE_PATH;
  }

  /**
   * Starts a simulator listening on {@code 127.0.0.1} only.
   *
   * @throws UncheckedIOException if the port cannot be bound
   */
  public static BuildapiSimulator start(SimulatorOptions options) {
    return start(options, LOOPBACK);
  }

  /**
   * Starts a simulator listening on {@code bindAddress} (e.g. {@code 0.0.0.0} in a container, where
   * other containers must reach it). {@link #baseUrl()} names {@code 127.0.0.1} for a wildcard address.
   *
   * @throws UncheckedIOException if the address cannot be resolved or the port cannot be bound
   */
  public static BuildapiSimulator start(SimulatorOptions options, String bindAddress) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(bindAddress, "bindAddress");
    InetSocketAddress address;
    try {
      address = new InetSocketAddress(InetAddress.getByName(bindAddress), options.port());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve bind address " + bindAddress, e);
    }
    // The JDK server leaves Nagle's algorithm on: with the client's delayed ACKs every small response would
    // wait ~40 ms. Read once when the JDK's server classes load, so it must be set before the first server.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    HttpServer server;
    try {
      server = HttpServer.create(address, 0);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot listen on " + bindAddress + ":" + options.port()
          + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, SimHttp.daemonThreads("buildapi-sim-"));
    BuildapiSimulator simulator = new BuildapiSimulator(options, server, executor);
    server.createContext("/", simulator::handle);
    server.setExecutor(executor);
    server.start();
    LOG.info("buildapi simulator listening at {} (authentication {}, job lag {})", simulator.baseUrl,
        options.authRequired() ? "required for user " + options.user() : "off", options.jobLag());
    return simulator;
  }

  /** {@code http://HOST:PORT/self-serve}, with no trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  /** The port listened on (the one chosen when the options said 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The options this simulator started with. */
  public SimulatorOptions options() {
    return options;
  }

  // --- state -------------------------------------------------------------------------------

  /**
   * Adds a finished build (status a buildbot result, 0-6) with one complete build request, shown
   * by GETs at once. Returns its {@code build_id}.
   */
  public long addBuild(String branch, String revision, String buildername, int status) {
    return addBuild(branch, revision, buildername, status, 0);
  }

  /**
   * Like {@link #addBuild(String, String, String, int)}, but the next {@code hiddenForGets} GETs of
   * this branch and revision (any spelling that matches it) leave the build out, as if its job
   * appeared late. Rebuild POSTs find it at once, as buildapi's did.
   */
  public long addBuild(String branch, String revision, String buildername, int status, int hiddenForGets) {
    return state.addBuild(branch, revision, buildername, status, hiddenForGets);
  }

  /** Adds a pending build request item (no {@code build_id}), shown at once; returns its {@code request_id}. */
  public long addPendingRequest(String branch, String revision, String buildername) {
    return state.addPendingRequest(branch, revision, buildername);
  }

  /** Makes a revision known with no items: GETs return {@code []} instead of 404. */
  public void addRevision(String branch, String revision) {
    state.addRevision(branch, revision);
  }

  /**
   * How many items for {@code buildername} a GET of this branch and revision would list right now
   * (hidden builds and lagging jobs excluded). Does not count as a GET.
   */
  public int jobCount(String branch, String revision, String buildername) {
    return state.jobCount(branch, revision, buildername, System.nanoTime());
  }

  // --- request log -------------------------------------------------------------------------

  /** Every request received (the last {@value #MAX_RECORDED}), in order of arrival; a snapshot. */
  public List<RecordedRequest> requests() {
    synchronized (log) {
      return List.copyOf(log.values());
    }
  }

  /** How many POSTs to {@code /{branch}/build} and {@code /{branch}/request} were accepted (202). */
  public long rebuildPosts() {
    return rebuildPosts.get();
  }

  // --- faults ------------------------------------------------------------------------------

  /**
   * The next {@code times} requests that pass authentication get {@code status} (200-599) with an
   * HTML body, as a proxy in front of buildapi sends, and change nothing. Replaces any failures
   * still pending; {@code times} 0 cancels them.
   */
  public void failNext(int status, int times) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be 200-599, got " + status);
    }
    if (times < 0) {
      throw new IllegalArgumentException("times must not be negative, got " + times);
    }
    synchronized (faultLock) {
      failStatus = status;
      failRemaining = times;
    }
  }

  /** Every response first waits this long (a slow buildapi); {@link Duration#ZERO} for none. */
  public void setLatency(Duration d) {
    Objects.requireNonNull(d, "latency");
    if (d.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative, got " + d);
    }
    latency = d;
  }

  /**
   * The next {@code times} requests (authenticated or not) are read, then their connection is
   * closed without any response; they change nothing and are recorded with status {@link #DROPPED}.
   * Replaces any drops still pending; 0 cancels them.
   */
  public void dropNext(int times) {
    if (times < 0) {
      throw new IllegalArgumentException("times must not be negative, got " + times);
    }
    synchronized (faultLock) {
      dropRemaining = times;
    }
  }

  /**
   * Holds back the responses to the requests that {@code which} selects until the returned hold is
   * released (or the simulator closes). Such a request is handled as usual first: a rebuild POST takes
   * effect and the request is recorded with its status, so {@link #requests()} and
   * {@link #rebuildPosts()} show it at once; only its response waits. A client is thereby stopped at a
   * known point, e.g. after its rebuild POST took effect and before it can know: where a crash test
   * kills it. Requests arriving after the release are answered at once. Replaces (and releases) any
   * hold still active; dropped requests are never held. Unlike {@linkplain #setLatency latency}, which
   * waits before a request is acted on and recorded, a hold is visible to the test while it lasts.
   */
  public ResponseHold holdResponses(Predicate<RecordedRequest> which) {
    Objects.requireNonNull(which, "which");
    ResponseHold next = new ResponseHold(this, which);
    ResponseHold previous = hold.getAndSet(next);
    if (previous != null) {
      previous.release();
    }
    if (closing.get()) {
      next.release();
    }
    return next;
  }

  /** Responses held back by {@link #holdResponses}; closing it releases them. Thread-safe. */
  public static final class ResponseHold implements AutoCloseable {
    private final BuildapiSimulator simulator;
    private final Predicate<RecordedRequest> which;
    private final CountDownLatch released = new CountDownLatch(1);
    private final List<RecordedRequest> held = new CopyOnWriteArrayList<>();

    private ResponseHold(BuildapiSimulator simulator, Predicate<RecordedRequest> which) {
      this.simulator = simulator;
      this.which = which;
    }

    /** Every request whose response this hold held back (released ones too), in order of holding. */
    public List<RecordedRequest> held() {
      return List.copyOf(held);
    }

    /** Sends the held responses and ends the hold. Idempotent. */
    public void release() {
      simulator.hold.compareAndSet(this, null);
      released.countDown();
    }

    @Override
    public void close() {
      release();
    }
  }

  /** Jobs created by later rebuild POSTs appear in GETs only this long after the POST. */
  public void setJobLag(Duration d) {
    Objects.requireNonNull(d, "jobLag");
    if (d.isNegative()) {
      throw new IllegalArgumentException("jobLag must not be negative, got " + d);
    }
    jobLag = d;
  }

  /** Stops listening and ends requests in progress (their clients see the connection close). Idempotent. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    closed.countDown();
    ResponseHold active = hold.get();
    if (active != null) {
      active.release();
    }
    server.stop(0);
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("buildapi simulator threads still running 5 s after close");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("buildapi simulator at {} stopped", baseUrl);
  }

  // --- serving -----------------------------------------------------------------------------

  /** A response to write. */
  // A response on its way to the client, never compared or hashed: identity equality on the body is never used.
  @SuppressWarnings("ArrayRecordComponent")
  private record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    static Response json(int status, byte[] body) {
      return new Response(status, JSON_TYPE, body, Map.of());
    }
  }

  /** What was decoded from a request; a decoding problem is kept to be answered with 400 in turn. */
  private record Parsed(List<String> segments, String path, Map<String, String> query, Map<String, String> form,
      String problem) {}

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
    try {
      byte[] body = SimHttp.readBody(exchange, MAX_BODY_BYTES);
      if (!SimHttp.awaitLatency(latency, closed)) {
        return; // closed while waiting; the finally below closes the connection
      }
      Parsed parsed = parse(exchange, rawPath, uri.getRawQuery(), body);
      String authUser = authenticatedUser(exchange);

      if (takeDrop()) {
        SimHttp.record(log, arrival, new RecordedRequest(method, parsed.path(), rawPath, parsed.query(),
            parsed.form(), authUser, DROPPED, at), MAX_RECORDED);
        LOG.debug("{} {} -> dropped", method, rawPath);
        return; // closing an exchange that sent no headers closes the connection
      }
      Response response;
      if (options.authRequired() && authUser == null) {
        response = unauthorized();
      } else {
        int injected = takeFailure();
        if (injected != 0) {
          response = html(injected);
        } else if (body == null) {
          response = failed(413, "Request body larger than " + MAX_BODY_BYTES + " bytes");
        } else if (parsed.problem() != null) {
          response = failed(400, parsed.problem());
        } else {
          response = route(method, parsed, authUser);
        }
      }
      RecordedRequest recorded = new RecordedRequest(method, parsed.path(), rawPath, parsed.query(),
          parsed.form(), authUser, response.status(), at);
      SimHttp.record(log, arrival, recorded, MAX_RECORDED);
      awaitRelease(recorded);
      SimHttp.send(exchange, method, response.status(), response.contentType(), response.headers(), response.body());
      LOG.debug("{} {} -> {}", method, rawPath, response.status());
    } catch (IOException e) {
      // The client went away mid-request; nothing to answer.
      LOG.debug("{} {}: connection failed: {}", method, rawPath, e.toString());
    } catch (RuntimeException e) {
      LOG.error("{} {}: simulator failure", method, rawPath, e);
    } finally {
      exchange.close();
    }
  }

  /** Waits while the active hold, if any, selects this request (see {@link #holdResponses}). */
  private void awaitRelease(RecordedRequest request) {
    ResponseHold active = hold.get();
    if (active == null || !active.which.test(request)) {
      return;
    }
    active.held.add(request);
    try {
      active.released.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // closing: answer now, the connection is going anyway
    }
  }

  private Parsed parse(HttpExchange exchange, String rawPath, String rawQuery, byte[] body) {
    String problem = null;
    List<String> segments = List.of();
    String path = rawPath;
    try {
      segments = HttpCodec.decodePathSegments(rawPath);
      List<String> relative = !segments.isEmpty() && segments.get(0).equals(BASE_PATH.substring(1))
          ? segments.subList(1, segments.size()) : segments;
      path = "/" + String.join("/", relative);
    } catch (IllegalArgumentException e) {
      problem = "Bad path: " + e.getMessage();
    }
    Map<String, String> query = Map.of();
    try {
      query = HttpCodec.decodeForm(rawQuery);
    } catch (IllegalArgumentException e) {
      problem = problem != null ? problem : "Bad query string: " + e.getMessage();
    }
    Map<String, String> form = Map.of();
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    if (body != null && contentType != null
        && contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      try {
        form = HttpCodec.decodeForm(new String(body, StandardCharsets.ISO_8859_1));
      } catch (IllegalArgumentException e) {
        problem = problem != null ? problem : "Bad form body: " + e.getMessage();
      }
    }
    return new Parsed(segments, path, query, form, problem);
  }

  /**
   * The user of a valid Basic Authorization header; null if there is none or it is wrong. With
   * authentication off, the user name of any well-formed header.
   */
  private String authenticatedUser(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String credentials;
    try {
      credentials = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = credentials.indexOf(':');
    if (colon < 0) {
      return null;
    }
    String user = credentials.substring(0, colon);
    if (!options.authRequired()) {
      return user;
    }
    byte[] given = credentials.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
    byte[] expected = options.password().getBytes(StandardCharsets.UTF_8);
    // Constant-time, like a real server should: the simulator must not teach a timing leak.
    boolean passwordOk = MessageDigest.isEqual(given, expected);
    return passwordOk && user.equals(options.user()) ? user : null;
  }

  private Response route(String method, Parsed parsed, String authUser) {
    List<String> segments = parsed.segments();
    boolean underBase = segments.size() >= 2 && segments.get(0).equals(BASE_PATH.substring(1));
    if (underBase) {
      List<String> rest = segments.subList(1, segments.size());
      String branch = rest.get(0);
      if (!branch.isEmpty()) {
        if (method.equals("GET") && rest.size() == 3 && rest.get(1).equals("rev") && !rest.get(2).isEmpty()) {
          return revision(branch, rest.get(2));
        }
        if (method.equals("POST") && rest.size() == 2 && rest.get(1).equals("build")) {
          return rebuild(branch, parsed.form(), "build_id", "Build", authUser);
        }
        if (method.equals("POST") && rest.size() == 2 && rest.get(1).equals("request")) {
          return rebuild(branch, parsed.form(), "request_id", "Request", authUser);
        }
      }
    }
    return failed(404, "No such resource: " + method + " " + parsed.path());
  }

  private Response revision(String branch, String revision) {
    return state.get(branch, revision, System.nanoTime())
        .map(items -> Response.json(200, toJson(items)))
        .orElseGet(() -> failed(404, "Revision " + revision + " not found on branch " + branch));
  }

  private Response rebuild(String branch, Map<String, String> form, String idField, String what, String who) {
    Long id = parseLong(form.get(idField));
    if (id == null) {
      return failed(400, "Bad " + idField);
    }
    Long priority = parseOptional(form.get("priority"), 0);
    if (priority == null || priority != priority.intValue()) {
      return failed(400, "Bad priority");
    }
    Long count = parseOptional(form.get("count"), 1);
    if (count == null || count < 1 || count > MAX_COUNT) {
      return failed(400, "Bad count");
    }
    Duration lag = jobLag;
    OptionalLong job = idField.equals("build_id")
        ? state.rebuildBuild(branch, id, count.intValue(), priority.intValue(), who, lag)
        : state.rebuildRequest(branch, id, count.intValue(), priority.intValue(), who, lag);
    if (job.isEmpty()) {
      return failed(404, what + " " + id + " not found on branch " + branch);
    }
    rebuildPosts.incrementAndGet();
    Map<String, Object> ok = new LinkedHashMap<>();
    ok.put("status", "OK");
    ok.put("request_id", job.getAsLong());
    return Response.json(202, toJson(ok));
  }

  /** An integer form field as formencode's Int(not_empty=True) read it: surrounding blanks allowed. */
  private static Long parseLong(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Long parseOptional(String value, long absent) {
    return value == null || value.isBlank() ? Long.valueOf(absent) : parseLong(value);
  }

  private Response failed(int status, String msg) {
    // buildapi's _failed(): {"msg": ..., "status": "FAILED"}.
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", "FAILED");
    body.put("msg", msg);
    return Response.json(status, toJson(body));
  }

  private static Response unauthorized() {
    return new Response(401, HTML_TYPE, htmlPage(401, "Unauthorized",
        "This server could not verify that you are authorized to access the document requested."),
        Map.of("WWW-Authenticate", "Basic realm=\"buildapi\""));
  }

  private static Response html(int status) {
    return new Response(status, HTML_TYPE, htmlPage(status, reason(status),
        "The server is temporarily unable to service your request. Please try again later."), Map.of());
  }

  /** An error page in the style of the Apache front end that stood before buildapi. */
  private static byte[] htmlPage(int status, String reason, String text) {
    return ("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>" + status + " " + reason
        + "</title>\n</head><body>\n<h1>" + reason + "</h1>\n<p>" + text + "</p>\n</body></html>\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "Error";
    };
  }

  private byte[] toJson(Object value) {
    try {
      return json.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write JSON", e);
    }
  }

  private boolean takeDrop() {
    synchronized (faultLock) {
      if (dropRemaining > 0) {
        dropRemaining--;
        return true;
      }
      return false;
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
