package org.triggerbot.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The project's {@code fixtures/} folder: real Mozilla sample data (MPL-2.0, see each folder's {@code SOURCES.md}),
 * kept in the repository so that tests pass from a fresh clone alone.
 *
 * <p>Found by walking up from the working directory (Maven Surefire runs a module's tests in the module directory;
 * an IDE may use the project root) to the first directory that holds {@code fixtures/pulse-samples/SOURCES.md}.
 */
public final class Fixtures {

  /** What marks the project's fixtures folder, relative to the directory that holds it. */
  private static final Path MARKER = Path.of("fixtures", "pulse-samples", "SOURCES.md");

  private static volatile Path root;

  private Fixtures() {}

  /** The project's {@code fixtures/} folder, absolute. */
  public static Path root() {
    Path found = root;
    if (found == null) {
      found = find(Path.of("").toAbsolutePath().normalize());
      root = found;
    }
    return found;
  }

  /** {@code fixtures/pulse-samples}: real Pulse message bodies. */
  public static Path pulseSamples() {
    return root().resolve("pulse-samples");
  }

  /** {@code fixtures/buildapi-samples}: real buildapi self-serve and reporter responses. */
  public static Path buildapiSamples() {
    return root().resolve("buildapi-samples");
  }

  /**
   * {@code fixtures/taskcluster-samples}: real Taskcluster queue Pulse messages with their task definitions, a real
   * try {@code actions.json} and a real rendered retrigger hook payload.
   */
  public static Path taskclusterSamples() {
    return root().resolve("taskcluster-samples");
  }

  static Path find(Path start) {
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(MARKER))) {
        return dir.resolve("fixtures");
      }
    }
    throw new IllegalStateException("No fixtures folder found: looked for " + MARKER
        + " in " + start + " and every directory above it. The samples live in the project's top-level fixtures/"
        + " folder; run the tests from inside the project (Maven runs them in the module directory).");
  }
}
