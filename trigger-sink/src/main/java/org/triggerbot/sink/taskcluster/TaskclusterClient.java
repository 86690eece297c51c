package org.triggerbot.sink.taskcluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.triggerbot.common.Hawk;
import org.triggerbot.sink.MeteredJsonHttp;

/**
 * Taskcluster over HTTP (SPEC section 6b): read a task, a decision task's {@code actions.json} (or the one the index
 * names), a task group's tasks, and trigger a hook with Hawk authentication. Every call returns a {@link Reply};
 * transport failures (timeouts, refused or dropped connections) are replies with status 0, so callers decide on one
 * value. Task and task group ids are checked to be slugids, and hook ids to be Taskcluster's, before any call
 * ({@link #INVALID}: not sent). The credentials go only into the {@code Authorization} header of the trigger, never
 * into a URL, a log line, an exception or a reply; the reads are sent without credentials (public data).
 *
 * <p>Metrics, in the {@link MeterRegistry} given: the timer {@code triggerbot.sink.taskcluster.requests} of every
 * request sent, tagged {@code endpoint} ({@code task}, {@code actions}, {@code index}, {@code list},
 * {@code trigger}) and {@code status} (the HTTP status, or {@code none} when no answer came); and the counter
 * {@code triggerbot.sink.taskcluster.errors} of every call without a 2xx answer, tagged {@code endpoint} and
 * {@code kind}: {@code transport}, {@code server} (5xx, 429), {@code client} (other statuses, e.g. 401, 403, 404) or
 * {@code invalid} (refused before sending).
 */
public final class TaskclusterClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Taskcluster's slugid: 22 characters of URL-safe base64 of a v4 UUID. */
  private static final Pattern SLUGID =
      Pattern.compile("^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$");
  private static final Pattern HOOK_GROUP_ID = Pattern.compile("^[A-Za-z0-9_-]{1,1000}$");
  private static final Pattern HOOK_ID = Pattern.compile("^[A-Za-z0-9_/-]{1,1000}$");
  private static final Pattern PROJECT = Pattern.compile("^[A-Za-z0-9_-]{1,100}$");
  private static final Pattern REVISION = Pattern.compile("^[0-9a-f]{12,40}$");

  /** Most pages of a task group listing read before giving up (a runaway continuation). */
  static final int MAX_PAGES = 1000;

  /**
   * Status of a request refused before it was sent (invalid input), or of an answer this client cannot use (an
   * index entry without a task id, a runaway listing): not worth retrying.
   */
  public static final int INVALID = -1;

  /**
   * One Taskcluster answer: HTTP status (0 = no answer, {@link #INVALID} = not sent or unusable), the parsed JSON
   * body when there was one, and why not (null for a 2xx JSON answer).
   */
  public record Reply(int status, JsonNode body, String error) {

    /** A 2xx answer. */
    public boolean ok() {
      return status >= 200 && status < 300;
    }

    /** Any 5xx, 429, or no answer: worth trying again later. */
    public boolean transientFailure() {
      return status == 0 || status == 429 || status >= 500;
    }

    /** What Taskcluster said, for results: its {@code message} field (first line), or the error. */
    public String message() {
      if (body != null && body.path("message").isTextual()) {
        String m = body.get("message").asText().strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
      }
      return error;
    }
  }

  private final String root;
  private final Hawk.Credentials credentials;
  private final Duration timeout;
  private final HttpClient reads;
  private final HttpClient writes;
  private final MeteredJsonHttp metered;

  /** A client whose meters go nowhere in particular (a private {@link SimpleMeterRegistry}). */
  public TaskclusterClient(String rootUrl, Hawk.Credentials credentials, Duration timeout) {
    this(rootUrl, credentials, timeout, new SimpleMeterRegistry());
  }

  /**
   * A client of the deployment at {@code rootUrl} (e.g. {@code https://firefox-ci-tc.services.mozilla.com});
   * {@code credentials} may be null for a read-only client (then {@link #triggerHook} is refused).
   */
  public TaskclusterClient(String rootUrl, Hawk.Credentials credentials, Duration timeout, MeterRegistry registry) {
    URI u = URI.create(rootUrl);
    if (u.getHost() == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
      throw new IllegalArgumentException("Taskcluster root URL must be http(s)://host[:port]: " + rootUrl);
    }
    this.root = rootUrl.endsWith("/") ? rootUrl.substring(0, rootUrl.length() - 1) : rootUrl;
    this.credentials = credentials;
    this.timeout = timeout;
    this.metered = new MeteredJsonHttp("taskcluster", timeout, registry);
    // Artifacts answer 303 to their storage URL: the reads follow it. The trigger, which carries the credentials,
    // follows nothing.
    this.reads = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    this.writes = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** Whether {@code id} is a Taskcluster slugid (a task or task group id). */
  public static boolean isSlugId(String id) {
    return id != null && SLUGID.matcher(id).matches();
  }

  /** {@code GET {root}/api/queue/v1/task/{taskId}}: the task definition. */
  public Reply task(String taskId) {
    if (!isSlugId(taskId)) {
      return invalid("task", "task id");
    }
    return get("task", "/api/queue/v1/task/" + taskId);
  }

  /**
   * The decision task's {@code public/actions.json}: {@code GET {root}/api/queue/v1/task/{taskGroupId}/artifacts/
   * public/actions.json} (following the queue's redirect to the artifact); when that is 404 and {@code project} and
   * {@code revision} are given, the decision task the index names,
   * {@code gecko.v2.{project}.revision.{revision}.taskgraph.decision}, and its actions.json.
   */
  public Reply actionsJson(String taskGroupId, String project, String revision) {
    if (!isSlugId(taskGroupId)) {
      return invalid("actions", "task group id");
    }
    Reply direct = get("actions", actionsPath(taskGroupId));
    if (direct.status() != 404 || project == null || revision == null) {
      return direct;
    }
    if (!PROJECT.matcher(project).matches() || !REVISION.matcher(revision).matches()) {
      return invalid("index", "project or revision");
    }
    Reply index =
        get("index", "/api/index/v1/task/gecko.v2." + project + ".revision." + revision + ".taskgraph.decision");
    if (!index.ok()) {
      return index;
    }
    String decision = index.body() == null ? null : index.body().path("taskId").asText(null);
    if (!isSlugId(decision)) {
      return new Reply(INVALID, null, "the index answer has no valid taskId; not sent");
    }
    if (decision.equals(taskGroupId)) {
      return direct; // the index names the group's own decision task, whose actions.json is missing
    }
    return get("actions", actionsPath(decision));
  }

  private static String actionsPath(String taskId) {
    return "/api/queue/v1/task/" + taskId + "/artifacts/public/actions.json";
  }

  /**
   * Every task of a task group: {@code GET {root}/api/queue/v1/task-group/{taskGroupId}/list}, following
   * {@code continuationToken}. The reply's body is {@code {"taskGroupId": .., "tasks": [every page's tasks]}} (each
   * {@code {status, task}}); a page that fails is the reply.
   */
  public Reply listTaskGroup(String taskGroupId) {
    if (!isSlugId(taskGroupId)) {
      return invalid("list", "task group id");
    }
    String path = "/api/queue/v1/task-group/" + taskGroupId + "/list";
    ObjectNode all = JSON.createObjectNode();
    all.put("taskGroupId", taskGroupId);
    ArrayNode tasks = all.putArray("tasks");
    Set<String> seen = new HashSet<>();
    String token = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      Reply r = get("list", token == null ? path : path + "?continuationToken=" + query(token));
      if (!r.ok()) {
        return r;
      }
      if (r.body() == null || !r.body().path("tasks").isArray()) {
        return new Reply(INVALID, null, "task group listing without a tasks list");
      }
      tasks.addAll((ArrayNode) r.body().get("tasks"));
      token = r.body().path("continuationToken").asText(null);
      if (token == null || token.isEmpty()) {
        return new Reply(r.status(), all, null);
      }
      if (!seen.add(token)) {
        return new Reply(INVALID, null, "task group listing repeats a continuationToken");
      }
    }
    return new Reply(INVALID, null, "task group listing longer than " + MAX_PAGES + " pages");
  }

  /**
   * {@code POST {root}/api/hooks/v1/hooks/{hookGroupId}/{hookId, URL-encoded}/trigger} with {@code payload} as JSON,
   * Hawk-authenticated; the answer's {@code taskId} is the action task's. Needs the
   * {@code hooks:trigger-hook:<hookGroupId>/<hookId>} scope (else 403).
   */
  public Reply triggerHook(String hookGroupId, String hookId, JsonNode payload) {
    if (hookGroupId == null || !HOOK_GROUP_ID.matcher(hookGroupId).matches() || hookId == null
        || !HOOK_ID.matcher(hookId).matches()) {
      return invalid("trigger", "hook group id or hook id");
    }
    if (credentials == null) {
      metered.refused("trigger");
      return new Reply(INVALID, null, "no Taskcluster credentials configured; not sent");
    }
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(payload);
    } catch (JsonProcessingException e) {
      metered.refused("trigger");
      return new Reply(INVALID, null, "hook payload is not serializable; not sent");
    }
    URI uri = URI.create(root + "/api/hooks/v1/hooks/" + MeteredJsonHttp.segment(hookGroupId) + "/"
        + MeteredJsonHttp.segment(hookId) + "/trigger");
    String authorization = Hawk.header(credentials, "POST", uri, body, "application/json");
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return send("trigger", writes, request);
  }

  private Reply get(String endpoint, String path) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(root + path)).timeout(timeout)
        .header("Accept", "application/json").GET().build();
    return send(endpoint, reads, request);
  }

  private Reply invalid(String endpoint, String what) {
    metered.refused(endpoint);
    return new Reply(INVALID, null, "invalid " + what + "; not sent");
  }

  private Reply send(String endpoint, HttpClient http, HttpRequest request) {
    MeteredJsonHttp.Answer a = metered.send(endpoint, http, request);
    return new Reply(a.status(), a.body(), a.error());
  }

  private static String query(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
