package org.triggerbot.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the sink's HTTP clients (buildapi, Taskcluster) share: sending a request whose answer is JSON, turning every
 * transport failure into an answer with status 0, and measuring each call. Meters, in the registry given, named
 * after {@code service}: the timer {@code triggerbot.sink.<service>.requests} tagged {@code endpoint} and
 * {@code status} (the HTTP status, or {@code none}), and the counter {@code triggerbot.sink.<service>.errors} of
 * calls without a 2xx answer, tagged {@code endpoint} and {@code kind} ({@code transport}, {@code server} for 5xx
 * and 429, {@code client}, or {@code invalid} for a call refused before sending).
 */
public final class MeteredJsonHttp {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * An answer: HTTP status (0 = none), the JSON body when there was one (null for an empty body), and why not a
   * JSON 2xx answer (null when it is one). Never a URL or a credential.
   */
  public record Answer(int status, JsonNode body, String error) {
    boolean ok() {
      return status >= 200 && status < 300;
    }

    boolean transientFailure() {
      return status == 0 || status == 429 || status >= 500;
    }
  }

  private final String service;
  private final Duration timeout;
  private final MeterRegistry registry;

  /**
   * @param service the name in the meters, e.g. {@code buildapi}
   * @param timeout the requests' timeout, named in the error of one that timed out
   */
  public MeteredJsonHttp(String service, Duration timeout, MeterRegistry registry) {
    this.service = service;
    this.timeout = timeout;
    this.registry = registry;
  }

  /** Sends and measures: the time to the whole answer (or to the failure), by endpoint and status. */
  public Answer send(String endpoint, HttpClient http, HttpRequest request) {
    long start = System.nanoTime();
    Answer answer = send(http, request);
    Timer.builder("triggerbot.sink." + service + ".requests")
        .description(service + " requests sent, by endpoint and HTTP status (none: no answer)")
        .tag("endpoint", endpoint)
        .tag("status", answer.status() > 0 ? Integer.toString(answer.status()) : "none")
        .register(registry)
        .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    if (!answer.ok()) {
      error(endpoint, answer.status() <= 0 ? "transport" : answer.transientFailure() ? "server" : "client");
    }
    return answer;
  }

  /** Counts a call refused before it was sent (invalid input). */
  public void refused(String endpoint) {
    error(endpoint, "invalid");
  }

  private void error(String endpoint, String kind) {
    Counter.builder("triggerbot.sink." + service + ".errors")
        .description(service + " calls without a 2xx answer, by endpoint and kind (transport, server, client, invalid)")
        .tag("endpoint", endpoint)
        .tag("kind", kind)
        .register(registry)
        .increment();
  }

  private Answer send(HttpClient http, HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      JsonNode body = null;
      String error = null;
      try {
        body = response.body().isEmpty() ? null : JSON.readTree(response.body());
      } catch (IOException e) {
        error = "HTTP " + response.statusCode() + " with a body that is not JSON";
      }
      if (error == null && (response.statusCode() < 200 || response.statusCode() >= 300)) {
        error = "HTTP " + response.statusCode();
      }
      return new Answer(response.statusCode(), body, error);
    } catch (IOException e) {
      // No URL in the message: it names only the kind of failure.
      return new Answer(0, null, e.getClass().getSimpleName()
          + (e instanceof HttpTimeoutException ? " after " + timeout.toMillis() + " ms" : ""));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(0, null, "interrupted");
    }
  }

  /** A path segment: percent-encoded, {@code /} included (URLEncoder is for forms: its '+' for space becomes %20). */
  public static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
