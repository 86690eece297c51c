package org.triggerbot.processor.app;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.ConfigSources;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.topology.RejectOnProcessingError;
import org.triggerbot.processor.topology.TopologySettings;

/**
 * The processor service's configuration: where Kafka is, how the Streams application runs, and the policy
 * keys of {@link PolicyConfig}. Read from a properties file ({@code --config FILE}) and from environment
 * variables {@code TRIGGERBOT_<KEY>} (key upper-cased, dots as underscores, e.g.
 * {@code TRIGGERBOT_BOOTSTRAP_SERVERS}); the environment wins. Keys starting with {@code streams.} are passed to
 * Kafka Streams without the prefix (e.g. {@code streams.commit.interval.ms}). Any other unknown key is an error.
 * {@code admin.port} (default {@value #DEFAULT_ADMIN_PORT}) and {@code admin.bind} place the admin HTTP server
 * (health, metrics and the push queries, see {@link AdminServer} and {@code query.PushApi});
 * {@code admin.advertised.host} is the name other instances reach it by.
 */
public final class ProcessorConfig extends AbstractConfig {

  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
  public static final String APPLICATION_ID = "application.id";
  public static final String STATE_DIR = "state.dir";
  public static final String PROCESSING_GUARANTEE = "processing.guarantee";
  /**
   * Retired: the partitions of the repartition topic the processor had before {@code pulse.raw} was keyed by
   * push. Set, it is an error that says what replaced it, not merely an unknown key.
   */
  static final String RETIRED_DECISION_PARTITIONS = "decision.partitions";
  public static final String REPLICATION_FACTOR = "replication.factor";
  public static final String NUM_STREAM_THREADS = "num.stream.threads";
  /**
   * The host other processor instances reach this one's admin port by: with the bound admin port it is this
   * instance's Kafka Streams {@code application.server}, where push queries are forwarded to the instance that
   * owns the push.
   */
  public static final String ADMIN_ADVERTISED_HOST = "admin.advertised.host";
  public static final String STREAMS_PREFIX = "streams.";
  /** The processor's admin port; the bridge's is 9402 and the sink's 9403, so all three fit on one host. */
  public static final int DEFAULT_ADMIN_PORT = 9401;

  public static final ConfigDef DEFINITION =
      AdminServer.define(PolicyConfig.define(new ConfigDef()), DEFAULT_ADMIN_PORT)
          .define(BOOTSTRAP_SERVERS, ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
              Importance.HIGH, "Kafka bootstrap servers, host:port[,host:port].")
          .define(APPLICATION_ID, ConfigDef.Type.STRING, "triggerbot-processor", new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Kafka Streams application id: the consumer group and the prefix of internal topics. Instances with the same id share the work.")
          .define(STATE_DIR, ConfigDef.Type.STRING,
              Path.of(System.getProperty("java.io.tmpdir"), "triggerbot-processor").toString(),
              Importance.HIGH,
              "Directory of the local state stores, a cache of their changelogs. On a volume, a restart after a clean stop "
                  + "reuses it; after a crash under exactly_once_v2 Kafka Streams rebuilds it from the changelogs.")
          .define(PROCESSING_GUARANTEE, ConfigDef.Type.STRING, StreamsConfig.EXACTLY_ONCE_V2,
              ConfigDef.ValidString.in(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE), Importance.HIGH,
              "exactly_once_v2 (default: no decision lost or duplicated across crashes) or at_least_once.")
          .define(REPLICATION_FACTOR, ConfigDef.Type.INT, -1, ConfigDef.Range.atLeast(-1), Importance.MEDIUM,
              "Replication factor of internal topics; -1 uses the broker's default.")
          .define(NUM_STREAM_THREADS, ConfigDef.Type.INT, 1, ConfigDef.Range.between(1, 64), Importance.LOW,
              "Stream threads in this instance.")
          .define(ADMIN_ADVERTISED_HOST, ConfigDef.Type.STRING, "", new AdvertisedHost(), Importance.MEDIUM,
              "Host name or address by which the other processor instances reach this one's admin port (admin.port, "
                  + "on an address admin.bind listens on): the host of Kafka Streams' application.server, to which push "
                  + "queries (GET /api/pushes/...) are forwarded when another instance owns the push. Empty: this "
                  + "machine's host name (in a container, its name on the container network).");

  private final Map<String, String> passThrough;

  private ProcessorConfig(Map<String, String> values, Map<String, String> passThrough) {
    super(DEFINITION, values, false);
    this.passThrough = passThrough;
  }

  /** Reads the file (may be null) and the environment (see {@link ConfigSources}); validates everything. */
  public static ProcessorConfig load(Path file, Map<String, String> env) {
    return of(ConfigSources.read(file, env));
  }

  /** Validates {@code values}: known keys and {@code streams.*} pass-through keys only. */
  public static ProcessorConfig of(Map<String, String> values) {
    if (values.containsKey(RETIRED_DECISION_PARTITIONS)) {
      throw new ConfigException(RETIRED_DECISION_PARTITIONS, values.get(RETIRED_DECISION_PARTITIONS),
          "is no longer a setting: the processor now runs one decision task per partition of pulse.raw and shares "
              + "the global limits among them (README, \"Partitions and scale-out\"); remove it");
    }
    Map<String, Map<String, String>> split = ConfigSources.split(DEFINITION, values, STREAMS_PREFIX);
    return new ProcessorConfig(split.get(""), split.get(STREAMS_PREFIX));
  }

  public PolicySettings policy() {
    Map<String, String> policyValues = new HashMap<>();
    for (String key : PolicyConfig.DEFINITION.names()) {
      Object v = originals().get(key);
      if (v != null) {
        policyValues.put(key, v.toString());
      }
    }
    return PolicyConfig.parse(policyValues);
  }

  /**
   * The topology's settings for this configuration.
   *
   * @param partitions partitions of {@code pulse.raw} (asked of the broker at start)
   */
  public TopologySettings topologySettings(int partitions) {
    return new TopologySettings(policy(), partitions, true);
  }

  /**
   * {@link #ADMIN_ADVERTISED_HOST}, or this machine's host name when it is empty (or {@code localhost} when the
   * machine cannot name itself).
   */
  public String advertisedHost() {
    String host = getString(ADMIN_ADVERTISED_HOST).trim();
    if (!host.isEmpty()) {
      return host;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  /** A host name, IPv4 or IPv6 address, without a port or scheme; empty for the default. */
  private static final class AdvertisedHost implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      String host = value == null ? "" : value.toString().trim();
      if (!host.isEmpty() && !host.matches("[A-Za-z0-9._-]+|\\[?[0-9A-Fa-f:.]+]?")) {
        throw new ConfigException(name, value, "expected a host name or an IP address, without scheme or port");
      }
    }

    @Override
    public String toString() {
      return "a host name or IP address, or empty for this machine's host name";
    }
  }

  /** Kafka Streams properties: ours, then the {@code streams.*} pass-through (which may override them). */
  public Properties streamsProperties() {
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS));
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, getString(APPLICATION_ID));
    p.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, getString(PROCESSING_GUARANTEE));
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, getInt(REPLICATION_FACTOR));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, getInt(NUM_STREAM_THREADS));
    p.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
    RejectOnProcessingError.install(p);
    p.putAll(passThrough);
    return p;
  }
}
