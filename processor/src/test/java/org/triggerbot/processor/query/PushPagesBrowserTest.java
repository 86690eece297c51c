package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.triggerbot.processor.query.QueryCluster.DEADLINE;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.processor.app.ProcessorService;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * The two pages in a real browser (headless Chromium) against a real processor on a real broker: what a
 * developer sees, as the DOM text, and a screenshot of each under {@code target/screenshots/} to look at.
 *
 * <p>The push under test has every kind of builder: one intermittent (failed, retriggered, passed), one
 * consistently failing (three failed runs: two retriggers, then a skip), one passing, a build job (not shown),
 * and a builder whose name carries markup and quotes, which must show as text.
 */
class PushPagesBrowserTest {

  private static final String APP = "triggerbot-pages";
  private static final String REV = "5eed00c0ffee0123456789abcdef0123456789ab";
  private static final String NASTY = "Ubuntu VM 12.04 try opt test <script>alert(\"x\")</script> 'quoted' & co";
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path stateRoot;

  private static QueryCluster cluster;
  private static ProcessorService processor;
  private static Chromium chromium;

  @BeforeAll
  static void startAProcessorWithPushes() throws Exception {
    chromium = Chromium.find(Path.of("target", "chromium"));
    Files.createDirectories(SCREENSHOTS);
    cluster = QueryCluster.start(stateRoot, 1);
    processor = cluster.instance(APP, null);
    QueryCluster.awaitBalanced(1, processor);

    List<String> bodies = new ArrayList<>(QueryScenario.bodies(QueryScenario.pushes(3)));
    PulseJson build = PulseJson.build("linux64").rev(REV).number(3);
    PulseJson mochitest = PulseJson.test("mochitest-1").rev(REV);
    PulseJson xpcshell = PulseJson.test("xpcshell").rev(REV);
    PulseJson reftest = PulseJson.test("reftest").rev(REV);
    PulseJson nasty = PulseJson.test("nasty").rev(REV).buildername(NASTY);
    bodies.add(build.atMinutes(100).finished(0));
    bodies.add(reftest.number(0).atMinutes(105).started());
    bodies.add(mochitest.number(0).atMinutes(110).finished(2));
    bodies.add(xpcshell.number(0).atMinutes(111).finished(2));
    bodies.add(nasty.number(0).atMinutes(112).finished(1));
    bodies.add(reftest.number(0).atMinutes(120).finished(0));
    bodies.add(mochitest.number(1).atMinutes(130).finished(0));
    bodies.add(xpcshell.number(1).atMinutes(131).finished(2));
    bodies.add(nasty.number(1).atMinutes(132).finished(0));
    bodies.add(xpcshell.number(2).atMinutes(151).finished(2));
    cluster.produce(bodies);

    AtomicReference<String> seen = new AtomicReference<>("nothing yet");
    try {
      Await.until("the push to be FAILING with its eight test runs, and five pushes listed", DEADLINE, () -> {
        HttpResponse<String> r = cluster.get(processor, "/api/pushes/try/" + REV);
        HttpResponse<String> list = cluster.get(processor, "/api/pushes");
        seen.set(r.statusCode() + " " + r.body() + "\nlist: " + list.body());
        if (r.statusCode() != 200 || list.statusCode() != 200) {
          return false;
        }
        JsonNode push = JSON.readTree(r.body());
        int runs = 0;
        for (JsonNode b : push.path("builders")) {
          runs += b.path("runs").size();
        }
        return "FAILING".equals(push.path("verdict").asText()) && runs == 8
            && JSON.readTree(list.body()).path("pushes").size() == 5;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage() + "; last seen: " + seen.get(), e);
    }
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void theRecentPushesPageListsEveryPushWithItsVerdictAndLinks() throws Exception {
    String url = QueryCluster.base(processor) + "/";
    String dom = chromium.dumpDom(url);
    Files.writeString(SCREENSHOTS.resolve("recent-pushes.dom.html"), dom);
    chromium.screenshot(url, SCREENSHOTS.resolve("recent-pushes.png"), 1280, 900);

    String text = Chromium.text(dom);
    assertTrue(text.contains("Recent pushes"), text);
    assertTrue(text.contains("try/" + REV.substring(0, 12)), text);
    for (String verdict : List.of("FAILING", "INTERMITTENT_ONLY", "PENDING", "GREEN")) {
      assertTrue(text.contains(verdict), verdict + " in " + text);
    }
    assertTrue(text.contains("5 pushes, latest first."), text);
    assertTrue(dom.contains("href=\"/pushes/try/" + REV.substring(0, 12) + "\""), "a link to the push: " + dom);
    assertTrue(dom.indexOf(REV.substring(0, 12)) < dom.indexOf(QueryScenario.revision(0).substring(0, 12)),
        "the latest push first");
  }

  @Test
  void thePushPageShowsTheVerdictEachFailingBuildersRunsAndEveryDecisionWithItsReason() throws Exception {
    String url = QueryCluster.base(processor) + "/pushes/try/" + REV;
    String dom = chromium.dumpDom(url);
    Files.writeString(SCREENSHOTS.resolve("push.dom.html"), dom);
    chromium.screenshot(url, SCREENSHOTS.resolve("push.png"), 1280, 900);

    String text = Chromium.text(dom);
    assertTrue(text.contains("try/" + REV.substring(0, 12) + " FAILING"), "the verdict by the push: " + text);
    assertTrue(text.contains("Failing builders (3)"), text);
    assertTrue(
        text.contains("Ubuntu VM 12.04 try opt test xpcshell CONSISTENT_FAILURE #0 failure #1 failure #2 failure"),
        "xpcshell's runs: " + text);
    assertTrue(text.contains("Ubuntu VM 12.04 try opt test mochitest-1 INTERMITTENT #0 failure #1 success"),
        "mochitest's runs: " + text);
    assertTrue(text.contains("TRIGGER_FAILURE retriggered, for evidence on a failure"), text);
    assertTrue(text.contains("SKIP_ALREADY_TRIGGERED not triggered: already triggered on this push"),
        "the third failure's decision: " + text);
    assertTrue(text.contains("2015-06-01 11:51:00"), "the decision's event time: " + text);
    assertTrue(text.contains("Other test builders (1)") && text.contains("1 PASS"), text);
    assertTrue(text.contains("Builders seen (J) 5"), "J counts the build job: " + text);
    assertTrue(text.contains("Failure-retriggered builders (f) 3"), text);
    assertTrue(text.contains("dev@example.com"), text);

    assertTrue(text.contains(NASTY + " INTERMITTENT #0 warnings #1 success"), "the name as text: " + text);
    assertFalse(dom.toLowerCase(Locale.ROOT).contains("<script"),
        "no script element came from the builder's name: " + dom);
    assertEquals(1, dom.split("&lt;script&gt;alert").length - 1, "the name, escaped, once in its card");
  }
}
