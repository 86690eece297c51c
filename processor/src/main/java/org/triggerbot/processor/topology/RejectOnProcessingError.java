package org.triggerbot.processor.topology;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;

/**
 * When a processor throws on a record (a bug: bad input is already turned into rejections by the parser), the
 * record goes to {@code pulse.rejected} with reason {@code PROCESSING_ERROR}, the processor's name and the
 * exception, and the pipeline continues: one poisoned record must not stop every later decision. The record
 * written is the one read from the source topic of the failing task, bytes as they were.
 *
 * <p>Except a {@link MisroutedRecordException}: not a poisoned record but a topic this processor must not read
 * (its pushes are split over partitions); every later record could be wrong too, so the processor fails.
 */
public final class RejectOnProcessingError implements ProcessingExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(RejectOnProcessingError.class);

  /**
   * Sets this handler in Kafka Streams {@code properties}, for every processor, global ones included: the live
   * processor and the offline replay must treat a failing record alike.
   */
  // processing.exception.handler.global.enabled is deprecated from its first release (4.3) and goes in 5.0, where
  // its true becomes the default; until then setting it is the only way to get that behaviour (and no warning).
  @SuppressWarnings("deprecation")
  public static void install(Properties properties) {
    properties.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, RejectOnProcessingError.class);
    properties.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
  }

  @Override
  public void configure(Map<String, ?> configs) {}

  @Override
  public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    if (exception instanceof MisroutedRecordException) {
      LOG.error("{}", exception.getMessage());
      return Response.fail();
    }
    LOG.error("processor {} failed on {}-{}@{}; record sent to {}", context.processorNodeId(), context.topic(),
        context.partition(), context.offset(), Topics.PULSE_REJECTED.name(), exception);
    return Response.resume(List.of(rejection(context, exception)));
  }

  static ProducerRecord<byte[], byte[]> rejection(ErrorHandlerContext context, Exception exception) {
    byte[] original = context.sourceRawValue() == null ? new byte[0] : context.sourceRawValue();
    RejectedMessage rejected = RejectedMessage.newBuilder()
        .setSourceTopic(String.valueOf(context.topic()))
        .setSourcePartition(context.partition())
        .setSourceOffset(context.offset())
        .setReason("PROCESSING_ERROR")
        .setError(context.processorNodeId() + " failed: " + exception)
        .setOriginalBody(ByteBuffer.wrap(original))
        .setRejectedAt(Instant.ofEpochMilli(context.timestamp()))
        .build();
    return new ProducerRecord<>(Topics.PULSE_REJECTED.name(), null, context.timestamp(), context.sourceRawKey(),
        Topics.REJECTED_MESSAGE.encode(rejected));
  }
}
