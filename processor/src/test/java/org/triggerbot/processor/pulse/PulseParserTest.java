package org.triggerbot.processor.pulse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.testsupport.Fixtures;
import org.triggerbot.testsupport.pulse.PulseJson;

/** SPEC section 3: reading mozillapulse buildbot bodies, on the real samples and on crafted bad input. */
class PulseParserTest {

  /** The project's fixtures/pulse-samples (real messages, MPL-2.0: see its SOURCES.md). */
  private static final Path FIXTURES = Fixtures.pulseSamples();
  private static final Path BUILDBOT = FIXTURES.resolve("buildbot-exchange-build");
  private static final Path CAPTURES = BUILDBOT.resolve("treeherder-capture-2013-04-11");
  private static final Path THE_FINISHED = BUILDBOT.resolve(
      "pulsetranslator-test-messages/mozilla-aurora/build.mozilla-aurora-win32-l10n-nightly-1.10.finished.json");

  private static final long MAX = 1_048_576L;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final PulseParser parser = new PulseParser(Set.of("try"), MAX);

  // --- helpers -----------------------------------------------------------------------------------------------

  private static Path fixtures() {
    if (!Files.isDirectory(FIXTURES)) {
      fail("fixtures folder missing: " + FIXTURES + " (expected the project's fixtures/pulse-samples)");
    }
    return FIXTURES;
  }

  static Stream<Path> fixtureFiles() {
    Path root = fixtures();
    try (Stream<Path> walk = Files.walk(root)) {
      List<Path> files =
          walk.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".json")).sorted().toList();
      assertTrue(files.size() >= 100, "expected the ~190 sample files under " + root + ", found " + files.size());
      return files.stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] read(Path p) {
    fixtures();
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode json(Path p) {
    try {
      return (ObjectNode) MAPPER.readTree(read(p));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] bytes(JsonNode n) {
    return bytes(n.toString());
  }

  private ParseOutcome parse(String body) {
    return parser.parse(bytes(body));
  }

  private static PushEvent accepted(ParseOutcome o) {
    return assertInstanceOf(ParseOutcome.Accepted.class, o, () -> "expected Accepted, got " + o).event();
  }

  private static void assertRejected(RejectReason reason, ParseOutcome o) {
    ParseOutcome.Rejected r = assertInstanceOf(ParseOutcome.Rejected.class, o, () -> "expected Rejected, got " + o);
    assertEquals(reason, r.reason(), () -> "error: " + r.error());
    assertNotNull(r.error());
    assertFalse(r.error().isBlank());
  }

  private static void assertOutOfScope(ParseOutcome o) {
    assertInstanceOf(ParseOutcome.OutOfScope.class, o, () -> "expected OutOfScope, got " + o);
  }

  /** A valid finished test job of try, result 2, as {@link PulseJson} writes it; {@code edit} changes it. */
  private static ObjectNode finished(Consumer<ObjectNode> edit) {
    ObjectNode n = PulseJson.test("mochitest-1").node("finished", 2);
    edit.accept(n);
    return n;
  }

  private static ObjectNode build(ObjectNode root) {
    return (ObjectNode) root.get("payload").get("build");
  }

  private static ObjectNode meta(ObjectNode root) {
    return (ObjectNode) root.get("_meta");
  }

  private static ArrayNode properties(ObjectNode root) {
    return (ArrayNode) build(root).get("properties");
  }

  /** Sets property {@code name} (every occurrence) to {@code value}. */
  private static void setProperty(ObjectNode root, String name, JsonNode value) {
    for (JsonNode p : properties(root)) {
      if (p.get(0).asText().equals(name)) {
        ((ArrayNode) p).set(1, value);
      }
    }
  }

  private static void setProperty(ObjectNode root, String name, String value) {
    setProperty(root, name, MAPPER.getNodeFactory().textNode(value));
  }

  private static void removeProperty(ObjectNode root, String name) {
    ArrayNode props = properties(root);
    for (int i = props.size() - 1; i >= 0; i--) {
      if (props.get(i).get(0).asText().equals(name)) {
        props.remove(i);
      }
    }
  }

  private static void addProperty(ObjectNode root, String name, String value) {
    properties(root).addArray().add(name).add(value).add("Test");
  }

  // --- (a) every real sample, without throwing ---------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtureFiles")
  void everySampleParsesToAnOutcomeWithoutThrowing(Path file) {
    ParseOutcome o = parser.parse(read(file));
    assertNotNull(o);
    assertTrue(o instanceof ParseOutcome.Accepted || o instanceof ParseOutcome.OutOfScope
        || o instanceof ParseOutcome.Rejected, () -> "unexpected " + o);
    // None of the samples is a started/finished message of try.
    assertFalse(o instanceof ParseOutcome.Accepted, () -> "unexpectedly accepted: " + o);
  }

  @Test
  void everyBuildbotSampleIsOutOfScopeWithTryEnabled() {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(fixtures().resolve("buildbot-exchange-build"))) {
      files = walk.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertEquals(130, files.size(), "55 treeherder captures and 75 pulsetranslator messages (SOURCES.md)");
    for (Path f : files) {
      // log_uploaded repeats finished; the one finished is a mozilla-aurora build.
      assertOutOfScope(parser.parse(read(f)));
    }
  }

  @Test
  void theFourteenTryCapturesAreLogUploadedAndOutOfScope() {
    List<Path> tries;
    try (Stream<Path> list = Files.list(fixtures().resolve("buildbot-exchange-build/treeherder-capture-2013-04-11"))) {
      tries = list.filter(p -> p.getFileName().toString().matches("\\d\\d-build\\.try[-_].*")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertEquals(14, tries.size(), "SOURCES.md: 14 are branch try");
    for (Path f : tries) {
      String branch = null;
      for (JsonNode prop : properties(json(f))) {
        if (prop.get(0).asText().equals("branch")) {
          branch = prop.get(1).asText();
        }
      }
      assertEquals("try", branch, f.toString());
      assertTrue(meta(json(f)).get("routing_key").asText().endsWith(".log_uploaded"));
      assertOutOfScope(parser.parse(read(f)));
    }
  }

  @Test
  void theRealFinishedMessageIsOutOfScopeUnlessItsBranchIsEnabled() {
    assertOutOfScope(parser.parse(read(THE_FINISHED)));

    PushEvent e = accepted(new PulseParser(Set.of("try", "mozilla-aurora"), MAX).parse(read(THE_FINISHED)));
    assertEquals("mozilla-aurora", e.getBranch());
    assertEquals("8733c7ad72a4", e.getRevision());
    assertEquals("Firefox mozilla-aurora win32 l10n nightly-1", e.getBuilder());
    assertEquals("build.mozilla-aurora-win32-l10n-nightly-1.10.finished", e.getRoutingKey());
    assertEquals(10L, e.getBuildNumber());
    assertEquals(EventKind.FINISHED, e.getEvent());
    assertEquals(0, e.getResult());
    assertFalse(e.getTestJob(), "an l10n nightly build, not a test job");
    assertNull(e.getComments(), "no changes in its source stamp");
    assertNull(e.getWho());
    assertEquals(Instant.parse("2015-11-04T16:00:37Z").toEpochMilli(), e.getEventTime()); // 08:00:37-08:00
  }

  @Test
  void aTryCaptureAsAFinishedMessageIsAccepted() {
    ObjectNode n = json(CAPTURES.resolve("11-build.try_win7-debug_test-mochitest-5.0.log_uploaded.json"));
    meta(n).put("routing_key", "build.try_win7-debug_test-mochitest-5.0.finished");

    PushEvent e = accepted(parser.parse(bytes(n)));
    assertEquals("try", e.getBranch());
    assertEquals("47b937880eca", e.getRevision());
    assertEquals("Rev3 WINNT 6.1 try debug test mochitest-5", e.getBuilder());
    assertEquals("build.try_win7-debug_test-mochitest-5.0.finished", e.getRoutingKey());
    assertEquals(0L, e.getBuildNumber());
    assertEquals(EventKind.FINISHED, e.getEvent());
    assertEquals(0, e.getResult());
    assertTrue(e.getTestJob());
    assertEquals("adam@nostrum.com", e.getWho());
    assertEquals("try: -b do -p all -u mochitests,crashtest -t none", e.getComments());
    assertEquals(Instant.parse("2013-04-11T14:06:50Z").toEpochMilli(), e.getEventTime()); // 15:06:50+01:00
  }

  @Test
  void aTryCaptureWithAFullRevisionIsTruncatedAndABuildIsNotATestJob() {
    ObjectNode n = json(CAPTURES.resolve("07-build.try-ics_armv7a_gecko-debug.4593.log_uploaded.json"));
    meta(n).put("routing_key", "build.try-ics_armv7a_gecko-debug.4593.finished");
    PushEvent e = accepted(parser.parse(bytes(n)));
    assertEquals("4909b951c106", e.getRevision(), "from 4909b951c106bdb60710c1977202b53b55434ab5");
    assertEquals(4593L, e.getBuildNumber());
    assertFalse(e.getTestJob());
    assertEquals("bsmith@mozilla.com", e.getWho());
  }

  @Test
  void aTalosCaptureIsATestJob() {
    ObjectNode n = json(CAPTURES.resolve("03-build.try_fedora_test-dromaeojs.166.log_uploaded.json"));
    meta(n).put("routing_key", "build.try_fedora_test-dromaeojs.166.started");
    PushEvent e = accepted(parser.parse(bytes(n)));
    assertTrue(e.getTestJob());
    assertEquals("Rev3 Fedora 12 try talos dromaeojs", e.getBuilder());
    assertEquals(EventKind.STARTED, e.getEvent());
    assertNull(e.getResult(), "null on started, although the capture has results 0");
  }

  /** The SPEC's pattern, written independently of the parser. */
  private static boolean specTestJob(String branch, String routingKey) {
    return Pattern.compile("build\\.((" + Pattern.quote(branch)
        + ")[-_](.*?)(-debug|-o-debug|-pgo|_pgo|_test)?[-_](test|unittest|pgo)-(.*?))\\.(\\d+)\\.(started|finished)")
        .matcher(routingKey).matches();
  }

  @Test
  void everyCaptureAsAFinishedMessageIsAcceptedWhenItsBranchIsEnabled() throws IOException {
    List<ObjectNode> captures = new ArrayList<>();
    Set<String> branches = new HashSet<>();
    try (Stream<Path> list = Files.list(fixtures().resolve("buildbot-exchange-build/treeherder-capture-2013-04-11"))) {
      for (Path f : list.sorted().toList()) {
        ObjectNode n = json(f);
        String rk = meta(n).get("routing_key").asText();
        assertTrue(rk.endsWith(".log_uploaded"), rk);
        meta(n).put("routing_key", rk.substring(0, rk.length() - ".log_uploaded".length()) + ".finished");
        captures.add(n);
        for (JsonNode p : properties(n)) {
          if (p.get(0).asText().equals("branch")) {
            branches.add(p.get(1).asText());
          }
        }
      }
    }
    assertEquals(55, captures.size());
    PulseParser all = new PulseParser(branches, MAX);
    int tests = 0;
    for (ObjectNode n : captures) {
      PushEvent e = accepted(all.parse(bytes(n)));
      String rk = meta(n).get("routing_key").asText();
      assertEquals(specTestJob(e.getBranch(), rk), e.getTestJob(), rk);
      assertEquals(build(n).get("results").intValue(), e.getResult(), rk);
      assertEquals(12, e.getRevision().length(), rk);
      tests += e.getTestJob() ? 1 : 0;
    }
    assertEquals(53, tests, "all but the two builds (07 try-ics_armv7a_gecko-debug, 10 jamun-linux64-debug)");
  }

  // --- (b) accepted: what is read ----------------------------------------------------------------------------

  @Test
  void aValidFinishedTestJob() {
    PushEvent e = accepted(parser.parse(bytes(finished(n -> {}))));
    assertEquals("try", e.getBranch());
    assertEquals("abcdef012345", e.getRevision());
    assertEquals("Ubuntu VM 12.04 try opt test mochitest-1", e.getBuilder());
    assertEquals("build.try_ubuntu64_vm_test-mochitest-1.0.finished", e.getRoutingKey());
    assertEquals(EventKind.FINISHED, e.getEvent());
    assertEquals(2, e.getResult());
    assertTrue(e.getTestJob());
    assertEquals("try: -b o -p linux -u all -t none", e.getComments());
    assertEquals("dev@example.com", e.getWho());
    assertEquals(PulseJson.T0.toEpochMilli(), e.getEventTime());
  }

  @Test
  void theTryLineAndPusherComeFromTheLastChange() {
    ObjectNode n = finished(root -> {
      ArrayNode changes = (ArrayNode) build(root).get("sourceStamp").get("changes");
      ObjectNode last = changes.addObject();
      last.put("comments", "try: --rebuild 3");
      last.put("who", "last@example.com");
    });
    PushEvent e = accepted(parser.parse(bytes(n)));
    assertEquals("try: --rebuild 3", e.getComments());
    assertEquals("last@example.com", e.getWho());
  }

  @Test
  void noChangesMeansNoTryLineAndNoPusherNotARejection() {
    PushEvent empty = accepted(
        parser.parse(bytes(finished(root -> ((ObjectNode) build(root).get("sourceStamp")).putArray("changes")))));
    assertNull(empty.getComments());
    assertNull(empty.getWho());
    PushEvent none = accepted(parser.parse(bytes(finished(root -> build(root).remove("sourceStamp")))));
    assertNull(none.getComments());
  }

  @Test
  void resultsAreNotReadOnStarted() {
    ObjectNode n = PulseJson.test("a").node("started", null);
    build(n).put("results", "not even a number");
    PushEvent e = accepted(parser.parse(bytes(n)));
    assertEquals(EventKind.STARTED, e.getEvent());
    assertNull(e.getResult());
  }

  @ParameterizedTest(name = "result {0}")
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6})
  void everyBuildbotResultIsReadOnFinished(int result) {
    assertEquals(result, accepted(parse(PulseJson.test("a").finished(result))).getResult());
  }

  @Test
  void revisionIsTruncatedToTwelveCharacters() {
    assertEquals("abcdef012345",
        accepted(parse(PulseJson.test("a").rev("abcdef0123456789abcdef0123456789abcdef01").started())).getRevision());
    assertEquals("abcdef012345", accepted(parse(PulseJson.test("a").rev("abcdef012345").started())).getRevision());
    assertEquals("0123456789ab", accepted(parse(PulseJson.test("a").rev("0123456789abc").started())).getRevision());
  }

  @Test
  void repeatedPropertyNamesTheLastOneWins() {
    // branch: the last one decides whether the message is in scope at all
    PushEvent e = accepted(parser.parse(bytes(finished(n -> {
      properties(n).insert(0, MAPPER.createArrayNode().add("branch").add("mozilla-inbound").add("Builder"));
    }))));
    assertEquals("try", e.getBranch());
    assertOutOfScope(parser.parse(bytes(finished(n -> addProperty(n, "branch", "mozilla-inbound")))));

    // revision: a bad one followed by a good one is fine, the reverse is not
    PushEvent r = accepted(parser.parse(bytes(finished(n -> {
      properties(n).insert(0, MAPPER.createArrayNode().add("revision").add("NOT A REVISION").add("Build"));
      addProperty(n, "revision", "1234567890abcdef");
    }))));
    assertEquals("1234567890ab", r.getRevision());
    assertRejected(RejectReason.BAD_REVISION,
        parser.parse(bytes(finished(n -> addProperty(n, "revision", "NOT A REVISION")))));

    // buildername
    PushEvent b = accepted(parser.parse(bytes(finished(n -> addProperty(n, "buildername", "second name")))));
    assertEquals("second name", b.getBuilder());
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "2015-06-01T10:00:00Z, 2015-06-01T10:00:00Z",
      "2015-06-01T12:00:00.123456+02:00, 2015-06-01T10:00:00.123Z",
      "2015-06-01T10:00:00.999999Z, 2015-06-01T10:00:00.999Z",      // truncated, not rounded
      "2015-06-01T10:00:00.5Z, 2015-06-01T10:00:00.500Z",
      "2015-06-01T05:30:00.000001-04:30, 2015-06-01T10:00:00Z",
      "2015-06-01T10:00:00-00:00, 2015-06-01T10:00:00Z",
      "2015-06-02T00:30:00+14:30, 2015-06-01T10:00:00Z",
      "2015-06-01t10:00:00z, 2015-06-01T10:00:00Z"})                // RFC 3339 5.6: T and Z may be lower case
  void sentIsRfc3339WithAnOffsetTruncatedToMilliseconds(String sent, String expected) {
    ObjectNode n = finished(root -> meta(root).put("sent", sent));
    assertEquals(Instant.parse(expected).toEpochMilli(), accepted(parser.parse(bytes(n))).getEventTime());
    assertEquals(Instant.parse(expected).toEpochMilli(), PulseEnvelope.read(bytes(n)).sent());
  }

  @Test
  void sentWithMoreThanNineFractionalDigitsIsStillRfc3339() {
    // RFC 3339: time-secfrac = "." 1*DIGIT (any number of digits); SPEC: "fractional seconds truncated to ms".
    ObjectNode n = finished(root -> meta(root).put("sent", "2015-06-01T12:00:00.1234567891+02:00"));
    assertEquals(Instant.parse("2015-06-01T10:00:00.123Z").toEpochMilli(),
        accepted(parser.parse(bytes(n))).getEventTime());
  }

  @ParameterizedTest(name = "sent {0} is not RFC 3339")
  @ValueSource(strings = {
      "2015-06-01T10:00Z",            // partial-time needs seconds
      "2015-06-01T12:00:00+02:00:30"}) // time-numoffset is +hh:mm
  void sentThatIsNotRfc3339IsRejected(String sent) {
    assertRejected(RejectReason.BAD_TIMESTAMP, parser.parse(bytes(finished(root -> meta(root).put("sent", sent)))));
  }

  // --- test-job pattern --------------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0} {1}: {2}")
  @CsvSource({
      "try, build.try_ubuntu64_vm_test-mochitest-1.0.finished, true",
      "try, build.try_ubuntu64_vm-debug_test-mochitest-browser-chrome-3.12.started, true",
      "try, build.try_fedora_test-dromaeojs.166.finished, true",                 // talos
      "try, build.try_win7-debug_test-mochitest-5.0.finished, true",
      "mozilla-beta, build.mozilla-beta_xp_test_pgo-xpcshell.0.finished, true",
      "comm-release, build.comm-release-macosx64-debug-unittest-mochitests-4.89.finished, true",
      "try, build.try-linux64.0.finished, false",                                // builds
      "try, build.try-linux64-debug.12.started, false",
      "try, build.try-ics_armv7a_gecko-debug.4593.finished, false",
      "try, build.try_ubuntu64_vm_test-mochitest-1.0.log_uploaded, false",
      "try, build.mozilla-inbound_ubuntu64_vm_test-mochitest-1.0.finished, false",  // another branch
      // the whole routing key must match
      "try, build.foo.build.try_ubuntu64_vm_test-mochitest-1.0.finished, false",
      "try, xbuild.try_ubuntu64_vm_test-mochitest-1.0.finished, false",
      "try, build.try_ubuntu64_vm_test-mochitest-1.0.finished.x, false",
      "try, build.try_ubuntu64_vm_test-mochitest-1.0.finishedx, false",
      // the branch is regex-escaped
      "try.x, build.try.x_ubuntu64_vm_test-mochitest-1.0.finished, true",
      "try.x, build.tryAx_ubuntu64_vm_test-mochitest-1.0.finished, false",
      "try+, build.try+_linux_test-a.0.started, true",
      "try+, build.tryyy_linux_test-a.0.started, false",
      "try|mozilla-central, build.mozilla-central_linux_test-a.0.started, false"})
  void testJobPattern(String branch, String routingKey, boolean testJob) {
    assertEquals(testJob, parser.isTestJob(branch, routingKey));
  }

  @Test
  void aBranchNameWithARegexMetacharacterDoesNotMatchOtherBuilders() {
    PulseParser p = new PulseParser(Set.of("try.x"), MAX);
    ObjectNode n = PulseJson.test("mochitest-1").branch("try.x").node("finished", 2);
    assertTrue(accepted(p.parse(bytes(n))).getTestJob(), meta(n).get("routing_key").asText());
    meta(n).put("routing_key", "build.tryAx_ubuntu64_vm_test-mochitest-1.0.finished");
    assertFalse(accepted(p.parse(bytes(n))).getTestJob());
  }

  // --- (b) rejections ----------------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"garbage", "", "   ", "[]", "[{\"_meta\": {}}]", "null", "42", "\"a string\"", "{", "{\"a\":",
      "{'single': 'quotes'}", "\u0000\u0001"})
  void notAJsonObjectIsNotJson(String body) {
    assertRejected(RejectReason.NOT_JSON, parse(body));
  }

  @Test
  void aTruncatedBodyIsNotJson() {
    String body = PulseJson.test("a").finished(2);
    assertRejected(RejectReason.NOT_JSON, parse(body.substring(0, body.length() / 2)));
    assertRejected(RejectReason.NOT_JSON, parse(body.substring(0, body.length() - 1)));
  }

  @Test
  void trailingDataAfterTheObjectIsNotJson() {
    // A body is one JSON value; "{...} garbage" is not JSON.
    String body = PulseJson.test("a").finished(2);
    assertRejected(RejectReason.NOT_JSON, parse(body + " garbage"));
    assertRejected(RejectReason.NOT_JSON, parse(body + body));
  }

  @Test
  void invalidUtf8IsNotJson() {
    String body = PulseJson.test("a").comments("try: -b o").finished(2);
    int at = body.indexOf("-b o");
    byte[] head = bytes(body.substring(0, at));
    byte[] tail = bytes(body.substring(at));
    byte[] bad = new byte[head.length + 2 + tail.length];
    System.arraycopy(head, 0, bad, 0, head.length);
    bad[head.length] = (byte) 0xC3; // a UTF-8 lead byte followed by a non-continuation byte, inside a string
    bad[head.length + 1] = (byte) 0x28;
    System.arraycopy(tail, 0, bad, head.length + 2, tail.length);
    assertRejected(RejectReason.NOT_JSON, parser.parse(bad));
  }

  @Test
  void oversizedBodiesAreRejectedBeforeAnythingElse() {
    byte[] body = bytes(PulseJson.test("a").finished(2));
    accepted(new PulseParser(Set.of("try"), body.length).parse(body)); // exactly the limit is fine
    assertRejected(RejectReason.OVERSIZED, new PulseParser(Set.of("try"), body.length - 1).parse(body));
    assertRejected(RejectReason.OVERSIZED, new PulseParser(Set.of("try"), 10).parse(bytes("not json at all")));
    byte[] otherExchange =
        bytes(PulseJson.test("a").exchange("exchange/taskcluster-queue/v1/task-completed").finished(2));
    assertRejected(RejectReason.OVERSIZED, new PulseParser(Set.of("try"), 10).parse(otherExchange));
  }

  @Test
  void theDefaultLimitIsOneMebibyte() {
    ObjectNode n = finished(root -> {});
    String json = n.toString();
    int pad = (int) MAX - json.length();
    meta(n).put("padding", "x".repeat(pad - ",\"padding\":\"\"".length()));
    byte[] exactly = bytes(n);
    assertEquals(MAX, exactly.length);
    accepted(parser.parse(exactly));
    meta(n).put("padding", "x".repeat(pad - ",\"padding\":\"\"".length() + 1));
    assertRejected(RejectReason.OVERSIZED, parser.parse(bytes(n)));
  }

  static Stream<Consumer<ObjectNode>> missingFields() {
    return Stream.of(
        n -> n.remove("_meta"),
        n -> n.remove("payload"),
        n -> ((ObjectNode) n.get("payload")).remove("build"),
        n -> meta(n).remove("exchange"),
        n -> meta(n).remove("routing_key"),
        n -> build(n).remove("properties"),
        n -> build(n).putNull("properties"),
        n -> removeProperty(n, "branch"),
        n -> removeProperty(n, "revision"),
        n -> removeProperty(n, "buildername"),
        n -> setProperty(n, "buildername", MAPPER.getNodeFactory().nullNode()),
        n -> build(n).putNull("results"),
        n -> build(n).remove("results"));
  }

  @ParameterizedTest
  @MethodSource("missingFields")
  void missingField(Consumer<ObjectNode> edit) {
    assertRejected(RejectReason.MISSING_FIELD, parser.parse(bytes(finished(edit))));
  }

  static Stream<Consumer<ObjectNode>> wrongTypes() {
    return Stream.of(
        n -> build(n).put("results", "2"),
        n -> build(n).put("results", 2.5),
        n -> build(n).put("results", true),
        n -> build(n).putArray("results").add(2),
        n -> build(n).putObject("results"),
        n -> setProperty(n, "revision", MAPPER.getNodeFactory().numberNode(123456789012345L)),
        n -> setProperty(n, "buildername", MAPPER.getNodeFactory().numberNode(7)),
        n -> setProperty(n, "branch", MAPPER.getNodeFactory().arrayNode().add("try")),
        n -> build(n).put("properties", "branch=try"),
        n -> ((ObjectNode) n.get("payload")).put("build", "a string"),
        n -> n.put("_meta", 1),
        n -> meta(n).put("routing_key", 5),
        n -> meta(n).put("exchange", true));
  }

  @ParameterizedTest
  @MethodSource("wrongTypes")
  void wrongType(Consumer<ObjectNode> edit) {
    assertRejected(RejectReason.WRONG_TYPE, parser.parse(bytes(finished(edit))));
  }

  @ParameterizedTest(name = "revision \"{0}\"")
  @ValueSource(strings = {"ABCDEF012345", "Abcdef012345", "abcdef01234", "abcdefg12345", "abcdef01234z",
      "abcdef0123456789abcdef0123456789abcdef012", " abcdef012345", "abcdef012345\n", "abcdef01 2345",
      "0x1234567890ab"})
  void badRevision(String revision) {
    assertRejected(RejectReason.BAD_REVISION, parse(PulseJson.test("a").rev(revision).finished(2)));
  }

  @Test
  void anEmptyRevisionIsRejected() {
    assertInstanceOf(ParseOutcome.Rejected.class, parse(PulseJson.test("a").rev("").finished(2)));
  }

  @Test
  void revisionLengthBoundsAreTwelveAndForty() {
    accepted(parse(PulseJson.test("a").rev("0123456789ab").finished(2)));
    accepted(parse(PulseJson.test("a").rev("0123456789abcdef0123456789abcdef01234567").finished(2)));
  }

  static Stream<Consumer<ObjectNode>> badTimestamps() {
    return Stream.of(
        n -> meta(n).remove("sent"),
        n -> meta(n).putNull("sent"),
        n -> meta(n).put("sent", "yesterday"),
        n -> meta(n).put("sent", ""),
        n -> meta(n).put("sent", "2015-06-01T10:00:00"),         // no offset
        n -> meta(n).put("sent", "2015-06-01"),
        n -> meta(n).put("sent", "2015-13-01T10:00:00Z"),
        n -> meta(n).put("sent", "2015-06-01T10:00:00+0200"),
        n -> meta(n).put("sent", 1433152800),
        n -> meta(n).put("sent", 1433152800.5));
  }

  @ParameterizedTest
  @MethodSource("badTimestamps")
  void badTimestamp(Consumer<ObjectNode> edit) {
    ObjectNode n = finished(edit);
    assertRejected(RejectReason.BAD_TIMESTAMP, parser.parse(bytes(n)));
    assertNull(PulseEnvelope.read(bytes(n)).sent());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"build.try_x.started", "build.try_x.finished", "build..started", "build.try_x.-1.finished",
      "build.try_x.1a.started", "build.try_x.99999999999999999999.finished", "build.try_x..finished",
      "build.started", "build.finished", "build.5.started", "build..5.finished", "build.try_x.٣.started"})
  void badRoutingKey(String routingKey) {
    assertRejected(RejectReason.BAD_ROUTING_KEY,
        parser.parse(bytes(finished(n -> meta(n).put("routing_key", routingKey)))));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"build.try_ubuntu64_vm_test-a.b.7.finished", "build.try_x.y_test-mochitest.3.started",
      "build.try-linux64.12.finished", "build.try_ubuntu64_vm_test-.4.finished"})
  void theBuilderDirectoryMayHoldDotsAndTheTestJobAnswerIsTheUncachedPatterns(String routingKey) {
    for (int round = 0; round < 2; round++) { // the second answer comes from the cache
      ParseOutcome o = parser.parse(bytes(finished(n -> meta(n).put("routing_key", routingKey))));
      PushEvent e = ((ParseOutcome.Accepted) o).event();
      assertEquals(parser.isTestJob("try", routingKey), e.getTestJob(), routingKey);
      assertEquals(Long.parseLong(routingKey.replaceAll(".*\\.(\\d+)\\.[a-z]+$", "$1")), e.getBuildNumber());
    }
  }

  // --- out of scope ------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "exchange {0}")
  @ValueSource(strings = {"exchange/taskcluster-queue/v1/task-completed", "exchange/hgpushes/v1", "exchange/build",
      "exchange/build/normalized", "org.mozilla.exchange.code", ""})
  void otherExchangesAreOutOfScope(String exchange) {
    assertOutOfScope(parse(PulseJson.test("a").exchange(exchange).finished(2)));
    // ... before the rest of the body is looked at
    assertOutOfScope(parser.parse(bytes(finished(n -> {
      meta(n).put("exchange", exchange);
      n.remove("payload");
      meta(n).remove("sent");
    }))));
  }

  @Test
  void bothBuildExchangeNamesAreInScope() {
    accepted(parse(PulseJson.test("a").exchange("exchange/build/").finished(2)));
    accepted(parse(PulseJson.test("a").exchange("org.mozilla.exchange.build").finished(2)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"build.try_ubuntu64_vm_test-mochitest-1.0.log_uploaded", "change.12345.added",
      "request.5678.new", "heartbeat", "build.try_ubuntu64_vm_test-mochitest-1.0.retried", ""})
  void otherEventKindsAreOutOfScope(String routingKey) {
    assertOutOfScope(parser.parse(bytes(finished(n -> meta(n).put("routing_key", routingKey)))));
  }

  @Test
  void logUploadedIsOutOfScopeEvenWithABrokenBody() {
    assertOutOfScope(parse(PulseJson.test("a").rev("NOT HEX").logUploaded(2)));
  }

  static Stream<Consumer<ObjectNode>> brokenBeyondTheBranch() {
    return Stream.of(
        n -> {},
        n -> setProperty(n, "revision", "NOT A REVISION"),
        n -> setProperty(n, "revision", MAPPER.getNodeFactory().numberNode(12)),
        n -> removeProperty(n, "revision"),
        n -> removeProperty(n, "buildername"),
        n -> meta(n).remove("sent"),
        n -> meta(n).put("sent", "yesterday"),
        n -> build(n).putNull("results"),
        n -> build(n).put("results", "2"));
  }

  @ParameterizedTest
  @MethodSource("brokenBeyondTheBranch")
  void aBranchThatIsNotEnabledIsOutOfScopeBeforeFurtherValidation(Consumer<ObjectNode> edit) {
    ObjectNode n = PulseJson.test("mochitest-1").branch("mozilla-inbound").node("finished", 2);
    edit.accept(n);
    assertOutOfScope(parser.parse(bytes(n)));
  }

  @Test
  void branchesAreMatchedExactly() {
    assertOutOfScope(parse(PulseJson.test("a").branch("Try").finished(2)));
    assertOutOfScope(parse(PulseJson.test("a").branch("try-comm-central").finished(2)));
    PulseParser both = new PulseParser(Set.of("try", "try-comm-central"), MAX);
    assertEquals("try-comm-central",
        accepted(both.parse(bytes(PulseJson.test("a").branch("try-comm-central").finished(2)))).getBranch());
  }

  // --- never throws ------------------------------------------------------------------------------------------

  @Test
  void deeplyNestedJsonDoesNotThrow() {
    String deep = "[".repeat(500_000);
    assertInstanceOf(ParseOutcome.Rejected.class, parse(deep));
    String deepObject = "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000);
    assertInstanceOf(ParseOutcome.Rejected.class, parse(deepObject));
    assertNull(PulseEnvelope.read(bytes(deep)).sent());
  }

  @Test
  void fuzzedBodiesNeverThrow() {
    byte[] body = bytes(PulseJson.test("mochitest-1").finished(2));
    Random random = new Random(20150601L);
    int accepted = 0;
    for (int i = 0; i < 5_000; i++) {
      byte[] b = body.clone();
      int edits = 1 + random.nextInt(4);
      for (int k = 0; k < edits; k++) {
        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
      }
      int cut = random.nextInt(10) == 0 ? random.nextInt(b.length) : b.length;
      byte[] fuzzed = java.util.Arrays.copyOf(b, cut);
      ParseOutcome o = parser.parse(fuzzed);
      assertNotNull(o);
      PulseEnvelope.read(fuzzed).sent();
      if (o instanceof ParseOutcome.Accepted) {
        accepted++;
      }
    }
    assertTrue(accepted < 5_000, "some of the fuzzed bodies must be refused");
  }
}
