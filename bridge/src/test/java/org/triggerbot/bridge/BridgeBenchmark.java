package org.triggerbot.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The bridge's sustained rate: N Pulse messages of realistic size (buildbot bodies carry their steps: several
 * KB) are queued on the AMQP broker first, then a bridge is started and timed from consuming to the last
 * acknowledgement, so the figure is the bridge's drain rate, not the publisher's. Both brokers are local (the
 * AMQP one as {@link AmqpBroker#start()} picks it); run by {@code bench/bridge-rate.sh}. Not a test.
 *
 * <p>usage: BridgeBenchmark [messages=20000] [bodyBytes=4000] [prefetch=200]
 */
public final class BridgeBenchmark {

  private BridgeBenchmark() {}

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int bodyBytes = args.length > 1 ? Integer.parseInt(args[1]) : 4_000;
    int prefetch = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    try (AmqpBroker amqp = AmqpBroker.start(); EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopic(Topics.PULSE_RAW.name(), 1, Map.of("retention.ms", "-1"));
      kafka.createTopic(Topics.PULSE_REJECTED.name(), 1);
      String exchange = "exchange/build/";
      amqp.declareTopicExchange(exchange);
      Map<String, String> values = new HashMap<>();
      values.put(BridgeConfig.AMQP_URI, amqp.uri());
      values.put(BridgeConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
      values.put(BridgeConfig.AMQP_PREFETCH, Integer.toString(prefetch));
      BridgeConfig config = BridgeConfig.of(values);

      List<String> bodies = new ArrayList<>(messages);
      long totalBytes = 0;
      for (int i = 0; i < messages; i++) {
        String body = padded(PulseJson.test("suite-" + (i % 130)).rev(String.format("%012x", 0x100000L + i / 260))
            .number(i).atMinutes(i / 100), i % 2 == 0 ? null : (i % 10 == 1 ? 2 : 0), bodyBytes);
        bodies.add(body);
        totalBytes += body.length();
      }
      // The queue must exist (and be bound) before publishing, as a running bridge would have left it.
      try (PulseBridge declare = new PulseBridge(config).start()) {
        declare.awaitConsuming(Duration.ofSeconds(60));
      }
      long publishStart = System.nanoTime();
      PulseBridgePublisher.publish(config, exchange, bodies);
      double publishSeconds = (System.nanoTime() - publishStart) / 1e9;

      PulseBridge bridge = new PulseBridge(config).start();
      bridge.awaitConsuming(Duration.ofSeconds(60));
      long start = System.nanoTime();
      long deadline = start + Duration.ofMinutes(10).toNanos();
      while (bridge.acked.get() < messages && System.nanoTime() < deadline) {
        LockSupport.parkNanos(1_000_000L);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      bridge.close();
      System.out.printf("{\"broker\":\"%s\",\"messages\":%d,\"acked\":%d,\"meanBodyBytes\":%d,\"prefetch\":%d,"
          + "\"seconds\":%.2f,\"messagesPerSecond\":%.0f,\"megabytesPerSecond\":%.2f,\"publishPerSecond\":%.0f}%n",
          amqp.name(), messages, bridge.acked.get(), totalBytes / messages, prefetch, seconds,
          bridge.acked.get() / seconds, totalBytes / 1e6 / seconds, messages / publishSeconds);
    }
  }

  /** A Pulse body padded with buildbot-like steps to about {@code bytes}. */
  private static String padded(PulseJson job, Integer result, int bytes) {
    ObjectNode root = job.node(result == null ? "started" : "finished", result);
    ArrayNode steps = ((ObjectNode) root.get("payload").get("build")).putArray("steps");
    int n = 0;
    while (root.toString().length() < bytes) {
      ObjectNode step = steps.addObject();
      step.put("name", "step-" + n++);
      step.putArray("text").add("run").add("mozharness").add("--cfg").add("unittests/linux_unittest.py");
      step.putArray("times").add(1.4336e9 + n).add(1.4336e9 + n + 12.5);
      step.put("results", 0);
    }
    return root.toString();
  }

  /** Publishes with confirms through the same code as {@code triggerbot publish}. */
  private static final class PulseBridgePublisher {
    static void publish(BridgeConfig config, String exchange, List<String> bodies) throws Exception {
      PublishCommand.publish(config, exchange, false, new BufferedReader(new StringReader(String.join("\n", bodies))),
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }
  }
}
