package org.triggerbot.processor.whatif;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * The few drawing primitives the what-if chart needs, so that one layout yields both an SVG (for the HTML report and
 * the browser) and a PNG (for places that show only images), without a third-party charting library.
 *
 * <p>Coordinates are pixels from the top left corner, y growing downwards; text is placed at its baseline, as in
 * both SVG and Java2D. Colors are {@code #rrggbb}; {@code null} where a color is optional means "none".
 */
interface ChartCanvas {

  /** Where a text's position is along its baseline: its start, middle or end. */
  enum Anchor { START, MIDDLE, END }

  /** Marker shapes: a series is told apart by its shape as well as by its color (print, color blindness). */
  enum Marker {
    CIRCLE, SQUARE, TRIANGLE
  }

  /** A straight line. */
  void line(double x1, double y1, double x2, double y2, String color, double strokeWidth);

  /** A rectangle, filled and/or outlined (either color may be null, not both). */
  void rect(double x, double y, double width, double height, String fill, String stroke);

  /**
   * A data marker centered on {@code (cx, cy)}, {@code radius} from center to edge: outlined in {@code color} over a
   * translucent fill of it, so that markers of several series on the same spot all stay visible.
   *
   * @param cssClass the SVG class attribute (lets readers and tests find the markers of a series); may be null
   * @param tooltip a text shown on hover in browsers; may be null
   */
  void marker(Marker shape, double cx, double cy, double radius, String color, String cssClass, String tooltip);

  /**
   * A single line of text.
   *
   * @param rotation degrees, clockwise (as SVG's rotate); the text turns around its anchor point
   * @param cssClass the SVG class attribute; may be null
   */
  void text(String text, double x, double y, double size, String color, Anchor anchor, boolean bold, double rotation,
      String cssClass);

  /** {@link #text(String, double, double, double, String, Anchor, boolean, double, String)}, plain and level. */
  default void text(String text, double x, double y, double size, String color, Anchor anchor, String cssClass) {
    text(text, x, y, size, color, anchor, false, 0, cssClass);
  }

  /** The ratio of the translucent marker fill: enough to see the color, little enough to see what is under it. */
  double MARKER_FILL_OPACITY = 0.35;

  /** Colors are checked: they end up in markup unescaped, and a typo should fail loudly, not draw black. */
  Pattern COLOR = Pattern.compile("#[0-9a-fA-F]{6}");

  static String checkColor(String color) {
    if (color == null || !COLOR.matcher(color).matches()) {
      throw new IllegalArgumentException("color must be #rrggbb: " + color);
    }
    return color;
  }

  /**
   * {@code text} for XML or HTML text and attribute values: escapes {@code & < > " '}, and replaces what XML 1.0
   * cannot carry at all (control characters, lone surrogates) by U+FFFD, so that any policy text still yields a
   * well-formed document. Null is the empty string.
   */
  static String escape(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> {
          if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
            out.append(c).append(text.charAt(++i));
          } else if (Character.isSurrogate(c) || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
              || c == 0xFFFE || c == 0xFFFF) {
            out.append('\uFFFD');
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  /**
   * SVG 1.1 text. Output is deterministic: attributes in a fixed order, numbers with at most 2 decimals in
   * {@link Locale#ROOT} (a German default locale must not write "12,5"), no timestamps or random ids.
   */
  final class SvgCanvas implements ChartCanvas {

    private final int width;
    private final int height;
    private final String title;
    private final boolean namespace;
    private final StringBuilder body = new StringBuilder(16 * 1024);

    /**
     * @param title the document's {@code <title>} (accessible name); may be null
     * @param namespace whether to declare the SVG namespace: required in a standalone file, left out when the SVG is
     *     inlined in HTML5 (whose parser puts it in the SVG namespace itself)
     */
    SvgCanvas(int width, int height, String title, boolean namespace) {
      this.width = width;
      this.height = height;
      this.title = title;
      this.namespace = namespace;
    }

    /** The {@code <svg>} element with everything drawn so far (no XML declaration). */
    String toSvg() {
      StringBuilder out = new StringBuilder(body.length() + 512);
      out.append("<svg");
      if (namespace) {
        out.append(" xmlns=\"http://www.w3.org/2000/svg\"");
      }
      out.append(" version=\"1.1\" width=\"").append(width).append("\" height=\"").append(height)
          .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
          .append("\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n");
      if (title != null) {
        out.append("<title>").append(escape(title)).append("</title>\n");
      }
      out.append(body);
      out.append("</svg>\n");
      return out.toString();
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double strokeWidth) {
      body.append("<line x1=\"").append(num(x1)).append("\" y1=\"").append(num(y1)).append("\" x2=\"")
          .append(num(x2)).append("\" y2=\"").append(num(y2)).append("\" stroke=\"").append(checkColor(color))
          .append("\" stroke-width=\"").append(num(strokeWidth)).append("\"/>\n");
    }

    @Override
    public void rect(double x, double y, double width, double height, String fill, String stroke) {
      if (fill == null && stroke == null) {
        throw new IllegalArgumentException("a rectangle needs a fill or a stroke");
      }
      body.append("<rect x=\"").append(num(x)).append("\" y=\"").append(num(y)).append("\" width=\"")
          .append(num(width)).append("\" height=\"").append(num(height)).append("\" fill=\"")
          .append(fill == null ? "none" : checkColor(fill)).append('"');
      if (stroke != null) {
        body.append(" stroke=\"").append(checkColor(stroke)).append('"');
      }
      body.append("/>\n");
    }

    @Override
    public void marker(Marker shape, double cx, double cy, double radius, String color, String cssClass,
        String tooltip) {
      checkColor(color);
      switch (shape) {
        case CIRCLE -> body.append("<circle").append(classAttribute(cssClass)).append(" cx=\"").append(num(cx))
            .append("\" cy=\"").append(num(cy)).append("\" r=\"").append(num(radius)).append('"');
        // A square looks bigger than a circle of the same radius: shrink it to a similar area.
        case SQUARE -> {
          double half = radius * 0.9;
          body.append("<rect").append(classAttribute(cssClass)).append(" x=\"").append(num(cx - half))
              .append("\" y=\"").append(num(cy - half)).append("\" width=\"").append(num(2 * half))
              .append("\" height=\"").append(num(2 * half)).append('"');
        }
        case TRIANGLE -> {
          double[] points = triangle(cx, cy, radius);
          body.append("<polygon").append(classAttribute(cssClass)).append(" points=\"");
          for (int i = 0; i < points.length; i += 2) {
            body.append(i == 0 ? "" : " ").append(num(points[i])).append(',').append(num(points[i + 1]));
          }
          body.append('"');
        }
        default -> throw new IllegalArgumentException("unknown marker " + shape);
      }
      body.append(" fill=\"").append(color).append("\" fill-opacity=\"").append(num(MARKER_FILL_OPACITY))
          .append("\" stroke=\"").append(color).append("\" stroke-width=\"1.5\"");
      if (tooltip == null) {
        body.append("/>\n");
      } else {
        String element = shape == Marker.CIRCLE ? "circle" : shape == Marker.SQUARE ? "rect" : "polygon";
        body.append("><title>").append(escape(tooltip)).append("</title></").append(element).append(">\n");
      }
    }

    @Override
    public void text(String text, double x, double y, double size, String color, Anchor anchor, boolean bold,
        double rotation, String cssClass) {
      body.append("<text").append(classAttribute(cssClass)).append(" x=\"").append(num(x)).append("\" y=\"")
          .append(num(y)).append("\" font-size=\"").append(num(size)).append("\" fill=\"")
          .append(checkColor(color)).append('"');
      if (anchor != Anchor.START) {
        body.append(" text-anchor=\"").append(anchor == Anchor.MIDDLE ? "middle" : "end").append('"');
      }
      if (bold) {
        body.append(" font-weight=\"bold\"");
      }
      if (rotation != 0) {
        body.append(" transform=\"rotate(").append(num(rotation)).append(' ').append(num(x)).append(' ')
            .append(num(y)).append(")\"");
      }
      body.append('>').append(escape(text)).append("</text>\n");
    }

    private static String classAttribute(String cssClass) {
      return cssClass == null ? "" : " class=\"" + escape(cssClass) + "\"";
    }

    /** {@code v} with at most 2 decimals, no trailing zeros, never "-0" nor an exponent. */
    static String num(double v) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("not a finite coordinate: " + v);
      }
      String s = String.format(Locale.ROOT, "%.2f", v);
      if (s.indexOf('.') >= 0) {
        int end = s.length();
        while (s.charAt(end - 1) == '0') {
          end--;
        }
        if (s.charAt(end - 1) == '.') {
          end--;
        }
        s = s.substring(0, end);
      }
      return s.equals("-0") ? "0" : s;
    }
  }

  /**
   * A PNG of the same drawing, made with the JDK's Java2D on an off-screen image. Works on servers without a display:
   * it turns on AWT's headless mode unless the application chose otherwise.
   */
  final class Java2dCanvas implements ChartCanvas, AutoCloseable {

    private final BufferedImage image;
    private final Graphics2D g;

    Java2dCanvas(int width, int height) {
      // Must happen before the first AWT class decides whether there is a display; an explicit setting wins.
      if (System.getProperty("java.awt.headless") == null) {
        System.setProperty("java.awt.headless", "true");
      }
      image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
      g = image.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      // SVG's default canvas is transparent and shows white in a page; a PNG with no alpha must be painted white.
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
    }

    /** The image drawn so far. */
    BufferedImage image() {
      return image;
    }

    /** Writes the image as PNG. */
    void writePng(Path file) throws IOException {
      try (OutputStream out = Files.newOutputStream(file)) {
        if (!ImageIO.write(image, "png", out)) {
          throw new IOException("no PNG writer in this JDK, cannot write " + file);
        }
      }
    }

    @Override
    public void close() {
      g.dispose();
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double strokeWidth) {
      g.setColor(color(color, 1));
      g.setStroke(new BasicStroke((float) strokeWidth));
      g.draw(new Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void rect(double x, double y, double width, double height, String fill, String stroke) {
      if (fill == null && stroke == null) {
        throw new IllegalArgumentException("a rectangle needs a fill or a stroke");
      }
      Rectangle2D r = new Rectangle2D.Double(x, y, width, height);
      if (fill != null) {
        g.setColor(color(fill, 1));
        g.fill(r);
      }
      if (stroke != null) {
        g.setColor(color(stroke, 1));
        g.setStroke(new BasicStroke(1f));
        g.draw(r);
      }
    }

    @Override
    public void marker(Marker shape, double cx, double cy, double radius, String color, String cssClass,
        String tooltip) {
      java.awt.Shape s = switch (shape) {
        case CIRCLE -> new Ellipse2D.Double(cx - radius, cy - radius, 2 * radius, 2 * radius);
        case SQUARE -> new Rectangle2D.Double(cx - radius * 0.9, cy - radius * 0.9, radius * 1.8, radius * 1.8);
        case TRIANGLE -> {
          double[] p = triangle(cx, cy, radius);
          Path2D.Double path = new Path2D.Double();
          path.moveTo(p[0], p[1]);
          path.lineTo(p[2], p[3]);
          path.lineTo(p[4], p[5]);
          path.closePath();
          yield path;
        }
      };
      g.setColor(color(color, MARKER_FILL_OPACITY));
      g.fill(s);
      g.setColor(color(color, 1));
      g.setStroke(new BasicStroke(1.5f));
      g.draw(s);
    }

    @Override
    public void text(String text, double x, double y, double size, String color, Anchor anchor, boolean bold,
        double rotation, String cssClass) {
      g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size));
      g.setColor(color(color, 1));
      FontMetrics metrics = g.getFontMetrics();
      String s = text == null ? "" : text;
      double width = metrics.getStringBounds(s, g).getWidth();
      double dx = switch (anchor) {
        case START -> 0;
        case MIDDLE -> -width / 2;
        case END -> -width;
      };
      AffineTransform saved = g.getTransform();
      try {
        g.translate(x, y);
        if (rotation != 0) {
          g.rotate(Math.toRadians(rotation));
        }
        g.drawString(s, (float) dx, 0f);
      } finally {
        g.setTransform(saved);
      }
    }

    private static Color color(String hex, double opacity) {
      int rgb = Integer.parseInt(checkColor(hex).substring(1), 16);
      return new Color((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff, (int) Math.round(opacity * 255));
    }
  }

  /** The corners of an upward triangle around {@code (cx, cy)}: x0, y0, x1, y1, x2, y2. */
  private static double[] triangle(double cx, double cy, double radius) {
    // Slightly larger than the circle: a triangle of the same radius has much less area.
    double r = radius * 1.25;
    double half = r * Math.sqrt(3) / 2;
    return new double[] {cx, cy - r, cx + half, cy + r / 2, cx - half, cy + r / 2};
  }
}
