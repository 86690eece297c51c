package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class HawkTest {

  // The Hawk specification's published example (hueniverse/hawk README, "Protocol Example" and "Payload
  // Validation"; the same values are in its test suite).
  private static final String ID = "dh37fgj492je";
  private static final String KEY = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";
  private static final Hawk.Credentials CREDENTIALS = new Hawk.Credentials(ID, KEY);
  private static final URI EXAMPLE = URI.create("http://example.com:8000/resource/1?b=1&a=2");
  private static final long TS = 1353832234L;
  private static final String NONCE = "j4h3g2";
  private static final String EXT = "some-app-ext-data";
  private static final byte[] PAYLOAD = "Thank you for flying Hawk".getBytes(StandardCharsets.UTF_8);

  private static final Function<String, String> KEYS = Map.of(ID, KEY)::get;

  private static String attribute(String header, String name) {
    Matcher m = Pattern.compile("\\b" + name + "=\"([^\"]*)\"").matcher(header);
    return m.find() ? m.group(1) : null;
  }

  @Test
  void theSpecificationsGetExample() {
    assertEquals("Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", ext=\"some-app-ext-data\", "
        + "mac=\"6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=\"",
        Hawk.header(CREDENTIALS, "GET", EXAMPLE, null, null, TS, NONCE, EXT));
  }

  @Test
  void theSpecificationsPostExampleWithPayloadValidation() {
    assertEquals("Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=", Hawk.payloadHash("text/plain", PAYLOAD));
    assertEquals("Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", "
        + "hash=\"Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=\", ext=\"some-app-ext-data\", "
        + "mac=\"aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=\"",
        Hawk.header(CREDENTIALS, "POST", EXAMPLE, PAYLOAD, "text/plain", TS, NONCE, EXT));
  }

  @Test
  void thePayloadHashIgnoresContentTypeCaseAndParameters() {
    assertEquals(Hawk.payloadHash("text/plain", PAYLOAD), Hawk.payloadHash("Text/Plain; charset=utf-8", PAYLOAD));
    assertNotEquals(Hawk.payloadHash("text/plain", PAYLOAD), Hawk.payloadHash("application/json", PAYLOAD));
  }

  @Test
  void noExtNoHashAttributes() {
    String h = Hawk.header(CREDENTIALS, "GET", EXAMPLE, null, null, TS, NONCE, null);
    assertFalse(h.contains("ext="), h);
    assertFalse(h.contains("hash="), h);
    assertNull(Hawk.verify(h, "GET", "/resource/1?b=1&a=2", "example.com", 8000, null, null, KEYS, TS, 60));
  }

  @Test
  void defaultPortsFollowTheScheme() {
    String https = Hawk.header(CREDENTIALS, "GET", URI.create("https://Example.com/x"), null, null, TS, NONCE, null);
    assertNull(Hawk.verify(https, "GET", "/x", "example.com", 443, null, null, KEYS, TS, 0));
    assertNotNull(Hawk.verify(https, "GET", "/x", "example.com", 80, null, null, KEYS, TS, 0));
    String http = Hawk.header(CREDENTIALS, "GET", URI.create("http://example.com"), null, null, TS, NONCE, null);
    assertNull(Hawk.verify(http, "GET", "/", "example.com", 80, null, null, KEYS, TS, 0));
  }

  @Test
  void verifyAcceptsTheSpecificationsHeaders() {
    String get = "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", ext=\"some-app-ext-data\", "
        + "mac=\"6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=\"";
    assertNull(Hawk.verify(get, "GET", "/resource/1?b=1&a=2", "example.com", 8000, null, null, KEYS, TS + 30, 60));
    String post = Hawk.header(CREDENTIALS, "POST", EXAMPLE, PAYLOAD, "text/plain", TS, NONCE, EXT);
    assertNull(Hawk.verify(post, "post", "/resource/1?b=1&a=2", "EXAMPLE.com", 8000, PAYLOAD, "text/plain", KEYS,
        TS, 60));
    // Without the payload at hand the server still checks the mac over the header's hash.
    assertNull(Hawk.verify(post, "POST", "/resource/1?b=1&a=2", "example.com", 8000, null, null, KEYS, TS, 60));
  }

  @Test
  void roundTripWithTheCurrentTimeAndRandomNonces() {
    URI uri =
        URI.create("https://hooks.example/api/hooks/v1/hooks/project-gecko/in-tree-action-1-generic%2Fabc/trigger");
    byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    String h1 = Hawk.header(CREDENTIALS, "POST", uri, body, "application/json");
    String h2 = Hawk.header(CREDENTIALS, "POST", uri, body, "application/json");
    assertNotEquals(attribute(h1, "nonce"), attribute(h2, "nonce"));
    long now = System.currentTimeMillis() / 1000;
    assertNull(Hawk.verify(h1, "POST", uri.getRawPath(), "hooks.example", 443, body, "application/json", KEYS, now,
        60));
  }

  @Test
  void refusals() {
    String post = Hawk.header(CREDENTIALS, "POST", EXAMPLE, PAYLOAD, "text/plain", TS, NONCE, EXT);
    String path = "/resource/1?b=1&a=2";
    List<String> reasons = new ArrayList<>();

    String wrongKey = Hawk.verify(post, "POST", path, "example.com", 8000, PAYLOAD, "text/plain",
        id -> "another-key", TS, 60);
    reasons.add(wrongKey);
    assertEquals("bad Hawk mac", wrongKey);

    String tamperedPath = Hawk.verify(post, "POST", "/resource/1?b=1&a=3", "example.com", 8000, PAYLOAD,
        "text/plain", KEYS, TS, 60);
    reasons.add(tamperedPath);
    assertEquals("bad Hawk mac", tamperedPath);

    reasons.add(Hawk.verify(post, "PUT", path, "example.com", 8000, PAYLOAD, "text/plain", KEYS, TS, 60));
    reasons.add(Hawk.verify(post, "POST", path, "example.org", 8000, PAYLOAD, "text/plain", KEYS, TS, 60));
    reasons.add(Hawk.verify(post, "POST", path, "example.com", 8001, PAYLOAD, "text/plain", KEYS, TS, 60));

    String stale = Hawk.verify(post, "POST", path, "example.com", 8000, PAYLOAD, "text/plain", KEYS, TS + 61, 60);
    reasons.add(stale);
    assertEquals("stale Hawk timestamp", stale);
    String future = Hawk.verify(post, "POST", path, "example.com", 8000, PAYLOAD, "text/plain", KEYS, TS - 61, 60);
    reasons.add(future);
    assertEquals("stale Hawk timestamp", future);

    String unknown = Hawk.verify(post, "POST", path, "example.com", 8000, PAYLOAD, "text/plain", id -> null, TS, 60);
    reasons.add(unknown);
    assertEquals("unknown Hawk credentials id", unknown);

    String badPayload = Hawk.verify(post, "POST", path, "example.com", 8000,
        "Thank you for flying Hawk!".getBytes(StandardCharsets.UTF_8), "text/plain", KEYS, TS, 60);
    reasons.add(badPayload);
    assertEquals("bad Hawk payload hash", badPayload);

    String badType = Hawk.verify(post, "POST", path, "example.com", 8000, PAYLOAD, "application/json", KEYS, TS, 60);
    reasons.add(badType);
    assertEquals("bad Hawk payload hash", badType);

    // A hash attribute swapped in by someone without the key breaks the mac.
    String swapped = post.replace(Hawk.payloadHash("text/plain", PAYLOAD),
        Hawk.payloadHash("text/plain", "other".getBytes(StandardCharsets.UTF_8)));
    reasons.add(Hawk.verify(swapped, "POST", path, "example.com", 8000, "other".getBytes(StandardCharsets.UTF_8),
        "text/plain", KEYS, TS, 60));

    reasons.add(Hawk.verify(null, "POST", path, "example.com", 8000, null, null, KEYS, TS, 60));
    reasons.add(Hawk.verify("Bearer abc", "POST", path, "example.com", 8000, null, null, KEYS, TS, 60));
    reasons.add(Hawk.verify("Hawk id=\"x\"", "POST", path, "example.com", 8000, null, null, KEYS, TS, 60));
    reasons.add(Hawk.verify(post.replace("ts=\"1353832234\"", "ts=\"soon\""), "POST", path, "example.com", 8000,
        null, null, KEYS, TS, 60));
    reasons.add(Hawk.verify(post + ", app=\"x\"", "POST", path, "example.com", 8000, null, null, KEYS, TS, 60));
    reasons.add(Hawk.verify(post + ", ext=\"x\"", "POST", path, "example.com", 8000, null, null, KEYS, TS, 60));
    reasons.add(Hawk.verify("Hawk id=\"dh37fgj492je\", ts=\"1353832234", "POST", path, "example.com", 8000, null,
        null, KEYS, TS, 60));

    String mac = attribute(post, "mac");
    for (String reason : reasons) {
      assertNotNull(reason);
      assertFalse(reason.contains(KEY), reason);
      assertFalse(reason.contains(mac), reason);
    }
  }

  @Test
  void theKeyIsNeverShown() {
    assertEquals("dh37fgj492je [hidden]", CREDENTIALS.toString());
    String h = Hawk.header(CREDENTIALS, "GET", EXAMPLE, null, null, TS, NONCE, EXT);
    assertFalse(h.contains(KEY), h);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Hawk.header(CREDENTIALS, "GET", EXAMPLE, null, null, TS, NONCE, "a\"b"));
    assertFalse(e.getMessage().contains(KEY));
    assertThrows(IllegalArgumentException.class, () -> new Hawk.Credentials(ID, ""));
  }
}
