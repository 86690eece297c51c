package org.triggerbot.processor.query;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.AdminServer.Request;
import org.triggerbot.common.AdminServer.Response;

/**
 * The processor's HTTP interface for push verdicts (SPEC 7), as routes of its admin port:
 *
 * <ul>
 *   <li>{@code GET /api/pushes/{branch}/{revision}}: one push ({@link PushView}) as JSON;</li>
 *   <li>{@code GET /api/pushes?state=FAILING&limit=50}: the recent pushes ({@link PushList}) as JSON;</li>
 *   <li>{@code GET /}: the recent pushes as an HTML page (same parameters);</li>
 *   <li>{@code GET /pushes/{branch}/{revision}}: one push as an HTML page.</li>
 * </ul>
 *
 * <p>Statuses, the same for JSON and HTML: 200; 400 for a malformed revision, path, state or limit (naming the
 * problem, and the allowed values where there is a closed set); 404 for a push no instance holds; 503 with
 * {@code Retry-After} while no instance can answer correctly (starting, rebalancing, restoring); 502 when the
 * instance that owns the push does not answer. JSON errors are {@code {"error": ..., ...}} with {@code state}
 * (503), {@code owner} (502) or {@code allowed} (400) beside. The admin server adds {@code Cache-Control:
 * no-store}.
 *
 * <p>The routes exist before Kafka Streams does (the admin port must be bound first, so that its port can be
 * advertised as {@code application.server}); until {@link #attach} they answer 503.
 */
public final class PushApi {

  /** Seconds a client should wait before asking again after a 503: a rebalance or a restore takes seconds. */
  static final int RETRY_AFTER_SECONDS = 5;
  static final String API_PUSHES = "/api/pushes";
  static final String API_PUSH_PREFIX = "/api/pushes/";
  static final String PAGE_PUSH_PREFIX = "/pushes/";

  private volatile PushQueries queries;

  /** Starts answering from {@code queries} (until then, 503). */
  public void attach(PushQueries queries) {
    this.queries = queries;
  }

  /** The routes to mount on the admin server. */
  public Map<String, AdminServer.Route> routes() {
    Map<String, AdminServer.Route> routes = new LinkedHashMap<>();
    routes.put(API_PUSHES, this::listJson);
    routes.put(API_PUSH_PREFIX + "*", this::pushJson);
    routes.put("/", this::indexPage);
    routes.put(PAGE_PUSH_PREFIX + "*", this::pushPage);
    return routes;
  }

  // --- JSON ----------------------------------------------------------------------------------------------------

  Response pushJson(Request request) throws InterruptedException {
    PushRef ref;
    try {
      ref = PushRef.parse(request.rawPath().substring(API_PUSH_PREFIX.length()));
    } catch (BadRequest e) {
      return badRequestJson(e);
    }
    PushQueries q = queries;
    return json(q == null ? starting() : q.push(ref, request.header(PushQueries.FORWARDED_BY)));
  }

  Response listJson(Request request) throws InterruptedException {
    ListQuery query;
    try {
      query = ListQuery.parse(request.rawQuery());
    } catch (BadRequest e) {
      return badRequestJson(e);
    }
    PushQueries q = queries;
    if (q == null) {
      return json(starting());
    }
    // Another instance assembling the list asks for this instance's part only.
    return request.header(PushQueries.FORWARDED_BY).isPresent() ? json(q.localPart(query)) : json(q.recent(query));
  }

  private static Response json(Answer<?> answer) {
    if (answer instanceof Answer.Found<?> found) {
      return Response.json(200, Json.bytes(found.value()));
    }
    if (answer instanceof Answer.NotFound<?> notFound) {
      return Response.json(404, Json.bytes(Map.of("error", notFound.message())));
    }
    if (answer instanceof Answer.Unavailable<?> unavailable) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("error", unavailable.message());
      body.put("state", unavailable.state());
      return Response.json(503, Json.bytes(body)).withHeader("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
    }
    Answer.Unreachable<?> unreachable = (Answer.Unreachable<?>) answer;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", unreachable.message());
    body.put("owner", unreachable.owner());
    return Response.json(502, Json.bytes(body));
  }

  private static Response badRequestJson(BadRequest e) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.getMessage());
    if (!e.allowed().isEmpty()) {
      body.put("allowed", e.allowed());
    }
    return Response.json(400, Json.bytes(body));
  }

  // --- HTML ----------------------------------------------------------------------------------------------------

  Response indexPage(Request request) throws InterruptedException {
    ListQuery query;
    try {
      query = ListQuery.parse(request.rawQuery());
    } catch (BadRequest e) {
      return Response.html(400, HtmlPages.error(400, "Bad request", e.getMessage()));
    }
    PushQueries q = queries;
    Answer<PushList> answer = q == null ? starting() : q.recent(query);
    if (answer instanceof Answer.Found<PushList> found) {
      return Response.html(200, HtmlPages.index(found.value(), query));
    }
    return htmlError(answer);
  }

  Response pushPage(Request request) throws InterruptedException {
    PushRef ref;
    try {
      ref = PushRef.parse(request.rawPath().substring(PAGE_PUSH_PREFIX.length()));
    } catch (BadRequest e) {
      return Response.html(400, HtmlPages.error(400, "Bad request", e.getMessage()));
    }
    PushQueries q = queries;
    // A page is never forwarded itself: its JSON is (by the queries), and this instance renders it.
    Answer<PushView> answer = q == null ? starting() : q.push(ref, Optional.empty());
    if (answer instanceof Answer.Found<PushView> found) {
      return Response.html(200, HtmlPages.push(found.value()));
    }
    return htmlError(answer);
  }

  private static Response htmlError(Answer<?> answer) {
    if (answer instanceof Answer.NotFound<?> notFound) {
      return Response.html(404, HtmlPages.error(404, "Push not found", notFound.message()));
    }
    if (answer instanceof Answer.Unavailable<?> unavailable) {
      return Response.html(503, HtmlPages.error(503, "Not available right now",
          unavailable.message() + " (state " + unavailable.state() + ")"))
          .withHeader("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
    }
    Answer.Unreachable<?> unreachable = (Answer.Unreachable<?>) answer;
    return Response.html(502, HtmlPages.error(502, "Another instance did not answer", unreachable.message()));
  }

  private static <T> Answer<T> starting() {
    return new Answer.Unavailable<>("the processor is starting", "CREATED");
  }
}
