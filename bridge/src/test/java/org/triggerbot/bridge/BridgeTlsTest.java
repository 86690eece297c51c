package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.ChildJvm;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.EmbeddedQpid;
import org.triggerbot.testsupport.TestPki;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * Issue 14, item 3: the bridge reaches its AMQP broker over TLS, trusting a private CA through the JVM's standard
 * trust-store properties, as an operator runs it: {@code triggerbot bridge} ({@link Main}) in its own JVM with
 * {@code -Djavax.net.ssl.trustStore=... -Djavax.net.ssl.trustStorePassword=... -Djavax.net.ssl.trustStoreType=PKCS12}
 * (what {@code TRIGGERBOT_JAVA_OPTS} or {@code JAVA_TOOL_OPTIONS} carry) and its settings in {@code TRIGGERBOT_*}
 * environment variables. The CA, the server certificates and the stores are made here ({@link TestPki}); an
 * embedded Qpid Broker-J serves AMQPS with them.
 *
 * <p>With the right CA and a certificate naming {@code 127.0.0.1}, messages reach {@code pulse.raw} and the bridge
 * is ready. With an unrelated CA, or with a certificate that names another host, it never connects: it retries
 * with backoff (as it does for wrong credentials: the broker side may be fixed without restarting the bridge), is
 * not ready, and says in one log line what is wrong. The AMQP password, a distinctive one, appears in none of its
 * output.
 */
class BridgeTlsTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final String AMQP_SECRET = "amqp-pw-" + UUID.randomUUID();
  private static final String STORE_PASSWORD = "store-pw-" + UUID.randomUUID();
  private static final Pattern ADMIN_PORT = Pattern.compile("admin server on port (\\d+)");

  @TempDir
  static Path dir;
  private static EmbeddedKafka kafka;
  private static Path serverKeyStore;
  private static Path otherHostKeyStore;
  private static Path trustsCa;
  private static Path trustsOtherCa;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void setUp() {
    kafka = EmbeddedKafka.start();
    kafka.createTopic(Topics.PULSE_RAW.name(), 1, Map.of("retention.ms", "-1"));
    kafka.createTopic(Topics.PULSE_REJECTED.name(), 1, Map.of("retention.ms", "-1"));

    TestPki ca = TestPki.create("triggerbot test CA");
    serverKeyStore = dir.resolve("server.p12");
    TestPki.writeKeyStore(ca.issue(List.of("localhost"), List.of("127.0.0.1")), serverKeyStore, STORE_PASSWORD);
    otherHostKeyStore = dir.resolve("other-host.p12");
    TestPki.writeKeyStore(ca.issue(List.of("other.example"), List.of()), otherHostKeyStore, STORE_PASSWORD);
    trustsCa = dir.resolve("trusts-ca.p12");
    ca.writeTrustStore(trustsCa, STORE_PASSWORD);
    trustsOtherCa = dir.resolve("trusts-other-ca.p12");
    TestPki.create("unrelated CA").writeTrustStore(trustsOtherCa, STORE_PASSWORD);
  }

  @AfterAll
  static void tearDown() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void withTheRightCaItConnectsOverTlsCopiesMessagesAndIsReady() throws Exception {
    String tag = "tls-ok-" + UUID.randomUUID().toString().substring(0, 8);
    try (EmbeddedQpid qpid = EmbeddedQpid.start(qpidOptions(serverKeyStore))) {
      String exchange = "exchange/" + tag + "/";
      qpid.declareTopicExchange(exchange);
      // amqp.tls=true with host and port, the password in its own variable: the README's preferred form.
      Map<String, String> env = bridgeEnv(tag, exchange);
      env.put("TRIGGERBOT_AMQP_HOST", qpid.host());
      env.put("TRIGGERBOT_AMQP_PORT", Integer.toString(qpid.tlsPort()));
      env.put("TRIGGERBOT_AMQP_TLS", "true");
      env.put("TRIGGERBOT_AMQP_VHOST", qpid.virtualHost());
      env.put("TRIGGERBOT_AMQP_USER", qpid.username());
      env.put("TRIGGERBOT_AMQP_PASSWORD", AMQP_SECRET);
      Path log = dir.resolve(tag + ".log");
      try (ChildJvm bridge = startBridge(tag, trustsCa, env, log)) {
        int port = adminPort(bridge);
        await(bridge, "/health/ready to answer 200", () -> get(port, "/health/ready").statusCode() == 200);
        String consuming = "from amqps://" + qpid.username() + "@" + qpid.host() + ":" + qpid.tlsPort() + "/";
        await(bridge, "the bridge to log that it consumes over TLS", () -> Files.readString(log).contains(consuming));

        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          bodies.add(PulseJson.test(tag).number(i).atMinutes(i).finished(0));
        }
        publishOverPlainPort(qpid, exchange, bodies);
        await(bridge, "20 messages in pulse.raw",
            () -> RawTopic.routingKeys(RawTopic.messages(kafka, tag)).size() == 20);
        assertEquals(20, RawTopic.messages(kafka, tag).size(), "each once");
        bridge.stop(60); // SIGTERM: the JVM exits 143 once the shutdown hook has closed the bridge
        assertTrue(Files.readString(log).contains("bridge closed: 20 delivered, 20 written, 20 acked"),
            "a clean stop, every delivery acknowledged" + tail(bridge));
      }
      assertNoSecret(log);
    }
  }

  @Test
  void withAnUnrelatedCaItNeverConnectsAndSaysTheCertificateIsNotTrusted() throws Exception {
    String tag = "tls-wrong-ca-" + UUID.randomUUID().toString().substring(0, 8);
    try (EmbeddedQpid qpid = EmbeddedQpid.start(qpidOptions(serverKeyStore))) {
      String exchange = "exchange/" + tag + "/";
      qpid.declareTopicExchange(exchange);
      Path log = dir.resolve(tag + ".log");
      // The amqps:// form this time, password inside the URI.
      Map<String, String> env = bridgeEnv(tag, exchange);
      env.put("TRIGGERBOT_AMQP_URI", amqpsUri(qpid));
      try (ChildJvm bridge = startBridge(tag, trustsOtherCa, env, log)) {
        String line = awaitRetriedFailure(bridge, log);
        assertTrue(line.contains("TLS: the broker's certificate is not trusted")
            && line.contains("-Djavax.net.ssl.trustStore="), "names the cause and the setting: " + line);
        assertNotReady(bridge, "TLS: the broker's certificate is not trusted");
      }
      assertNoSecret(log);
    }
  }

  @Test
  void withACertificateForAnotherHostItNeverConnectsAndSaysTheNameDoesNotMatch() throws Exception {
    String tag = "tls-wrong-host-" + UUID.randomUUID().toString().substring(0, 8);
    // Signed by the trusted CA, but for other.example only, while the bridge connects to 127.0.0.1.
    try (EmbeddedQpid qpid = EmbeddedQpid.start(qpidOptions(otherHostKeyStore))) {
      String exchange = "exchange/" + tag + "/";
      qpid.declareTopicExchange(exchange);
      Path log = dir.resolve(tag + ".log");
      Map<String, String> env = bridgeEnv(tag, exchange);
      env.put("TRIGGERBOT_AMQP_URI", amqpsUri(qpid));
      try (ChildJvm bridge = startBridge(tag, trustsCa, env, log)) {
        String line = awaitRetriedFailure(bridge, log);
        assertTrue(line.contains("TLS: the broker's certificate does not match host 127.0.0.1"),
            "names the cause: " + line);
        assertNotReady(bridge, "TLS: the broker's certificate does not match the host name");
      }
      assertNoSecret(log);
    }
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  private static EmbeddedQpid.Options qpidOptions(Path keyStore) {
    return EmbeddedQpid.Options.defaults().withPassword(AMQP_SECRET).tls(keyStore, STORE_PASSWORD);
  }

  private static String amqpsUri(EmbeddedQpid qpid) {
    return "amqps://" + qpid.username() + ":" + AMQP_SECRET + "@" + qpid.host() + ":" + qpid.tlsPort() + "/"
        + qpid.virtualHost();
  }

  private static Map<String, String> bridgeEnv(String tag, String exchange) {
    Map<String, String> env = new HashMap<>();
    env.put("TRIGGERBOT_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("TRIGGERBOT_PULSE_QUEUE", tag);
    env.put("TRIGGERBOT_PULSE_BINDINGS", exchange + ":build.#.started,build.#.finished");
    env.put("TRIGGERBOT_ADMIN_PORT", "0");
    env.put("TRIGGERBOT_ADMIN_BIND", "127.0.0.1");
    // The first connection's retries: 1 s, then 2 s (not up to 30 s), so two attempts fit in the test.
    env.put("TRIGGERBOT_AMQP_CONNECT_BACKOFF_MAX_MS", "2000");
    return env;
  }

  /** {@code triggerbot bridge} in its own JVM, trusting exactly the CA in {@code trustStore}. */
  private static ChildJvm startBridge(String name, Path trustStore, Map<String, String> env, Path log) {
    return ChildJvm.start(name, Main.class.getName(), List.of("bridge"),
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djavax.net.ssl.trustStore=" + trustStore,
            "-Djavax.net.ssl.trustStorePassword=" + STORE_PASSWORD,
            "-Djavax.net.ssl.trustStoreType=PKCS12"),
        env, log);
  }

  /**
   * Waits for the second failed attempt of the first connection and answers the first one's log line: the bridge
   * retries (it neither exits nor goes quiet), and each attempt says why it failed.
   */
  private static String awaitRetriedFailure(ChildJvm bridge, Path log) throws IOException {
    await(bridge, "two failed connection attempts", () -> failures(log).size() >= 2);
    List<String> failures = failures(log);
    assertTrue(bridge.isAlive(), "a TLS failure is retried, not fatal" + tail(bridge));
    assertTrue(failures.get(0).contains("retrying in 1000 ms") && failures.get(1).contains("retrying in 2000 ms"),
        "retried with backoff: " + failures);
    System.out.println("first connection refused over TLS: " + failures.get(0));
    return failures.get(0);
  }

  private static List<String> failures(Path log) throws IOException {
    return Files.readString(log).lines().filter(l -> l.contains("cannot connect to")).toList();
  }

  /** Not ready, and the reason says the bridge is still connecting and why its last attempt failed. */
  private void assertNotReady(ChildJvm bridge, String cause) throws Exception {
    HttpResponse<String> ready = get(adminPort(bridge), "/health/ready");
    assertEquals(503, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains("connecting to the AMQP broker; last attempt: " + cause), ready.body());
  }

  /** Neither the AMQP password nor the trust store's appears anywhere in the bridge's output. */
  private static void assertNoSecret(Path log) throws IOException {
    String output = Files.readString(log);
    assertFalse(output.contains(AMQP_SECRET), "the AMQP password is in the bridge's output:\n" + output);
    assertFalse(output.contains(STORE_PASSWORD), "the store password is in the bridge's output:\n" + output);
  }

  private static int adminPort(ChildJvm bridge) {
    int[] port = new int[1];
    await(bridge, "the admin port in the log", () -> {
      Matcher m = ADMIN_PORT.matcher(Files.readString(bridge.log()));
      if (m.find()) {
        port[0] = Integer.parseInt(m.group(1));
        return true;
      }
      return false;
    });
    return port[0];
  }

  private static void publishOverPlainPort(EmbeddedQpid qpid, String exchange, List<String> bodies) throws Exception {
    BridgeConfig config = BridgeConfig.of(Map.of(BridgeConfig.AMQP_URI, qpid.uri(),
        BridgeConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers()));
    PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertEquals(bodies.size(), PublishCommand.publish(config, exchange, false,
        new BufferedReader(new StringReader(String.join("\n", bodies))), err), "the broker confirmed every message");
  }

  private static void await(ChildJvm bridge, String what, java.util.concurrent.Callable<Boolean> condition) {
    Await.until(what, DEADLINE, () -> {
      if (!bridge.isAlive()) {
        throw new AssertionError(bridge + " ended by itself while waiting for " + what + tail(bridge));
      }
      return condition.call();
    });
  }

  private static String tail(ChildJvm bridge) {
    return "\n" + bridge + " log tail:\n" + bridge.logTail(6000);
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
