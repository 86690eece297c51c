package org.triggerbot.buildapisim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** A plain java.net.http client for the simulator, as the trigger-sink talks to buildapi. */
final class SimClient {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(TIMEOUT)
      .build();
  private final String baseUrl;
  private final String authorization;

  /** A client that sends these credentials ({@code null} user: none). */
  SimClient(String baseUrl, String user, String password) {
    this.baseUrl = baseUrl;
    this.authorization = user == null ? null : basic(user, password);
  }

  /** A client with the simulator's own credentials. */
  static SimClient of(BuildapiSimulator sim) {
    return new SimClient(sim.baseUrl(), sim.options().user(), sim.options().password());
  }

  static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** Percent-encodes one path segment (spaces as %20, not +). */
  static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  static Map<String, String> fields(String... nameValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      map.put(nameValues[i], nameValues[i + 1]);
    }
    return map;
  }

  /** GET {base}/{branch}/rev/{revision}?format=json. */
  HttpResponse<String> getRevision(String branch, String revision) {
    return get("/" + segment(branch) + "/rev/" + segment(revision) + "?format=json");
  }

  /** The JSON list a successful GET of this revision returns. */
  JsonNode revisionItems(String branch, String revision) {
    HttpResponse<String> response = getRevision(branch, revision);
    if (response.statusCode() != 200) {
      throw new AssertionError("GET " + response.uri() + " answered " + response.statusCode() + ": "
          + response.body());
    }
    return parse(response.body());
  }

  HttpResponse<String> get(String rawPathAndQuery) {
    return send(request(rawPathAndQuery).GET().build());
  }

  HttpResponse<String> postForm(String rawPath, Map<String, String> fields) {
    return send(request(rawPath)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form(fields)))
        .build());
  }

  HttpResponse<String> rebuildBuild(String branch, long buildId, int count) {
    return postForm("/" + segment(branch) + "/build",
        fields("build_id", Long.toString(buildId), "count", Integer.toString(count)));
  }

  HttpResponse<String> rebuildRequest(String branch, long requestId, int count) {
    return postForm("/" + segment(branch) + "/request",
        fields("request_id", Long.toString(requestId), "count", Integer.toString(count)));
  }

  HttpRequest.Builder request(String rawPathAndQuery) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl + rawPathAndQuery)).timeout(TIMEOUT);
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    return builder;
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      return sendOrThrow(request);
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
    }
  }

  HttpResponse<String> sendOrThrow(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  HttpClient http() {
    return http;
  }

  static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  /**
   * Polls {@code condition} until it holds, failing with {@code description} after {@code timeout}.
   * The short pause between checks is a back-off, bounded by the deadline, not a synchronisation.
   */
  static void awaitCondition(String description, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("Timed out after " + timeout + " waiting for " + description);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted waiting for " + description, e);
      }
    }
  }
}
