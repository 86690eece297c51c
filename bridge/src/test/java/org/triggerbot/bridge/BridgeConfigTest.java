package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.ConnectionFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

  @Test
  void taskclusterBindsTheThreeQueueExchangesWithOnePatternPerBranch() {
    BridgeConfig.Binding build =
        new BridgeConfig.Binding("exchange/build/", List.of("build.#.started", "build.#.finished"));
    BridgeConfig on = config(BridgeConfig.TASKCLUSTER_ENABLED + "=true", BridgeConfig.BRANCHES + "=try, autoland");
    List<String> patterns = List.of("route.tc-treeherder.v2.try.#", "route.tc-treeherder.v2.autoland.#");
    assertTrue(on.taskclusterEnabled());
    assertEquals(List.of(build,
        new BridgeConfig.Binding("exchange/taskcluster-queue/v1/task-completed", patterns),
        new BridgeConfig.Binding("exchange/taskcluster-queue/v1/task-failed", patterns),
        new BridgeConfig.Binding("exchange/taskcluster-queue/v1/task-exception", patterns)), on.bindings());

    BridgeConfig off = config(BridgeConfig.BRANCHES + "=try, autoland");
    assertFalse(off.taskclusterEnabled());
    assertEquals(List.of(build), off.bindings());
    assertEquals(List.of(build), config(BridgeConfig.TASKCLUSTER_ENABLED + "=false").bindings());

    // Today's Pulse has no buildbot exchange: Taskcluster alone is allowed, no binding at all is not.
    assertEquals(3, config(BridgeConfig.TASKCLUSTER_ENABLED + "=true", BridgeConfig.PULSE_BINDINGS + "=").bindings()
        .size());
    ConfigException none = assertThrows(ConfigException.class, () -> config(BridgeConfig.PULSE_BINDINGS + "="));
    assertTrue(none.getMessage().contains(BridgeConfig.PULSE_BINDINGS), none.getMessage());
  }

  @Test
  void taskDefinitionFetchSettings() {
    TaskDefinitions.Settings defaults = config(BridgeConfig.TASKCLUSTER_ENABLED + "=true").taskFetch();
    assertEquals(new TaskDefinitions.Settings("https://firefox-ci-tc.services.mozilla.com", 6, Duration.ofMillis(500),
        Duration.ofSeconds(10), 10_000, 16), defaults);
    TaskDefinitions.Settings set = config(BridgeConfig.TASKCLUSTER_ENABLED + "=true",
        BridgeConfig.TASKCLUSTER_ROOT_URL + "=http://127.0.0.1:8080/", BridgeConfig.TC_TASK_FETCH_MAX + "=3",
        BridgeConfig.TC_TASK_FETCH_BACKOFF + "=PT0.05S", BridgeConfig.TC_TASK_FETCH_TIMEOUT + "=PT2S",
        BridgeConfig.TC_TASK_CACHE_SIZE + "=5", BridgeConfig.TC_TASK_FETCH_CONCURRENCY + "=1").taskFetch();
    assertEquals(new TaskDefinitions.Settings("http://127.0.0.1:8080", 3, Duration.ofMillis(50), Duration.ofSeconds(2),
        5, 1), set, "the root URL without its trailing slash");
    for (String bad : new String[] {BridgeConfig.TC_TASK_FETCH_MAX + "=0", BridgeConfig.TC_TASK_FETCH_BACKOFF + "=5",
        BridgeConfig.TC_TASK_FETCH_TIMEOUT + "=-PT1S", BridgeConfig.TC_TASK_CACHE_SIZE + "=-1",
        BridgeConfig.TC_TASK_FETCH_CONCURRENCY + "=0"}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> config(BridgeConfig.TASKCLUSTER_ENABLED + "=true", bad));
      assertTrue(e.getMessage().contains(bad.substring(0, bad.indexOf('='))), e.getMessage());
    }
  }

  @Test
  void aTaskclusterRootUrlWithCredentialsOrNotHttpIsRefusedNamingTheKey() {
    for (String bad : new String[] {"https://u:s3cret@x", "ftp://x", "x"}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> config(BridgeConfig.TASKCLUSTER_ENABLED + "=true", BridgeConfig.TASKCLUSTER_ROOT_URL + "=" + bad));
      assertTrue(e.getMessage().contains(BridgeConfig.TASKCLUSTER_ROOT_URL), e.getMessage());
      assertFalse(e.getMessage().contains("s3cret"), "the password is never echoed: " + e.getMessage());
    }
  }

  @Test
  void noBranchesIsRefusedNamingTheKey() {
    for (String bad : new String[] {"", " , "}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> config(BridgeConfig.TASKCLUSTER_ENABLED + "=true", BridgeConfig.BRANCHES + "=" + bad));
      assertTrue(e.getMessage().contains(BridgeConfig.BRANCHES), e.getMessage());
    }
  }
}
