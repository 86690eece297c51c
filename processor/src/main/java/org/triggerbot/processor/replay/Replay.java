package org.triggerbot.processor.replay;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.topology.ProcessorTopology;
import org.triggerbot.processor.topology.RejectOnProcessingError;
import org.triggerbot.processor.topology.TopologySettings;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.PushVerdict;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;
import org.triggerbot.schemas.TriggerDecision;

/**
 * {@code replay --engine topology}: runs the real processor topology over Pulse bodies (a file's lines or a
 * topic's records), with no broker: Kafka's own {@link TopologyTestDriver} drives the same topology, stores and
 * policy as production. Decisions in decision order (so a push's decisions are in input order), and the push
 * verdicts the run emitted. Never issues a trigger. {@link FastReplay} writes the same records many times faster;
 * this engine is what it is checked against.
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

  /**
   * Replays {@code source}, writing decisions and the {@code push.verdicts} records to {@code out}, in emission
   * order; rejected inputs are reported on {@code err} (where, reason, error).
   */
  public Summary run(ReplaySource source, ReplayOutput out, PrintStream err) throws IOException {
    Path stateDir = Files.createTempDirectory("triggerbot-replay-");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "triggerbot-replay");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "replay.invalid:9092"); // never contacted
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, "true");
    RejectOnProcessingError.install(props);
    long lines = 0;
    long decisions = 0;
    long rejected = 0;
    long blank = 0;
    long verdictCount = 0;
    try (TopologyTestDriver driver = new TopologyTestDriver(
        ProcessorTopology.build(new TopologySettings(policy, 1, false)), props, Instant.EPOCH)) {
      TestInputTopic<String, byte[]> input = driver.createInputTopic(Topics.PULSE_RAW_BYTES.name(),
          Topics.PULSE_RAW_BYTES.keySerde().serializer(), Topics.PULSE_RAW_BYTES.valueSerde().serializer());
      TestOutputTopic<String, TriggerDecision> decided = driver.createOutputTopic(Topics.TRIGGER_DECISIONS.name(),
          Topics.TRIGGER_DECISIONS.keySerde().deserializer(), Topics.TRIGGER_DECISIONS.valueSerde().deserializer());
      TestOutputTopic<String, RejectedMessage> rejects = driver.createOutputTopic(Topics.PULSE_REJECTED.name(),
          Topics.PULSE_REJECTED.keySerde().deserializer(), Topics.PULSE_REJECTED.valueSerde().deserializer());
      TestOutputTopic<String, PushVerdict> verdicts = driver.createOutputTopic(Topics.PUSH_VERDICTS.name(),
          Topics.PUSH_VERDICTS.keySerde().deserializer(), Topics.PUSH_VERDICTS.valueSerde().deserializer());
      long lastTime = 0;
      for (List<Input> chunk = source.next(256); !chunk.isEmpty(); chunk = source.next(256)) {
        for (Input in : chunk) {
          lines++;
          if (in.blank()) {
            blank++;
            continue;
          }
          byte[] value;
          String routingKey = "";
          String key = "";
          if (in.undecodable() != null) {
            value = in.rawValue(); // not a PulseMessage: the processor rejects it as it would live
          } else {
            PulseEnvelope envelope = PulseEnvelope.read(in.body());
            // A line without a readable _meta.sent is rejected by the processor; its record keeps stream time still.
            lastTime = envelope.sent() == null ? lastTime : envelope.sent();
            routingKey = envelope.routingKey() == null ? "" : envelope.routingKey();
            key = envelope.recordKey(routingKey); // as the bridge keys it (one partition: any key would do)
            value = Topics.PULSE_RAW.valueSerde().serializer().serialize(Topics.PULSE_RAW.name(),
                PulseMessage.newBuilder()
                    .setExchange(envelope.exchange() == null ? "" : envelope.exchange())
                    .setRoutingKey(routingKey)
                    .setBody(ByteBuffer.wrap(in.body()))
                    .setReceivedAt(Instant.ofEpochMilli(lastTime))
                    .build());
          }
          input.pipeInput(key, value, lastTime);
          while (!rejects.isEmpty()) {
            RejectedMessage r = rejects.readValue();
            rejected++;
            err.println(in.where() + ": " + r.getReason() + ": " + r.getError());
          }
          while (!decided.isEmpty()) {
            out.decision(decided.readValue());
            decisions++;
          }
          while (!verdicts.isEmpty()) {
            PushVerdict verdict = verdicts.readValue();
            verdictCount++;
            out.verdict(verdict);
          }
        }
      }
    } finally {
      deleteRecursively(stateDir);
    }
    out.flush();
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
