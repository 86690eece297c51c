package org.triggerbot.testsupport.pulse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * Builds buildbot Pulse message bodies in the real mozillapulse shape (see the project's
 * {@code fixtures/pulse-samples}), for scenario tests: one job, then {@code .started()} or
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
  private boolean full;

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

  /**
   * Also writes what real buildbot messages carry besides the fields triggerbot reads: the build's steps, times,
   * slave, blame and the ~20 other properties, so bodies weigh what the captures in the project's
   * {@code fixtures/pulse-samples} weigh (a started message ~2 KB, finished and log_uploaded ~5-8 KB). For
   * benchmarks: parsing cost grows with size.
   */
  public PulseJson full(boolean f) { this.full = f; return this; }

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
    if (full) {
      addBuildbotDetail(build, props, result);
    }
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
    if (full) {
      meta.put("master_name", "buildbot-master51.bb.releng.use1.mozilla.com:/builds/buildbot/tests1-linux/master");
      meta.put("master_incarnation", "pid2714-boot1433152800");
    }
    return root;
  }

  private static final String[] STEPS = {
      "set build property", "get_basedir", "download_props", "clobber_properties", "clobber_scripts",
      "clone_scripts", "update_scripts", "get_script_repo_revision", "tinderboxprint_script_revlink", "run_script",
      "set_script_properties", "upload_log", "reboot"};

  /** The rest of a real buildbot message, shaped like the 2013 captures (values are made up but plausible). */
  private void addBuildbotDetail(ObjectNode build, ArrayNode props, Integer result) {
    long start = sent == null ? T0.getEpochSecond() : sent.getEpochSecond() - (result == null ? 0 : 1800);
    String slave = "tst-linux64-ec2-" + (100 + Math.floorMod(builderName.hashCode(), 800));
    String ftp = "http://ftp.mozilla.org/pub/mozilla.org/firefox/try-builds/" + who + "-" + revision + "/" + dir;
    build.put("slave", slave);
    build.putArray("text").add("build").add(result == null ? "running" : result == 0 ? "successful" : "failed");
    build.putArray("blame").add(who == null ? "unknown" : who);
    build.put("reason", "scheduler");
    build.putNull("eta");
    build.putNull("currentStep");
    build.putArray("times").add(isoSeconds(start)).add(result == null ? null : isoSeconds(start + 1800));
    ArrayNode steps = build.putArray("steps");
    int done = result == null ? 2 : STEPS.length;
    for (int i = 0; i < done; i++) {
      ObjectNode step = steps.addObject();
      step.putObject("statistics");
      step.put("name", STEPS[i]);
      step.put("isFinished", true);
      step.putArray("text").add(i == 9 ? "'/tools/buildbot/bin/python" : "set props:").add(i == 9 ? "scripts/scripts/"
          + "desktop_unittest.py" : STEPS[i]).add("...'");
      step.putArray("results").add(i == 9 && result != null ? result : 0).addArray();
      step.put("isStarted", true);
      step.putArray("times").add(start + i * 60.123456).add(start + i * 60.123456 + 12.5);
      step.putNull("eta");
      ObjectNode urls = step.putObject("urls");
      if (i == 9) {
        urls.put("log", ftp + "/" + dir + "-bm51-tests1-linux-build" + buildNumber + ".txt.gz");
      }
      step.put("step_number", i);
      step.putArray("expectations");
    }
    props.addArray().add("basedir").add("/builds/slave/test").add("SetProperty Step");
    props.addArray().add("build_url").add(ftp + "/firefox-42.0a1.en-US.linux-x86_64.tar.bz2").add("SetProperty Step");
    props.addArray().add("buildid").add("20150601" + String.format("%06d", Math.floorMod(revision.hashCode(), 240000)))
        .add("Change");
    props.addArray().add("builduid").add(String.format("%032x", Math.abs((long) (builderName + revision).hashCode())))
        .add("Change");
    props.addArray().add("log_url").add(ftp + "/" + dir + "-bm51-tests1-linux-build" + buildNumber + ".txt.gz")
        .add("postrun.py");
    props.addArray().add("master").add("http://buildbot-master51.bb.releng.use1.mozilla.com:8201/").add("Step");
    props.addArray().add("platform").add("linux64").add("Builder");
    props.addArray().add("product").add("firefox").add("Builder");
    props.addArray().add("project").add("").add("Build");
    props.addArray().add("repo_path").add(branch).add("Builder");
    props.addArray().add("repository").add("").add("Build");
    ArrayNode requestIds = props.addArray().add("request_ids");
    requestIds.addArray().add(60_000_000 + buildNumber);
    requestIds.add("postrun.py");
    props.addArray().add("scheduler").add("tests-" + branch + "-ubuntu64_vm-opt-unittest").add("Scheduler");
    props.addArray().add("script_repo_revision").add("production").add("SetProperty Step");
    props.addArray().add("slavebuilddir").add("test").add("Builder");
    props.addArray().add("slavename").add(slave).add("BuildSlave");
    props.addArray().add("stage_platform").add("linux64").add("Builder");
    props.addArray().add("symbols_url").add(ftp + "/firefox-42.0a1.en-US.linux-x86_64.crashreporter-symbols.zip")
        .add("SetProperty Step");
  }

  private static String isoSeconds(long epochSecond) {
    return Instant.ofEpochSecond(epochSecond).toString().replace("Z", "+0000");
  }

  private String body(String event, Integer result) {
    return node(event, result).toString();
  }
}
