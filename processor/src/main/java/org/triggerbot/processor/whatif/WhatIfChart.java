package org.triggerbot.processor.whatif;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.triggerbot.processor.whatif.ChartCanvas.Anchor;
import org.triggerbot.processor.whatif.ChartCanvas.Marker;
import org.triggerbot.schemas.VerdictState;

/**
 * The what-if's picture: what each policy costs (trigger jobs) against what the pushes come out as (the shares of
 * INTERMITTENT_ONLY, FAILING and UNKNOWN verdicts), one point group per policy, so that the cheap policies that still
 * tell intermittent failures from real ones stand out at a glance. The table of the report has the exact numbers.
 *
 * <p>Drawn by hand on {@link ChartCanvas} (the JDK suffices, and the usual Java SVG libraries are GPL): as SVG for
 * browsers and the HTML report, as PNG for places that only show images. Both come from the same layout.
 */
public final class WhatIfChart {

  static final String TITLE = "What-if: trigger jobs against push verdicts";
  static final String X_TITLE = "trigger jobs (TRIGGER_* decisions)";
  static final String Y_TITLE = "share of pushes with a verdict (%)";
  /** Key entries longer than this many characters are cut, with an ellipsis: the key must fit the width. */
  static final int KEY_MAX_CHARS = 80;

  static final int WIDTH = 900;
  private static final double PLOT_LEFT = 80;
  private static final double PLOT_RIGHT = WIDTH - 50;
  private static final double PLOT_TOP = 72;
  private static final double PLOT_BOTTOM = 452;
  private static final double KEY_TOP = PLOT_BOTTOM + 74;
  private static final double KEY_LINE = 16;

  private static final String INK = "#222222";
  private static final String AXIS = "#444444";
  private static final String GRID = "#e4e4e4";
  private static final String MUTED = "#555555";
  private static final String WHITE = "#ffffff";
  private static final double MARKER_RADIUS = 5;

  /** The plotted verdicts: the ones a policy changes (GREEN and PENDING are what is left). */
  enum Series {
    // Colors from the Okabe-Ito / Tol palettes, told apart with color blindness; shapes tell them apart in grey.
    INTERMITTENT_ONLY(VerdictState.INTERMITTENT_ONLY, "#e69f00", Marker.CIRCLE, "intermittent"),
    FAILING(VerdictState.FAILING, "#cc3311", Marker.SQUARE, "failing"),
    UNKNOWN(VerdictState.UNKNOWN, "#0072b2", Marker.TRIANGLE, "unknown");

    final VerdictState state;
    final String color;
    final Marker marker;
    /** The second word of the markers' class attribute ({@code point intermittent}). */
    final String cssName;

    Series(VerdictState state, String color, Marker marker, String cssName) {
      this.state = state;
      this.color = color;
      this.marker = marker;
      this.cssName = cssName;
    }
  }

  private WhatIfChart() {}

  /**
   * Writes the chart to {@code file}: SVG when its name ends with {@code .svg}, PNG with {@code .png} (any case).
   *
   * @throws IllegalArgumentException for any other name, before anything is written
   */
  public static void write(List<WhatIfRow> rows, Path file) throws IOException {
    Objects.requireNonNull(rows, "rows");
    Objects.requireNonNull(file, "file");
    Path name = file.getFileName();
    String lower = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
    if (lower.endsWith(".svg")) {
      Files.writeString(file, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg(rows), StandardCharsets.UTF_8);
    } else if (lower.endsWith(".png")) {
      Layout layout = new Layout(rows);
      try (ChartCanvas.Java2dCanvas canvas = new ChartCanvas.Java2dCanvas(WIDTH, layout.height)) {
        draw(rows, layout, canvas);
        canvas.writePng(file);
      }
    } else {
      throw new IllegalArgumentException("cannot tell the chart format of " + file
          + ": the file name must end with .svg (SVG) or .png (PNG)");
    }
  }

  /** The chart as a standalone SVG 1.1 {@code <svg>} element (with its namespace, without an XML declaration). */
  public static String svg(List<WhatIfRow> rows) {
    return svg(rows, true);
  }

  /**
   * The chart as an {@code <svg>} element; {@code namespace} false for inlining in HTML5, whose parser supplies the
   * namespace (and so the report names no URL at all).
   */
  static String svg(List<WhatIfRow> rows, boolean namespace) {
    Objects.requireNonNull(rows, "rows");
    Layout layout = new Layout(rows);
    ChartCanvas.SvgCanvas canvas = new ChartCanvas.SvgCanvas(WIDTH, layout.height, TITLE, namespace);
    draw(rows, layout, canvas);
    return canvas.toSvg();
  }

  /** The scales and the canvas height, computed before drawing because the canvas size is fixed up front. */
  private static final class Layout {
    final Axis x;
    final Axis y;
    final int height;

    Layout(List<WhatIfRow> rows) {
      double maxJobs = 0;
      double maxShare = 0;
      for (WhatIfRow row : rows) {
        maxJobs = Math.max(maxJobs, (double) row.triggerJobs());
        for (Series series : Series.values()) {
          maxShare = Math.max(maxShare, percent(row, series));
        }
      }
      // Jobs are whole: no tick at 2.5 jobs. With no jobs at all, 0..5 still shows an axis that reads as counts.
      x = Axis.nice(maxJobs, 1, 5, Double.MAX_VALUE);
      // Shares can be small (0.3 %), so steps below 1 are allowed; a share is never above 100 %.
      y = Axis.nice(maxShare, 0.1, 10, 100);
      int keyLines = Math.max(1, rows.size());
      height = (int) Math.ceil(KEY_TOP + 20 + keyLines * KEY_LINE + 12);
    }
  }

  /** An axis from 0 to {@code max} in ticks of {@code step}: 1, 2 or 5 times a power of ten. */
  record Axis(double max, double step) {

    private static final int MAX_TICKS = 6;
    private static final double[] FACTORS = {1, 2, 5};

    /**
     * The smallest "nice" axis reaching {@code value}: at most 6 ticks after 0, in steps of 1-2-5 times a power of ten
     * no finer than {@code minStep}, ending at most at {@code cap}; with {@code value} 0 the axis of {@code emptyMax}
     * (no division by zero, and the axis is still drawn).
     */
    static Axis nice(double value, double minStep, double emptyMax, double cap) {
      double v = Math.min(value > 0 && Double.isFinite(value) ? value : emptyMax, cap);
      double magnitude = Math.pow(10, Math.floor(Math.log10(v / MAX_TICKS)));
      double step = magnitude;
      // The finest step that needs no more than MAX_TICKS ticks; the tolerance keeps a value that is exactly a
      // multiple (40 with step 10) from counting one tick more.
      for (int k = 1; Math.ceil(v / step - 1e-9) > MAX_TICKS; k++) {
        int decades = k / 3; // whole decades: 1, 2, 5 then 10, 20, 50, ...
        step = FACTORS[k % 3] * magnitude * Math.pow(10, decades);
      }
      step = Math.max(step, minStep);
      double max = Math.min(Math.ceil(v / step - 1e-9) * step, cap);
      return new Axis(max, step);
    }

    int ticks() {
      return (int) Math.round(max / step);
    }

    /** The i-th tick value, computed (not summed) so that 0.1 steps do not drift into 0.30000000000000004. */
    double tick(int i) {
      return i == ticks() ? max : i * step;
    }
  }

  private static double percent(WhatIfRow row, Series series) {
    double p = row.share(series.state) * 100;
    return Double.isFinite(p) ? p : 0;
  }

  private static double xOf(double jobs, Axis x) {
    double v = Math.max(0, Math.min(jobs, x.max()));
    return PLOT_LEFT + v / x.max() * (PLOT_RIGHT - PLOT_LEFT);
  }

  private static double yOf(double percent, Axis y) {
    double v = Math.max(0, Math.min(percent, y.max()));
    return PLOT_BOTTOM - v / y.max() * (PLOT_BOTTOM - PLOT_TOP);
  }

  private static void draw(List<WhatIfRow> rows, Layout layout, ChartCanvas c) {
    c.rect(0, 0, WIDTH, layout.height, WHITE, null);
    c.text(TITLE, WIDTH / 2.0, 26, 16, INK, Anchor.MIDDLE, true, 0, "title");
    drawLegend(c);
    drawAxes(layout, c);
    drawPoints(rows, layout, c);
    drawKey(rows, c);
  }

  private static void drawLegend(ChartCanvas c) {
    double x = PLOT_LEFT;
    double y = 50;
    for (Series series : Series.values()) {
      c.marker(series.marker, x + MARKER_RADIUS, y - 4, MARKER_RADIUS, series.color, "legend " + series.cssName,
          null);
      c.text(series.state.name(), x + 2 * MARKER_RADIUS + 6, y, 12, INK, Anchor.START, "legend");
      x += 2 * MARKER_RADIUS + 6 + textWidth(series.state.name(), 12) + 28;
    }
  }

  private static void drawAxes(Layout layout, ChartCanvas c) {
    Axis x = layout.x;
    Axis y = layout.y;
    // Grid first, so that axes and points are drawn over it.
    for (int i = 1; i <= y.ticks(); i++) {
      double py = yOf(y.tick(i), y);
      c.line(PLOT_LEFT, py, PLOT_RIGHT, py, GRID, 1);
    }
    for (int i = 1; i <= x.ticks(); i++) {
      double px = xOf(x.tick(i), x);
      c.line(px, PLOT_TOP, px, PLOT_BOTTOM, GRID, 1);
    }
    c.line(PLOT_LEFT, PLOT_BOTTOM, PLOT_RIGHT, PLOT_BOTTOM, AXIS, 1);
    c.line(PLOT_LEFT, PLOT_TOP, PLOT_LEFT, PLOT_BOTTOM, AXIS, 1);
    for (int i = 0; i <= x.ticks(); i++) {
      double px = xOf(x.tick(i), x);
      c.line(px, PLOT_BOTTOM, px, PLOT_BOTTOM + 5, AXIS, 1);
      c.text(tickLabel(x.tick(i)), px, PLOT_BOTTOM + 19, 11, MUTED, Anchor.MIDDLE, "tick x");
    }
    for (int i = 0; i <= y.ticks(); i++) {
      double py = yOf(y.tick(i), y);
      c.line(PLOT_LEFT - 5, py, PLOT_LEFT, py, AXIS, 1);
      c.text(tickLabel(y.tick(i)), PLOT_LEFT - 8, py + 4, 11, MUTED, Anchor.END, "tick y");
    }
    c.text(X_TITLE, (PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_BOTTOM + 42, 12, INK, Anchor.MIDDLE, "axis-title x");
    c.text(Y_TITLE, 26, (PLOT_TOP + PLOT_BOTTOM) / 2, 12, INK, Anchor.MIDDLE, false, -90, "axis-title y");
  }

  private static void drawPoints(List<WhatIfRow> rows, Layout layout, ChartCanvas c) {
    for (Series series : Series.values()) {
      for (WhatIfRow row : rows) {
        double p = percent(row, series);
        String tooltip = String.format(Locale.ROOT, "%s: %s %s%% of %d pushes, %d trigger jobs", row.label(),
            series.state.name(), tickLabel(p), row.pushes(), row.triggerJobs());
        c.marker(series.marker, xOf((double) row.triggerJobs(), layout.x), yOf(p, layout.y), MARKER_RADIUS,
            series.color,
            "point " + series.cssName, tooltip);
      }
    }
    // Labels after all markers so that no marker hides one; one label per policy, by its highest point.
    List<double[]> placed = new ArrayList<>();
    for (WhatIfRow row : rows) {
      double top = 0;
      for (Series series : Series.values()) {
        top = Math.max(top, percent(row, series));
      }
      double px = xOf((double) row.triggerJobs(), layout.x);
      double py = yOf(top, layout.y);
      String label = row.label();
      double width = textWidth(label, 11);
      // Right of the point unless that leaves the plot.
      boolean left = px + 8 + width > WIDTH - 4;
      double x0 = left ? px - 8 - width : px + 8;
      double baseline = py - 6;
      // Policies with the same cost and outcome would print their labels on top of each other: stack them upwards.
      for (int attempt = 0; attempt < 40 && overlaps(placed, x0, baseline, width); attempt++) {
        baseline -= 12;
      }
      baseline = Math.max(baseline, 12);
      placed.add(new double[] {x0, baseline - 10, x0 + width, baseline + 2});
      c.text(label, left ? px - 8 : px + 8, baseline, 11, INK, left ? Anchor.END : Anchor.START, true, 0, "label");
    }
  }

  private static boolean overlaps(List<double[]> placed, double x0, double baseline, double width) {
    double top = baseline - 10;
    double bottom = baseline + 2;
    for (double[] box : placed) {
      if (x0 < box[2] && x0 + width > box[0] && top < box[3] && bottom > box[1]) {
        return true;
      }
    }
    return false;
  }

  private static void drawKey(List<WhatIfRow> rows, ChartCanvas c) {
    c.text("Policies", PLOT_LEFT, KEY_TOP, 12, INK, Anchor.START, true, 0, "key-title");
    if (rows.isEmpty()) {
      c.text("(no policies)", PLOT_LEFT, KEY_TOP + 20, 11, MUTED, Anchor.START, "key");
      return;
    }
    double y = KEY_TOP + 20;
    for (WhatIfRow row : rows) {
      c.text(row.label(), PLOT_LEFT, y, 11, INK, Anchor.START, true, 0, "key-label");
      c.text(truncate(row.policy(), KEY_MAX_CHARS), PLOT_LEFT + 40, y, 11, INK, Anchor.START, "key");
      y += KEY_LINE;
    }
  }

  /** {@code text} cut to at most {@code max} characters (code points), the last one an ellipsis when cut. */
  static String truncate(String text, int max) {
    if (text == null) {
      return "";
    }
    if (text.codePointCount(0, text.length()) <= max) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, max - 1)) + "\u2026";
  }

  /** A tick or value label: at most 2 decimals, none when whole. */
  private static String tickLabel(double v) {
    return ChartCanvas.SvgCanvas.num(v);
  }

  /** An estimate of a text's width: SVG cannot measure text, and the layout must be the same for SVG and PNG. */
  private static double textWidth(String text, double size) {
    return text.length() * size * 0.62;
  }
}
