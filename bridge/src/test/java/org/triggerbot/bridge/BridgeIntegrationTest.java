package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The bridge between two real brokers: an AMQP 0-9-1 broker (embedded Qpid Broker-J, or this machine's RabbitMQ
 * when {@code RABBITMQ_URL} is set) and an in-process KRaft Kafka broker. Each test uses its own exchange and
 * queue; {@code pulse.raw} is shared, so tests look only at the routing keys they published.
 */
class BridgeIntegrationTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static AmqpBroker amqp;
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBrokers() {
    amqp = AmqpBroker.start();
    kafka = EmbeddedKafka.start();
    kafka.createTopic(Topics.PULSE_RAW.name(), 1, Map.of("retention.ms", "-1"));
    kafka.createTopic(Topics.PULSE_REJECTED.name(), 1, Map.of("retention.ms", "-1"));
  }

  @AfterAll
  static void stopBrokers() {
    if (kafka != null) {
      kafka.close();
    }
    if (amqp != null) {
      amqp.close();
    }
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  /** A fresh exchange (declared, as Pulse's publishers do) and a bridge configuration bound to it. */
  private static BridgeConfig config(String exchange, String queue, String... extra) {
    Map<String, String> values = TestBridgeConfig.boundTo(amqp, kafka.bootstrapServers(), exchange, queue);
    values.put(BridgeConfig.AMQP_RECOVERY_INTERVAL_MS, "300");
    // Fail a write after seconds, not minutes, when Kafka is down, so the nack/redelivery path runs.
    values.put("producer.delivery.timeout.ms", "6000");
    values.put("producer.request.timeout.ms", "2000");
    values.put("producer.max.block.ms", "2000");
    for (String kv : extra) {
      values.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    return BridgeConfig.of(values);
  }

  private static String unique(String name) {
    return name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** n distinct finished/started messages whose routing keys all contain {@code tag}. */
  private static List<String> feed(String tag, int n) {
    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      PulseJson job = PulseJson.test(tag).number(i).atMinutes(i);
      bodies.add(i % 2 == 0 ? job.started() : job.finished(i % 3 == 0 ? 2 : 0));
    }
    return bodies;
  }

  private static void publish(BridgeConfig config, String exchange, List<String> bodies) throws Exception {
    PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    long n = PublishCommand.publish(config, exchange, false,
        new BufferedReader(new StringReader(String.join("\n", bodies))), err);
    assertEquals(bodies.size(), n, "the broker confirmed every message");
  }

  /** Every record of {@code topic} whose routing key contains {@code tag} ({@link RawTopic#records}). */
  private static List<ConsumerRecord<String, byte[]>> records(String topic, String tag) {
    return RawTopic.records(kafka, topic, tag);
  }

  private static Set<String> distinctRoutingKeys(List<ConsumerRecord<String, byte[]>> records) {
    Set<String> keys = new HashSet<>();
    records.forEach(r -> keys.add(RawTopic.value(r).getRoutingKey()));
    return keys;
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, DEADLINE, condition::getAsBoolean);
  }

  // --- tests -------------------------------------------------------------------------------------------------

  @Test
  void copiesEveryMessageExactlyOnceWithItsBodyByteForByte() throws Exception {
    String tag = unique("copy");
    String exchange = "exchange/" + tag + "/";
    BridgeConfig config = config(exchange, tag);
    List<String> bodies = feed(tag, 400);
    try (PulseBridge bridge = new PulseBridge(config).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE), "the bridge consumes");
      publish(config, exchange, bodies);
      await("400 records", () -> records(Topics.PULSE_RAW.name(), tag).size() >= 400);
      await("every delivery acknowledged", () -> bridge.acked.get() >= 400);
    }
    List<ConsumerRecord<String, byte[]>> records = records(Topics.PULSE_RAW.name(), tag);
    assertEquals(400, records.size(), "no duplicates without failures");
    assertEquals(400, distinctRoutingKeys(records).size());
    for (int i = 0; i < records.size(); i++) {
      ConsumerRecord<String, byte[]> r = records.get(i);
      PulseMessage m = RawTopic.value(r);
      byte[] expected = bodies.get(i).getBytes(StandardCharsets.UTF_8);
      assertArrayEquals(expected, RawTopic.bytes(m.getBody()), "body " + i + " is byte-identical and in order");
      PulseEnvelope envelope = PulseEnvelope.read(expected);
      assertNotNull(envelope.push());
      assertEquals(envelope.push(), r.key(), "keyed by push (SPEC 5), so a push's messages share a partition");
      assertEquals(envelope.routingKey(), m.getRoutingKey());
      assertEquals(exchange, m.getExchange());
      assertEquals(PulseEnvelope.read(expected).sent(), r.timestamp(), "the record time is _meta.sent");
      assertFalse(m.getRedelivered());
      assertNotNull(m.getMessageId());
    }
    assertEquals(0, amqp.readyMessages("queue/" + amqp.username() + "/" + tag));
  }

  @Test
  void aKafkaOutageMidStreamLosesNothingAndPrefetchBoundsWhatIsUnacknowledged() throws Exception {
    String tag = unique("outage");
    String exchange = "exchange/" + tag + "/";
    String queue = "queue/" + amqp.username() + "/" + tag;
    BridgeConfig config = config(exchange, tag, BridgeConfig.AMQP_PREFETCH + "=20");
    List<String> bodies = feed(tag, 300);
    try (PulseBridge bridge = new PulseBridge(config).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      publish(config, exchange, bodies.subList(0, 100));
      await("the first 100 written and acknowledged", () -> bridge.acked.get() == 100);
      kafka.stop();
      try {
        publish(config, exchange, bodies.subList(100, 300));
        // The bridge holds at most 20 deliveries: the broker keeps the other 180 ready, however long Kafka is away.
        await("the bridge to hold its whole prefetch", () -> amqp.readyMessages(queue) == 180);
        long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < until) {
          long ready = amqp.readyMessages(queue);
          assertTrue(ready >= 180, "at most 20 unacknowledged, but only " + ready + " ready");
        }
        assertEquals(100, bridge.acked.get(), "nothing more is acknowledged while Kafka is down");
      } finally {
        kafka.restart();
      }
      await("all 300 routing keys in pulse.raw",
          () -> distinctRoutingKeys(records(Topics.PULSE_RAW.name(), tag)).size() == 300);
      await("the queue drained", () -> amqp.readyMessages(queue) == 0 && bridge.acked.get() >= 300);
      int copies = records(Topics.PULSE_RAW.name(), tag).size();
      System.out.printf("kafka outage: 300 messages, %d records (%d duplicates), %d requeued by the bridge%n",
          copies, copies - 300, bridge.requeued.get());
    }
  }

  @Test
  void aConnectionClosedByTheBrokerIsRecoveredAndLosesNothing() throws Exception {
    String tag = unique("recover");
    String exchange = "exchange/" + tag + "/";
    BridgeConfig config = config(exchange, tag);
    List<String> bodies = feed(tag, 300);
    try (PulseBridge bridge = new PulseBridge(config).start()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      publish(config, exchange, bodies.subList(0, 150));
      await("some records", () -> records(Topics.PULSE_RAW.name(), tag).size() >= 50);
      amqp.closeClientConnections();
      publish(config, exchange, bodies.subList(150, 300));
      await("all 300 routing keys after recovery",
          () -> distinctRoutingKeys(records(Topics.PULSE_RAW.name(), tag)).size() == 300);
      await("every delivery acknowledged",
          () -> amqp.readyMessages("queue/" + amqp.username() + "/" + tag) == 0);
    }
  }

  @Test
  void aCrashBetweenTheKafkaWriteAndTheAckLeadsToRedeliveryNotLoss() throws Exception {
    String tag = unique("crash");
    String exchange = "exchange/" + tag + "/";
    BridgeConfig config = config(exchange, tag);
    List<String> bodies = feed(tag, 60);
    String[] crashedOn = new String[1];
    PulseBridge[] first = new PulseBridge[1];
    first[0] = new PulseBridge(config, (deliveryTag, routingKey) -> {
      if (crashedOn[0] == null && first[0].written.get() == 10) {
        crashedOn[0] = routingKey;
        first[0].abort(); // the process dies after Kafka has the 10th record, before the broker gets its ack
      }
    });
    first[0].start();
    assertTrue(first[0].awaitConsuming(DEADLINE));
    publish(config, exchange, bodies);
    first[0].awaitStopped();
    assertNotNull(crashedOn[0], "the first bridge crashed after its 10th write");

    try (PulseBridge second = new PulseBridge(config).start()) {
      assertTrue(second.awaitConsuming(DEADLINE));
      await("all 60 routing keys", () -> distinctRoutingKeys(records(Topics.PULSE_RAW.name(), tag)).size() == 60);
      await("the queue drained", () -> amqp.readyMessages("queue/" + amqp.username() + "/" + tag) == 0);
    }
    List<ConsumerRecord<String, byte[]>> copies = records(Topics.PULSE_RAW.name(), tag).stream()
        .filter(r -> RawTopic.value(r).getRoutingKey().equals(crashedOn[0])).toList();
    assertEquals(2, copies.size(), "written before the crash, and again after its redelivery");
    assertFalse(RawTopic.value(copies.get(0)).getRedelivered());
    assertTrue(RawTopic.value(copies.get(1)).getRedelivered(), "the second copy says it was redelivered");
  }

  @Test
  void oversizedBodiesGoToRejectedAndOtherBadBodiesAreCopiedAsTheyAre() throws Exception {
    String tag = unique("oversized");
    String exchange = "exchange/" + tag + "/";
    BridgeConfig config = config(exchange, tag, BridgeConfig.PULSE_HARD_MAX_BYTES + "=2048");
    byte[] huge = ("{\"_meta\":{},\"pad\":\"" + "x".repeat(4000) + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] notJson = {(byte) 0xff, 0x00, 'n', 'o', 't'};
    long started = System.currentTimeMillis();
    try (PulseBridge bridge = new PulseBridge(config).start();
         Connection c = config.connectionFactory().newConnection("test-publisher");
         Channel ch = c.createChannel()) {
      assertTrue(bridge.awaitConsuming(DEADLINE));
      ch.confirmSelect();
      ch.basicPublish(exchange, "build." + tag + "_test-a.1.finished", new AMQP.BasicProperties(), huge);
      ch.basicPublish(exchange, "build." + tag + "_test-b.2.finished", new AMQP.BasicProperties(), notJson);
      ch.waitForConfirmsOrDie(10_000);
      await("both handled", () -> bridge.acked.get() == 2);
    }
    List<ConsumerRecord<String, byte[]>> raw = records(Topics.PULSE_RAW.name(), tag);
    assertEquals(1, raw.size(), "only the small one is copied");
    assertArrayEquals(notJson, RawTopic.bytes(RawTopic.value(raw.get(0)).getBody()),
        "copied byte for byte, the processor rejects it");
    assertEquals("build." + tag + "_test-b.2.finished", raw.get(0).key(), "no push in the body: keyed by routing key");
    long stamped = raw.get(0).timestamp();
    assertTrue(stamped >= started && stamped <= System.currentTimeMillis(),
        "no _meta.sent and no AMQP timestamp: stamped with the receive time");
    List<ConsumerRecord<String, byte[]>> rejected = records(Topics.PULSE_REJECTED.name(), tag);
    assertEquals(1, rejected.size());
    RejectedMessage r = Topics.REJECTED_MESSAGE.decode(rejected.get(0).value(), "test");
    assertEquals("OVERSIZED", r.getReason());
    assertTrue(r.getError().contains(huge.length + " bytes"), r.getError());
    assertEquals(huge.length, r.getOriginalBody().remaining(), "a body under 64 KiB is kept whole, not padded");
  }

  @Test
  void aMissingExchangeStopsTheBridgeWithAClearErrorThatHidesThePassword() throws Exception {
    String tag = unique("missing");
    Map<String, String> values = new HashMap<>();
    values.put(BridgeConfig.AMQP_URI, amqp.uri());
    values.put(BridgeConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    values.put(BridgeConfig.PULSE_QUEUE, tag);
    values.put(BridgeConfig.PULSE_BINDINGS, "exchange/" + tag + "/:build.#.finished");
    PulseBridge bridge = new PulseBridge(BridgeConfig.of(values)).start();
    Exception failure = bridge.awaitStopped();
    assertNotNull(failure);
    assertTrue(
        failure.getMessage().contains("exchange/" + tag + "/") && failure.getMessage().contains("does not exist"),
        failure.getMessage());
    assertFalse(failure.getMessage().contains(amqp.uri()), "no credentials in errors");
    assertFalse(failure.getMessage().contains(":" + amqp.password() + "@"), "no credentials in errors");
    bridge.close();
  }

  @Test
  void wrongCredentialsAreRetriedAndNeverLogged() throws Exception {
    String secret = "s3cr3t-" + UUID.randomUUID();
    Map<String, String> values = new HashMap<>();
    values.put(BridgeConfig.AMQP_HOST, amqp.host());
    values.put(BridgeConfig.AMQP_PORT, Integer.toString(amqp.port()));
    values.put(BridgeConfig.AMQP_VHOST, amqp.virtualHost());
    values.put(BridgeConfig.AMQP_USER, amqp.username());
    values.put(BridgeConfig.AMQP_PASSWORD, secret);
    values.put(BridgeConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    BridgeConfig config = BridgeConfig.of(values);
    assertFalse(config.describeBroker().contains(secret));
    assertFalse(config.toString().contains(secret), "the config prints the password as [hidden]");
    assertTrue(config.toString().contains(BridgeConfig.AMQP_PASSWORD + "=[hidden]"), config.toString());

    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    PulseBridge bridge = new PulseBridge(config).start();
    try {
      await("a retry is logged", () -> captured.toString(StandardCharsets.UTF_8).contains("cannot connect"));
      assertFalse(bridge.awaitConsuming(Duration.ofMillis(200)));
    } finally {
      bridge.close();
      System.setErr(originalErr);
    }
    assertNull(bridge.awaitStopped(), "closing during the retries is a clean stop");
    String log = captured.toString(StandardCharsets.UTF_8);
    assertFalse(log.contains(secret), "the password never reaches the log:\n" + log);
  }
}
