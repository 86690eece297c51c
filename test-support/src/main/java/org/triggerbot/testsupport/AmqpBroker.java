package org.triggerbot.testsupport;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.ConnectionFactory;

/**
 * A real AMQP 0-9-1 broker for tests of code that reads Mozilla Pulse, which is RabbitMQ.
 *
 * <p>{@link #start()} picks the broker: if the environment variable {@value #RABBITMQ_URL_ENV}
 * is set (for example {@code amqp://guest:guest@127.0.0.1:5672/%2F}), that RabbitMQ is used
 * through {@link ExistingRabbitMq}, in a fresh virtual host of its own; otherwise an
 * {@link EmbeddedQpid} (Apache Qpid Broker-J) runs in this JVM. Tests written against this
 * interface run unchanged on both.
 *
 * <h2>Guarantees (both implementations)</h2>
 * <ul>
 *   <li>Each instance has a virtual host of its own that only this instance's clients use,
 *       with no queues and only the standard {@code amq.*} exchanges at start;
 *       {@link #close()} removes it (RabbitMQ) or the whole broker (Qpid).</li>
 *   <li>{@link #host()}, {@link #port()}, {@link #virtualHost()}, {@link #username()},
 *       {@link #password()} and {@link #uri()} never change for the life of the instance,
 *       across {@link #closeClientConnections()} and {@link #restart()}, so clients made
 *       before either can reconnect by themselves.</li>
 *   <li>The user authenticates with PLAIN and may configure, write and read everything in
 *       the virtual host.</li>
 *   <li>Every method that talks to the broker returns only once the broker has done the work,
 *       or throws an unchecked exception whose message says what failed and on which
 *       broker ({@link #name()}).</li>
 * </ul>
 *
 * <h2>Differences that tests must not rely on</h2>
 * <ul>
 *   <li>Only {@link EmbeddedQpid} can {@link #restart()}; check {@link #canRestart()} first
 *       (for example with JUnit's {@code assumeTrue}).</li>
 *   <li>Qpid is not RabbitMQ. Both do topic exchanges, durable queues, manual acks,
 *       redelivery and publisher confirms alike (this module's tests check those on both),
 *       but RabbitMQ extensions, policies, the management API and {@code x-} queue
 *       arguments may differ or be missing on Qpid. Known differences: under publisher
 *       confirms, Qpid nacks an unroutable {@code mandatory} message that RabbitMQ returns and
 *       then acks; some errors RabbitMQ reports by closing the channel (403 for a reserved
 *       {@code amq.} name) Qpid reports by closing the connection (530).</li>
 * </ul>
 *
 * <p>Implementations are safe to call from several threads, but are meant to be driven from
 * the test thread.
 */
public interface AmqpBroker extends AutoCloseable {

  /** Environment variable naming an existing RabbitMQ to use instead of an embedded broker. */
  String RABBITMQ_URL_ENV = "RABBITMQ_URL";

  /**
   * Starts (or, with {@value #RABBITMQ_URL_ENV} set, attaches to) a broker and returns once
   * clients can connect to {@link #uri()}.
   *
   * @throws IllegalArgumentException if {@value #RABBITMQ_URL_ENV} is set but is not a usable
   *         {@code amqp://} URI
   * @throws IllegalStateException if the broker cannot be started or prepared in time
   */
  static AmqpBroker start() {
    String url = System.getenv(RABBITMQ_URL_ENV);
    if (url != null && !url.isBlank()) {
      return ExistingRabbitMq.start(url.trim());
    }
    return EmbeddedQpid.start();
  }

  /** Names the broker for test messages, for example {@code "embedded Qpid Broker-J 9.2.1"}. */
  String name();

  /** Host name or address clients connect to. */
  String host();

  /** TCP port of the AMQP listener (no TLS). */
  int port();

  /** Name of this instance's virtual host, as clients send it (not percent-encoded). */
  String virtualHost();

  String username();

  String password();

  /**
   * {@code amqp://user:password@host:port/vhost}, with user, password and virtual host
   * percent-encoded, as {@link ConnectionFactory#setUri(String)} and other AMQP clients expect.
   */
  default String uri() {
    return AmqpSupport.uri(username(), password(), host(), port(), virtualHost());
  }

  /**
   * A new client connection factory set to this broker's host, port, virtual host and user,
   * with connection and RPC timeouts of a few seconds. Everything else (automatic recovery
   * included, which the client enables by default) is the client's default; callers may
   * change the returned factory freely.
   */
  default ConnectionFactory connectionFactory() {
    return AmqpSupport.connectionFactory(this);
  }

  /**
   * Declares a durable, non-auto-delete topic exchange, as Pulse's exchanges are
   * ({@code exchange/taskcluster-queue/v1/task-failed}, {@code exchange/build/}: names may
   * contain slashes). Declaring one that already exists with the same settings does nothing.
   *
   * @throws IllegalStateException if the broker refuses (for example, a reserved {@code amq.}
   *         name, or an existing exchange of another type)
   */
  default void declareTopicExchange(String name) {
    AmqpSupport.withChannel(this, "declare topic exchange '" + name + "'", channel -> {
      channel.exchangeDeclare(name, BuiltinExchangeType.TOPIC, true, false, null);
      return null;
    });
  }

  /**
   * Messages in {@code queue} that are ready for delivery, as the broker counts them now:
   * delivered but unacknowledged messages are not counted. Publishing is asynchronous, so
   * poll this until it reaches the expected value rather than reading it once.
   *
   * @throws IllegalStateException if there is no such queue in this virtual host
   */
  long readyMessages(String queue);

  /**
   * Closes every client connection to this virtual host from the broker side (AMQP
   * {@code connection.close} with {@code CONNECTION_FORCED}), so that clients see a
   * broker-initiated shutdown and must recover. Returns once every connection that was open
   * when it was called is gone on the broker; clients with automatic recovery may already
   * have reconnected by then (with new connections, which are left open).
   *
   * @throws IllegalStateException if the connections are not closed in time
   */
  void closeClientConnections();

  /** Whether {@link #restart()} is supported: true for {@link EmbeddedQpid} only. */
  boolean canRestart();

  /**
   * Stops the broker and starts it again on the same host and port; returns once clients
   * can connect again. Clients see their connections drop and the port refuse connections
   * for a moment. See the implementation for what survives a restart.
   *
   * @throws UnsupportedOperationException if {@link #canRestart()} is false
   * @throws IllegalStateException if the broker cannot start again in time
   */
  void restart();

  /**
   * Releases the broker: stops an embedded one and deletes its files, or deletes this
   * instance's virtual host (and with it its exchanges, queues and connections) on an
   * existing one. Idempotent.
   */
  @Override
  void close();
}
