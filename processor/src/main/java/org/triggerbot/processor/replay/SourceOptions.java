package org.triggerbot.processor.replay;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.triggerbot.common.PulseEnvelope;

/**
 * The input options {@code replay} and {@code whatif} share (SPEC section 7): {@code --input FILE} or
 * {@code --from-topic TOPIC --bootstrap-servers HOST:PORT [--from-time T] [--to-time T]}.
 */
public final class SourceOptions {

  public static final String USAGE = """
        --input FILE           Pulse JSON Lines, one mozillapulse body per line ('-' reads standard input)
        --from-topic TOPIC     read a pulse.raw topic instead: a plain consumer on every partition, no consumer
                               group, nothing committed, up to the end offsets taken at start
        --bootstrap-servers HOST:PORT   the Kafka cluster of --from-topic
        --from-time T          with --from-topic: start at event time T (RFC 3339, e.g. 2015-06-01T08:00:00Z,
                               or epoch milliseconds), found per partition with the time index
        --to-time T            with --from-topic: stop after event time T (inclusive)
        --kafka-config FILE    Kafka client properties for --from-topic and --to-topics (security.protocol,
                               ssl.*, sasl.*, ...); group and commit settings are refused: a replay leaves no trace
        --partitions N         decide as a processor on a pulse.raw of N partitions: one decision task each, with
                               its own state and stream time and 1/N of the global hourly limits; each input goes
                               where the bridge would key it (a topic's record stays in its partition when the
                               topic has N). Default: the topic's partitions with --from-topic, else 1
      """;

  private String input;
  private String topic;
  private String bootstrapServers;
  private Long fromTime;
  private Long toTime;
  private String kafkaConfig;
  private Integer partitions;

  /** Whether {@code option} is one of these; if so, takes its value (throws {@link IllegalArgumentException}). */
  public boolean accept(String option, String value) {
    switch (option) {
      case "--input" -> input = value;
      case "--from-topic" -> topic = value;
      case "--bootstrap-servers" -> bootstrapServers = value;
      case "--from-time" -> fromTime = time(option, value);
      case "--to-time" -> toTime = time(option, value);
      case "--kafka-config" -> kafkaConfig = value;
      case "--partitions" -> partitions = partitions(value);
      default -> {
        return false;
      }
    }
    return true;
  }

  private static final List<String> OPTIONS =
      List.of("--input", "--from-topic", "--bootstrap-servers", "--from-time", "--to-time", "--kafka-config",
          "--partitions");

  /** These options and a command's own, every one taking a value. */
  public static Set<String> withOptions(String... commandOptions) {
    Set<String> all = new java.util.HashSet<>(OPTIONS);
    all.addAll(List.of(commandOptions));
    return Set.copyOf(all);
  }

  /** What is wrong with the options as a whole, or null. */
  public String problem() {
    if (input == null && topic == null) {
      return "--input or --from-topic is required";
    }
    if (input != null && topic != null) {
      return "--input and --from-topic cannot be used together";
    }
    if (topic != null && (bootstrapServers == null || bootstrapServers.isBlank())) {
      return "--from-topic needs --bootstrap-servers";
    }
    if (topic == null && (bootstrapServers != null || fromTime != null || toTime != null || kafkaConfig != null)) {
      return "--bootstrap-servers, --from-time, --to-time and --kafka-config go with --from-topic";
    }
    if (kafkaConfig != null && !Files.isReadable(Path.of(kafkaConfig))) {
      return "--kafka-config " + kafkaConfig + ": no such readable file";
    }
    if (fromTime != null && toTime != null && toTime < fromTime) {
      return "--to-time is before --from-time";
    }
    if (input != null && !input.equals("-") && !Files.isReadable(Path.of(input))) {
      return "--input " + input + ": no such readable file";
    }
    return null;
  }

  public boolean fromTopic() {
    return topic != null;
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The {@code --kafka-config} properties (empty without one), for the consumer and for {@code --to-topics}. */
  public Map<String, Object> kafkaConfig() throws IOException {
    if (kafkaConfig == null) {
      return Map.of();
    }
    java.util.Properties p = new java.util.Properties();
    try (InputStream in = Files.newInputStream(Path.of(kafkaConfig))) {
      p.load(in);
    }
    Map<String, Object> config = new java.util.HashMap<>();
    p.stringPropertyNames().forEach(k -> config.put(k, p.getProperty(k).trim()));
    return config;
  }

  /** The input for people: the file, or the topic and its servers. */
  public String describe() {
    return topic != null ? "topic " + topic + " on " + bootstrapServers : input.equals("-") ? "standard input" : input;
  }

  /**
   * The processor's partitions to decide as: {@code --partitions}, else the partitions of the topic read, else 1.
   */
  public int partitions(ReplaySource opened) {
    if (partitions != null) {
      return partitions;
    }
    return Math.max(1, opened.partitions());
  }

  /** Whether {@code --partitions} was given. */
  public boolean partitionsGiven() {
    return partitions != null;
  }

  private static int partitions(String value) {
    if (!value.matches("\\d{1,4}") || Integer.parseInt(value) < 1 || Integer.parseInt(value) > 1024) {
      throw new IllegalArgumentException("--partitions " + value + ": expected a whole number from 1 to 1024");
    }
    return Integer.parseInt(value);
  }

  /** Opens the input (after {@link #problem()} said nothing). */
  public ReplaySource open() throws IOException {
    if (topic != null) {
      return TopicSource.open(bootstrapServers, topic, fromTime, toTime, kafkaConfig());
    }
    if (input.equals("-")) {
      return ReplaySource.lines(System.in, -1);
    }
    Path file = Path.of(input);
    InputStream in = Files.newInputStream(file);
    return ReplaySource.lines(in, Files.size(file));
  }

  private static long time(String option, String value) {
    if (value.matches("\\d{1,18}")) {
      return Long.parseLong(value);
    }
    Long millis = PulseEnvelope.rfc3339Millis(value);
    if (millis == null) {
      throw new IllegalArgumentException(option + " " + value
          + ": not a time (RFC 3339 with an offset, e.g. 2015-06-01T08:00:00Z, or epoch milliseconds)");
    }
    return millis;
  }
}
