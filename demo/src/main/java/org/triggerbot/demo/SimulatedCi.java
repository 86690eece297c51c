package org.triggerbot.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.triggerbot.processor.policy.Policy;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.schemas.TriggerCommand;

/**
 * The demo's stand-in for CI running the jobs that buildapi accepted: for a submitted rebuild of a builder, the
 * Pulse messages of its new runs ({@code started}, then {@code finished}), made from the builder's own message
 * in the feed with a new build number, time and result. Without it the retriggers of the demo would never come
 * back, and no verdict could be reached.
 *
 * <p>Ground truth, deterministic: a builder whose first run passed keeps passing; one whose first run failed is
 * broken (every run fails the same way) for about one builder in three, chosen by a hash of push and builder, and
 * intermittent (its reruns pass) otherwise.
 */
final class SimulatedCi {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  /** Reruns get build numbers from here on, far from the feed's. */
  private static final long FIRST_RERUN = 9000;

  /** branch/revision/builder -> the builder's first finished message in the feed and its result. */
  private final Map<String, Template> templates = new HashMap<>();
  private final Map<String, Long> nextNumber = new HashMap<>();

  private record Template(ObjectNode body, int firstResult) {}

  SimulatedCi(List<String> feed, PulseParser parser) {
    for (String line : feed) {
      if (parser.parse(line.getBytes(StandardCharsets.UTF_8)) instanceof ParseOutcome.Accepted a
          && a.event().getEvent() == EventKind.FINISHED && a.event().getTestJob()) {
        PushEvent e = a.event();
        templates.computeIfAbsent(key(e.getBranch(), e.getRevision(), e.getBuilder()), k -> {
          try {
            return new Template((ObjectNode) MAPPER.readTree(line), e.getResult());
          } catch (IOException ex) {
            throw new UncheckedIOException("a line the parser accepted is JSON", ex);
          }
        });
      }
    }
  }

  private static String key(String branch, String revision, String builder) {
    return branch + "/" + revision + "/" + builder;
  }

  /** Whether the builder is broken on the push: its reruns fail like its first run. */
  boolean broken(String branch, String revision, String builder) {
    Template t = templates.get(key(branch, revision, builder));
    return t != null && Policy.isFailure(t.firstResult())
        && Math.floorMod(key(branch, revision, builder).hashCode(), 3) == 0;
  }

  /**
   * The Pulse messages of the {@code count} runs a submitted command caused, ten minutes of CI time each after
   * the command; empty for a builder the feed never finished (nothing to copy).
   */
  List<String> runsFor(TriggerCommand command) {
    String key = key(command.getBranch(), command.getRevision(), command.getBuilder());
    Template t = templates.get(key);
    if (t == null) {
      return List.of();
    }
    int result = broken(command.getBranch(), command.getRevision(), command.getBuilder()) ? t.firstResult() : 0;
    List<String> out = new ArrayList<>();
    Instant at = command.getRequestedAt();
    for (int i = 0; i < command.getCount(); i++) {
      long number = nextNumber.merge(key, 1L, Long::sum) - 1 + FIRST_RERUN;
      Instant start = at.plusSeconds(60L * (2 + i));
      out.add(message(t.body(), number, "started", null, start));
      out.add(message(t.body(), number, "finished", result, start.plusSeconds(600)));
    }
    return out;
  }

  /** A copy of {@code template} as the {@code event} message of run {@code number}. */
  private static String message(ObjectNode template, long number, String event, Integer result, Instant sent) {
    ObjectNode body = template.deepCopy();
    ObjectNode build = (ObjectNode) body.path("payload").path("build");
    build.put("number", number);
    if (result == null) {
      build.putNull("results");
    } else {
      build.put("results", result);
    }
    JsonNode properties = build.path("properties");
    if (properties instanceof ArrayNode list) {
      for (JsonNode p : list) {
        if (p instanceof ArrayNode entry && entry.size() >= 2 && "buildnumber".equals(entry.get(0).asText())) {
          entry.set(1, MAPPER.getNodeFactory().numberNode(number));
        }
      }
    }
    ObjectNode meta = (ObjectNode) body.path("_meta");
    String routingKey = meta.path("routing_key").asText();
    meta.put("routing_key", routingKey.replaceFirst("\\.\\d+\\.[a-z_]+$", "." + number + "." + event));
    meta.put("sent", sent.toString());
    meta.put("message_id", "demo-ci-" + number + "-" + event + "-" + routingKey.hashCode());
    return body.toString();
  }
}
