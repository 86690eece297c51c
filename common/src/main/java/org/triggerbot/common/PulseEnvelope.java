package org.triggerbot.common;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * What a mozillapulse body says about its own delivery, in {@code _meta}: exchange, routing key, and when it was
 * sent (the event time); and the push it belongs to. For producers that stamp records with their event time and
 * key them by push (the bridge, tests, the benchmark), so that stream time is event time everywhere and a push's
 * messages share a partition, and for the processor's parser. One pass over the body reads all of it.
 *
 * @param exchange {@code _meta.exchange}, or null
 * @param routingKey {@code _meta.routing_key}, or null
 * @param sent {@code _meta.sent} in epoch milliseconds, or null when absent or not RFC 3339
 * @param push the body's {@link PushKey}, or null when it yields none
 */
public record PulseEnvelope(String exchange, String routingKey, Long sent, String push) {

  /** JSON with trailing content (two bodies glued together, garbage) is not JSON. */
  public static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final PulseEnvelope NONE = new PulseEnvelope(null, null, null, null);
  /**
   * {@code _meta} and what names the push (buildbot: two properties; Taskcluster: the task's routes); the rest of
   * the body is only tokenized.
   */
  private static final JsonPrune ENVELOPE = JsonPrune.fields(java.util.Map.of(
      "_meta", JsonPrune.whole(),
      "task", JsonPrune.fields(java.util.Map.of("routes", JsonPrune.whole())),
      "payload", JsonPrune.fields(java.util.Map.of(
          "build", JsonPrune.fields(java.util.Map.of(
              "properties", JsonPrune.namedEntries(java.util.Set.of("branch", "revision"))))))));

  /** Reads the envelope of a body; fields that are absent or unreadable are null. Never throws. */
  public static PulseEnvelope read(byte[] body) {
    JsonNode root;
    try {
      root = ENVELOPE.read(JSON, body);
    } catch (IOException e) {
      return NONE;
    }
    if (root == null || !root.isObject()) {
      return NONE;
    }
    JsonNode meta = root.get("_meta");
    String push = PushKey.fromBody(root);
    if (meta == null || !meta.isObject()) {
      return new PulseEnvelope(null, null, null, push);
    }
    JsonNode sent = meta.get("sent");
    return new PulseEnvelope(text(meta.get("exchange")), text(meta.get("routing_key")),
        sent != null && sent.isTextual() ? rfc3339Millis(sent.asText()) : null, push);
  }

  /**
   * The key of the body's {@code pulse.raw} record (SPEC 5): its push, or {@code routingKey} (the AMQP routing
   * key it was delivered with) when it yields none.
   */
  public String recordKey(String routingKey) {
    return push != null ? push : routingKey;
  }

  /**
   * RFC 3339 {@code date-time} in epoch milliseconds: seconds required, any number of fractional digits
   * (truncated to milliseconds), offset {@code Z} or {@code +hh:mm}; {@code T}/{@code Z} in either case. A leap
   * second (:60) is read as the first instant of the next minute. {@code null} when {@code text} is not one.
   */
  public static Long rfc3339Millis(String text) {
    // Scanned by hand rather than with a pattern: every message's time is read, and the pattern's matcher cost
    // as much as the rest of the checks. Digits are ASCII digits only.
    int n = text.length();
    if (n < 20 || !digits(text, 0, 4) || text.charAt(4) != '-' || !digits(text, 5, 7) || text.charAt(7) != '-'
        || !digits(text, 8, 10) || (text.charAt(10) != 'T' && text.charAt(10) != 't') || !digits(text, 11, 13)
        || text.charAt(13) != ':' || !digits(text, 14, 16) || text.charAt(16) != ':' || !digits(text, 17, 19)) {
      return null;
    }
    int i = 19;
    String fraction = "";
    if (text.charAt(i) == '.') {
      int start = ++i;
      while (i < n && isDigit(text.charAt(i))) {
        i++;
      }
      if (i == start) {
        return null;
      }
      fraction = text.substring(start, i);
    }
    String zone = text.substring(i);
    boolean utc = zone.equals("Z") || zone.equals("z");
    boolean offsetZone = zone.length() == 6 && (zone.charAt(0) == '+' || zone.charAt(0) == '-') && digits(zone, 1, 3)
        && zone.charAt(3) == ':' && digits(zone, 4, 6);
    if (!utc && !offsetZone) {
      return null;
    }
    try {
      int second = number(text, 17, 19);
      LocalDateTime local = LocalDateTime.of(number(text, 0, 4), number(text, 5, 7), number(text, 8, 10),
          number(text, 11, 13), number(text, 14, 16), Math.min(second, 59));
      if (second == 60) {
        local = local.plusSeconds(1);
      }
      int millis = fraction.isEmpty() ? 0 : Integer.parseInt((fraction + "00").substring(0, 3));
      ZoneOffset offset = utc ? ZoneOffset.UTC : ZoneOffset.of(zone);
      return local.toInstant(offset).toEpochMilli() + millis;
    } catch (DateTimeException | ArithmeticException e) {
      return null; // e.g. month 13, February 30, offset +25:00
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean digits(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!isDigit(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static int number(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      v = v * 10 + (s.charAt(i) - '0');
    }
    return v;
  }

  private static String text(JsonNode n) {
    return n != null && n.isTextual() ? n.asText() : null;
  }
}
