package org.triggerbot.processor.whatif;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.triggerbot.schemas.DecisionReason;
import org.triggerbot.schemas.VerdictState;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The what-if chart: well-formed, one marker per policy and series, placed the right way, escaped, both formats. */
class WhatIfChartTest {

  private static final String[] CLASSES = {"point intermittent", "point failing", "point unknown"};

  @TempDir
  Path dir;

  /** A row of {@code pushes} pushes with the given INTERMITTENT_ONLY, FAILING, UNKNOWN counts (the rest GREEN). */
  static WhatIfRow row(int index, String policy, long triggerJobs, long pushes, long intermittent, long failing,
      long unknown) {
    Map<VerdictState, Long> verdicts = new EnumMap<>(VerdictState.class);
    for (VerdictState state : VerdictState.values()) {
      verdicts.put(state, 0L);
    }
    verdicts.put(VerdictState.INTERMITTENT_ONLY, intermittent);
    verdicts.put(VerdictState.FAILING, failing);
    verdicts.put(VerdictState.UNKNOWN, unknown);
    verdicts.put(VerdictState.GREEN, pushes - intermittent - failing - unknown);
    Map<DecisionReason, Long> reasons = new EnumMap<>(DecisionReason.class);
    for (DecisionReason reason : WhatIfRow.REASONS) {
      reasons.put(reason, 0L);
    }
    reasons.put(DecisionReason.TRIGGER_FAILURE, triggerJobs);
    return new WhatIfRow(index, policy, "v" + index, pushes, verdicts, triggerJobs, reasons, triggerJobs,
        triggerJobs, 0, 0, 0);
  }

  private static Document parse(String xml) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    DocumentBuilder builder = factory.newDocumentBuilder();
    return builder.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<Element> byClass(Document doc, String cssClass) {
    List<Element> found = new ArrayList<>();
    NodeList all = doc.getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (cssClass.equals(e.getAttribute("class"))) {
        found.add(e);
      }
    }
    return found;
  }

  private static List<String> texts(Document doc, String cssClass) {
    return byClass(doc, cssClass).stream().map(Element::getTextContent).toList();
  }

  /** The marker of {@code label} in a series: found by its tooltip, which starts with the label. */
  private static Element marker(Document doc, String cssClass, String label) {
    List<Element> matches = byClass(doc, cssClass).stream()
        .filter(e -> e.getElementsByTagName("title").item(0).getTextContent().startsWith(label + ":"))
        .toList();
    assertEquals(1, matches.size(), cssClass + " markers of " + label);
    return matches.get(0);
  }

  private static double attr(Element e, String name) {
    return Double.parseDouble(e.getAttribute(name));
  }

  private static List<WhatIfRow> sample() {
    return List.of(
        row(1, "confirm.failures=2 confirm.max.retriggers=1", 10, 100, 5, 10, 0),
        row(2, "confirm.failures=3 confirm.max.retriggers=3", 40, 100, 12, 2, 1),
        row(3, "budget.floor=1", 0, 100, 0, 20, 3));
  }

  @Test
  void svgIsWellFormedWithOneMarkerPerPolicyAndSeries() throws Exception {
    String svg = WhatIfChart.svg(sample());
    Document doc = parse(svg);
    Element root = doc.getDocumentElement();
    assertEquals("svg", root.getTagName());
    assertEquals("http://www.w3.org/2000/svg", root.getAttribute("xmlns"));
    assertEquals("900", root.getAttribute("width"));
    for (String cssClass : CLASSES) {
      assertEquals(3, byClass(doc, cssClass).size(), cssClass);
    }
    // Each series has its own marker shape.
    assertEquals("circle", byClass(doc, "point intermittent").get(0).getTagName());
    assertEquals("rect", byClass(doc, "point failing").get(0).getTagName());
    assertEquals("polygon", byClass(doc, "point unknown").get(0).getTagName());
    assertTrue(svg.contains(WhatIfChart.TITLE));
    assertTrue(svg.contains(WhatIfChart.X_TITLE));
    assertTrue(svg.contains(WhatIfChart.Y_TITLE));
    assertEquals(List.of("INTERMITTENT_ONLY", "FAILING", "UNKNOWN"), texts(doc, "legend"));
  }

  @Test
  void pointsMoveRightWithCostAndUpWithShare() throws Exception {
    Document doc = parse(WhatIfChart.svg(sample()));
    Element cheap = marker(doc, "point intermittent", "P1");
    Element dear = marker(doc, "point intermittent", "P2");
    Element free = marker(doc, "point intermittent", "P3");
    // P1 10 jobs, P2 40 jobs, P3 none: x grows with trigger jobs, and 0 jobs sits on the y axis.
    assertTrue(attr(cheap, "cx") < attr(dear, "cx"), "more jobs is further right");
    assertTrue(attr(free, "cx") < attr(cheap, "cx"), "no jobs is left of 10 jobs");
    // P2 12 % intermittent above P1 5 % above P3 0 %: a larger share is higher on screen (smaller y).
    assertTrue(attr(dear, "cy") < attr(cheap, "cy"), "a larger share is higher");
    assertTrue(attr(cheap, "cy") < attr(free, "cy"), "0 % is lowest");
    // The same for the square markers, whose x/y are their top left corner: P3 20 % failing above P1 10 %.
    Element failingP1 = marker(doc, "point failing", "P1");
    Element failingP3 = marker(doc, "point failing", "P3");
    assertTrue(attr(failingP3, "y") < attr(failingP1, "y"));
    assertTrue(attr(failingP3, "x") < attr(failingP1, "x"));
  }

  @Test
  void theSameCostIsTheSameXInEverySeries() throws Exception {
    Document doc = parse(WhatIfChart.svg(sample()));
    double circle = attr(marker(doc, "point intermittent", "P2"), "cx");
    Element square = marker(doc, "point failing", "P2");
    assertEquals(circle, attr(square, "x") + attr(square, "width") / 2, 0.02);
  }

  @Test
  void labelsEachPolicyOnceAndKeysItsText() throws Exception {
    Document doc = parse(WhatIfChart.svg(sample()));
    assertEquals(List.of("P1", "P2", "P3"), texts(doc, "label"));
    assertEquals(List.of("P1", "P2", "P3"), texts(doc, "key-label"));
    assertEquals(sample().stream().map(WhatIfRow::policy).toList(), texts(doc, "key"));
  }

  @Test
  void aLabelSitsByItsPolicysHighestPoint() throws Exception {
    Document doc = parse(WhatIfChart.svg(sample()));
    // P3: 20 % FAILING is its highest point; the label is just above it, not by its 0 % intermittent circle.
    Element square = marker(doc, "point failing", "P3");
    Element label = byClass(doc, "label").get(2);
    double squareCenter = attr(square, "y") + attr(square, "height") / 2;
    assertTrue(Math.abs(attr(label, "y") - squareCenter) < 20, "label y " + label.getAttribute("y"));
  }

  @Test
  void hostilePolicyTextIsEscapedNeverRaw() throws Exception {
    String hostile = "ignore.users=<script>alert('x')</script>&\"";
    String svg = WhatIfChart.svg(List.of(row(1, hostile, 3, 10, 1, 1, 1)));
    assertFalse(svg.contains("<script"), svg);
    assertTrue(svg.contains("ignore.users=&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"), svg);
    Document doc = parse(svg);
    assertEquals(List.of(hostile), texts(doc, "key"));
    assertEquals(0, doc.getElementsByTagName("script").getLength());
  }

  @Test
  void controlCharactersStillMakeWellFormedXml() throws Exception {
    Document doc = parse(WhatIfChart.svg(List.of(row(1, "a=\u0001b\uD800", 3, 10, 1, 1, 1))));
    assertEquals(List.of("a=\uFFFDb\uFFFD"), texts(doc, "key"));
  }

  @Test
  void longPolicyTextsAreCutWithAnEllipsis() throws Exception {
    String longText = "builders.deny=" + "x".repeat(200);
    Document doc = parse(WhatIfChart.svg(List.of(row(1, longText, 3, 10, 1, 1, 1))));
    String key = texts(doc, "key").get(0);
    assertEquals(WhatIfChart.KEY_MAX_CHARS, key.length());
    assertTrue(key.endsWith("\u2026"));
    assertTrue(longText.startsWith(key.substring(0, key.length() - 1)));
  }

  @Test
  void oneRowWorks() throws Exception {
    Document doc = parse(WhatIfChart.svg(List.of(row(1, "retry.count=1", 7, 30, 3, 0, 0))));
    for (String cssClass : CLASSES) {
      assertEquals(1, byClass(doc, cssClass).size(), cssClass);
    }
    assertEquals(List.of("P1"), texts(doc, "label"));
    // 7 jobs: the x axis reaches at least 7, in 1-2-5 steps (0, 2, 4, 6, 8).
    assertEquals(List.of("0", "2", "4", "6", "8"), texts(doc, "tick x"));
    // 10 %: the y axis ends at 10 exactly.
    List<String> yTicks = texts(doc, "tick y");
    assertEquals("0", yTicks.get(0));
    assertEquals("10", yTicks.get(yTicks.size() - 1));
  }

  @Test
  void allZeroRowsStillDrawAxes() throws Exception {
    List<WhatIfRow> rows = List.of(row(1, "a=1", 0, 0, 0, 0, 0), row(2, "a=2", 0, 0, 0, 0, 0));
    String svg = WhatIfChart.svg(rows);
    assertFalse(svg.contains("NaN") || svg.contains("Infinity"), svg);
    Document doc = parse(svg);
    assertTrue(texts(doc, "tick x").size() >= 2);
    assertTrue(texts(doc, "tick y").size() >= 2);
    for (String cssClass : CLASSES) {
      assertEquals(2, byClass(doc, cssClass).size(), cssClass);
    }
    // Every point sits at the origin: the x axis start, the y axis bottom.
    Element p1 = marker(doc, "point intermittent", "P1");
    Element origin = byClass(doc, "tick x").get(0);
    assertEquals(attr(origin, "x"), attr(p1, "cx"), 0.01);
    Path png = dir.resolve("zero.png");
    WhatIfChart.write(rows, png);
    assertEquals(900, ImageIO.read(png.toFile()).getWidth());
  }

  @Test
  void noRowsStillDrawsAChart() throws Exception {
    Document doc = parse(WhatIfChart.svg(List.of()));
    assertEquals(0, byClass(doc, "point intermittent").size());
    assertEquals(List.of("(no policies)"), texts(doc, "key"));
  }

  @Test
  void manyRowsGrowTheCanvasForTheKey() throws Exception {
    List<WhatIfRow> rows = new ArrayList<>();
    for (int i = 1; i <= 30; i++) {
      rows.add(row(i, "budget.floor=" + i + " budget.ratio=0.0" + (i % 10), i * 3L, 50, i % 7, i % 5, i % 3));
    }
    Document many = parse(WhatIfChart.svg(rows));
    Document one = parse(WhatIfChart.svg(rows.subList(0, 1)));
    double manyHeight = attr(many.getDocumentElement(), "height");
    double oneHeight = attr(one.getDocumentElement(), "height");
    assertTrue(manyHeight >= oneHeight + 29 * 14, manyHeight + " vs " + oneHeight);
    for (String cssClass : CLASSES) {
      assertEquals(30, byClass(many, cssClass).size(), cssClass);
    }
    List<String> expected = new ArrayList<>();
    for (int i = 1; i <= 30; i++) {
      expected.add("P" + i);
    }
    assertEquals(expected, texts(many, "label"));
    // The last key line is inside the canvas.
    List<Element> keys = byClass(many, "key");
    assertTrue(attr(keys.get(keys.size() - 1), "y") < manyHeight);
  }

  @Test
  void outputIsDeterministicWithAtMostTwoDecimalsWhateverTheLocale() {
    Locale saved = Locale.getDefault();
    String svg;
    try {
      Locale.setDefault(Locale.GERMANY);
      svg = WhatIfChart.svg(sample());
    } finally {
      Locale.setDefault(saved);
    }
    assertEquals(WhatIfChart.svg(sample()), svg);
    Matcher attributes = Pattern.compile(" (?:x|y|x1|y1|x2|y2|cx|cy|r|width|height)=\"([^\"]*)\"").matcher(svg);
    int checked = 0;
    while (attributes.find()) {
      assertTrue(attributes.group(1).matches("-?\\d+(\\.\\d{1,2})?"), attributes.group());
      checked++;
    }
    assertTrue(checked > 50);
    Matcher points = Pattern.compile("points=\"([^\"]*)\"").matcher(svg);
    assertTrue(points.find());
    for (String coordinate : points.group(1).split("[ ,]", -1)) {
      assertTrue(coordinate.matches("-?\\d+(\\.\\d{1,2})?"), coordinate);
    }
  }

  @Test
  void writesSvgFiles() throws Exception {
    Path file = dir.resolve("chart.SVG");
    WhatIfChart.write(sample(), file);
    String text = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(text.startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assertEquals("svg", parse(text).getDocumentElement().getTagName());
  }

  @Test
  void writesPngFilesReadableWithTheChartsWidth() throws Exception {
    Path file = dir.resolve("chart.png");
    WhatIfChart.write(sample(), file);
    byte[] bytes = Files.readAllBytes(file);
    byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assertArrayEquals(signature, Arrays.copyOf(bytes, 8));
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(900, image.getWidth());
    assertEquals((int) attr(parse(WhatIfChart.svg(sample())).getDocumentElement(), "height"), image.getHeight());
    // Something was drawn: not a blank white page. The top left corner is the white background.
    assertEquals(0xffffff, image.getRGB(0, 0) & 0xffffff);
    int nonWhite = 0;
    for (int x = 0; x < image.getWidth(); x += 3) {
      for (int y = 0; y < image.getHeight(); y += 3) {
        if ((image.getRGB(x, y) & 0xffffff) != 0xffffff) {
          nonWhite++;
        }
      }
    }
    assertTrue(nonWhite > 500, "non-white samples: " + nonWhite);
  }

  @Test
  void anyOtherExtensionIsRefusedNamingTheFile() {
    Path file = dir.resolve("chart.jpg");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WhatIfChart.write(sample(), file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(".svg") && e.getMessage().contains(".png"), e.getMessage());
    assertFalse(Files.exists(file));
    assertThrows(IllegalArgumentException.class, () -> WhatIfChart.write(sample(), dir.resolve("svg")));
  }

  @Test
  void niceAxesStepOneTwoFive() {
    assertEquals(new WhatIfChart.Axis(50, 10), WhatIfChart.Axis.nice(40.5, 1, 5, Double.MAX_VALUE));
    assertEquals(new WhatIfChart.Axis(40, 10), WhatIfChart.Axis.nice(40, 1, 5, Double.MAX_VALUE));
    assertEquals(new WhatIfChart.Axis(1200, 200), WhatIfChart.Axis.nice(1003, 1, 5, Double.MAX_VALUE));
    assertEquals(new WhatIfChart.Axis(5, 1), WhatIfChart.Axis.nice(0, 1, 5, Double.MAX_VALUE));
    assertEquals(new WhatIfChart.Axis(100, 20), WhatIfChart.Axis.nice(99.5, 0.1, 10, 100));
    assertEquals(new WhatIfChart.Axis(100, 20), WhatIfChart.Axis.nice(140, 0.1, 10, 100));
    WhatIfChart.Axis small = WhatIfChart.Axis.nice(0.7, 0.1, 10, 100);
    assertEquals(0.8, small.max(), 1e-9);
    assertEquals(0.2, small.step(), 1e-9);
  }
}
