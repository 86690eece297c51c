package org.triggerbot.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.config.ConfigException;
import org.triggerbot.common.PulseEnvelope;

/**
 * {@code triggerbot publish --input FILE.jsonl [--exchange NAME] [--declare-exchange] [--config FILE]}: publishes
 * a Pulse JSON Lines file to an AMQP exchange, each line as one persistent message whose routing key is its
 * {@code _meta.routing_key}, with publisher confirms (the command ends when the broker has every message). For
 * demos, tests and load. The AMQP connection is configured exactly as the bridge's ({@code amqp.*} keys,
 * {@code TRIGGERBOT_AMQP_*} environment variables). Exit 0 when all were confirmed, 1 on failure, 2 on bad
 * arguments; lines without a routing key are reported with their number and skipped.
 */
public final class PublishCommand {

  static final String USAGE = """
      usage: triggerbot publish --input FILE.jsonl [--exchange NAME] [--declare-exchange] [--config FILE]

      Publishes each line (a mozillapulse message) to the exchange with its _meta.routing_key as routing key.
        --input FILE        Pulse JSON Lines ('-' reads standard input)
        --exchange NAME     exchange to publish to (default exchange/build/)
        --declare-exchange  create the exchange (durable topic) if it does not exist
        --config FILE       properties file with the amqp.* keys (TRIGGERBOT_AMQP_* variables override it)
      """;

  private PublishCommand() {}

  public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    String input = null;
    String exchange = "exchange/build/";
    boolean declare = false;
    Path configFile = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--help", "-h" -> {
          out.print(USAGE);
          return 0;
        }
        case "--declare-exchange" -> declare = true;
        case "--input", "--exchange", "--config" -> {
          if (i + 1 >= args.size()) {
            return bad(err, a + " needs a value");
          }
          String v = args.get(++i);
          if (a.equals("--input")) {
            input = v;
          } else if (a.equals("--exchange")) {
            exchange = v;
          } else {
            configFile = Path.of(v);
          }
        }
        default -> {
          return bad(err, "unknown argument '" + a + "'");
        }
      }
    }
    if (input == null) {
      return bad(err, "--input is required");
    }
    if (!input.equals("-") && !Files.isReadable(Path.of(input))) {
      return bad(err, "--input " + input + ": no such readable file");
    }
    BridgeConfig config;
    try {
      Map<String, String> values = new java.util.HashMap<>(org.triggerbot.common.ConfigSources.read(configFile, env));
      values.putIfAbsent(BridgeConfig.BOOTSTRAP_SERVERS, "unused:9092"); // publishing needs no Kafka
      config = BridgeConfig.of(values);
      config.connectionFactory();
    } catch (ConfigException e) {
      return bad(err, "invalid configuration: " + e.getMessage());
    }
    try (BufferedReader in = input.equals("-")
        ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
        : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8)) {
      long published = publish(config, exchange, declare, in, err);
      out.println("published " + published + " messages to " + exchange + " on " + config.describeBroker());
      return 0;
    } catch (IOException | TimeoutException | RuntimeException e) {
      err.println("publish failed: " + e);
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("publish interrupted");
      return 1;
    }
  }

  /** Publishes every line with a routing key; returns how many the broker confirmed. */
  // The AMQP client's BasicProperties takes its timestamp as a java.util.Date.
  @SuppressWarnings("JavaUtilDate")
  public static long publish(BridgeConfig config, String exchange, boolean declare, BufferedReader in, PrintStream err)
      throws IOException, TimeoutException, InterruptedException {
    try (Connection connection = config.connectionFactory().newConnection("triggerbot-publish");
         Channel channel = connection.createChannel()) {
      if (declare) {
        channel.exchangeDeclare(exchange, "topic", true);
      }
      channel.confirmSelect();
      long published = 0;
      long lineNumber = 0;
      String line;
      while ((line = in.readLine()) != null) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        byte[] body = line.getBytes(StandardCharsets.UTF_8);
        PulseEnvelope envelope = PulseEnvelope.read(body);
        if (envelope.routingKey() == null) {
          err.println("line " + lineNumber + ": no _meta.routing_key; skipped");
          continue;
        }
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .deliveryMode(2)
            .messageId(messageId(body, lineNumber))
            .timestamp(new Date())
            .build();
        channel.basicPublish(exchange, envelope.routingKey(), props, body);
        published++;
        if (published % 1000 == 0) {
          channel.waitForConfirmsOrDie(Duration.ofSeconds(60).toMillis());
        }
      }
      channel.waitForConfirmsOrDie(Duration.ofSeconds(60).toMillis());
      return published;
    }
  }

  private static String messageId(byte[] body, long lineNumber) {
    try {
      JsonNode id = PulseEnvelope.JSON.readTree(body).path("_meta").path("message_id");
      return id.isMissingNode() || id.isNull() ? "line-" + lineNumber : id.asText();
    } catch (IOException e) {
      return "line-" + lineNumber;
    }
  }

  private static int bad(PrintStream err, String problem) {
    err.println("triggerbot publish: " + problem);
    err.print(USAGE);
    return 2;
  }
}
