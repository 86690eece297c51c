package org.triggerbot.common;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Where every triggerbot service reads its configuration (12-factor): a properties file, then environment
 * variables {@code TRIGGERBOT_<KEY>} (key upper-cased, dots as underscores: {@code TRIGGERBOT_BOOTSTRAP_SERVERS}
 * is {@code bootstrap.servers}), the environment winning. Keys are then checked against the service's
 * {@link ConfigDef}: an unknown key is an error naming it, except keys under the given pass-through prefixes
 * (e.g. {@code streams.}, {@code producer.}), which go to the Kafka client as they are.
 */
public final class ConfigSources {

  public static final String ENV_PREFIX = "TRIGGERBOT_";
  /**
   * Variables with the prefix that belong to the launcher, not to a service: {@code bin/triggerbot} passes
   * {@code TRIGGERBOT_JAVA_OPTS} to the JVM, and the service inherits it; read as a key it would be refused as
   * unknown ({@code java.opts}) and stop every service started with JVM options.
   */
  public static final Set<String> LAUNCHER_VARIABLES = Set.of("TRIGGERBOT_JAVA_OPTS");

  private ConfigSources() {}

  /**
   * A parsed configuration as text, for logs and error messages: every key with its value, sorted by key. Secrets
   * (keys of type {@code PASSWORD}) print as {@code [hidden]}, as Kafka's {@code Password} does.
   */
  public static String describe(AbstractConfig config) {
    return config.getClass().getSimpleName() + new TreeMap<>(config.values());
  }

  /**
   * A secret: the content (trimmed) of {@code file} when that is set, else {@code inline}. An unreadable file is
   * a {@link ConfigException} naming {@code fileKey} and the kind of failure, never any content.
   */
  public static String secret(String inline, String fileKey, String file) {
    if (file == null || file.isEmpty()) {
      return inline;
    }
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new ConfigException(fileKey, file, "cannot read the secret file: " + e.getClass().getSimpleName());
    }
  }

  /** Validates a non-negative ISO-8601 duration as {@link java.time.Duration#parse} reads it (e.g. PT90S, P14D). */
  public static ConfigDef.Validator duration() {
    return (name, value) -> {
      try {
        if (value == null || java.time.Duration.parse(value.toString().trim()).isNegative()) {
          throw new ConfigException(name, value, "must be a non-negative ISO-8601 duration, e.g. PT90S or P14D");
        }
      } catch (java.time.format.DateTimeParseException e) {
        throw new ConfigException(name, value, "must be an ISO-8601 duration as java.time.Duration.parse reads it, "
            + "e.g. PT90S or P14D");
      }
    };
  }

  /**
   * Validates an http(s) URL that carries no credentials: they would end up in logs; {@code hint} says where they
   * go instead.
   */
  public static ConfigDef.Validator httpUrl(String hint) {
    return (name, value) -> {
      String s = value == null ? "" : value.toString();
      if (s.contains("@")) {
        // Not echoed: the value may hold a password.
        throw new ConfigException("Invalid value [hidden] for configuration " + name
            + ": must be an http(s) URL without credentials (" + hint + ")");
      }
      if (!(s.startsWith("http://") || s.startsWith("https://"))) {
        throw new ConfigException(name, value, "must be an http(s) URL without credentials (" + hint + ")");
      }
    };
  }

  /** The list syntax of every triggerbot setting: split on ',', items trimmed, empty items dropped. */
  public static java.util.List<String> list(String value) {
    return java.util.Arrays.stream(value.split(",", -1)).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** The merged values of {@code file} (may be null) and {@code env}. */
  public static Map<String, String> read(Path file, Map<String, String> env) {
    Map<String, String> values = new HashMap<>();
    if (file != null) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException e) {
        throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
      }
      p.stringPropertyNames().forEach(k -> values.put(k, p.getProperty(k)));
    }
    env.forEach((name, value) -> {
      if (name.startsWith(ENV_PREFIX) && !LAUNCHER_VARIABLES.contains(name)) {
        values.put(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
      }
    });
    return values;
  }

  /**
   * Splits {@code values} into the keys {@code def} defines and, per prefix, the pass-through keys with the prefix
   * removed. Any other key is a {@link ConfigException} naming it.
   *
   * @return the defined keys under {@code ""}, and one map per prefix
   */
  public static Map<String, Map<String, String>> split(ConfigDef def, Map<String, String> values, String... prefixes) {
    Map<String, Map<String, String>> out = new HashMap<>();
    out.put("", new HashMap<>());
    for (String prefix : prefixes) {
      out.put(prefix, new HashMap<>());
    }
    values.forEach((k, v) -> {
      for (String prefix : prefixes) {
        if (k.startsWith(prefix)) {
          out.get(prefix).put(k.substring(prefix.length()), v);
          return;
        }
      }
      if (!def.names().contains(k)) {
        Set<String> known = new TreeSet<>(def.names());
        throw new ConfigException(k, v, "unknown key (known: " + known
            + (prefixes.length == 0 ? "" : ", or keys starting with " + String.join(", ", prefixes)) + ")");
      }
      out.get("").put(k, v);
    });
    return out;
  }
}
