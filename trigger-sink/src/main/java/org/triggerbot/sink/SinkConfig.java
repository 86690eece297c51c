package org.triggerbot.sink;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigException;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.ConfigSources;

/**
 * The trigger-sink's configuration (SPEC section 6). Loaded by {@link ConfigSources}; {@code consumer.*} and
 * {@code producer.*} keys pass to the Kafka clients. The buildapi password comes from {@code buildapi.password}
 * (a {@code Password}, printed as {@code [hidden]}) or {@code buildapi.password.file}, and is never logged.
 * {@code admin.port} (default {@value #DEFAULT_ADMIN_PORT}) and {@code admin.bind} place the admin HTTP server
 * (health and metrics, see {@link AdminServer}).
 */
public final class SinkConfig extends AbstractConfig {

  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
  public static final String BUILDAPI_URL = "buildapi.url";
  public static final String BUILDAPI_USER = "buildapi.user";
  public static final String BUILDAPI_PASSWORD = "buildapi.password";
  public static final String BUILDAPI_PASSWORD_FILE = "buildapi.password.file";
  public static final String BUILDAPI_TIMEOUT = "buildapi.timeout";
  public static final String RETRY_DELAY = "sink.retry.delay";
  public static final String RETRY_MAX = "sink.retry.max";
  public static final String BACKOFF_INITIAL = "sink.backoff.initial";
  public static final String BACKOFF_MAX = "sink.backoff.max";
  public static final String TRANSIENT_MAX = "sink.transient.max";
  public static final String MAX_POSTS_PER_HOUR = "sink.max.posts.per.hour";
  public static final String DRY_RUN = "sink.dry.run";
  public static final String JOURNAL_TOPIC = "sink.journal.topic";
  public static final String GROUP_ID = "group.id";
  public static final String TRANSACTIONAL_ID = "transactional.id";
  public static final String TASKCLUSTER_ENABLED = "taskcluster.enabled";
  public static final String TASKCLUSTER_ROOT_URL = "taskcluster.root.url";
  public static final String TC_CLIENT_ID = "tc.client.id";
  public static final String TC_ACCESS_TOKEN = "tc.access.token";
  public static final String TC_ACCESS_TOKEN_FILE = "tc.access.token.file";
  public static final String CONSUMER_PREFIX = "consumer.";
  public static final String PRODUCER_PREFIX = "producer.";
  /** The sink's admin port; the processor's is 9401 and the bridge's 9402, so all three fit on one host. */
  public static final int DEFAULT_ADMIN_PORT = 9403;

  public static final ConfigDef DEFINITION = AdminServer.define(new ConfigDef(), DEFAULT_ADMIN_PORT)
      .define(BOOTSTRAP_SERVERS, ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
          Importance.HIGH, "Kafka bootstrap servers.")
      .define(BUILDAPI_URL, ConfigDef.Type.STRING, "http://localhost:8010/self-serve", url(), Importance.HIGH,
          "Base URL of buildapi self-serve, without a trailing slash.")
      .define(BUILDAPI_USER, ConfigDef.Type.STRING, "", Importance.HIGH, "Basic auth user; empty = no authentication.")
      .define(BUILDAPI_PASSWORD, ConfigDef.Type.PASSWORD, "", Importance.HIGH,
          "Basic auth password (secret). Prefer buildapi.password.file or TRIGGERBOT_BUILDAPI_PASSWORD.")
      .define(BUILDAPI_PASSWORD_FILE, ConfigDef.Type.STRING, "", Importance.MEDIUM,
          "File whose content (trimmed) is the password; overrides buildapi.password.")
      .define(BUILDAPI_TIMEOUT, ConfigDef.Type.STRING, "PT30S", ConfigSources.duration(), Importance.MEDIUM,
          "Time limit of one buildapi request (connect and response).")
      .define(RETRY_DELAY, ConfigDef.Type.STRING, "PT90S", ConfigSources.duration(), Importance.MEDIUM,
          "Wait before looking again when buildapi lists no build_id or request_id for the builder yet "
              + "(new jobs appear about 30 s after they are scheduled).")
      .define(RETRY_MAX, ConfigDef.Type.INT, 5, Range.between(0, 100), Importance.MEDIUM,
          "Lookups again after the first found no id, before GAVE_UP.")
      .define(BACKOFF_INITIAL, ConfigDef.Type.STRING, "PT5S", ConfigSources.duration(), Importance.LOW,
          "First wait after a 503, a 5xx, a timeout or a connection failure; doubles each time.")
      .define(BACKOFF_MAX, ConfigDef.Type.STRING, "PT5M", ConfigSources.duration(), Importance.LOW,
          "Longest such wait.")
      .define(TRANSIENT_MAX, ConfigDef.Type.INT, 20, Range.between(1, 1000), Importance.LOW,
          "Transient failures in a row before GAVE_UP (with the last error as the reason).")
      .define(MAX_POSTS_PER_HOUR, ConfigDef.Type.INT, 2000, Range.atLeast(0), Importance.HIGH,
          "Safety cap on rebuild POSTs per rolling hour (wall clock). Commands over it wait; none is dropped.")
      .define(DRY_RUN, ConfigDef.Type.BOOLEAN, false, Importance.HIGH,
          "Never call buildapi: every command gets a DRY_RUN result.")
      .define(JOURNAL_TOPIC, ConfigDef.Type.STRING, "trigger.sink-journal", new ConfigDef.NonEmptyString(),
          Importance.LOW,
          "Compacted topic of the sink's journal (created if missing). One journal per sink deployment.")
      .define(GROUP_ID, ConfigDef.Type.STRING, "triggerbot-sink", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Consumer group of trigger.commands.")
      .define(TRANSACTIONAL_ID, ConfigDef.Type.STRING, "triggerbot-sink", new ConfigDef.NonEmptyString(),
          Importance.MEDIUM,
          "Kafka transactional id. One sink instance runs per id: a second one fences the first.")
      .define(TASKCLUSTER_ENABLED, ConfigDef.Type.BOOLEAN, false, Importance.HIGH,
          "Retrigger commands of Taskcluster pushes through the push's retrigger action hook (SPEC 6b); off, "
              + "they are REJECTED.")
      .define(TASKCLUSTER_ROOT_URL, ConfigDef.Type.STRING, "https://firefox-ci-tc.services.mozilla.com",
          ConfigSources.httpUrl("use tc.client.id and tc.access.token"), Importance.HIGH, "Taskcluster root URL.")
      .define(TC_CLIENT_ID, ConfigDef.Type.STRING, "", Importance.HIGH,
          "Taskcluster client id for the hook trigger (Hawk); it needs hooks:trigger-hook:<hookGroupId>/<hookId>.")
      .define(TC_ACCESS_TOKEN, ConfigDef.Type.PASSWORD, "", Importance.HIGH,
          "Its access token; prefer tc.access.token.file. Never logged.")
      .define(TC_ACCESS_TOKEN_FILE, ConfigDef.Type.STRING, "", Importance.MEDIUM,
          "A file holding the access token (e.g. a mounted secret).");

  private final Map<String, String> consumerOverrides;
  private final Map<String, String> producerOverrides;

  private SinkConfig(Map<String, String> values, Map<String, String> consumer, Map<String, String> producer) {
    super(DEFINITION, values, false);
    this.consumerOverrides = consumer;
    this.producerOverrides = producer;
  }

  public static SinkConfig load(Path file, Map<String, String> env) {
    return of(ConfigSources.read(file, env));
  }

  public static SinkConfig of(Map<String, String> values) {
    Map<String, Map<String, String>> split = ConfigSources.split(DEFINITION, values, CONSUMER_PREFIX, PRODUCER_PREFIX);
    return new SinkConfig(split.get(""), split.get(CONSUMER_PREFIX), split.get(PRODUCER_PREFIX));
  }

  public String buildapiUrl() {
    String url = getString(BUILDAPI_URL);
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  public String user() {
    return getString(BUILDAPI_USER);
  }

  /** The password; never log it. */
  public String password() {
    return ConfigSources.secret(getPassword(BUILDAPI_PASSWORD).value(), BUILDAPI_PASSWORD_FILE,
        getString(BUILDAPI_PASSWORD_FILE));
  }

  public Duration timeout() {
    return Duration.parse(getString(BUILDAPI_TIMEOUT));
  }

  public Duration retryDelay() {
    return Duration.parse(getString(RETRY_DELAY));
  }

  public int retryMax() {
    return getInt(RETRY_MAX);
  }

  public Duration backoffInitial() {
    return Duration.parse(getString(BACKOFF_INITIAL));
  }

  public Duration backoffMax() {
    return Duration.parse(getString(BACKOFF_MAX));
  }

  public int transientMax() {
    return getInt(TRANSIENT_MAX);
  }

  public int maxPostsPerHour() {
    return getInt(MAX_POSTS_PER_HOUR);
  }

  public String journalTopic() {
    return getString(JOURNAL_TOPIC);
  }

  public boolean taskclusterEnabled() {
    return getBoolean(TASKCLUSTER_ENABLED);
  }

  public String taskclusterRootUrl() {
    return getString(TASKCLUSTER_ROOT_URL).replaceAll("/+$", "");
  }

  /** The Hawk credentials of the hook trigger, or null when no client id is set; never log the key. */
  public org.triggerbot.common.Hawk.Credentials taskclusterCredentials() {
    String id = getString(TC_CLIENT_ID).trim();
    if (id.isEmpty()) {
      return null;
    }
    String token = ConfigSources.secret(getPassword(TC_ACCESS_TOKEN).value(), TC_ACCESS_TOKEN_FILE,
        getString(TC_ACCESS_TOKEN_FILE));
    if (token.isEmpty()) {
      throw new ConfigException(TC_ACCESS_TOKEN, "[hidden]", "is empty while " + TC_CLIENT_ID + " is set");
    }
    return new org.triggerbot.common.Hawk.Credentials(id, token);
  }

  public boolean dryRun() {
    return getBoolean(DRY_RUN);
  }

  /** read_committed, manual commits (offsets go into the producer's transactions). */
  public Properties consumerProperties() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS));
    p.put(ConsumerConfig.GROUP_ID_CONFIG, getString(GROUP_ID));
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Between polls the sink may wait on buildapi: a batch of lookups and POSTs, each up to buildapi.timeout.
    p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 30 * 60 * 1000);
    p.put(ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG, 35 * 60 * 1000); // Kafka warns when below the poll interval
    p.putAll(consumerOverrides);
    return p;
  }

  /** Transactional and idempotent: journal entries, results and consumer offsets commit together. */
  public Properties producerProperties() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS));
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, getString(TRANSACTIONAL_ID));
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.putAll(producerOverrides);
    return p;
  }

  private static ConfigDef.Validator url() {
    return ConfigSources.httpUrl("use buildapi.user and buildapi.password");
  }

  /** Every key with its value; secrets as {@code [hidden]}. */
  @Override
  public String toString() {
    return ConfigSources.describe(this);
  }
}
