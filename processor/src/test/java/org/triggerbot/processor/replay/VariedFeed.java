package org.triggerbot.processor.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.triggerbot.testsupport.pulse.PulseJson;
import org.triggerbot.testsupport.pulse.ScenarioStream;
import org.triggerbot.testsupport.pulse.TaskclusterJson;

/**
 * A generated Pulse feed with everything that can make two replay engines disagree: the scenario stream's
 * pushes, duplicates, log_uploaded repeats, other branches and malformed bodies, plus pushes that come back after
 * days (TTL expiry), messages that arrive days late (after the stream-time sweep forgot their push), lines without
 * {@code _meta.sent}, several-KB bodies (for {@code pulse.max.bytes}), blank and white-space lines, invalid UTF-8,
 * and {@code \r\n} and {@code \r} line ends. As bytes: a file is bytes, not text.
 */
public final class VariedFeed {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private VariedFeed() {}

  public static byte[] generate(long seed, int pushes, int jobs) {
    Random random = new Random(seed);
    List<String> base = ScenarioStream.generate(seed, pushes, jobs);
    List<String> lines = new ArrayList<>(base);
    // A push seen again after days: a new life under a short TTL, the same life under the default one.
    for (int days : new int[] {1, 3, 16}) {
      int from = random.nextInt(Math.max(1, base.size() - 40));
      for (String line : base.subList(from, from + Math.min(40, base.size() - from))) {
        lines.add(shifted(line, days * 86_400_000L + random.nextInt(3_600_000)));
      }
    }
    // Messages days late: stream time is past their push's TTL plus the sweep's grace by now.
    for (int i = 0; i < 30; i++) {
      lines.add(base.get(random.nextInt(base.size())));
    }
    // Bodies of several KB, some on a second enabled branch.
    String rev = String.format("%012x", seed * 31 + 0xabc000000L);
    for (int j = 0; j < 6; j++) {
      PulseJson job = PulseJson.test("big-" + j).rev(rev).comments("try: -b o -p all -u all").who("big@example.com")
          .full(true).branch(j % 2 == 0 ? "try" : "mozilla-inbound");
      lines.add(job.number(j).atMinutes(3).started());
      lines.add(job.number(j).atMinutes(9).finished(j % 3 == 0 ? 2 : 0));
    }
    // Taskcluster pushes (SPEC 3b): failures and their clones, automatic retries, exceptions, duplicates, a task
    // without its definition; read only by policies with taskcluster.enabled=true.
    for (int p = 0; p < 4; p++) {
      String tcRev = String.format("%040x", seed * 1_000_003L + p + 0xfeed0000L);
      String project = p % 2 == 0 ? "try" : "mozilla-inbound";
      for (int t = 0; t < 6; t++) {
        TaskclusterJson task = TaskclusterJson.test("tc-" + p + "-" + t).project(project).rev(tcRev)
            .user(p == 3 ? "dev1@example.com" : "tc" + p + "@example.com").atMinutes(5 + t);
        int roll = random.nextInt(6);
        if (roll == 0) {
          lines.add(task.completed());
        } else if (roll == 1) {
          lines.add(task.nextRun("retry").exception("worker-shutdown"));
          lines.add(TaskclusterJson.test("tc-" + p + "-" + t).project(project).rev(tcRev).run(1).atMinutes(30)
              .failed());
        } else if (roll == 2) {
          lines.add(task.exception(random.nextBoolean() ? "canceled" : "deadline-exceeded"));
        } else {
          String failed = task.failed();
          lines.add(failed);
          if (random.nextBoolean()) {
            lines.add(failed); // delivered twice
          }
          for (int c = 1; c <= 1 + random.nextInt(3); c++) {
            TaskclusterJson clone = task.clone(c).atMinutes(40 + 10 * c);
            lines.add(random.nextInt(3) == 0 ? clone.failed() : clone.completed());
          }
        }
      }
      lines.add(TaskclusterJson.build("linux64").project(project).rev(tcRev).atMinutes(3).failed());
    }
    lines.add(withoutTask(TaskclusterJson.test("no-definition").failed()));

    // No _meta.sent: rejected, and its record keeps stream time still.
    lines.add(PulseJson.test("no-time").rev(rev).at(null).finished(2));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String line : lines) {
      out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
      int roll = random.nextInt(200);
      if (roll == 0) {
        out.writeBytes("\n   \t".getBytes(StandardCharsets.UTF_8)); // a white-space line
      } else if (roll == 1) {
        out.writeBytes(new byte[] {'\n', '{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'}); // invalid UTF-8
      } else if (roll == 2) {
        out.write('\n'); // a blank line
      }
      out.writeBytes(roll == 3 ? new byte[] {'\r', '\n'} : roll == 4 ? new byte[] {'\r'} : new byte[] {'\n'});
    }
    return out.toByteArray();
  }

  /** A Taskcluster body as a bridge that did not enrich it would have written it: rejected. */
  private static String withoutTask(String line) {
    try {
      ObjectNode root = (ObjectNode) MAPPER.readTree(line);
      root.remove("task");
      return MAPPER.writeValueAsString(root);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The body with {@code _meta.sent} moved by {@code millis}; a body without a readable one is kept. */
  private static String shifted(String line, long millis) {
    try {
      ObjectNode root = (ObjectNode) MAPPER.readTree(line);
      ObjectNode meta = (ObjectNode) root.get("_meta");
      meta.put("sent", Instant.parse(meta.get("sent").asText()).plusMillis(millis).toString());
      return MAPPER.writeValueAsString(root);
    } catch (IOException | RuntimeException e) {
      return line;
    }
  }

}
