package org.triggerbot.buildapisim;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** What the simulators' HTTP servers share: writing an answer, their threads, and their bounded request logs. */
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
}
