package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's headless Chromium, run as a command ({@code chromium --headless --dump-dom URL}, {@code --screenshot}):
 * a real browser parsing and laying out the pages, with nothing to install from the network at test time. Its
 * background traffic (updates, sync, field trials) is switched off: the tests talk to loopback only.
 */
final class Chromium {

  /**
   * Where Debian's package puts it, used when {@code chromium} is not on the {@code PATH}; {@code CHROMIUM} in the
   * environment may name another binary.
   */
  static final String DEFAULT_BINARY = "/usr/bin/chromium";
  private static final long TIMEOUT_SECONDS = 90;

  private final Path binary;
  private final Path workDir;

  private Chromium(Path binary, Path workDir) {
    this.binary = binary;
    this.workDir = workDir;
  }

  /**
   * The browser, or a test failure that says how to install it: the pages are part of the product, so a machine
   * without a browser cannot pass their tests (no skip).
   */
  static Chromium find(Path workDir) throws IOException {
    String configured = System.getenv("CHROMIUM");
    Path binary = configured == null || configured.isBlank() ? onPath("chromium") : Path.of(configured);
    if (!Files.isExecutable(binary)) {
      fail("headless Chromium is needed to test the processor's HTML pages, and " + binary + " is missing: install "
          + "Debian's chromium (apt-get update && apt-get install -y chromium; .ci/run does it) or set CHROMIUM to "
          + "a Chromium binary");
    }
    Files.createDirectories(workDir);
    return new Chromium(binary, workDir);
  }

  /** {@code name} in a directory of {@code PATH}, else {@link #DEFAULT_BINARY}. */
  private static Path onPath(String name) {
    String path = System.getenv("PATH");
    for (String dir : path == null ? new String[0] : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
        return Path.of(dir, name);
      }
    }
    return Path.of(DEFAULT_BINARY);
  }

  /** The DOM of {@code url} after the page loaded, serialised as HTML. */
  String dumpDom(String url) throws IOException, InterruptedException {
    return run(List.of("--dump-dom", url), "dump-dom");
  }

  /** Saves a {@code width}x{@code height} screenshot of {@code url} as PNG at {@code png}. */
  void screenshot(String url, Path png, int width, int height) throws IOException, InterruptedException {
    Files.createDirectories(png.toAbsolutePath().getParent());
    Files.deleteIfExists(png);
    // Draw only once layout and every compositor stage are done: without it a screenshot can catch the page
    // half-rastered (seen once: a table's lower rows blank).
    run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
        "--hide-scrollbars", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=2000", url),
        "screenshot");
    assertTrue(Files.size(png) > 1000, "a screenshot at " + png);
  }

  private String run(List<String> args, String what) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--metrics-recording-only", "--user-data-dir=" + workDir.resolve("profile")));
    command.addAll(args);
    Path stderr = workDir.resolve(what + ".stderr.txt");
    Process process = new ProcessBuilder(command).redirectError(stderr.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("chromium " + what + " did not finish within " + TIMEOUT_SECONDS + " s; its stderr: " + stderr);
    }
    assertEquals(0, process.exitValue(), "chromium " + what + " failed; its stderr:\n" + tail(stderr));
    return new String(out, StandardCharsets.UTF_8);
  }

  private static String tail(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  /** The text a person sees in serialised HTML: the tags dropped, the character references read. */
  static String text(String html) {
    return html.replaceAll("(?s)<style>.*?</style>", " ").replaceAll("<[^>]+>", " ")
        .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
        .replace("&nbsp;", " ").replace("&amp;", "&").replaceAll("\\s+", " ");
  }
}
