package org.triggerbot.buildapisim.taskcluster;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the simulator's Pulse messages with publisher confirms: {@link #publish} returns only once the broker
 * has confirmed the message, or reports that it could not. One connection and one channel, used by one publish at a
 * time; a failed one is dropped and made again for the next message, so a broker that went away and came back is
 * used again. A message the broker did not confirm after a reconnect is not lost silently: it is logged as an error
 * and counted ({@link #errors()}).
 */
final class PulsePublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PulsePublisher.class);

  static final String TASK_COMPLETED = "exchange/taskcluster-queue/v1/task-completed";
  static final String TASK_FAILED = "exchange/taskcluster-queue/v1/task-failed";
  static final String TASK_EXCEPTION = "exchange/taskcluster-queue/v1/task-exception";
  static final List<String> EXCHANGES = List.of(TASK_COMPLETED, TASK_FAILED, TASK_EXCEPTION);

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final int ATTEMPTS = 2;

  private final AmqpTarget target;
  private final ConnectionFactory factory;
  private final AtomicLong errors = new AtomicLong();
  /** Guarded by this. */
  private Connection connection;
  /** Guarded by this; in confirm mode. */
  private Channel channel;
  private boolean closed;

  private PulsePublisher(AmqpTarget target) {
    this.target = target;
    factory = new ConnectionFactory();
    factory.setHost(target.host());
    factory.setPort(target.port());
    factory.setVirtualHost(target.virtualHost());
    factory.setUsername(target.username());
    factory.setPassword(target.password());
    int millis = (int) TIMEOUT.toMillis();
    factory.setConnectionTimeout(millis);
    factory.setHandshakeTimeout(millis);
    factory.setChannelRpcTimeout(millis);
    // Reconnecting is done here, per message, so that a failure is seen by the publish that meets it.
    factory.setAutomaticRecoveryEnabled(false);
    factory.setTopologyRecoveryEnabled(false);
  }

  /**
   * Connects and declares the three queue exchanges (durable topic exchanges, as Pulse's), so that consumers can
   * bind to them at once, passively.
   *
   * @throws IllegalStateException if the broker cannot be reached or refuses
   */
  static PulsePublisher connect(AmqpTarget target) {
    PulsePublisher publisher = new PulsePublisher(target);
    synchronized (publisher) {
      try {
        publisher.open();
      } catch (IOException | TimeoutException | ShutdownSignalException e) {
        publisher.drop();
        throw new IllegalStateException("Cannot connect to " + target + " and declare the Taskcluster exchanges: "
            + e, e);
      }
    }
    return publisher;
  }

  /**
   * Publishes one persistent {@code application/json} message and waits for the broker's confirm.
   *
   * @param cc the {@code CC} header's routing keys (none: no header)
   * @return true if the broker confirmed it; false (logged and counted) if it could not be published
   */
  synchronized boolean publish(String exchange, String routingKey, List<String> cc, byte[] body) {
    AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
        .contentType("application/json")
        .contentEncoding("utf-8")
        .deliveryMode(2)
        .headers(cc.isEmpty() ? null : Map.<String, Object>of("CC", List.copyOf(cc)))
        .build();
    Exception last = null;
    for (int attempt = 1; attempt <= ATTEMPTS && !closed; attempt++) {
      try {
        if (channel == null || !channel.isOpen()) {
          drop();
          open();
        }
        channel.basicPublish(exchange, routingKey, false, properties, body);
        channel.waitForConfirmsOrDie(TIMEOUT.toMillis());
        return true;
      } catch (IOException | TimeoutException | ShutdownSignalException e) {
        last = e;
        drop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        last = e;
        drop();
        break;
      }
    }
    errors.incrementAndGet();
    LOG.error("Could not publish to {} on {} with routing key {}: {}", exchange, target,
        routingKey, closed ? "publisher closed" : String.valueOf(last));
    return false;
  }

  /** How many messages could not be published. */
  long errors() {
    return errors.get();
  }

  @Override
  public synchronized void close() {
    closed = true;
    drop();
  }

  /** Guarded by this. */
  private void open() throws IOException, TimeoutException {
    connection = factory.newConnection("taskcluster-simulator");
    channel = connection.createChannel();
    for (String exchange : EXCHANGES) {
      channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true, false, null);
    }
    channel.confirmSelect();
  }

  /** Closes the connection if any, quietly. Guarded by this. */
  private void drop() {
    Connection c = connection;
    connection = null;
    channel = null;
    if (c != null) {
      try {
        c.abort((int) TIMEOUT.toMillis());
      } catch (RuntimeException e) {
        LOG.debug("Closing the AMQP connection failed: {}", e.toString());
      }
    }
  }
}
