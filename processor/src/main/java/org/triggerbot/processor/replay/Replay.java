package org.triggerbot.processor.replay;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.topology.ProcessorTopology;
import org.triggerbot.processor.topology.RejectOnProcessingError;
import org.triggerbot.processor.topology.TopologySettings;
import org.triggerbot.schemas.AvroJson;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;

/**
 * Runs the real processor topology over a Pulse JSON Lines file, with no broker: Kafka's own
 * {@link TopologyTestDriver} drives the same topology, stores and policy as production. One decision per output
 * line, in decision order (so a push's decisions are in input order), and optionally the push verdicts the run
 * emitted. Never issues a trigger.
 *
 * <p>Deterministic: each input record is stamped with its {@code _meta.sent}; decisions carry no wall-clock
 * time ({@code decidedAt} is null). A line the processor rejects is reported on the error stream with its line
 * number and reason, and skipped; blank lines are skipped silently.
 */
public final class Replay {

  /** What a replay did. */
  public record Summary(long lines, long decisions, long rejected, long blank, long verdicts) {}

  private final PolicySettings policy;

  public Replay(PolicySettings policy) {
    this.policy = policy;
  }

  public Summary run(BufferedReader in, Writer out, PrintStream err) throws IOException {
    return run(in, out, null, err);
  }

  /**
   * Replays {@code in}, writing decisions to {@code out} and, when {@code verdictsOut} is not null, the
   * {@code push.verdicts} records to it (one {@code PushVerdict} JSON per line, in emission order).
   */
  public Summary run(BufferedReader in, Writer out, Writer verdictsOut, PrintStream err) throws IOException {
    Path stateDir = Files.createTempDirectory("triggerbot-replay-");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "triggerbot-replay");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "replay.invalid:9092"); // never contacted
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, RejectOnProcessingError.class);
    props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, "true");
    long lines = 0;
    long decisions = 0;
    long rejected = 0;
    long blank = 0;
    long verdictCount = 0;
    try (TopologyTestDriver driver = new TopologyTestDriver(
        ProcessorTopology.build(new TopologySettings(policy, 1, false)), props, Instant.EPOCH)) {
      TestInputTopic<String, PulseMessage> input = driver.createInputTopic(Topics.PULSE_RAW.name(),
          Topics.PULSE_RAW.keySerde().serializer(), Topics.PULSE_RAW.valueSerde().serializer());
      TestOutputTopic<String, TriggerDecision> decided = driver.createOutputTopic(Topics.TRIGGER_DECISIONS.name(),
          Topics.TRIGGER_DECISIONS.keySerde().deserializer(), Topics.TRIGGER_DECISIONS.valueSerde().deserializer());
      TestOutputTopic<String, RejectedMessage> rejects = driver.createOutputTopic(Topics.PULSE_REJECTED.name(),
          Topics.PULSE_REJECTED.keySerde().deserializer(), Topics.PULSE_REJECTED.valueSerde().deserializer());
      TestOutputTopic<String, PushVerdict> verdicts = driver.createOutputTopic(Topics.PUSH_VERDICTS.name(),
          Topics.PUSH_VERDICTS.keySerde().deserializer(), Topics.PUSH_VERDICTS.valueSerde().deserializer());
      long lastTime = 0;
      String line;
      while ((line = in.readLine()) != null) {
        lines++;
        if (line.isBlank()) {
          blank++;
          continue;
        }
        byte[] body = line.getBytes(StandardCharsets.UTF_8);
        PulseEnvelope envelope = PulseEnvelope.read(body);
        // A line without a readable _meta.sent is rejected by the processor; its record keeps stream time still.
        lastTime = envelope.sent() == null ? lastTime : envelope.sent();
        String routingKey = envelope.routingKey() == null ? "" : envelope.routingKey();
        input.pipeInput(routingKey, PulseMessage.newBuilder()
            .setExchange(envelope.exchange() == null ? "" : envelope.exchange())
            .setRoutingKey(routingKey)
            .setBody(ByteBuffer.wrap(body))
            .setReceivedAt(Instant.ofEpochMilli(lastTime))
            .build(), lastTime);
        while (!rejects.isEmpty()) {
          RejectedMessage r = rejects.readValue();
          rejected++;
          err.println("line " + lines + ": " + r.getReason() + ": " + r.getError());
        }
        while (!decided.isEmpty()) {
          out.write(AvroJson.toJsonLine(decided.readValue()));
          out.write('\n');
          decisions++;
        }
        while (!verdicts.isEmpty()) {
          PushVerdict verdict = verdicts.readValue();
          verdictCount++;
          if (verdictsOut != null) {
            verdictsOut.write(AvroJson.toJsonLine(verdict));
            verdictsOut.write('\n');
          }
        }
      }
    } finally {
      deleteRecursively(stateDir);
    }
    out.flush();
    if (verdictsOut != null) {
      verdictsOut.flush();
    }
    return new Summary(lines, decisions, rejected, blank, verdictCount);
  }

  private static void deleteRecursively(Path dir) {
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete replay state in " + dir, e);
    }
  }
}
