package org.triggerbot.common;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a mozillapulse body says about its own delivery, in {@code _meta}: exchange, routing key, and when it was
 * sent (the event time). For producers that stamp records with their event time (the bridge, replay), so that
 * stream time is event time everywhere, and for the processor's parser.
 *
 * @param exchange {@code _meta.exchange}, or null
 * @param routingKey {@code _meta.routing_key}, or null
 * @param sent {@code _meta.sent} in epoch milliseconds, or null when absent or not RFC 3339
 */
public record PulseEnvelope(String exchange, String routingKey, Long sent) {

  /** JSON with trailing content (two bodies glued together, garbage) is not JSON. */
  public static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final Pattern RFC3339 = Pattern.compile(
      "^(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?([Zz]|[+-]\\d{2}:\\d{2})$");
  private static final PulseEnvelope NONE = new PulseEnvelope(null, null, null);
  private static final JsonPrune META_ONLY = JsonPrune.fields(java.util.Map.of("_meta", JsonPrune.whole()));

  /** Reads the envelope of a body; fields that are absent or unreadable are null. Never throws. */
  public static PulseEnvelope read(byte[] body) {
    JsonNode meta;
    try {
      JsonNode root = META_ONLY.read(JSON, body);
      meta = root == null ? null : root.get("_meta");
    } catch (IOException e) {
      return NONE;
    }
    return meta != null && meta.isObject() ? of(meta) : NONE;
  }

  /** The envelope of an already parsed {@code _meta} object. */
  public static PulseEnvelope of(JsonNode meta) {
    JsonNode sent = meta.get("sent");
    return new PulseEnvelope(text(meta.get("exchange")), text(meta.get("routing_key")),
        sent != null && sent.isTextual() ? rfc3339Millis(sent.asText()) : null);
  }

  /**
   * RFC 3339 {@code date-time} in epoch milliseconds: seconds required, any number of fractional digits
   * (truncated to milliseconds), offset {@code Z} or {@code +hh:mm}; {@code T}/{@code Z} in either case. A leap
   * second (:60) is read as the first instant of the next minute. {@code null} when {@code text} is not one.
   */
  public static Long rfc3339Millis(String text) {
    Matcher m = RFC3339.matcher(text);
    if (!m.matches()) {
      return null;
    }
    try {
      int second = Integer.parseInt(m.group(6));
      LocalDateTime local = LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
          Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
          Math.min(second, 59));
      if (second == 60) {
        local = local.plusSeconds(1);
      }
      String fraction = m.group(7) == null ? "" : m.group(7);
      int millis = fraction.isEmpty() ? 0 : Integer.parseInt((fraction + "00").substring(0, 3));
      String zone = m.group(8);
      ZoneOffset offset = zone.equalsIgnoreCase("Z") ? ZoneOffset.UTC : ZoneOffset.of(zone);
      return local.toInstant(offset).toEpochMilli() + millis;
    } catch (DateTimeException | ArithmeticException e) {
      return null; // e.g. month 13, February 30, offset +25:00
    }
  }

  private static String text(JsonNode n) {
    return n != null && n.isTextual() ? n.asText() : null;
  }
}
