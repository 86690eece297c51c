package org.triggerbot.sink;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * buildapi self-serve over HTTP (SPEC section 6): look up a revision's jobs, rebuild a build or a request.
 * Every call returns a {@link Reply}; transport failures (timeouts, refused or dropped connections) are replies
 * with status 0, so callers decide on one value. Branches and revisions are percent-encoded path segments; the
 * revision is validated before any call; credentials go only into the Authorization header, never into a URL,
 * a log line or an error.
 *
 * <p>Metrics, in the {@link MeterRegistry} given: the timer {@code triggerbot.sink.buildapi.requests} (Prometheus
 * {@code triggerbot_sink_buildapi_requests_seconds_*}) of every request sent, tagged {@code endpoint}
 * ({@code lookup}, {@code build}, {@code request}) and {@code status} (the HTTP status, or {@code none} when no
 * answer came); and the counter {@code triggerbot.sink.buildapi.errors} of every call that did not get a 2xx,
 * tagged {@code endpoint} and {@code kind}: {@code transport} (timeout, refused or dropped connection),
 * {@code server} (5xx, 429), {@code client} (other statuses, e.g. 401, or 404 for a revision with no job yet) or
 * {@code invalid} (refused before sending).
 */
public final class BuildapiClient {

  private static final Pattern REVISION = Pattern.compile("^[0-9a-f]{12,40}$");

  /** Status of a request refused before it was sent (invalid input): not worth retrying. */
  static final int INVALID = -1;

  /**
   * One buildapi answer: HTTP status (0 = no answer, {@link #INVALID} = not sent), the parsed JSON body when
   * there was one, and why not.
   */
  public record Reply(int status, JsonNode body, String error) {
    boolean ok() {
      return status >= 200 && status < 300;
    }

    /** 503, any 5xx, 429, or no answer: worth trying again later. */
    boolean transientFailure() {
      return status == 0 || status == 429 || status >= 500;
    }

    /** What buildapi said, for results: its msg field, or the error. */
    String message() {
      if (body != null && body.hasNonNull("msg")) {
        return body.get("msg").asText();
      }
      return error;
    }
  }

  private final String base;
  private final String authorization;
  private final Duration timeout;
  private final HttpClient http;
  private final MeteredJsonHttp metered;

  /** A client whose meters go nowhere in particular (a private {@link SimpleMeterRegistry}). */
  public BuildapiClient(String baseUrl, String user, String password, Duration timeout) {
    this(baseUrl, user, password, timeout, new SimpleMeterRegistry());
  }

  /** A client with its meters (see the class comment) in {@code registry}. */
  public BuildapiClient(String baseUrl, String user, String password, Duration timeout, MeterRegistry registry) {
    this.metered = new MeteredJsonHttp("buildapi", timeout, registry);
    this.base = baseUrl;
    this.authorization = user.isEmpty() ? null
        : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** {@code GET {base}/{branch}/rev/{revision}?format=json}. */
  public Reply lookup(String branch, String revision) {
    if (!REVISION.matcher(revision).matches()) {
      metered.refused("lookup");
      return new Reply(INVALID, null, "revision '" + revision + "' is not 12 to 40 lowercase hex characters; not sent");
    }
    return send("lookup", request(MeteredJsonHttp.segment(branch) + "/rev/" + revision + "?format=json").GET().build());
  }

  /** {@code POST {base}/{branch}/build} with {@code build_id} and {@code count}. */
  public Reply rebuildBuild(String branch, long buildId, int count) {
    return post("build", MeteredJsonHttp.segment(branch) + "/build", "build_id=" + buildId + "&count=" + count);
  }

  /** {@code POST {base}/{branch}/request} with {@code request_id} and {@code count}. */
  public Reply rebuildRequest(String branch, long requestId, int count) {
    return post("request", MeteredJsonHttp.segment(branch) + "/request", "request_id=" + requestId + "&count=" + count);
  }

  private Reply post(String endpoint, String path, String form) {
    return send(endpoint, request(path).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form, StandardCharsets.UTF_8)).build());
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/" + path)).timeout(timeout)
        .header("Accept", "application/json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return b;
  }

  private Reply send(String endpoint, HttpRequest request) {
    MeteredJsonHttp.Answer a = metered.send(endpoint, http, request);
    return new Reply(a.status(), a.body(), a.error());
  }

}
