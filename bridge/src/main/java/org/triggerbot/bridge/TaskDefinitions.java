package org.triggerbot.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.PulseEnvelope;

/**
 * Task definitions from the Taskcluster queue ({@code GET {root}/api/queue/v1/task/{taskId}}, no credentials), for
 * the bridge's enrichment of task results (SPEC 3b).
 *
 * <p>Cached per task id, least recently used dropped first past {@code tc.task.cache.size}: a task has one message
 * per run, and a definition never changes once the task exists. A failed fetch (no answer, a 5xx, a 429, or a 404
 * the queue may answer for a task it has not yet made visible) is tried again after a back-off that doubles each
 * time, up to {@code tc.task.fetch.max} attempts; then the task is {@link Unavailable}. Other answers (400, 401,
 * 403) will not change and end the attempts at once.
 *
 * <p><b>Prefetch.</b> The bridge writes deliveries in order, one at a time, so one request at a time would cap it at
 * one new task per round trip to the queue (20 per second at 50 ms). The AMQP client's thread therefore
 * {@linkplain #prefetch starts} the first request for each delivery's task as it arrives, up to
 * {@code tc.task.fetch.concurrency} at once, and the bridge thread, each time it takes an answer (in order), starts
 * those of the deliveries waiting behind it that found no room. Retries after a
 * failure are made by the bridge thread, one at a time. Thread-safe; {@link #close()} ends a back-off early.
 */
final class TaskDefinitions implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TaskDefinitions.class);
  /** Taskcluster's slug ids: 22 characters of URL-safe base64. Checked so that no id can change the URL's path. */
  private static final Pattern TASK_ID = Pattern.compile("^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-]"
      + "[A-Za-z0-9_-]{10}[AQgw]$");

  /** How definitions are fetched: {@code rootUrl} without a trailing slash. */
  record Settings(String rootUrl, int fetchMax, Duration backoff, Duration timeout, int cacheSize, int concurrency) {}

  /** The definition could not be had; the message is for {@code pulse.rejected}, unless {@link #closing}. */
  static final class Unavailable extends Exception {
    private static final long serialVersionUID = 1L;
    /** The fetcher was closed while waiting to try again: the message is to be redelivered, not rejected. */
    final boolean closing;

    Unavailable(String message, boolean closing) {
      super(message, null, false, false);
      this.closing = closing;
    }
  }

  private final Settings settings;
  private final HttpClient http;
  /** Guarded by {@code this}, as {@link #inflight}. */
  private final Map<String, JsonNode> cache;
  /** First requests started ahead by {@link #prefetch}, until {@link #definition} has their answer. */
  private final Map<String, CompletableFuture<HttpResponse<byte[]>>> inflight = new HashMap<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Counter hits;
  private final Counter fetched;
  private final Counter failedAttempts;
  private final Counter unavailable;

  TaskDefinitions(Settings settings, MeterRegistry registry) {
    this.settings = settings;
    this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    int max = settings.cacheSize();
    this.cache = new LinkedHashMap<>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, JsonNode> eldest) {
        return size() > max;
      }
    };
    String name = "triggerbot.bridge.task.definitions";
    this.hits = Counter.builder(name).tag("outcome", "cached").description("task definitions asked for, by outcome")
        .register(registry);
    this.fetched = Counter.builder(name).tag("outcome", "fetched").register(registry);
    this.unavailable = Counter.builder(name).tag("outcome", "unavailable").register(registry);
    this.failedAttempts = Counter.builder("triggerbot.bridge.task.fetch.failures")
        .description("failed requests for task definitions (each attempt)").register(registry);
  }

  /** Whether {@code taskId} is a Taskcluster slug id. */
  static boolean isTaskId(String taskId) {
    return taskId != null && TASK_ID.matcher(taskId).matches();
  }

  private HttpRequest request(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(settings.timeout()).GET().header("Accept", "application/json").build();
  }

  private URI uri(String taskId) {
    return URI.create(settings.rootUrl() + "/api/queue/v1/task/" + taskId);
  }

  /**
   * Starts fetching {@code taskId}'s definition, unless it is cached, already being fetched, not a task id, or
   * {@code tc.task.fetch.concurrency} requests are out. Never blocks; any thread.
   */
  void prefetch(String taskId) {
    if (!isTaskId(taskId) || closed.getCount() == 0) {
      return;
    }
    synchronized (this) {
      if (cache.containsKey(taskId) || inflight.containsKey(taskId) || inflight.size() >= settings.concurrency()) {
        return;
      }
      inflight.put(taskId, http.sendAsync(request(uri(taskId)), HttpResponse.BodyHandlers.ofByteArray()));
    }
  }

  /**
   * The definition of {@code taskId}, from the cache or the queue.
   *
   * @throws Unavailable when it cannot be had (not a task id, every attempt failed, a final answer, or closed)
   */
  JsonNode definition(String taskId) throws Unavailable {
    if (!isTaskId(taskId)) {
      throw new Unavailable("status.taskId " + quote(taskId) + " is not a Taskcluster task id", false);
    }
    CompletableFuture<HttpResponse<byte[]>> early;
    synchronized (this) {
      JsonNode cached = cache.get(taskId);
      if (cached != null) {
        hits.increment();
        return cached;
      }
      // Left in the map until answered, so that a later delivery of the same task starts no second request.
      early = inflight.get(taskId);
    }
    try {
      return fetch(taskId, early);
    } finally {
      synchronized (this) {
        inflight.remove(taskId); // after the answer is cached: no window for a second request of the task
      }
    }
  }

  private JsonNode fetch(String taskId, CompletableFuture<HttpResponse<byte[]>> early) throws Unavailable {
    URI uri = uri(taskId);
    String last = null;
    for (int attempt = 1; attempt <= settings.fetchMax(); attempt++) {
      if (attempt > 1 && !backOff(attempt - 1)) {
        throw new Unavailable("closed while waiting to fetch task definition " + taskId + " again", true);
      }
      try {
        HttpResponse<byte[]> response = attempt == 1 && early != null ? await(early)
            : http.send(request(uri), HttpResponse.BodyHandlers.ofByteArray());
        int status = response.statusCode();
        if (status == 200) {
          JsonNode definition = PulseEnvelope.JSON.readTree(response.body());
          if (definition != null && definition.isObject()) {
            synchronized (this) {
              cache.put(taskId, definition);
            }
            fetched.increment();
            return definition;
          }
          last = "the queue answered 200 with a body that is not a JSON object";
        } else {
          last = "the queue answered " + status;
          if (status != 404 && status != 429 && status < 500) {
            failedAttempts.increment();
            break; // a final answer: asking again changes nothing
          }
        }
      } catch (IOException e) {
        last = "no answer from the queue (" + e.getClass().getSimpleName() + ")";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        last = "interrupted";
        failedAttempts.increment();
        break;
      }
      failedAttempts.increment();
      LOG.warn("task definition {} not fetched (attempt {} of {}): {}", taskId, attempt, settings.fetchMax(), last);
    }
    unavailable.increment();
    throw new Unavailable("task definition " + taskId + " unavailable from " + uri + " after "
        + settings.fetchMax() + " attempts at most: " + last, false);
  }

  /** The answer of a prefetch; its failure as the {@link IOException} a synchronous request would have thrown. */
  private static HttpResponse<byte[]> await(CompletableFuture<HttpResponse<byte[]>> future)
      throws IOException, InterruptedException {
    try {
      return future.get(); // ends: the request has its timeout
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  /** Waits before attempt {@code failures + 1}; false when closed meanwhile. */
  private boolean backOff(int failures) {
    long millis = settings.backoff().toMillis() << Math.min(failures - 1, 20);
    try {
      return !closed.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Definitions kept now. */
  synchronized int cached() {
    return cache.size();
  }

  /** Whether a prefetch may start now. */
  synchronized boolean hasRoom() {
    return inflight.size() < settings.concurrency();
  }

  /** Prefetches started and not yet taken. */
  synchronized int inflight() {
    return inflight.size();
  }

  @Override
  public void close() {
    closed.countDown();
    synchronized (this) {
      inflight.values().forEach(f -> f.cancel(true));
      inflight.clear();
    }
  }

  private static String quote(String s) {
    if (s == null) {
      return "null";
    }
    return "\"" + (s.length() <= 40 ? s : s.substring(0, 37) + "...") + "\"";
  }
}
