package org.triggerbot.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.EmbeddedQpid;

/**
 * The two brokers triggerbot's services need, embedded and on loopback free ports: a KRaft Kafka broker with every
 * topic of SPEC section 5 (one partition each), and an AMQP 0-9-1 broker (Qpid Broker-J) standing in for Pulse.
 * {@link LocalPipeline} runs the services in its own JVM against them; {@link #main} serves them to services that
 * run elsewhere: {@code docker/run-stack.py} runs the built images' filesystems against them.
 */
public final class LocalBrokers implements AutoCloseable {

  private final EmbeddedKafka kafka;
  private final EmbeddedQpid amqp;

  private LocalBrokers(EmbeddedKafka kafka, EmbeddedQpid amqp) {
    this.kafka = kafka;
    this.amqp = amqp;
  }

  /** Starts both brokers and creates the topics; returns once clients can use them. */
  public static LocalBrokers start() {
    EmbeddedKafka kafka = EmbeddedKafka.start();
    try {
      for (Topic<String, ?> topic : Topics.ALL) {
        // Recorded feeds carry old event times: without retention.ms=-1 the broker would delete them at once.
        kafka.createTopic(topic.name(), 1, Map.of("retention.ms", "-1"));
      }
      return new LocalBrokers(kafka, EmbeddedQpid.start());
    } catch (RuntimeException | Error e) {
      kafka.close();
      throw e;
    }
  }

  public EmbeddedKafka kafka() {
    return kafka;
  }

  public EmbeddedQpid amqp() {
    return amqp;
  }

  /**
   * What a service needs to reach both brokers, as one JSON object: {@code bootstrapServers}, {@code amqpHost},
   * {@code amqpPort}, {@code amqpVirtualHost}, {@code amqpUser}, {@code amqpPassword} (the embedded broker's fixed
   * test credentials, not a secret).
   */
  public String addressesJson() {
    Map<String, Object> addresses = new LinkedHashMap<>();
    addresses.put("bootstrapServers", kafka.bootstrapServers());
    addresses.put("amqpHost", amqp.host());
    addresses.put("amqpPort", amqp.port());
    addresses.put("amqpVirtualHost", amqp.virtualHost());
    addresses.put("amqpUser", amqp.username());
    addresses.put("amqpPassword", amqp.password());
    try {
      return new ObjectMapper().writeValueAsString(addresses);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the brokers' addresses", e);
    }
  }

  /** Stops the AMQP broker, then Kafka; each is closed even if the other fails. */
  @Override
  public void close() {
    try {
      amqp.close();
    } catch (IllegalStateException alreadyStopping) {
      // On Ctrl-C Qpid's own shutdown hook runs beside ours and may have begun closing the broker: it is going
      // away either way, and Kafka must still be closed.
    } finally {
      kafka.close();
    }
  }

  /**
   * Starts the brokers, prints {@link #addressesJson()} as one line on standard output, and runs until standard
   * input closes (the caller's end of a pipe) or the process is stopped. Exit 0 after a clean stop, 2 on
   * arguments (it takes none).
   */
  public static void main(String[] args) throws IOException {
    if (args.length > 0) {
      System.err.println("usage: LocalBrokers   (takes no arguments; stops when standard input closes)");
      System.exit(2);
    }
    try (LocalBrokers brokers = start()) {
      System.out.println(brokers.addressesJson());
      System.out.flush();
      InputStream in = System.in;
      while (in.read() != -1) {
        // Whatever arrives is ignored: only the end of the input matters.
      }
    }
  }
}
