package org.triggerbot.buildapisim;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the simulators' HTTP servers share: reading a bounded request body, a simulated latency, writing an answer,
 * their threads, and their bounded request logs.
 */
public final class SimHttp {

  private SimHttp() {}

  /** Writes an answer: no body for HEAD or an empty one, else the body with its length. */
  public static void send(HttpExchange exchange, String method, int status, String contentType,
      Map<String, String> headers, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    headers.forEach(exchange.getResponseHeaders()::set);
    boolean noBody = method.equals("HEAD") || body.length == 0;
    exchange.sendResponseHeaders(status, noBody ? -1 : body.length);
    if (!noBody) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Daemon threads named {@code prefix} and a number: a test that forgets close() must not keep its JVM alive. */
  public static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger number = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + number.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Adds {@code request} to {@code log} under its arrival; past {@code max} entries the oldest goes. */
  public static <T> void record(NavigableMap<Long, T> log, long arrival, T request, int max) {
    synchronized (log) {
      log.put(arrival, request);
      if (log.size() > max) {
        log.pollFirstEntry();
      }
    }
  }

  /** The request's body, or null if it is larger than {@code max} bytes (the rest is drained, so the connection
   * stays usable for the error answer). */
  public static byte[] readBody(HttpExchange exchange, int max) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes(max + 1);
      if (body.length > max) {
        in.transferTo(OutputStream.nullOutputStream());
        return null;
      }
      return body;
    }
  }

  /** Waits {@code latency} (a simulated slow answer); false if {@code closed} was counted down meanwhile. */
  public static boolean awaitLatency(Duration latency, CountDownLatch closed) {
    if (latency.isZero()) {
      return closed.getCount() != 0;
    }
    try {
      return !closed.await(latency.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
