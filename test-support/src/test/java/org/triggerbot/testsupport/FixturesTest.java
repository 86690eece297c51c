package org.triggerbot.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FixturesTest {

  @Test
  void findsTheProjectFixturesWithTheirSources() {
    assertTrue(Files.isRegularFile(Fixtures.pulseSamples().resolve("SOURCES.md")));
    assertTrue(Files.isRegularFile(Fixtures.buildapiSamples().resolve("SOURCES.md")));
    assertEquals(Fixtures.root(), Fixtures.pulseSamples().getParent());
  }

  @Test
  void walksUpFromANestedDirectory(@TempDir Path project) throws IOException {
    Files.createDirectories(project.resolve("fixtures/pulse-samples"));
    Files.writeString(project.resolve("fixtures/pulse-samples/SOURCES.md"), "x");
    Path module = Files.createDirectories(project.resolve("processor/target"));

    assertEquals(project.resolve("fixtures"), Fixtures.find(module));
  }

  @Test
  void saysWhereItStartedAndWhatItLookedFor(@TempDir Path elsewhere) {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Fixtures.find(elsewhere));
    assertTrue(e.getMessage().contains(elsewhere.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(Path.of("fixtures", "pulse-samples", "SOURCES.md").toString()), e.getMessage());
  }
}
