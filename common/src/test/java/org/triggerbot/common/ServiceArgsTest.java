package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class ServiceArgsTest {

  private static final ConfigDef KEYS = new ConfigDef()
      .define("a.key", ConfigDef.Type.STRING, "x", ConfigDef.Importance.LOW, "what a.key does");
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private ServiceArgs.Outcome<Path> parse(List<String> args, boolean invalid) {
    return ServiceArgs.parse("svc", args, KEYS, "About svc.", file -> {
      if (invalid) {
        throw new ConfigException("a.key", "bad", "is wrong");
      }
      return file == null ? Path.of("none") : file;
    }, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void runsWithTheFileOrWithout() {
    assertEquals(Path.of("c.properties"), parse(List.of("--config", "c.properties"), false).config());
    assertEquals(Path.of("none"), parse(List.of(), false).config());
  }

  @Test
  void helpListsTheKeysAndExitsZero() {
    ServiceArgs.Outcome<Path> o = parse(List.of("--help"), false);
    assertFalse(o.run());
    assertEquals(0, o.exitCode());
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("what a.key does"));
  }

  @Test
  void badArgumentsAndInvalidConfigurationExitTwoNamingTheProblem() {
    ServiceArgs.Outcome<Path> o = parse(List.of("--bogus"), false);
    assertEquals(2, o.exitCode());
    assertNull(o.config());
    assertEquals(2, parse(List.of("--config"), false).exitCode(), "--config without a file");
    assertEquals(2, parse(List.of(), true).exitCode());
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("a.key"), err.toString(StandardCharsets.UTF_8));
  }
}
