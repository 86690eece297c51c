package org.triggerbot.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GETs of a service's admin endpoints, for tests that wait on them with {@link Await}. */
public final class HttpProbe {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

  private HttpProbe() {}

  /** The status of a GET of {@code url}, or -1 when there is no answer (refused, timed out): a probe's view. */
  public static int status(String url) {
    try {
      return HTTP.send(request(url), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** The body of a GET of {@code url}, whatever its status. */
  public static String body(String url) throws IOException, InterruptedException {
    return HTTP.send(request(url), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static HttpRequest request(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).build();
  }
}
