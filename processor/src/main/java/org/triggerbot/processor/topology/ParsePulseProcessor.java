package org.triggerbot.processor.topology;

import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.processor.pulse.RejectReason;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;

/**
 * Turns each {@code pulse.raw} record into a {@code PushEvent} stamped with its event time ({@code _meta.sent}),
 * or a {@code RejectedMessage} carrying the reason and the original bytes, or nothing (out of scope, counted).
 * Never throws on input: bad input is normal input.
 */
final class ParsePulseProcessor implements FixedKeyProcessor<String, byte[], SpecificRecord> {

  private final PulseParser parser;
  private FixedKeyProcessorContext<String, SpecificRecord> context;
  private Sensor accepted;
  private Sensor rejected;
  private Sensor outOfScope;

  ParsePulseProcessor(PulseParser parser) {
    this.parser = parser;
  }

  @Override
  public void init(FixedKeyProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    String task = context.taskId().toString();
    accepted = context.metrics().addRateTotalSensor("triggerbot", task, "pulse-accepted", Sensor.RecordingLevel.INFO);
    rejected = context.metrics().addRateTotalSensor("triggerbot", task, "pulse-rejected", Sensor.RecordingLevel.INFO);
    outOfScope =
        context.metrics().addRateTotalSensor("triggerbot", task, "pulse-out-of-scope", Sensor.RecordingLevel.INFO);
  }

  @Override
  public void process(FixedKeyRecord<String, byte[]> record) {
    byte[] value = record.value() == null ? new byte[0] : record.value();
    PulseMessage message;
    try {
      message = Topics.PULSE_MESSAGE.decode(value, "topic " + Topics.PULSE_RAW.name());
    } catch (SerializationException e) {
      reject(record, RejectReason.NOT_AVRO, e.getMessage(), value);
      return;
    }
    byte[] body = bytes(message.getBody());
    ParseOutcome outcome = parser.parse(body);
    if (outcome instanceof ParseOutcome.Accepted a) {
      accepted.record();
      context.forward(record.<SpecificRecord>withValue(a.event()).withTimestamp(a.event().getEventTime()));
    } else if (outcome instanceof ParseOutcome.Rejected r) {
      reject(record, r.reason(), r.error(), body);
    } else {
      outOfScope.record();
    }
  }

  private void reject(FixedKeyRecord<String, byte[]> record, RejectReason reason, String error, byte[] original) {
    rejected.record();
    RecordMetadata where = context.recordMetadata().orElse(null);
    RejectedMessage rejection = RejectedMessage.newBuilder()
        .setSourceTopic(where == null ? Topics.PULSE_RAW.name() : where.topic())
        .setSourcePartition(where == null ? -1 : where.partition())
        .setSourceOffset(where == null ? -1 : where.offset())
        .setReason(reason.name())
        .setError(error)
        .setOriginalBody(ByteBuffer.wrap(original))
        .setRejectedAt(Instant.ofEpochMilli(record.timestamp()))
        .build();
    context.forward(record.<SpecificRecord>withValue(rejection));
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
