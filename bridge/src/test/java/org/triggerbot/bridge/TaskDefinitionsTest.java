package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bridge's task-definition fetcher against a real HTTP server: prefetched requests are out at the same time
 * (the server answers none until all have arrived), bounded by the concurrency, and taken in order by
 * {@link TaskDefinitions#definition}.
 */
class TaskDefinitionsTest {

  private static final List<String> TASKS =
      List.of("KkDeSaLFSq-OFo1QGc-hGQ", "LpCJV9wUQHSAm5SHyW4Olw", "NdzxKw8bS5Sw5DRhoiM14w");

  private final List<String> requested = new CopyOnWriteArrayList<>();
  private HttpServer server;
  private ExecutorService threads;

  /** A queue that answers no request until {@code together} requests are waiting (or 30 s passed: then 503). */
  private String queue(int together) throws IOException {
    return queue(together, Duration.ofSeconds(30));
  }

  /** The same, answering 503 when {@code wait} passed first. */
  private String queue(int together, Duration wait) throws IOException {
    CountDownLatch arrived = new CountDownLatch(together);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    threads = Executors.newFixedThreadPool(8);
    server.setExecutor(threads);
    server.createContext("/api/queue/v1/task/", exchange -> {
      String id = exchange.getRequestURI().getPath().substring("/api/queue/v1/task/".length());
      requested.add(id);
      arrived.countDown();
      boolean allThere;
      try {
        allThere = arrived.await(wait.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        allThere = false;
      }
      byte[] body = ("{\"taskGroupId\":\"" + id + "\",\"tags\":{\"label\":\"l-" + id + "\"}}")
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(allThere ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private static TaskDefinitions definitions(String root, int concurrency) {
    return new TaskDefinitions(new TaskDefinitions.Settings(root, 1, Duration.ofMillis(10), Duration.ofSeconds(60),
        100, concurrency), new SimpleMeterRegistry());
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
      threads.shutdownNow();
    }
  }

  @Test
  void prefetchedRequestsAreOutTogetherAndTakenInOrder() throws Exception {
    try (TaskDefinitions d = definitions(queue(TASKS.size()), 16)) {
      TASKS.forEach(d::prefetch);
      assertEquals(TASKS.size(), d.inflight());
      for (String task : TASKS) {
        // Had the requests gone one at a time, the queue would have answered none of them with 200.
        assertEquals(task, d.definition(task).get("taskGroupId").asText());
      }
      assertEquals(0, d.inflight());
      assertEquals(TASKS.size(), requested.size(), "one request per task: " + requested);
      d.prefetch(TASKS.get(0));
      assertEquals(0, d.inflight(), "a cached definition is not fetched again");
      assertEquals("l-" + TASKS.get(0), d.definition(TASKS.get(0)).path("tags").path("label").asText());
      assertEquals(TASKS.size(), requested.size());
    }
  }

  @Test
  void theConcurrencyBoundsThePrefetches() throws Exception {
    try (TaskDefinitions d = definitions(queue(1), 1)) {
      TASKS.forEach(d::prefetch);
      d.prefetch("not a task id");
      assertEquals(1, d.inflight(), "one at a time; the others are fetched when asked for");
      for (String task : TASKS) {
        assertEquals(task, d.definition(task).get("taskGroupId").asText());
      }
      assertEquals(TASKS, requested);
    }
  }

  @Test
  void aFailedPrefetchCountsAsTheFirstAttempt() throws Exception {
    // The queue answers 503 to a request that is not one of two together: the prefetch alone.
    String root = queue(2, Duration.ZERO);
    try (TaskDefinitions d = definitions(root, 16)) {
      d.prefetch(TASKS.get(0));
      TaskDefinitions.Unavailable e = assertThrows(TaskDefinitions.Unavailable.class,
          () -> d.definition(TASKS.get(0)));
      assertTrue(e.getMessage().contains("503"), e.getMessage());
      assertEquals(1, requested.size(), "with tc.task.fetch.max=1 the prefetch was the only attempt");
    }
  }
}
