package org.triggerbot.testsupport;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A RabbitMQ that is already running (for example the machine's own), used through a virtual
 * host of its own; see {@link AmqpBroker}. {@link AmqpBroker#start()} uses it when
 * {@value AmqpBroker#RABBITMQ_URL_ENV} is set.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>{@link #start(String)} creates a fresh virtual host {@code triggerbot-test-<random>}
 *       with {@code rabbitmqctl add_vhost}, gives the URL's user every permission on it with
 *       {@code rabbitmqctl set_permissions}, and returns once that user can connect to it.
 *       The URL's own virtual host is not used.</li>
 *   <li>{@link #readyMessages(String)} is the {@code message_count} of a passive
 *       {@code queue.declare}, which RabbitMQ counts as ready messages only.</li>
 *   <li>{@link #closeClientConnections()} runs {@code rabbitmqctl close_all_connections -p
 *       <vhost>}, so clients get {@code connection.close} 320 CONNECTION_FORCED, and polls
 *       {@code rabbitmqctl list_connections} until the connections it saw before are gone.</li>
 *   <li>{@link #restart()} is not supported: the broker is shared, not ours to stop. A test
 *       that must see the broker go away calls {@link #stopApp()} and, in a {@code finally},
 *       {@link #startApp()}, which returns once the node accepts this user's connections
 *       again; should the JVM end in between, a shutdown hook runs {@code start_app}.</li>
 *   <li>{@link #close()} deletes the virtual host with {@code rabbitmqctl delete_vhost}, which
 *       also closes its connections and deletes its exchanges and queues.</li>
 * </ul>
 *
 * <h2>Requirements and limits</h2>
 * <ul>
 *   <li>{@code rabbitmqctl} must be on the PATH and allowed to manage the node (run as root or
 *       as the rabbitmq user), and that node must be the broker the URL points at:
 *       {@code rabbitmqctl} manages the local node.</li>
 *   <li>Only {@code amqp://} (no TLS).</li>
 *   <li>Each {@code rabbitmqctl} run takes about a second (it starts an Erlang VM) and is given
 *       at most 30 s. A JVM killed before {@link #close()} leaves its virtual host behind;
 *       {@code rabbitmqctl list_vhosts} shows them and {@code delete_vhost} removes them.</li>
 * </ul>
 *
 * <p>All public methods that change state are synchronized.
 */
public final class ExistingRabbitMq implements AmqpBroker {

  private static final Logger LOG = LoggerFactory.getLogger(ExistingRabbitMq.class);

  private static final String RABBITMQCTL = "rabbitmqctl";
  private static final Duration RABBITMQCTL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CLOSE_CONNECTIONS_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration START_APP_TIMEOUT = Duration.ofSeconds(60);
  private static final String VIRTUAL_HOST_PREFIX = "triggerbot-test-";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String host;
  private final int port;
  private final String username;
  private final String password;
  private final String virtualHost;
  /** "RabbitMQ 3.10.8 at 127.0.0.1:5672", once known. */
  private String name;
  private boolean closed;
  /** Set while the RabbitMQ application is stopped by {@link #stopApp()}: starts it again if the JVM ends first. */
  private Thread startAppOnExit;

  private ExistingRabbitMq(String host, int port, String username, String password, String virtualHost) {
    this.host = host;
    this.port = port;
    this.username = username;
    this.password = password;
    this.virtualHost = virtualHost;
    this.name = "RabbitMQ at " + host + ":" + port;
  }

  /**
   * Prepares a fresh virtual host on the RabbitMQ at {@code url} for the URL's user.
   *
   * @param url {@code amqp://user:password@host:port/vhost}; the vhost part is ignored
   * @throws IllegalArgumentException if {@code url} is not an {@code amqp://} URI
   * @throws IllegalStateException if {@code rabbitmqctl} fails or the user cannot connect
   */
  public static ExistingRabbitMq start(String url) {
    ConnectionFactory parsed = new ConnectionFactory();
    try {
      if (!url.regionMatches(true, 0, "amqp://", 0, "amqp://".length())) {
        throw new IllegalArgumentException("only amqp:// is supported");
      }
      parsed.setUri(url);
    } catch (Exception e) {
      // Not the URL itself: it holds a password.
      throw new IllegalArgumentException(RABBITMQ_URL_ENV + " is not a usable amqp:// URI ("
          + e.getMessage() + ")", e);
    }
    byte[] suffix = new byte[6];
    RANDOM.nextBytes(suffix);
    String virtualHost = VIRTUAL_HOST_PREFIX + HexFormat.of().formatHex(suffix);
    ExistingRabbitMq rabbit = new ExistingRabbitMq(parsed.getHost(), parsed.getPort(),
        parsed.getUsername(), parsed.getPassword(), virtualHost);
    long begin = System.nanoTime();
    rabbitmqctl("add_vhost", virtualHost);
    try {
      rabbitmqctl("set_permissions", "-p", virtualHost, rabbit.username, ".*", ".*", ".*");
      rabbit.checkConnection();
    } catch (RuntimeException | Error e) {
      try {
        rabbit.close();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    LOG.info("{}: virtual host {} ready in {} ms", rabbit.name(), virtualHost, Await.elapsedMillis(begin));
    return rabbit;
  }

  @Override
  public synchronized String name() {
    return name;
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public String virtualHost() {
    return virtualHost;
  }

  @Override
  public String username() {
    return username;
  }

  @Override
  public String password() {
    return password;
  }

  @Override
  public long readyMessages(String queue) {
    requireOpen();
    // RabbitMQ's declare-ok message_count is messages_ready: unacknowledged ones are not in it.
    return AmqpSupport.withChannel(this, "count ready messages in queue '" + queue + "'",
        channel -> (long) channel.queueDeclarePassive(queue).getMessageCount());
  }

  @Override
  public synchronized void closeClientConnections() {
    requireOpen();
    Set<String> open = connectionPids();
    if (open.isEmpty()) {
      return;
    }
    long begin = System.nanoTime();
    // RabbitMQ 3.10: close_all_connections [--vhost <vhost> --limit <limit>] <explanation>
    // (no --limit: all of them). The explanation is the reply text clients see.
    rabbitmqctl("close_all_connections", "-p", virtualHost, "closed by AmqpBroker.closeClientConnections");
    // The command returns once the connection processes were told to close, not once they
    // have; poll until every connection seen before is gone.
    Await.until(open.size() + " connection(s) to " + name() + " vhost " + virtualHost + " to close",
        Await.deadlineIn(CLOSE_CONNECTIONS_TIMEOUT),
        () -> connectionPids().stream().noneMatch(open::contains));
    LOG.info("{} closed {} client connection(s) in {} ms", name(), open.size(), Await.elapsedMillis(begin));
  }

  @Override
  public boolean canRestart() {
    return false;
  }

  /** Always throws: the broker is shared and not ours to stop. */
  @Override
  public void restart() {
    throw new UnsupportedOperationException("Cannot restart " + name() + ": it is an existing, shared broker");
  }

  /**
   * Stops the RabbitMQ application of the node ({@code rabbitmqctl stop_app}), as a broker
   * restart does: every client of every virtual host loses its connection with
   * {@code 320 CONNECTION_FORCED} and the port refuses connections until {@link #startApp()}.
   * Durable queues and the persistent messages in them survive (they are on disk). The node is
   * shared by every test that uses {@value AmqpBroker#RABBITMQ_URL_ENV}: always call
   * {@link #startApp()} in a {@code finally}.
   *
   * @throws IllegalStateException if {@code rabbitmqctl} fails (the node is then left as it is)
   */
  public synchronized void stopApp() {
    requireOpen();
    long begin = System.nanoTime();
    if (startAppOnExit == null) {
      startAppOnExit = new Thread(() -> rabbitmqctl("start_app"), "rabbitmq-start-app-on-exit");
      Runtime.getRuntime().addShutdownHook(startAppOnExit);
    }
    rabbitmqctl("stop_app");
    LOG.info("{}: application stopped in {} ms", name(), Await.elapsedMillis(begin));
  }

  /**
   * Starts the RabbitMQ application again ({@code rabbitmqctl start_app}) and returns once this
   * instance's user can connect to its virtual host. Harmless if it is running.
   *
   * @throws IllegalStateException if {@code rabbitmqctl} fails, or the node does not accept
   *         connections within 60 s
   */
  public synchronized void startApp() {
    long begin = System.nanoTime();
    rabbitmqctl("start_app");
    // start_app returns when the application has started; the listener may take a moment more.
    Await.until(name() + " to accept connections after start_app", START_APP_TIMEOUT, () -> {
      try {
        checkConnection();
        return true;
      } catch (IllegalStateException notYet) {
        return false;
      }
    });
    if (startAppOnExit != null) {
      Runtime.getRuntime().removeShutdownHook(startAppOnExit);
      startAppOnExit = null;
    }
    LOG.info("{}: application started and accepting connections in {} ms", name(), Await.elapsedMillis(begin));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    rabbitmqctl("delete_vhost", virtualHost);
    LOG.info("{}: virtual host {} deleted", name, virtualHost);
  }

  // ---------------------------------------------------------------------------------------

  /** Connects once as the URL's user, which checks URL, credentials and permissions, and learns the version. */
  private void checkConnection() {
    ConnectionFactory factory = connectionFactory();
    factory.setAutomaticRecoveryEnabled(false);
    try (Connection connection = factory.newConnection("amqp-broker-check")) {
      Object version = connection.getServerProperties().get("version");
      synchronized (this) {
        name = "RabbitMQ " + (version == null ? "" : version + " ") + "at " + host + ":" + port;
      }
    } catch (IOException | TimeoutException e) {
      throw new IllegalStateException("Could not connect to " + name() + " as '" + username + "' in vhost "
          + virtualHost + " just created with rabbitmqctl (" + AmqpSupport.describe(e)
          + "); is " + RABBITMQ_URL_ENV + " the node that rabbitmqctl manages?", e);
    }
  }

  /** Server-side ids of the connections to this virtual host. */
  private Set<String> connectionPids() {
    String listing = rabbitmqctl("--silent", "list_connections", "pid", "vhost");
    return listing.lines()
        .map(line -> line.split("\t"))
        .filter(columns -> columns.length == 2 && columns[1].equals(virtualHost))
        .map(columns -> columns[0])
        .collect(Collectors.toSet());
  }

  private void requireOpen() {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException(name + " (vhost " + virtualHost + ") is closed");
      }
    }
  }

  /**
   * Runs {@code rabbitmqctl} with {@code arguments} and returns its standard output.
   *
   * @throws IllegalStateException if it cannot be run, exits non-zero or exceeds its timeout,
   *         with its output in the message
   */
  private static String rabbitmqctl(String... arguments) {
    List<String> command = new ArrayList<>();
    command.add(RABBITMQCTL);
    command.addAll(List.of(arguments));
    String commandLine = String.join(" ", command);
    Path output = null;
    Process process = null;
    try {
      // Output goes to a file, not a pipe, so a chatty command cannot block on a full pipe.
      output = Files.createTempFile("rabbitmqctl-", ".out");
      process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(output.toFile())
          .start();
      process.getOutputStream().close();
      if (!process.waitFor(RABBITMQCTL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("'" + commandLine + "' did not finish within "
            + RABBITMQCTL_TIMEOUT.toSeconds() + " s; output so far: " + read(output));
      }
      String text = read(output);
      if (process.exitValue() != 0) {
        throw new IllegalStateException("'" + commandLine + "' exited with " + process.exitValue() + ": "
            + text.strip());
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException("Could not run '" + commandLine + "' (" + e.getMessage() + "). "
          + RABBITMQ_URL_ENV + " is set, so tests use that RabbitMQ, and they need rabbitmqctl on the"
          + " PATH, allowed to manage that node (as root or the rabbitmq user), to make a vhost for each"
          + " test broker. Unset " + RABBITMQ_URL_ENV + " to use the embedded Qpid broker instead.", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running '" + commandLine + "'", e);
    } finally {
      if (process != null && process.isAlive()) {
        process.destroyForcibly();
      }
      if (output != null) {
        try {
          Files.deleteIfExists(output);
        } catch (IOException ignored) {
          // A leftover temp file is harmless.
        }
      }
    }
  }

  private static String read(Path output) throws IOException {
    return Files.readString(output, StandardCharsets.UTF_8);
  }
}
