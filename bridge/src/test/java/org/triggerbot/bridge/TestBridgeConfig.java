package org.triggerbot.bridge;

import java.util.HashMap;
import java.util.Map;
import org.triggerbot.testsupport.AmqpBroker;

/** What every bridge test configures first: its own exchange on the AMQP broker and a queue bound to it. */
final class TestBridgeConfig {

  private TestBridgeConfig() {}

  /**
   * Declares the topic {@code exchange} (as Pulse's publishers do; the bridge only declares it passively) and answers
   * bridge settings, to be added to, that consume {@code queue} bound to its started and finished messages.
   */
  static Map<String, String> boundTo(AmqpBroker amqp, String bootstrapServers, String exchange, String queue) {
    amqp.declareTopicExchange(exchange);
    Map<String, String> values = new HashMap<>();
    values.put(BridgeConfig.AMQP_URI, amqp.uri());
    values.put(BridgeConfig.BOOTSTRAP_SERVERS, bootstrapServers);
    values.put(BridgeConfig.PULSE_QUEUE, queue);
    values.put(BridgeConfig.PULSE_BINDINGS, exchange + ":build.#.started,build.#.finished");
    return values;
  }
}
