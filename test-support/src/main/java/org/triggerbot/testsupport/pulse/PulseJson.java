package org.triggerbot.testsupport.pulse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * Builds buildbot Pulse message bodies in the real mozillapulse shape (see the fixtures under
 * {@code shared/fixtures/pulse-samples}), for scenario tests: one job, then {@code .started()} or
 * {@code .finished(result)}.
 */
public final class PulseJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  public static final String REV = "abcdef0123456789abcdef0123456789abcdef01";
  public static final Instant T0 = Instant.parse("2015-06-01T10:00:00Z");

  private String exchange = "exchange/build/";
  private String branch = "try";
  private String revision = REV;
  private String builderName;
  private String dir;
  private long buildNumber = 0;
  private Instant sent = T0;
  private String comments = "try: -b o -p linux -u all -t none";
  private String who = "dev@example.com";

  private PulseJson(String builderName, String dir) {
    this.builderName = builderName;
    this.dir = dir;
  }

  /** A test job of suite {@code suite}: its routing key matches the test-job pattern. */
  public static PulseJson test(String suite) {
    return new PulseJson("Ubuntu VM 12.04 try opt test " + suite, "try_ubuntu64_vm_test-" + suite);
  }

  /** A talos job: a test job whose buildername contains "talos". */
  public static PulseJson talos(String suite) {
    return new PulseJson("Ubuntu HW 12.04 try talos " + suite, "try_ubuntu64_hw_test-" + suite);
  }

  /** A build job: its routing key does not match the test-job pattern. */
  public static PulseJson build(String platform) {
    return new PulseJson("Linux x86-64 try build " + platform, "try-" + platform);
  }

  public PulseJson branch(String b) {
    // Keep the routing key consistent with the branch, as buildbot does.
    this.dir = dir.replaceFirst("^" + java.util.regex.Pattern.quote(branch), b);
    this.builderName = builderName.replace(" " + branch + " ", " " + b + " ");
    this.branch = b;
    return this;
  }

  public PulseJson exchange(String e) { this.exchange = e; return this; }
  public PulseJson rev(String r) { this.revision = r; return this; }
  public PulseJson buildername(String n) { this.builderName = n; return this; }
  public PulseJson number(long n) { this.buildNumber = n; return this; }
  public PulseJson at(Instant t) { this.sent = t; return this; } // null: no _meta.sent
  public PulseJson atMinutes(long m) { this.sent = T0.plusSeconds(60 * m); return this; }
  public PulseJson comments(String c) { this.comments = c; return this; }
  public PulseJson who(String w) { this.who = w; return this; }

  public String routingKey(String event) {
    return "build." + dir + "." + buildNumber + "." + event;
  }

  public String started() {
    return body("started", null);
  }

  public String finished(int result) {
    return body("finished", result);
  }

  public String logUploaded(int result) {
    return body("log_uploaded", result);
  }

  public ObjectNode node(String event, Integer result) {
    ObjectNode root = MAPPER.createObjectNode();
    ObjectNode build = root.putObject("payload").putObject("build");
    build.put("builderName", dir);
    build.put("number", buildNumber);
    if (result == null) {
      build.putNull("results");
    } else {
      build.put("results", result);
    }
    ArrayNode props = build.putArray("properties");
    props.addArray().add("branch").add(branch).add("Builder");
    props.addArray().add("buildername").add(builderName).add("Builder");
    props.addArray().add("buildnumber").add(buildNumber).add("Build");
    props.addArray().add("revision").add(revision).add("Build");
    ObjectNode stamp = build.putObject("sourceStamp");
    stamp.put("branch", branch);
    stamp.put("revision", revision);
    ObjectNode change = stamp.putArray("changes").addObject();
    if (comments != null) {
      change.put("comments", comments);
    }
    if (who != null) {
      change.put("who", who);
    }
    change.put("revision", revision);
    ObjectNode meta = root.putObject("_meta");
    meta.put("exchange", exchange);
    meta.put("routing_key", routingKey(event));
    meta.put("serializer", "json");
    meta.put("sent", sent == null ? null : sent.toString());
    meta.put("message_id", Long.toString(sent == null ? 0 : sent.toEpochMilli()) + "-" + routingKey(event));
    return root;
  }

  private String body(String event, Integer result) {
    return node(event, result).toString();
  }
}
