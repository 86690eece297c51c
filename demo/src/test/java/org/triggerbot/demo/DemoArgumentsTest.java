package org.triggerbot.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code triggerbot demo}'s arguments: bad ones exit 2 with a sentence, before anything starts. */
class DemoArgumentsTest {

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Demo.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void ciMustBeBuildbotOrTaskcluster() throws Exception {
    Run r = run("--ci", "jenkins");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--ci needs buildbot or taskcluster"), r.err());
    assertEquals(2, run("--ci").code());
  }

  @Test
  void aTaskclusterDayTakesNoBuildbotFeed() throws Exception {
    Run r = run("--ci", "taskcluster", "--input", "feed.jsonl");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--input is a buildbot Pulse feed"), r.err());
  }

  @Test
  void aBadPolicyKeyIsNamed() throws Exception {
    Run r = run("--ci", "taskcluster", "--set", "no.such.key=1");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("no.such.key"), r.err());
  }

  @Test
  void helpNamesTheTaskclusterDay() throws Exception {
    Run r = run("--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("--ci taskcluster"), r.out());
  }
}
