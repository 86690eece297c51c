package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SinkConfigTest {

  @TempDir
  Path dir;

  private static SinkConfig config(String... kvs) {
    Map<String, String> m = new HashMap<>();
    m.put(SinkConfig.BOOTSTRAP_SERVERS, "k:9092");
    for (String kv : kvs) {
      m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    return SinkConfig.of(m);
  }

  @Test
  void defaultsAreTheSpecs() {
    SinkConfig c = config();
    assertEquals(Duration.ofSeconds(90), c.retryDelay());
    assertEquals(5, c.retryMax());
    assertFalse(c.dryRun());
    assertEquals("read_committed", c.consumerProperties().get("isolation.level"));
    assertEquals("triggerbot-sink", c.producerProperties().get("transactional.id"));
  }

  @Test
  void credentialsInTheUrlAreRefusedAndPasswordsAreHidden() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> config(SinkConfig.BUILDAPI_URL + "=https://user:pw@buildapi.example/self-serve"));
    assertTrue(e.getMessage().contains(SinkConfig.BUILDAPI_URL), e.getMessage());
    String described = config(SinkConfig.BUILDAPI_PASSWORD + "=hunter2").toString();
    assertFalse(described.contains("hunter2"), described);
    assertTrue(described.contains(SinkConfig.BUILDAPI_PASSWORD + "=[hidden]"), described);
    assertEquals("http://h/self-serve", config(SinkConfig.BUILDAPI_URL + "=http://h/self-serve/").buildapiUrl());
  }

  @Test
  void passwordFromAFile() throws Exception {
    Path f = dir.resolve("pw");
    Files.writeString(f, "from-file\n");
    assertEquals("from-file", config(SinkConfig.BUILDAPI_PASSWORD_FILE + "=" + f).password());
  }

  @Test
  void badValuesAndUnknownKeysNameTheKey() {
    for (String bad : new String[] {SinkConfig.RETRY_DELAY + "=90", SinkConfig.RETRY_MAX + "=-1",
        "sink.retry.dealy=PT1S"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> config(bad));
      assertTrue(e.getMessage().contains(bad.substring(0, bad.indexOf('='))), e.getMessage());
    }
    assertEquals("5", config("consumer.max.poll.records=5").consumerProperties().get("max.poll.records"));
  }

  @Test
  void pathSegmentsArePercentEncoded() {
    assertEquals("try%2Fx%20y%3F%23%C3%BC", MeteredJsonHttp.segment("try/x y?#ü"));
  }
}
