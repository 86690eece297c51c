package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommonTest {

  @TempDir
  Path dir;

  @Test
  void readsTheEnvelope() {
    byte[] body = ("{\"payload\":{},\"_meta\":{\"exchange\":\"exchange/build/\",\"routing_key\":\"build.x.1.finished\","
        + "\"sent\":\"2015-06-01T12:00:00.123456+02:00\"}}").getBytes(StandardCharsets.UTF_8);
    PulseEnvelope e = PulseEnvelope.read(body);
    assertEquals("exchange/build/", e.exchange());
    assertEquals("build.x.1.finished", e.routingKey());
    assertEquals(Instant.parse("2015-06-01T10:00:00.123Z").toEpochMilli(), e.sent());
  }

  @Test
  void anUnreadableEnvelopeIsAllNulls() {
    assertEquals(new PulseEnvelope(null, null, null, null),
        PulseEnvelope.read("{bad".getBytes(StandardCharsets.UTF_8)));
    assertEquals(new PulseEnvelope(null, null, null, null),
        PulseEnvelope.read("{} {}".getBytes(StandardCharsets.UTF_8)));
    assertNull(PulseEnvelope.read("{\"_meta\":{\"sent\":\"yesterday\"}}".getBytes(StandardCharsets.UTF_8)).sent());
  }

  @Test
  void rfc3339() {
    assertEquals(Instant.parse("2015-06-01T10:00:00Z").toEpochMilli(),
        PulseEnvelope.rfc3339Millis("2015-06-01t10:00:00z"));
    assertEquals(Instant.parse("2015-07-01T00:00:00Z").toEpochMilli(),
        PulseEnvelope.rfc3339Millis("2015-06-30T23:59:60Z"));
    assertEquals(Instant.parse("2015-06-01T10:00:00.999Z").toEpochMilli(),
        PulseEnvelope.rfc3339Millis("2015-06-01T10:00:00.9999999999Z"));
    assertNull(PulseEnvelope.rfc3339Millis("2015-06-01T10:00Z"), "seconds are required");
    assertNull(PulseEnvelope.rfc3339Millis("2015-06-01T10:00:00"), "an offset is required");
    assertNull(PulseEnvelope.rfc3339Millis("2015-06-01T10:00:00+02:00:30"));
    assertNull(PulseEnvelope.rfc3339Millis("2015-02-30T10:00:00Z"));
  }

  @Test
  void configFromFileAndEnvironmentTheEnvironmentWinning() throws Exception {
    Path file = dir.resolve("c.properties");
    Files.writeString(file, "a.b=file\nc=file\n");
    Map<String, String> values = ConfigSources.read(file, Map.of("TRIGGERBOT_A_B", "env", "HOME", "/root",
        "TRIGGERBOT_JAVA_OPTS", "-Xmx256m"));
    assertEquals(Map.of("a.b", "env", "c", "file"), values);
  }

  @Test
  void unknownKeysAreErrorsButPrefixedKeysPassThrough() {
    ConfigDef def = new ConfigDef().define("a.b", ConfigDef.Type.STRING, "", ConfigDef.Importance.LOW, "doc");
    Map<String, Map<String, String>> split = ConfigSources.split(def,
        Map.of("a.b", "1", "producer.linger.ms", "5"), "producer.");
    assertEquals(Map.of("a.b", "1"), split.get(""));
    assertEquals(Map.of("linger.ms", "5"), split.get("producer."));
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigSources.split(def, Map.of("x.y", "1")));
    assertTrue(e.getMessage().contains("x.y"), e.getMessage());
  }
}
