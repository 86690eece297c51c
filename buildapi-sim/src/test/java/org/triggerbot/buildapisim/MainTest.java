package org.triggerbot.buildapisim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: arguments, exit codes, the printed base URL, seeding and secrets. */
class MainTest {

  private static final String PASSWORD = "s3cret-from-file";
  private static final Pattern STARTED = Pattern.compile("buildapi simulator at (http://\\S+/self-serve)");

  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Test
  void helpPrintsUsageAndExitsZero() {
    assertEquals(0, run(List.of("--help"), Map.of(), new CountDownLatch(0)));
    assertTrue(text(out).contains("usage: triggerbot buildapi-sim"));
    assertTrue(text(out).contains("--password-file"));
  }

  @Test
  void badArgumentsExitTwoWithAMessage() throws IOException {
    Path badSeed = Files.writeString(dir.resolve("bad.json"), "[{\"branch\": \"try\", \"revision\": \"abc\"}]");
    Path notJson = Files.writeString(dir.resolve("not.json"), "{oops");
    Path unknownField = Files.writeString(dir.resolve("unknown.json"),
        "[{\"branch\": \"try\", \"revision\": \"abc\", \"buildername\": \"b\", \"result\": 2}]");
    List<List<String>> cases = List.of(
        List.of("--bogus"),
        List.of("--port"),
        List.of("--port", "eighty"),
        List.of("--port", "70000"),
        List.of("--job-lag", "30s"),
        List.of("--job-lag", "PT-1S"),
        List.of("--user", "triggerbot"),
        List.of("--password-file", dir.resolve("nowhere").toString()),
        List.of("--user", "triggerbot", "--password-file", dir.resolve("nowhere").toString()),
        List.of("--password", "visible"),
        List.of("--seed", dir.resolve("missing.json").toString()),
        List.of("--seed", badSeed.toString()),
        List.of("--seed", notJson.toString()),
        List.of("--seed", unknownField.toString()));
    for (List<String> args : cases) {
      err.reset();
      assertEquals(2, run(args, Map.of(), new CountDownLatch(0)), args.toString());
      assertTrue(text(err).startsWith("triggerbot buildapi-sim: "), args + ": " + text(err));
      assertFalse(text(err).contains("visible"), "a password given on the command line is not echoed");
    }
  }

  @Test
  void servesTheSeedWithAuthenticationUntilStopped() throws Exception {
    Path passwordFile = Files.writeString(dir.resolve("password"), PASSWORD + "\n");
    Path seed = Files.writeString(dir.resolve("seed.json"), """
        [{"branch": "try", "revision": "146071751b1e5d16b87786f6e60485222c28c202",
          "buildername": "Linux x86-64 try build", "status": 2},
         {"branch": "try", "revision": "146071751b1e5d16b87786f6e60485222c28c202",
          "buildername": "Windows 7 try opt test mochitest-1"}]
        """);
    CountDownLatch stop = new CountDownLatch(1);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run(List.of("--port", "0",
        "--user", "sheriff", "--password-file", passwordFile.toString(), "--seed", seed.toString(),
        "--job-lag", "PT0S"), Map.of(), stop));
    try {
      String baseUrl = awaitBaseUrl(exit);

      HttpResponse<String> unauthenticated = new SimClient(baseUrl, null, null)
          .getRevision("try", "146071751b1e");
      JsonNode items = new SimClient(baseUrl, "sheriff", PASSWORD).revisionItems("try", "146071751b1e");

      assertEquals(401, unauthenticated.statusCode());
      assertEquals(2, items.size());
      assertEquals(2, items.get(1).get("status").asInt());
      assertEquals("Linux x86-64 try build", items.get(1).get("buildername").asText());
      assertEquals(0, items.get(0).get("status").asInt(), "status defaults to 0");
    } finally {
      stop.countDown();
    }
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
    assertFalse(text(out).contains(PASSWORD) || text(err).contains(PASSWORD), "the password is never printed");
  }

  @Test
  void thePasswordMayComeFromTheEnvironment() throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run(
        List.of("--port", "0", "--user", "triggerbot"), Map.of(Main.PASSWORD_ENV, "from-env"), stop));
    try {
      String baseUrl = awaitBaseUrl(exit);
      HttpResponse<String> response = new SimClient(baseUrl, "triggerbot", "from-env").getRevision("try", "abc");
      assertEquals(404, response.statusCode(), "authenticated, and the revision is unknown");
    } finally {
      stop.countDown();
    }
    assertEquals(0, exit.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aPortInUseExitsOne() {
    try (BuildapiSimulator taken = BuildapiSimulator.start(SimulatorOptions.defaults())) {
      assertEquals(1, run(List.of("--port", Integer.toString(taken.port())), Map.of(), new CountDownLatch(0)));
      assertTrue(text(err).contains(Integer.toString(taken.port())), text(err));
    }
  }

  private int run(List<String> args, Map<String, String> env, CountDownLatch stop) {
    return Main.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), stop, false);
  }

  private String awaitBaseUrl(CompletableFuture<Integer> exit) {
    SimClient.awaitCondition("the simulator to print its URL", Duration.ofSeconds(10),
        () -> STARTED.matcher(text(out)).find() || exit.isDone());
    Matcher matcher = STARTED.matcher(text(out));
    if (!matcher.find()) {
      throw new AssertionError("exited with " + exit.join() + " before starting: " + text(err));
    }
    return matcher.group(1);
  }

  private static String text(ByteArrayOutputStream stream) {
    return stream.toString(StandardCharsets.UTF_8);
  }
}
