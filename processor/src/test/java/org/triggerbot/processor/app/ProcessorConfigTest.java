package org.triggerbot.processor.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The processor service's configuration: file and environment, typed, every unknown key an error. */
class ProcessorConfigTest {

  @TempDir
  Path dir;

  @Test
  void environmentOverridesTheFileAndMapsOntoKeys() throws Exception {
    Path file = dir.resolve("processor.properties");
    Files.writeString(file, "bootstrap.servers=file:9092\nbudget.floor=3\nstreams.commit.interval.ms=250\n");
    ProcessorConfig config = ProcessorConfig.load(file, Map.of(
        "TRIGGERBOT_BOOTSTRAP_SERVERS", "env:9092",
        "TRIGGERBOT_DRY_RUN", "true",
        "PATH", "/usr/bin"));

    Properties streams = config.streamsProperties();
    assertEquals("env:9092", streams.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
    assertEquals(StreamsConfig.EXACTLY_ONCE_V2, streams.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    assertEquals("triggerbot-processor", streams.get(StreamsConfig.APPLICATION_ID_CONFIG));
    assertEquals("250", streams.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG), "streams.* passes through");
    assertEquals(true, streams.get(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG));
    assertEquals(3, config.policy().budgetFloor());
    assertTrue(config.policy().dryRun());
    assertTrue(config.topologySettings(1).wallClockDecisions());
  }

  @Test
  void theRetiredDecisionPartitionsKeySaysWhatReplacedIt() {
    ConfigException e = assertThrows(ConfigException.class, () -> ProcessorConfig.load(null, Map.of(
        "TRIGGERBOT_BOOTSTRAP_SERVERS", "k:9092", "TRIGGERBOT_DECISION_PARTITIONS", "4")));
    assertTrue(e.getMessage().contains("decision.partitions") && e.getMessage().contains("partition of pulse.raw")
        && e.getMessage().contains("remove it"), e.getMessage());
  }

  @Test
  void theAdvertisedHostDefaultsToThisMachinesNameAndIsChecked() throws Exception {
    ProcessorConfig defaults = ProcessorConfig.of(Map.of("bootstrap.servers", "k:9092"));
    assertEquals(java.net.InetAddress.getLocalHost().getHostName(), defaults.advertisedHost());
    assertEquals("processor-2.internal", ProcessorConfig.load(null, Map.of("TRIGGERBOT_BOOTSTRAP_SERVERS", "k:9092",
        "TRIGGERBOT_ADMIN_ADVERTISED_HOST", "processor-2.internal")).advertisedHost());
    assertEquals("10.0.0.7", ProcessorConfig.of(Map.of("bootstrap.servers", "k:9092",
        ProcessorConfig.ADMIN_ADVERTISED_HOST, "10.0.0.7")).advertisedHost());
    for (String bad : new String[] {"http://host", "host:9401", "two words"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> ProcessorConfig.of(Map.of(
          "bootstrap.servers", "k:9092", ProcessorConfig.ADMIN_ADVERTISED_HOST, bad)), bad);
      assertTrue(e.getMessage().contains(ProcessorConfig.ADMIN_ADVERTISED_HOST), e.getMessage());
    }
  }

  @Test
  void bootstrapServersIsRequired() {
    ConfigException e = assertThrows(ConfigException.class, () -> ProcessorConfig.of(Map.of()));
    assertTrue(e.getMessage().contains("bootstrap.servers"), e.getMessage());
  }

  @Test
  void unknownKeysAndInvalidValuesNameTheKey() {
    ConfigException unknown = assertThrows(ConfigException.class,
        () -> ProcessorConfig.load(null,
            Map.of("TRIGGERBOT_BOOTSTRAP_SERVERS", "k:9092", "TRIGGERBOT_BUDGET_FLOR", "3")));
    assertTrue(unknown.getMessage().contains("budget.flor"), unknown.getMessage());
    ConfigException invalid = assertThrows(ConfigException.class,
        () -> ProcessorConfig.of(Map.of("bootstrap.servers", "k:9092", "processing.guarantee", "exactly_once")));
    assertTrue(invalid.getMessage().contains("processing.guarantee"), invalid.getMessage());
    ConfigException policy = assertThrows(ConfigException.class,
        () -> ProcessorConfig.of(Map.of("bootstrap.servers", "k:9092", "budget.ratio", "x")));
    assertTrue(policy.getMessage().contains("budget.ratio"), policy.getMessage());
  }

  @Test
  void anUnreadableFileIsAConfigError() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ProcessorConfig.load(dir.resolve("missing.properties"), Map.of()));
    assertTrue(e.getMessage().contains("missing.properties"), e.getMessage());
  }
}
