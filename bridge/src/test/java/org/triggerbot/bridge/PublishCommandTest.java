package org.triggerbot.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.testsupport.AmqpBroker;
import org.triggerbot.testsupport.pulse.PulseJson;

/** {@code triggerbot publish} against a real AMQP broker. */
class PublishCommandTest {

  private static AmqpBroker amqp;

  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeAll
  static void start() {
    amqp = AmqpBroker.start();
  }

  @AfterAll
  static void stop() {
    amqp.close();
  }

  private int publish(String... args) {
    return PublishCommand.run(List.of(args), Map.of("TRIGGERBOT_AMQP_URI", amqp.uri()),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void publishesEveryLineWithItsRoutingKeyAndReportsLinesWithout() throws Exception {
    Path file = dir.resolve("feed.jsonl");
    Files.write(file, List.of(
        PulseJson.test("a").started(),
        "",
        "{\"payload\": {}}",
        PulseJson.test("a").finished(2),
        PulseJson.test("b").logUploaded(0)), StandardCharsets.UTF_8);
    try (Connection c = amqp.connectionFactory().newConnection(); Channel ch = c.createChannel()) {
      ch.queueDeclare("queue/guest/publish-test", true, false, false, null);
      // --declare-exchange creates it; bind after by declaring it here first, as a consumer would find it.
      ch.exchangeDeclare("exchange/publish-test/", "topic", true);
      ch.queueBind("queue/guest/publish-test", "exchange/publish-test/", "build.#");
    }
    assertEquals(0, publish("--input", file.toString(), "--exchange", "exchange/publish-test/", "--declare-exchange"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("published 3 messages"),
        out.toString(StandardCharsets.UTF_8));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("line 3: no _meta.routing_key"),
        err.toString(StandardCharsets.UTF_8));
    assertEquals(3, amqp.readyMessages("queue/guest/publish-test"));
    assertTrue(!out.toString(StandardCharsets.UTF_8).contains(":" + amqp.password() + "@"),
        "no password in the output");
  }

  @Test
  void badArgumentsExitTwo() {
    assertEquals(2, publish());
    assertEquals(2, publish("--input", dir.resolve("missing.jsonl").toString()));
    assertEquals(2, publish("--input"));
    assertEquals(2, publish("--bogus"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: triggerbot publish"));
  }

  @Test
  void aMissingExchangeFailsWithExitOne() throws Exception {
    Path file = dir.resolve("feed.jsonl");
    Files.write(file, List.of(PulseJson.test("a").started()), StandardCharsets.UTF_8);
    assertEquals(1, publish("--input", file.toString(), "--exchange", "exchange/does-not-exist/"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("publish failed"), err.toString(StandardCharsets.UTF_8));
  }
}
