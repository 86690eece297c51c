package org.triggerbot.bridge;

import com.rabbitmq.client.ConnectionFactory;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.ConfigSources;

/**
 * The bridge's configuration: the Pulse (AMQP) side, the Kafka side, and the limits. Loaded by
 * {@link ConfigSources} ({@code TRIGGERBOT_*} environment variables over a properties file); {@code producer.*}
 * keys pass to the Kafka producer. Every other unknown key is an error that names it.
 *
 * <p>Secrets: the AMQP password comes from {@code amqp.password}, {@code amqp.password.file} or the
 * {@code amqp.uri}; it is held as a {@link Password} (which prints as {@code [hidden]}) and never logged: logs
 * and errors name the broker by {@link #describeBroker()} only.
 *
 * <p>{@code admin.port} (default {@value #DEFAULT_ADMIN_PORT}) and {@code admin.bind} place the admin HTTP server
 * (health and metrics, see {@link AdminServer}).
 */
public final class BridgeConfig extends AbstractConfig {

  public static final String AMQP_URI = "amqp.uri";
  public static final String AMQP_HOST = "amqp.host";
  public static final String AMQP_PORT = "amqp.port";
  public static final String AMQP_VHOST = "amqp.vhost";
  public static final String AMQP_USER = "amqp.user";
  public static final String AMQP_PASSWORD = "amqp.password";
  public static final String AMQP_PASSWORD_FILE = "amqp.password.file";
  public static final String AMQP_TLS = "amqp.tls";
  public static final String AMQP_HEARTBEAT_SECONDS = "amqp.heartbeat.seconds";
  public static final String AMQP_CONNECTION_NAME = "amqp.connection.name";
  public static final String AMQP_PREFETCH = "amqp.prefetch";
  public static final String AMQP_RECOVERY_INTERVAL_MS = "amqp.recovery.interval.ms";
  public static final String AMQP_CONNECT_BACKOFF_MAX_MS = "amqp.connect.backoff.max.ms";
  public static final String PULSE_QUEUE = "pulse.queue";
  public static final String PULSE_BINDINGS = "pulse.bindings";
  public static final String PULSE_HARD_MAX_BYTES = "pulse.hard.max.bytes";
  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
  public static final String TASKCLUSTER_ENABLED = "taskcluster.enabled";
  public static final String TASKCLUSTER_ROOT_URL = "taskcluster.root.url";
  public static final String BRANCHES = "branches";
  public static final String TC_TASK_FETCH_MAX = "tc.task.fetch.max";
  public static final String TC_TASK_FETCH_BACKOFF = "tc.task.fetch.backoff";
  public static final String TC_TASK_FETCH_TIMEOUT = "tc.task.fetch.timeout";
  public static final String TC_TASK_CACHE_SIZE = "tc.task.cache.size";
  public static final String TC_TASK_FETCH_CONCURRENCY = "tc.task.fetch.concurrency";
  public static final String PRODUCER_PREFIX = "producer.";
  /** The bridge's admin port; the processor's is 9401 and the sink's 9403, so all three fit on one host. */
  public static final int DEFAULT_ADMIN_PORT = 9402;

  public static final ConfigDef DEFINITION = AdminServer.define(new ConfigDef(), DEFAULT_ADMIN_PORT)
      .define(AMQP_URI, ConfigDef.Type.PASSWORD, "", Importance.HIGH,
          "The whole AMQP address, amqp[s]://user:password@host:port/vhost (vhost percent-encoded). When set, it "
              + "replaces amqp.host, amqp.port, amqp.vhost, amqp.user, amqp.password and amqp.tls. Secret.")
      .define(AMQP_HOST, ConfigDef.Type.STRING, "localhost", Importance.HIGH, "Pulse (RabbitMQ) host.")
      .define(AMQP_PORT, ConfigDef.Type.INT, -1, Range.between(-1, 65535), Importance.HIGH,
          "Pulse port; -1 means 5672, or 5671 with amqp.tls=true.")
      .define(AMQP_VHOST, ConfigDef.Type.STRING, "/", Importance.MEDIUM, "Virtual host.")
      .define(AMQP_USER, ConfigDef.Type.STRING, "guest", Importance.HIGH,
          "Pulse user; also names the queue (queue/<user>/<pulse.queue>).")
      .define(AMQP_PASSWORD, ConfigDef.Type.PASSWORD, "guest", Importance.HIGH,
          "Pulse password (secret). Prefer amqp.password.file or the TRIGGERBOT_AMQP_PASSWORD environment variable.")
      .define(AMQP_PASSWORD_FILE, ConfigDef.Type.STRING, "", Importance.MEDIUM,
          "File whose content (trimmed) is the password; overrides amqp.password. For container secrets.")
      .define(AMQP_TLS, ConfigDef.Type.BOOLEAN, false, Importance.HIGH,
          "amqps: TLS with the JVM's trust store and host name verification.")
      .define(AMQP_HEARTBEAT_SECONDS, ConfigDef.Type.INT, 30, Range.between(0, 3600), Importance.LOW,
          "Requested AMQP heartbeat; dead connections are noticed after about twice this.")
      .define(AMQP_CONNECTION_NAME, ConfigDef.Type.STRING, "triggerbot-bridge", Importance.LOW,
          "Client-provided connection name, shown in the broker's management UI.")
      .define(AMQP_PREFETCH, ConfigDef.Type.INT, 200, Range.between(1, 10_000), Importance.MEDIUM,
          "Most unacknowledged deliveries at once (basic.qos). Bounds memory and the redelivery after a crash.")
      .define(AMQP_RECOVERY_INTERVAL_MS, ConfigDef.Type.LONG, 5_000L, Range.atLeast(100), Importance.LOW,
          "Wait between automatic connection recovery attempts.")
      .define(AMQP_CONNECT_BACKOFF_MAX_MS, ConfigDef.Type.LONG, 30_000L, Range.atLeast(100), Importance.LOW,
          "Longest wait between attempts of the first connection (it doubles from 1 s up to this).")
      .define(PULSE_QUEUE, ConfigDef.Type.STRING, "triggerbot", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Queue name; the queue is queue/<amqp.user>/<pulse.queue>, durable, not auto-deleted.")
      .define(PULSE_BINDINGS, ConfigDef.Type.STRING, "exchange/build/:build.#.started,build.#.finished",
          Importance.HIGH,
          "What to bind the queue to: exchange:pattern[,pattern...][;exchange:pattern...]. Exchanges must exist "
              + "(they are declared passively).")
      .define(PULSE_HARD_MAX_BYTES, ConfigDef.Type.INT, 4 * 1024 * 1024, Range.between(1024, 64 * 1024 * 1024),
          Importance.LOW,
          "Bodies larger than this go to pulse.rejected (first 64 KiB kept) instead of pulse.raw. Smaller "
              + "oversized or non-JSON bodies are copied as they are; the processor rejects them.")
      .define(BOOTSTRAP_SERVERS, ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
          Importance.HIGH, "Kafka bootstrap servers.")
      .define(TASKCLUSTER_ENABLED, ConfigDef.Type.BOOLEAN, false, Importance.HIGH,
          "Also bind the Taskcluster queue's task-completed, task-failed and task-exception exchanges (SPEC 3b) and "
              + "enrich each message with its task's definition.")
      .define(TASKCLUSTER_ROOT_URL, ConfigDef.Type.STRING, "https://firefox-ci-tc.services.mozilla.com",
          ConfigSources.httpUrl("the queue's task definitions need none"),
          Importance.HIGH, "Taskcluster root URL; task definitions are read from {root}/api/queue/v1/task/{taskId}.")
      .define(BRANCHES, ConfigDef.Type.STRING, "try", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Comma-separated projects whose Taskcluster results are bound (route.tc-treeherder.v2.<branch>.#); the "
              + "processor's 'branches'.")
      .define(TC_TASK_FETCH_MAX, ConfigDef.Type.INT, 6, Range.between(1, 100), Importance.MEDIUM,
          "Attempts to fetch a task's definition; after the last failure the message goes to pulse.rejected as "
              + "TASK_UNAVAILABLE.")
      .define(TC_TASK_FETCH_BACKOFF, ConfigDef.Type.STRING, "PT0.5S", ConfigSources.duration(), Importance.LOW,
          "Wait after the first failed fetch; doubled after each further one (so 6 attempts wait 15.5 s in all).")
      .define(TC_TASK_FETCH_TIMEOUT, ConfigDef.Type.STRING, "PT10S", ConfigSources.duration(), Importance.LOW,
          "Timeout of one task-definition request.")
      .define(TC_TASK_CACHE_SIZE, ConfigDef.Type.INT, 10_000, Range.between(0, 10_000_000), Importance.LOW,
          "Task definitions kept (least recently used dropped first): a task has a message per run.")
      .define(TC_TASK_FETCH_CONCURRENCY, ConfigDef.Type.INT, 16, Range.between(1, 256), Importance.LOW,
          "Task definitions fetched at once, ahead of the deliveries being written in order; 1 = one at a time.");

  /** One exchange and the routing-key patterns bound from it. */
  public record Binding(String exchange, List<String> patterns) {}

  private final Map<String, String> producerOverrides;

  private BridgeConfig(Map<String, String> values, Map<String, String> producerOverrides) {
    super(DEFINITION, values, false);
    this.producerOverrides = producerOverrides;
    bindings(); // validate now, naming the key
    if (taskclusterEnabled() && branches().isEmpty()) {
      throw new ConfigException(BRANCHES, getString(BRANCHES), "needs at least one branch");
    }
  }

  public static BridgeConfig load(Path file, Map<String, String> env) {
    return of(ConfigSources.read(file, env));
  }

  public static BridgeConfig of(Map<String, String> values) {
    Map<String, Map<String, String>> split = ConfigSources.split(DEFINITION, values, PRODUCER_PREFIX);
    return new BridgeConfig(split.get(""), split.get(PRODUCER_PREFIX));
  }

  /** {@code queue/<user>/<name>}: Pulse only lets a user consume from queues under its own name. */
  public String queueName() {
    return "queue/" + user() + "/" + getString(PULSE_QUEUE);
  }

  /**
   * The configured bindings, then, with {@code taskcluster.enabled}, each resolved-run exchange of the queue bound
   * with {@code route.tc-treeherder.v2.<branch>.#} per branch: Taskcluster publishes each task route as a CC'd
   * routing key {@code route.<route>}.
   */
  public List<Binding> bindings() {
    List<Binding> out = new ArrayList<>(configuredBindings());
    if (taskclusterEnabled()) {
      List<String> patterns = branches().stream()
          .map(b -> "route." + org.triggerbot.common.PushKey.TREEHERDER_ROUTE + b + ".#").toList();
      for (String exchange : org.triggerbot.common.TaskclusterRecord.RESOLVED_EXCHANGES) {
        out.add(new Binding(exchange, patterns));
      }
    }
    return out;
  }

  public boolean taskclusterEnabled() {
    return getBoolean(TASKCLUSTER_ENABLED);
  }

  /** The Taskcluster root URL, without a trailing slash. */
  public String taskclusterRootUrl() {
    return getString(TASKCLUSTER_ROOT_URL).replaceAll("/+$", "");
  }

  public List<String> branches() {
    return ConfigSources.list(getString(BRANCHES));
  }

  /** How the bridge fetches task definitions (SPEC 3b). */
  public TaskDefinitions.Settings taskFetch() {
    return new TaskDefinitions.Settings(taskclusterRootUrl(), getInt(TC_TASK_FETCH_MAX),
        java.time.Duration.parse(getString(TC_TASK_FETCH_BACKOFF).trim()),
        java.time.Duration.parse(getString(TC_TASK_FETCH_TIMEOUT).trim()), getInt(TC_TASK_CACHE_SIZE),
        getInt(TC_TASK_FETCH_CONCURRENCY));
  }

  private List<Binding> configuredBindings() {
    List<Binding> out = new ArrayList<>();
    for (String part : getString(PULSE_BINDINGS).split(";", -1)) {
      if (part.isBlank()) {
        continue;
      }
      int colon = part.lastIndexOf(':');
      if (colon <= 0) {
        throw new ConfigException(PULSE_BINDINGS, getString(PULSE_BINDINGS), "expected exchange:pattern[,pattern...]");
      }
      List<String> patterns = ConfigSources.list(part.substring(colon + 1));
      if (patterns.isEmpty()) {
        throw new ConfigException(PULSE_BINDINGS, getString(PULSE_BINDINGS), "no routing-key pattern for " + part);
      }
      out.add(new Binding(part.substring(0, colon).trim(), patterns));
    }
    // Today's Pulse has no buildbot exchange: with Taskcluster on, its bindings may be all there is.
    if (out.isEmpty() && !taskclusterEnabled()) {
      throw new ConfigException(PULSE_BINDINGS, getString(PULSE_BINDINGS),
          "needs at least one binding (or taskcluster.enabled=true)");
    }
    return out;
  }

  public int prefetch() {
    return getInt(AMQP_PREFETCH);
  }

  public int hardMaxBytes() {
    return getInt(PULSE_HARD_MAX_BYTES);
  }

  public long connectBackoffMaxMs() {
    return getLong(AMQP_CONNECT_BACKOFF_MAX_MS);
  }

  public String connectionName() {
    return getString(AMQP_CONNECTION_NAME);
  }

  /** A connection factory with recovery, heartbeat and TLS set; never logged (it holds the password). */
  public ConnectionFactory connectionFactory() {
    ConnectionFactory f = new ConnectionFactory();
    String uri = getPassword(AMQP_URI).value();
    try {
      if (!uri.isEmpty()) {
        f.setUri(uri);
        if (uri.startsWith("amqps:")) {
          secure(f); // setUri alone would trust every certificate
        }
      } else {
        boolean tls = getBoolean(AMQP_TLS);
        f.setHost(getString(AMQP_HOST));
        f.setPort(getInt(AMQP_PORT) >= 0 ? getInt(AMQP_PORT) : tls ? 5671 : 5672);
        f.setVirtualHost(getString(AMQP_VHOST));
        f.setUsername(getString(AMQP_USER));
        f.setPassword(password());
        if (tls) {
          secure(f);
        }
      }
    } catch (URISyntaxException | GeneralSecurityException | IllegalArgumentException e) {
      // The message of a URI error may quote the URI, password included: say only which key is wrong.
      throw new ConfigException(AMQP_URI + " is not a valid amqp:// or amqps:// address ("
          + e.getClass().getSimpleName() + ")");
    }
    f.setRequestedHeartbeat(getInt(AMQP_HEARTBEAT_SECONDS));
    f.setAutomaticRecoveryEnabled(true);
    f.setTopologyRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(getLong(AMQP_RECOVERY_INTERVAL_MS));
    f.setConnectionTimeout(10_000);
    return f;
  }

  /** host:port/vhost as user, for logs and errors: never the password. */
  public String describeBroker() {
    ConnectionFactory f = connectionFactory();
    return (f.isSSL() ? "amqps://" : "amqp://") + f.getUsername() + "@" + f.getHost() + ":" + f.getPort()
        + "/" + f.getVirtualHost();
  }

  /** Kafka producer settings: idempotent, acks=all, then any {@code producer.*} overrides. */
  public Properties producerProperties() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS));
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, connectionName());
    p.putAll(producerOverrides);
    return p;
  }

  private String user() {
    String uri = getPassword(AMQP_URI).value();
    return uri.isEmpty() ? getString(AMQP_USER) : connectionFactoryUser();
  }

  private String connectionFactoryUser() {
    return connectionFactory().getUsername();
  }

  private String password() {
    return ConfigSources.secret(getPassword(AMQP_PASSWORD).value(), AMQP_PASSWORD_FILE, getString(AMQP_PASSWORD_FILE));
  }

  private static void secure(ConnectionFactory f) throws NoSuchAlgorithmException, KeyManagementException {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null); // the JVM's default trust store
    f.useSslProtocol(context);
    f.enableHostnameVerification();
  }

  /** For messages: the bindings as configured. */
  public Map<String, List<String>> bindingsByExchange() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    bindings().forEach(b -> m.put(b.exchange(), b.patterns()));
    return m;
  }

  /** Every key with its value; secrets as {@code [hidden]}. */
  @Override
  public String toString() {
    return ConfigSources.describe(this);
  }
}
