package org.triggerbot.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs against whatever {@link AmqpBroker#start()} picks: the embedded Qpid, or the RabbitMQ
 * named by {@code RABBITMQ_URL}. Every test uses queues of its own, so their order does not
 * matter.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AmqpBrokerTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  /** As Pulse names exchanges: slashes, and a trailing one. */
  private static final String EXCHANGE = "exchange/build/";

  private static AmqpBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = AmqpBroker.start();
  }

  @AfterAll
  static void closeBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void pickedByRabbitMqUrlAndReachableThroughItsUri() throws Exception {
    String url = System.getenv(AmqpBroker.RABBITMQ_URL_ENV);
    if (url == null || url.isBlank()) {
      assertInstanceOf(EmbeddedQpid.class, broker);
      assertEquals("127.0.0.1", broker.host());
      assertTrue(broker.name().startsWith("embedded Qpid Broker-J 9."), broker.name());
    } else {
      assertInstanceOf(ExistingRabbitMq.class, broker);
      assertTrue(broker.name().startsWith("RabbitMQ "), broker.name());
    }

    ConnectionFactory fromUri = new ConnectionFactory();
    fromUri.setUri(broker.uri());
    assertEquals(broker.host(), fromUri.getHost());
    assertEquals(broker.port(), fromUri.getPort());
    assertEquals(broker.virtualHost(), fromUri.getVirtualHost());
    assertEquals(broker.username(), fromUri.getUsername());
    assertEquals(broker.password(), fromUri.getPassword());
    fromUri.setAutomaticRecoveryEnabled(false);
    try (Connection connection = fromUri.newConnection("uri-check")) {
      assertTrue(connection.isOpen());
    }
  }

  @Test
  void uriPercentEncodesUserPasswordAndVirtualHost() {
    assertEquals("amqp://us%40er:p%3Ass%20w@127.0.0.1:5672/%2F",
        AmqpSupport.uri("us@er", "p:ss w", "127.0.0.1", 5672, "/"));
    assertEquals("amqp://guest:guest@localhost:1/queue%2Fguest%2Fa-b_c.d~%C3%A9",
        AmqpSupport.uri("guest", "guest", "localhost", 1, "queue/guest/a-b_c.d~é"));
  }

  @Test
  void topicExchangeRoutesToDurableQueueAndOnlyUnackedMessagesLeaveTheReadyCount() throws Exception {
    String queue = "queue/guest/test";
    broker.declareTopicExchange(EXCHANGE);
    broker.declareTopicExchange(EXCHANGE); // idempotent, as clients redeclare on every start
    declareBoundQueue(queue, "primary.#");

    publish("primary.linux.opt", "one");
    publish("primary.linux.debug", "two");
    publish("secondary.win.opt", "not routed to the queue");
    publish("primary.mac.opt", "three");
    awaitReady(queue, 3);

    try (Connection connection = newConnection(false, "manual-ack-consumer")) {
      Channel channel = connection.createChannel();
      channel.basicQos(10);
      BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
      channel.basicConsume(queue, false, (tag, delivery) -> deliveries.add(delivery), tag -> {});
      List<Delivery> received = take(deliveries, 3);
      assertEquals(List.of("one", "two", "three"), received.stream().map(AmqpBrokerTest::body).toList());
      assertEquals(EXCHANGE, received.get(0).getEnvelope().getExchange());
      assertEquals("primary.linux.opt", received.get(0).getEnvelope().getRoutingKey());

      // Delivered but unacknowledged: no longer ready.
      awaitReady(queue, 0);
      channel.basicAck(received.get(0).getEnvelope().getDeliveryTag(), false);
      channel.basicAck(received.get(1).getEnvelope().getDeliveryTag(), false);
      // Closing the channel with "three" unacknowledged puts it back.
      channel.close();
    }
    awaitReady(queue, 1);

    try (Connection connection = newConnection(false, "redelivery-consumer")) {
      Channel channel = connection.createChannel();
      BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
      channel.basicConsume(queue, false, (tag, delivery) -> deliveries.add(delivery), tag -> {});
      Delivery redelivered = take(deliveries, 1).get(0);
      assertEquals("three", body(redelivered));
      assertTrue(redelivered.getEnvelope().isRedeliver());
      channel.basicAck(redelivered.getEnvelope().getDeliveryTag(), false);
      awaitReady(queue, 0);
    }
  }

  @Test
  void readyMessagesOfAMissingQueueFailsClearly() {
    IllegalStateException failure = assertThrows(IllegalStateException.class,
        () -> broker.readyMessages("queue/guest/no-such-queue"));
    assertTrue(failure.getMessage().contains("queue/guest/no-such-queue"), failure.getMessage());
  }

  @Test
  void clientWithAutomaticRecoveryConsumesAgainAfterTheBrokerClosesItsConnection() throws Exception {
    String queue = "queue/guest/recovery";
    broker.declareTopicExchange(EXCHANGE);
    declareBoundQueue(queue, "#");

    try (RecoveringConsumer consumer = new RecoveringConsumer(queue)) {
      publish("any.key", "before");
      assertEquals("before", body(take(consumer.deliveries, 1).get(0)));

      broker.closeClientConnections();

      awaitCondition("the consumer's connection to be shut down", () -> consumer.shutdown.get() != null);
      ShutdownSignalException signal = consumer.shutdown.get();
      assertFalse(signal.isInitiatedByApplication(), "the broker, not the client, closed it: " + signal);
      assertTrue(signal.isHardError(), "a connection close, not a channel close: " + signal);
      assertEquals(320, ((AMQP.Connection.Close) signal.getReason()).getReplyCode(), signal.toString());
      awaitCondition("the consumer's connection to recover", () -> consumer.recoveries.get() >= 1);

      publish("any.key", "after");
      assertEquals("after", body(take(consumer.deliveries, 1).get(0)));
    }
  }

  @Test
  void restartKeepsPortAndTopologyAndClientsRecover() throws Exception {
    if (!broker.canRestart()) {
      assertThrows(UnsupportedOperationException.class, broker::restart);
      return;
    }
    String queue = "queue/guest/restart";
    broker.declareTopicExchange(EXCHANGE);
    declareBoundQueue(queue, "#");
    int port = broker.port();

    // The consumer declares nothing itself, so only a queue, binding and exchange that
    // survived the restart let it consume again.
    try (RecoveringConsumer consumer = new RecoveringConsumer(queue)) {
      broker.restart();

      assertEquals(port, broker.port());
      awaitCondition("the consumer's connection to recover", () -> consumer.recoveries.get() >= 1);
      publish("any.key", "after restart");
      assertEquals("after restart", body(take(consumer.deliveries, 1).get(0)));
    }
  }

  // ---------------------------------------------------------------------------------------

  /** A consumer on a connection with automatic recovery, acking each message after taking note of it. */
  private static final class RecoveringConsumer implements AutoCloseable {
    final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    final AtomicReference<ShutdownSignalException> shutdown = new AtomicReference<>();
    final AtomicInteger recoveries = new AtomicInteger();
    private final Connection connection;

    RecoveringConsumer(String queue) throws Exception {
      ConnectionFactory factory = broker.connectionFactory();
      factory.setAutomaticRecoveryEnabled(true);
      factory.setTopologyRecoveryEnabled(true);
      // The default 5 s between reconnection attempts would dominate the test's run time.
      factory.setNetworkRecoveryInterval(200);
      connection = factory.newConnection("recovering-consumer");
      connection.addShutdownListener(shutdown::set);
      ((Recoverable) connection).addRecoveryListener(new RecoveryListener() {
        @Override
        public void handleRecovery(Recoverable recoverable) {
          recoveries.incrementAndGet();
        }

        @Override
        public void handleRecoveryStarted(Recoverable recoverable) {
          // Only completed recoveries count.
        }
      });
      Channel channel = connection.createChannel();
      channel.basicQos(10);
      channel.basicConsume(queue, false, (tag, delivery) -> {
        deliveries.add(delivery);
        channel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
      }, tag -> {});
    }

    @Override
    public void close() throws IOException {
      connection.close();
    }
  }

  private static Connection newConnection(boolean recovering, String name) throws Exception {
    ConnectionFactory factory = broker.connectionFactory();
    factory.setAutomaticRecoveryEnabled(recovering);
    return factory.newConnection(name);
  }

  private static void declareBoundQueue(String queue, String bindingKey) throws Exception {
    try (Connection connection = newConnection(false, "declarer")) {
      Channel channel = connection.createChannel();
      channel.queueDeclare(queue, true, false, false, null);
      channel.queueBind(queue, EXCHANGE, bindingKey);
    }
  }

  /** Publishes a persistent message to {@link #EXCHANGE} and waits for the broker's confirm. */
  private static void publish(String routingKey, String body) throws Exception {
    try (Connection connection = newConnection(false, "publisher")) {
      Channel channel = connection.createChannel();
      channel.confirmSelect();
      channel.basicPublish(EXCHANGE, routingKey, MessageProperties.PERSISTENT_TEXT_PLAIN,
          body.getBytes(StandardCharsets.UTF_8));
      channel.waitForConfirmsOrDie(WAIT.toMillis());
    }
  }

  private static List<Delivery> take(BlockingQueue<Delivery> deliveries, int count) throws InterruptedException {
    List<Delivery> taken = new ArrayList<>();
    long deadline = Await.deadlineIn(WAIT);
    while (taken.size() < count) {
      Delivery next = deliveries.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      assertNotNull(next, "only " + taken.size() + " of " + count + " messages within " + WAIT + " from "
          + broker.name());
      taken.add(next);
    }
    return taken;
  }

  private static void awaitReady(String queue, long expected) {
    AtomicLong last = new AtomicLong(-1);
    try {
      awaitCondition(expected + " ready message(s) in " + queue, () -> {
        last.set(broker.readyMessages(queue));
        return last.get() == expected;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage() + " (last count: " + last.get() + ")", e);
    }
  }

  private static void awaitCondition(String description, Callable<Boolean> check) {
    Await.until(description + " on " + broker.name(), Await.deadlineIn(WAIT), check);
  }

  private static String body(Delivery delivery) {
    return new String(delivery.getBody(), StandardCharsets.UTF_8);
  }
}
