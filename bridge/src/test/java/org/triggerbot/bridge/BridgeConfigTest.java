package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.ConnectionFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BridgeConfigTest {

  @TempDir
  Path dir;

  private static BridgeConfig config(String... kvs) {
    Map<String, String> m = new HashMap<>();
    m.put(BridgeConfig.BOOTSTRAP_SERVERS, "k:9092");
    for (String kv : kvs) {
      m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    return BridgeConfig.of(m);
  }

  @Test
  void defaultsFollowPulseConventions() {
    BridgeConfig c = config();
    assertEquals("queue/guest/triggerbot", c.queueName());
    assertEquals(List.of(new BridgeConfig.Binding("exchange/build/", List.of("build.#.started", "build.#.finished"))),
        c.bindings());
    assertEquals(200, c.prefetch());
    ConnectionFactory f = c.connectionFactory();
    assertEquals(5672, f.getPort());
    assertTrue(f.isAutomaticRecoveryEnabled());
    assertTrue(f.isTopologyRecoveryEnabled());
    assertEquals(30, f.getRequestedHeartbeat());
    assertEquals(true, c.producerProperties().get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
    assertEquals("all", c.producerProperties().get(ProducerConfig.ACKS_CONFIG));
  }

  @Test
  void severalExchangesAndPatterns() {
    BridgeConfig c = config(BridgeConfig.PULSE_BINDINGS
        + "=exchange/build/:build.#.started, build.#.finished ; exchange/taskcluster-queue/v1/task-failed:route.#");
    assertEquals(List.of(
        new BridgeConfig.Binding("exchange/build/", List.of("build.#.started", "build.#.finished")),
        new BridgeConfig.Binding("exchange/taskcluster-queue/v1/task-failed", List.of("route.#"))), c.bindings());
  }

  @Test
  void badBindingsNameTheKey() {
    for (String bad : new String[] {"exchange/build/", "exchange/build/:", " ; "}) {
      ConfigException e = assertThrows(ConfigException.class, () -> config(BridgeConfig.PULSE_BINDINGS + "=" + bad));
      assertTrue(e.getMessage().contains(BridgeConfig.PULSE_BINDINGS), e.getMessage());
    }
  }

  @Test
  void theUriGivesUserVhostAndTls() {
    BridgeConfig c = config(BridgeConfig.AMQP_URI + "=amqps://alice:pw%2F1@pulse.example.invalid/some%2Fvhost");
    ConnectionFactory f = c.connectionFactory();
    assertEquals("alice", f.getUsername());
    assertEquals("pw/1", f.getPassword());
    assertEquals("some/vhost", f.getVirtualHost());
    assertEquals(5671, f.getPort());
    assertTrue(f.isSSL());
    assertEquals("queue/alice/triggerbot", c.queueName());
    assertFalse(c.describeBroker().contains("pw"), c.describeBroker());
  }

  @Test
  void tlsWithoutAUriUsesPort5671() {
    assertEquals(5671, config(BridgeConfig.AMQP_TLS + "=true").connectionFactory().getPort());
    assertTrue(config(BridgeConfig.AMQP_TLS + "=true").connectionFactory().isSSL());
  }

  @Test
  void aBadUriIsAnErrorThatDoesNotQuoteIt() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> config(BridgeConfig.AMQP_URI + "=http://bob:hunter2-secret@h/").connectionFactory());
    assertTrue(e.getMessage().contains(BridgeConfig.AMQP_URI), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2-secret"), e.getMessage());
  }

  @Test
  void passwordFromAFile() throws Exception {
    Path secret = dir.resolve("password");
    Files.writeString(secret, "from-file\n");
    assertEquals("from-file", config(BridgeConfig.AMQP_PASSWORD_FILE + "=" + secret).connectionFactory().getPassword());
    ConfigException e = assertThrows(ConfigException.class,
        () -> config(BridgeConfig.AMQP_PASSWORD_FILE + "=" + dir.resolve("missing")).connectionFactory());
    assertTrue(e.getMessage().contains(BridgeConfig.AMQP_PASSWORD_FILE), e.getMessage());
  }

  @Test
  void unknownKeysAreErrorsAndProducerKeysPassThrough() {
    ConfigException e = assertThrows(ConfigException.class, () -> config("amqp.prefech=10"));
    assertTrue(e.getMessage().contains("amqp.prefech"), e.getMessage());
    assertEquals("7", config("producer.linger.ms=7").producerProperties().get("linger.ms"));
    assertThrows(ConfigException.class, () -> config(BridgeConfig.AMQP_PREFETCH + "=0"));
  }
}
