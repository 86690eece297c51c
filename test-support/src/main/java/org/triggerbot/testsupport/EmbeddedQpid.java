package org.triggerbot.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.security.auth.Subject;
import org.apache.qpid.server.SystemLauncher;
import org.apache.qpid.server.SystemLauncherListener;
import org.apache.qpid.server.configuration.CommonProperties;
import org.apache.qpid.server.model.Broker;
import org.apache.qpid.server.model.BrokerModel;
import org.apache.qpid.server.model.Connection;
import org.apache.qpid.server.model.Port;
import org.apache.qpid.server.model.Queue;
import org.apache.qpid.server.model.State;
import org.apache.qpid.server.model.SystemConfig;
import org.apache.qpid.server.model.VirtualHost;
import org.apache.qpid.server.model.VirtualHostNode;
import org.apache.qpid.server.security.auth.TaskPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process Apache Qpid Broker-J speaking AMQP 0-9-1, for tests; see {@link AmqpBroker}.
 *
 * <p>The broker is built from an initial configuration written to a fresh temporary work
 * directory: an in-memory broker configuration (so every start is built anew from that file),
 * one AMQP port (plus an AMQPS port with {@link Options#tls}), one user and one virtual host.
 * Only {@code qpid-broker-core}, the AMQP 0-8/0-9/0-9-1 protocol plugin and the memory-store
 * plugin are needed; there is no HTTP management, no logback and no broker log file (Qpid logs
 * through SLF4J).
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>{@link #start()} returns once the port listens and the virtual host is active.</li>
 *   <li>The port binds {@code 127.0.0.1} only. The first start binds port 0, so the kernel
 *       picks a free port and no other process can race for it; {@link #restart()} then binds
 *       that same port again, retrying while it is still taken.</li>
 *   <li>User {@value #USERNAME}, password {@value #PASSWORD} (or {@link Options#password}),
 *       PLAIN authentication (allowed over plain TCP here, unlike Qpid's default; Qpid offers
 *       no AMQPLAIN), virtual host
 *       {@value #VIRTUAL_HOST}. Only that exact name is accepted: a client asking for
 *       {@code /} (the RabbitMQ default) is refused rather than silently let in.</li>
 *   <li>Unroutable {@code mandatory} messages are returned with {@code basic.return}, as
 *       RabbitMQ does (Qpid's default is to close the connection). Under publisher confirms
 *       Qpid then nacks them, where RabbitMQ acks.</li>
 *   <li>{@link #restart()} stops the whole broker (clients see the connection drop, then
 *       refused connections) and starts it on the same port; {@link #stop()} does the first
 *       half alone, so a test can act while the broker is away. Durable exchanges, durable
 *       queues and their bindings survive it: they are kept in a JSON file in the work
 *       directory. <b>Messages do not</b> by default: the message store is in memory, so every
 *       queue is empty after a restart, persistent messages included (RabbitMQ would keep
 *       persistent messages in durable queues). With {@link Options#withPersistentMessages()}
 *       the virtual host keeps messages in an embedded Apache Derby database in the work
 *       directory instead (Qpid's {@code DERBY} virtual host), and persistent messages in
 *       durable queues survive restarts as on RabbitMQ; that needs
 *       {@code org.apache.qpid:qpid-broker-plugins-derby-store} on the class path, which this
 *       module leaves to the tests that want it (test scope), so that the demo and the
 *       benchmarks do not carry Derby. Non-durable exchanges and queues are gone either way.</li>
 *   <li>{@link #readyMessages(String)} reads the queue's count of available (not acquired)
 *       messages from the broker's object model. (Qpid's {@code queue.declare-ok} message count
 *       includes unacknowledged messages, unlike RabbitMQ's, so it is not used.)</li>
 *   <li>{@link #closeClientConnections()} deletes the virtual host's connections through the
 *       broker's object model, as Qpid's management does: each client gets
 *       {@code connection.close} 320 CONNECTION_FORCED.</li>
 *   <li>{@link #close()} stops the broker and deletes the work directory.</li>
 *   <li>With {@link Options#tls} (or {@link #startTls}), a second port, {@link #tlsPort()}, on
 *       {@code 127.0.0.1} serves AMQP over TLS only, with the key store's certificate and key
 *       (PKCS12, Qpid's {@code FileKeyStore}); no client certificate is asked for. The plain
 *       port stays, so {@link AmqpBroker}'s helpers (declaring exchanges, counting messages)
 *       work unchanged. Restart binds both ports again.</li>
 *   <li>Log lines name the broker without its password.</li>
 * </ul>
 *
 * <h2>Limits</h2>
 * <ul>
 *   <li>One instance at a time per JVM is the tested use. Two at once (each with its own port
 *       and work directory) worked in a quick check, but Qpid keeps some state in statics, its
 *       direct buffer pool among them.</li>
 *   <li>Qpid checks permissions with {@code javax.security.auth.Subject}; it runs on Java 17
 *       and has not been tried on Java versions that removed the Security Manager.</li>
 *   <li>Start and restart wait at most 60 s; closing connections at most 30 s.</li>
 * </ul>
 *
 * <p>All public methods are synchronized.
 */
public final class EmbeddedQpid implements AmqpBroker {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedQpid.class);

  public static final String USERNAME = "guest";
  public static final String PASSWORD = "guest";
  public static final String VIRTUAL_HOST = "triggerbot-test";

  private static final String HOST = "127.0.0.1";
  private static final String PORT_NAME = "AMQP";
  private static final String TLS_PORT_NAME = "AMQPS";
  private static final String KEY_STORE_NAME = "tls";
  private static final String AUTHENTICATION_PROVIDER = "passwords";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CLOSE_CONNECTIONS_TIMEOUT = Duration.ofSeconds(30);

  /**
   * How to start the broker: the user's password, and a key store for an AMQPS port. The key
   * store password is written into the broker's configuration file in its work directory.
   *
   * @param password the password of user {@value #USERNAME}
   * @param tlsKeyStore a PKCS12 key store with the server's key and certificate chain, or null
   *        for no TLS port
   * @param tlsKeyStorePassword the key store's (and key's) password; ignored without a key store
   * @param persistentMessages whether messages are kept in a Derby database in the work
   *        directory (persistent ones then survive {@link #restart()}) rather than in memory
   */
  public record Options(String password, Path tlsKeyStore, String tlsKeyStorePassword,
      boolean persistentMessages) {

    public Options {
      if (password == null || password.isEmpty()) {
        throw new IllegalArgumentException("password must not be empty");
      }
    }

    /** User {@value #USERNAME} with password {@value #PASSWORD}, no TLS: what {@link #start()} uses. */
    public static Options defaults() {
      return new Options(PASSWORD, null, null, false);
    }

    public Options withPassword(String newPassword) {
      return new Options(newPassword, tlsKeyStore, tlsKeyStorePassword, persistentMessages);
    }

    /** Adds an AMQPS port serving the PKCS12 key store's certificate. */
    public Options tls(Path keyStore, String keyStorePassword) {
      return new Options(password, keyStore, keyStorePassword, persistentMessages);
    }

    /**
     * Messages in a Derby database in the work directory: persistent messages in durable
     * queues survive {@link #restart()}. Needs Qpid's Derby store plugin on the class path.
     */
    public Options withPersistentMessages() {
      return new Options(password, tlsKeyStore, tlsKeyStorePassword, true);
    }
  }

  private final Path workDir;
  private final Path initialConfig;
  private final Options options;

  /** 0 until the first start has bound a port; then the port every restart binds. */
  private int port;
  /** The same for the AMQPS port; stays 0 without TLS. */
  private int tlsPort;
  /** Null while stopped. */
  private SystemLauncher launcher;
  private Broker<?> broker;
  private boolean closed;

  private EmbeddedQpid(Path workDir, Options options) {
    this.workDir = workDir;
    this.initialConfig = workDir.resolve("initial-config.json");
    this.options = options;
  }

  /**
   * Starts a broker in a new temporary work directory and returns once clients can connect.
   *
   * @throws IllegalStateException if it does not start in time
   */
  public static EmbeddedQpid start() {
    return start(Options.defaults());
  }

  /**
   * A broker that also serves AMQP over TLS on {@link #tlsPort()}, with the certificate and key
   * of {@code keyStore} (PKCS12, one key entry).
   *
   * @throws IllegalStateException if it does not start in time (for example, the key store
   *         cannot be read with that password)
   */
  public static EmbeddedQpid startTls(Path keyStore, String keyStorePassword) {
    return start(Options.defaults().tls(keyStore, keyStorePassword));
  }

  /**
   * Starts a broker as {@code options} say, in a new temporary work directory, and returns once
   * clients can connect to every port.
   *
   * @throws IllegalStateException if it does not start in time
   */
  public static EmbeddedQpid start(Options options) {
    if (options.persistentMessages()) {
      requireDerbyStore();
    }
    Path workDir;
    try {
      workDir = Files.createTempDirectory("embedded-qpid-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EmbeddedQpid qpid = new EmbeddedQpid(workDir, options);
    try {
      long begin = System.nanoTime();
      qpid.writeInitialConfig();
      qpid.launch(Await.deadlineIn(START_TIMEOUT));
      LOG.info("{} ready at {} in {} ms (work dir {})",
          qpid.name(), qpid.describe(), Await.elapsedMillis(begin), workDir);
      return qpid;
    } catch (RuntimeException | Error e) {
      try {
        qpid.close();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  @Override
  public String name() {
    return "embedded Qpid Broker-J " + CommonProperties.getReleaseVersion();
  }

  @Override
  public String host() {
    return HOST;
  }

  @Override
  public synchronized int port() {
    return port;
  }

  @Override
  public String virtualHost() {
    return VIRTUAL_HOST;
  }

  @Override
  public String username() {
    return USERNAME;
  }

  @Override
  public String password() {
    return options.password();
  }

  /**
   * The port serving AMQP over TLS (on {@link #host()}), stable across restarts.
   *
   * @throws IllegalStateException if the broker was started without TLS
   */
  public synchronized int tlsPort() {
    if (options.tlsKeyStore() == null) {
      throw new IllegalStateException(name() + " was started without TLS (see Options.tls)");
    }
    return tlsPort;
  }

  @Override
  public synchronized long readyMessages(String queue) {
    Queue<?> found = requireVirtualHost().getChildByName(Queue.class, queue);
    if (found == null) {
      throw new IllegalStateException("No queue '" + queue + "' in virtual host '" + VIRTUAL_HOST
          + "' of " + name());
    }
    return found.getAvailableMessages();
  }

  @Override
  public synchronized void closeClientConnections() {
    VirtualHost<?> virtualHost = requireVirtualHost();
    List<Connection<?>> open = new ArrayList<>(virtualHost.getConnections());
    if (open.isEmpty()) {
      return;
    }
    long begin = System.nanoTime();
    // Deleting a connection object is what Qpid's management does to close a connection:
    // the broker sends connection.close (CONNECTION_FORCED); the client answers close-ok.
    asSystem("closeClientConnections", () -> open.forEach(connection -> connection.delete()));
    Await.until(open.size() + " connection(s) to " + name() + " to close",
        Await.deadlineIn(CLOSE_CONNECTIONS_TIMEOUT),
        () -> Collections.disjoint(virtualHost.getConnections(), open));
    LOG.info("{} closed {} client connection(s) in {} ms", name(), open.size(), Await.elapsedMillis(begin));
  }

  @Override
  public boolean canRestart() {
    return true;
  }

  @Override
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException(name() + " is closed");
    }
    long begin = System.nanoTime();
    stop();
    long deadline = Await.deadlineIn(START_TIMEOUT);
    // The port is part of the contract now, so a bind failure is waited out, not dodged.
    Await.until(name() + " to bind " + HOST + ":" + port + " again", deadline, () -> {
      try {
        launch(deadline);
        return true;
      } catch (PortNotBoundException e) {
        LOG.info("Restart could not bind its port yet: {}", e.getMessage());
        return false;
      }
    });
    LOG.info("{} restarted at {} in {} ms", name(), describe(), Await.elapsedMillis(begin));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stop();
    } finally {
      TempDirs.deleteRecursively(workDir);
    }
  }

  /** Where clients connect, for log lines: no password. */
  private String describe() {
    return "amqp://" + USERNAME + "@" + HOST + ":" + port + "/" + VIRTUAL_HOST
        + (options.tlsKeyStore() == null ? "" : " and amqps port " + tlsPort);
  }

  /** The temporary work directory; deleted by {@link #close()}. */
  Path workDir() {
    return workDir;
  }

  // ---------------------------------------------------------------------------------------

  /**
   * The broker configuration. Values in {@code ${...}} are Qpid context variables, set per
   * start in {@link #launch}: the port changes from 0 to the bound port after the first start.
   */
  private void writeInitialConfig() {
    Map<String, Object> user = new LinkedHashMap<>();
    user.put("name", USERNAME);
    user.put("type", "managed");
    user.put("password", options.password());
    Map<String, Object> authenticationProvider = new LinkedHashMap<>();
    authenticationProvider.put("name", AUTHENTICATION_PROVIDER);
    authenticationProvider.put("type", "Plain");
    // Qpid refuses PLAIN on connections without TLS by default; these are loopback-only test
    // connections, and PLAIN is what RabbitMQ clients use.
    authenticationProvider.put("secureOnlyMechanisms", List.of());
    authenticationProvider.put("users", List.of(user));

    Map<String, Object> amqpPort = new LinkedHashMap<>();
    amqpPort.put("name", PORT_NAME);
    amqpPort.put("type", "AMQP");
    amqpPort.put("port", "${qpid.amqp_port}");
    amqpPort.put("bindingAddress", HOST);
    amqpPort.put("authenticationProvider", AUTHENTICATION_PROVIDER);
    // RabbitMQ answers an unroutable mandatory message with basic.return; Qpid by default
    // closes the connection instead.
    amqpPort.put("closeWhenNoRoute", false);
    // Virtual hosts are found by exact name only (no default alias), so a client that asks
    // for RabbitMQ's "/" fails instead of landing here by accident.
    amqpPort.put("virtualhostaliases", List.of(Map.of("name", "nameAlias", "type", "nameAlias")));

    List<Map<String, Object>> ports = new ArrayList<>(List.of(amqpPort));
    List<Map<String, Object>> keyStores = new ArrayList<>();
    if (options.tlsKeyStore() != null) {
      Map<String, Object> keyStore = new LinkedHashMap<>();
      keyStore.put("name", KEY_STORE_NAME);
      keyStore.put("type", "FileKeyStore");
      keyStore.put("storeUrl", options.tlsKeyStore().toAbsolutePath().toString());
      keyStore.put("password", options.tlsKeyStorePassword());
      keyStore.put("keyStoreType", "PKCS12");
      keyStores.add(keyStore);
      Map<String, Object> tls = new LinkedHashMap<>(amqpPort);
      tls.put("name", TLS_PORT_NAME);
      tls.put("port", "${qpid.amqps_port}");
      // TLS only on this port (Pulse serves amqps on 5671 the same way); no client certificates.
      tls.put("transports", List.of("SSL"));
      tls.put("keyStore", KEY_STORE_NAME);
      ports.add(tls);
    }

    Map<String, Object> virtualHostNode = new LinkedHashMap<>();
    virtualHostNode.put("name", VIRTUAL_HOST);
    // A JSON node keeps the virtual host's exchanges, queues and bindings in a file under
    // qpid.work_dir, so they survive restart(); the Memory virtual host keeps messages in
    // memory only.
    virtualHostNode.put("type", "JSON");
    virtualHostNode.put("defaultVirtualHostNode", true);
    // Read when the virtual host is first created; the node's file keeps its type afterwards.
    virtualHostNode.put("virtualHostInitialConfiguration",
        options.persistentMessages() ? "{\"type\": \"DERBY\"}" : "{\"type\": \"Memory\"}");

    Map<String, Object> config = new LinkedHashMap<>();
    config.put("name", "embedded-qpid");
    config.put("modelVersion", BrokerModel.MODEL_VERSION);
    config.put("authenticationproviders", List.of(authenticationProvider));
    config.put("keystores", keyStores);
    config.put("ports", ports);
    config.put("virtualhostnodes", List.of(virtualHostNode));
    try {
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(initialConfig.toFile(), config);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not write " + initialConfig, e);
    }
  }

  /**
   * Starts a broker on {@link #port} (0 the first time) and waits until its port listens and
   * the virtual host is active; cleans up on failure.
   *
   * @throws PortNotBoundException if the AMQP port could not bind (the broker is stopped)
   */
  private void launch(long deadline) {
    Map<String, String> context = new HashMap<>();
    context.put(SystemConfig.QPID_WORK_DIR, workDir.toString());
    context.put("qpid.amqp_port", Integer.toString(port));
    context.put("qpid.amqps_port", Integer.toString(tlsPort));

    Map<String, Object> attributes = new HashMap<>();
    // The broker configuration lives in memory and is built from the initial config on
    // every start; the virtual host node keeps its own file (see writeInitialConfig).
    attributes.put(SystemConfig.TYPE, "Memory");
    attributes.put(SystemConfig.INITIAL_CONFIGURATION_LOCATION, initialConfig.toUri().toString());
    attributes.put(SystemConfig.STARTUP_LOGGED_TO_SYSTEM_OUT, false);
    attributes.put(SystemConfig.CONTEXT, context);

    StartupListener listener = new StartupListener();
    SystemLauncher candidate = new SystemLauncher(listener);
    try {
      candidate.startup(attributes);
      // SystemLauncher logs and swallows a failed start-up; the listener saw it.
      if (listener.startupFailure.get() != null) {
        throw new IllegalStateException("Could not start " + name(), listener.startupFailure.get());
      }
      SystemConfig<?> systemConfig = listener.systemConfig.get();
      if (systemConfig == null) {
        throw new IllegalStateException("Could not start " + name() + ": it never resolved its broker");
      }
      Broker<?> started = (Broker<?>) systemConfig.getContainer();
      Port<?> amqp = requireBound(started, PORT_NAME, port);
      Port<?> amqps = options.tlsKeyStore() == null ? null : requireBound(started, TLS_PORT_NAME, tlsPort);
      Await.until("virtual host " + VIRTUAL_HOST + " of " + name() + " to be active", deadline,
          () -> {
            VirtualHostNode<?> node = started.getChildByName(VirtualHostNode.class, VIRTUAL_HOST);
            VirtualHost<?> virtualHost = node == null ? null : node.getVirtualHost();
            if (node != null && node.getState() == State.ERRORED) {
              throw new IllegalStateException("Virtual host node " + VIRTUAL_HOST + " of " + name()
                  + " failed to start");
            }
            return virtualHost != null && virtualHost.getState() == State.ACTIVE;
          });
      port = amqp.getBoundPort();
      if (amqps != null) {
        tlsPort = amqps.getBoundPort();
      }
      launcher = candidate;
      broker = started;
    } catch (RuntimeException | Error e) {
      try {
        candidate.shutdown();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    } catch (Exception e) {
      // SystemLauncher.startup declares Exception; it throws only what it does not catch.
      try {
        candidate.shutdown();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw new IllegalStateException("Could not start " + name(), e);
    }
  }

  /** The named port, once it listens; else PortNotBoundException (most likely the number is taken). */
  private static Port<?> requireBound(Broker<?> started, String name, int wanted) {
    Port<?> found = started.getChildByName(Port.class, name);
    if (found == null || found.getState() != State.ACTIVE || found.getBoundPort() <= 0) {
      throw new PortNotBoundException(name + " port " + HOST + ":" + wanted + " is "
          + (found == null ? "missing" : found.getState()) + " (see the broker's log for why)");
    }
    return found;
  }

  private static final String DERBY_VIRTUAL_HOST = "org.apache.qpid.server.virtualhost.derby.DerbyVirtualHost";

  /**
   * Qpid would only log that it knows no virtual host type DERBY; say what is missing instead. Also keeps
   * Derby's own log out of the working directory (the module's source tree, under Maven): Qpid asks Derby to
   * log through Qpid ({@code derby.stream.error.method}), but Derby 10.15 still wrote {@code derby.log} into the
   * working directory, so its log goes to a per-JVM temporary file instead (Derby's file setting wins over the
   * method), unless a Derby log setting was given.
   */
  private static synchronized void requireDerbyStore() {
    try {
      Class.forName(DERBY_VIRTUAL_HOST, false, EmbeddedQpid.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Options.withPersistentMessages() needs Qpid's Derby message store: add "
          + "org.apache.qpid:qpid-broker-plugins-derby-store (test scope) to the module's dependencies", e);
    }
    if (System.getProperty("derby.stream.error.file") == null
        && System.getProperty("derby.stream.error.field") == null) {
      java.io.File log = Path.of(System.getProperty("java.io.tmpdir"),
          "embedded-qpid-derby-" + ProcessHandle.current().pid() + ".log").toFile();
      log.deleteOnExit();
      System.setProperty("derby.stream.error.file", log.getAbsolutePath());
    }
  }

  /**
   * Stops the broker (every client loses its connection; the port then refuses connections),
   * keeping its work directory and ports for {@link #restart()}. Does nothing if it is stopped.
   */
  public synchronized void stop() {
    SystemLauncher running = launcher;
    if (running == null) {
      return;
    }
    launcher = null;
    broker = null;
    long begin = System.nanoTime();
    running.shutdown();
    LOG.info("{} at {}:{} stopped in {} ms", name(), HOST, port, Await.elapsedMillis(begin));
  }

  private VirtualHost<?> requireVirtualHost() {
    if (closed) {
      throw new IllegalStateException(name() + " is closed");
    }
    Broker<?> running = broker;
    VirtualHostNode<?> node = running == null ? null : running.getChildByName(VirtualHostNode.class, VIRTUAL_HOST);
    VirtualHost<?> virtualHost = node == null ? null : node.getVirtualHost();
    if (virtualHost == null) {
      throw new IllegalStateException("Virtual host " + VIRTUAL_HOST + " of " + name() + " is not running");
    }
    return virtualHost;
  }

  /**
   * Runs {@code action} as the broker's system user: Qpid checks the Subject of the calling
   * thread before changing its object model.
   */
  private void asSystem(String taskName, Runnable action) {
    Subject subject = new Subject(true,
        Set.of(launcher.getSystemPrincipal(), new TaskPrincipal(taskName)), Set.of(), Set.of());
    Subject.doAs(subject, (PrivilegedAction<Void>) () -> {
      action.run();
      return null;
    });
  }

  /** Captures what {@link SystemLauncher#startup} reports only to its listener. */
  private static final class StartupListener extends SystemLauncherListener.DefaultSystemLauncherListener {
    final AtomicReference<SystemConfig<?>> systemConfig = new AtomicReference<>();
    final AtomicReference<RuntimeException> startupFailure = new AtomicReference<>();

    @Override
    public void onContainerResolve(SystemConfig<?> resolved) {
      systemConfig.set(resolved);
    }

    @Override
    public void errorOnStartup(RuntimeException e) {
      startupFailure.set(e);
    }
  }

  /** The AMQP port did not bind, most likely because its port number is taken. */
  private static final class PortNotBoundException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PortNotBoundException(String message) {
      super(message);
    }
  }
}
