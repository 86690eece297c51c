package org.triggerbot.common;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hawk HTTP authentication (protocol version 1, {@code sha256} only), as Taskcluster's APIs use it: the client's
 * {@code Authorization} header and the server's check of one (for tests and simulators).
 *
 * <p>The MAC is HMAC-SHA256 with the client key over the normalized string {@code "hawk.1.header\n" ts "\n" nonce
 * "\n" METHOD "\n" path?query "\n" host "\n" port "\n" hash "\n" ext "\n"} (hash and ext empty when absent). The
 * {@code app}/{@code dlg} lines of Oz delegation are not supported. The key never appears in a header, a
 * {@code toString} or a refusal reason.
 */
public final class Hawk {

  /** Header attributes this implementation reads; any other one is refused. */
  private static final Set<String> ATTRIBUTES = Set.of("id", "ts", "nonce", "hash", "ext", "mac");

  private static final SecureRandom RANDOM = new SecureRandom();

  private Hawk() {}

  /** Client credentials; {@link #toString} never shows the key. */
  public record Credentials(String id, String key) {

    public Credentials {
      if (id == null || id.isEmpty() || key == null || key.isEmpty()) {
        throw new IllegalArgumentException("Hawk credentials need a non-empty id and key");
      }
    }

    @Override
    public String toString() {
      return id + " [hidden]";
    }
  }

  /**
   * {@code base64(sha256("hawk.1.payload\n" + contentType + "\n" + payload + "\n"))}, the content type lowercased
   * and without its parameters ({@code ; charset=...}).
   */
  public static String payloadHash(String contentType, byte[] payload) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
    sha256.update(("hawk.1.payload\n" + bareContentType(contentType) + "\n").getBytes(StandardCharsets.UTF_8));
    sha256.update(payload);
    sha256.update((byte) '\n');
    return Base64.getEncoder().encodeToString(sha256.digest());
  }

  /**
   * The {@code Authorization} header value: {@code Hawk id="..", ts="..", nonce="..", hash=".." (when payload is
   * not null), ext=".." (when ext is not null), mac=".."}.
   */
  public static String header(
      Credentials c,
      String method,
      URI uri,
      byte[] payload,
      String contentType,
      long tsSeconds,
      String nonce,
      String ext) {
    if (!isAttributeValue(nonce)) {
      throw new IllegalArgumentException("Hawk nonce must be non-empty header-safe text");
    }
    if (ext != null && !ext.isEmpty() && !isAttributeValue(ext)) {
      throw new IllegalArgumentException("Hawk ext must be header-safe text (no quote, backslash or control)");
    }
    if (!isAttributeValue(c.id())) {
      throw new IllegalArgumentException("Hawk id must be header-safe text");
    }
    String hash = payload == null ? null : payloadHash(contentType, payload);
    String resource = resource(uri);
    String host = uri.getHost();
    if (host == null) {
      throw new IllegalArgumentException("Hawk needs an absolute URI with a host");
    }
    int port = port(uri);
    String mac = mac(c.key(), tsSeconds, nonce, method, resource, host, port, hash, ext);
    StringBuilder h = new StringBuilder("Hawk id=\"").append(c.id()).append("\", ts=\"").append(tsSeconds)
        .append("\", nonce=\"").append(nonce).append('"');
    if (hash != null) {
      h.append(", hash=\"").append(hash).append('"');
    }
    if (ext != null) {
      h.append(", ext=\"").append(ext).append('"');
    }
    return h.append(", mac=\"").append(mac).append('"').toString();
  }

  /** {@link #header(Credentials, String, URI, byte[], String, long, String, String)} now, with a random nonce. */
  public static String header(Credentials c, String method, URI uri, byte[] payload, String contentType) {
    byte[] n = new byte[9];
    RANDOM.nextBytes(n);
    String nonce = Base64.getUrlEncoder().withoutPadding().encodeToString(n);
    return header(c, method, uri, payload, contentType, System.currentTimeMillis() / 1000, nonce, null);
  }

  /**
   * Server side: checks an {@code Authorization} header. Returns null when it is valid, else the reason for a 401
   * (never containing the key or the MAC). {@code keyById} returns null for an unknown id. Checks the MAC (a
   * constant-time comparison), the payload hash when a payload is given and the header has a hash, and that
   * {@code |now - ts| <= skewSeconds}. {@code host} and {@code port} are those the client addressed (the
   * {@code Host} header).
   */
  public static String verify(
      String authorization,
      String method,
      String requestPathAndQuery,
      String host,
      int port,
      byte[] payload,
      String contentType,
      Function<String, String> keyById,
      long nowSeconds,
      long skewSeconds) {
    if (authorization == null || authorization.isBlank()) {
      return "missing Authorization header";
    }
    String a = authorization.strip();
    if (a.length() < 5 || !a.substring(0, 5).equalsIgnoreCase("hawk ")) {
      return "not a Hawk Authorization header";
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    String bad = parseAttributes(a.substring(5), attrs);
    if (bad != null) {
      return bad;
    }
    for (String required : new String[] {"id", "ts", "nonce", "mac"}) {
      if (!attrs.containsKey(required) || attrs.get(required).isEmpty()) {
        return "missing Hawk attribute " + required;
      }
    }
    long ts;
    try {
      ts = Long.parseLong(attrs.get("ts"));
    } catch (NumberFormatException e) {
      return "Hawk ts is not a number";
    }
    String key = keyById.apply(attrs.get("id"));
    if (key == null) {
      return "unknown Hawk credentials id";
    }
    String expected = mac(key, ts, attrs.get("nonce"), method, requestPathAndQuery, host, port, attrs.get("hash"),
        attrs.get("ext"));
    if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
        attrs.get("mac").getBytes(StandardCharsets.UTF_8))) {
      return "bad Hawk mac";
    }
    if (payload != null && attrs.containsKey("hash")) {
      String hash = payloadHash(contentType, payload);
      if (!MessageDigest.isEqual(hash.getBytes(StandardCharsets.UTF_8),
          attrs.get("hash").getBytes(StandardCharsets.UTF_8))) {
        return "bad Hawk payload hash";
      }
    }
    if (Math.abs(nowSeconds - ts) > skewSeconds) {
      return "stale Hawk timestamp";
    }
    return null;
  }

  /** The HMAC-SHA256 of the normalized string, base64. */
  private static String mac(String key, long ts, String nonce, String method, String resource, String host, int port,
      String hash, String ext) {
    String normalized = "hawk.1.header\n" + ts + "\n" + nonce + "\n" + method.toUpperCase(Locale.ROOT) + "\n"
        + resource + "\n" + host.toLowerCase(Locale.ROOT) + "\n" + port + "\n" + (hash == null ? "" : hash) + "\n"
        + (ext == null ? "" : ext) + "\n";
    try {
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getEncoder().encodeToString(hmac.doFinal(normalized.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      // No key material in the message: only the algorithm can fail here.
      throw new IllegalStateException("HmacSHA256 is not available");
    }
  }

  /** {@code key="value"} pairs separated by commas; null when well formed, else the reason. */
  private static String parseAttributes(String s, Map<String, String> into) {
    int i = 0;
    int n = s.length();
    while (true) {
      while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == ',')) {
        i++;
      }
      if (i >= n) {
        return null;
      }
      int eq = s.indexOf('=', i);
      if (eq < 0) {
        return "malformed Hawk header";
      }
      String name = s.substring(i, eq).strip();
      if (eq + 1 >= n || s.charAt(eq + 1) != '"') {
        return "malformed Hawk header";
      }
      int close = s.indexOf('"', eq + 2);
      if (close < 0) {
        return "malformed Hawk header";
      }
      String value = s.substring(eq + 2, close);
      if (!ATTRIBUTES.contains(name)) {
        return "unknown Hawk attribute";
      }
      if (into.containsKey(name)) {
        return "duplicate Hawk attribute " + name;
      }
      if (!value.isEmpty() && !isAttributeValue(value)) {
        return "bad characters in Hawk attribute " + name;
      }
      into.put(name, value);
      i = close + 1;
      if (i < n && s.charAt(i) != ',' && s.charAt(i) != ' ') {
        return "malformed Hawk header";
      }
    }
  }

  /** Non-empty printable ASCII without a quote or backslash. */
  private static boolean isAttributeValue(String v) {
    if (v == null || v.isEmpty()) {
      return false;
    }
    for (int i = 0; i < v.length(); i++) {
      char ch = v.charAt(i);
      if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
        return false;
      }
    }
    return true;
  }

  private static String resource(URI uri) {
    String path = uri.getRawPath();
    if (path == null || path.isEmpty()) {
      path = "/";
    }
    return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
  }

  private static int port(URI uri) {
    if (uri.getPort() != -1) {
      return uri.getPort();
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    return scheme.equals("https") ? 443 : 80;
  }

  private static String bareContentType(String contentType) {
    if (contentType == null) {
      return "";
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
  }
}
