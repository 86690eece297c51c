package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;

/** The topology's shape and its safety nets, independent of any record. */
class TopologyShapeTest {

  private static final PolicySettings DEFAULTS = PolicyConfig.parse(Map.of());

  @Test
  void everyProcessorStoreAndTopicIsNamed() {
    String description = ProcessorTopology.build(new TopologySettings(DEFAULTS, 1, true)).describe().toString();
    assertFalse(description.contains("KSTREAM-"), "no generated processor names:\n" + description);
    assertFalse(description.contains("KTABLE-"), "no generated store names:\n" + description);
    for (String name : new String[] {"pulse-raw-source", "parse-pulse", "as-event", "decide", "push-state",
        "builder-state", "seen-events", "global-triggers", "pulse-rejected-sink", "trigger-decisions-sink",
        "trigger-commands-sink", "push-verdicts-sink"}) {
      assertTrue(description.contains(name), name + " in\n" + description);
    }
  }

  @Test
  void pulseRawIsDecidedWhereItIsWithoutARepartition() {
    var description = ProcessorTopology.build(new TopologySettings(DEFAULTS, 4, true)).describe();
    assertEquals(1, description.subtopologies().size(), "one sub-topology: one task per pulse.raw partition\n"
        + description);
    assertFalse(description.toString().contains("repartition"), description.toString());
  }

  @Test
  void aMisroutedRecordStopsTheProcessorInsteadOfBecomingARejection() {
    var response = new RejectOnProcessingError().handleError(null, null,
        new MisroutedRecordException("pulse.raw-3@7", "build.x.1.finished", "try/0123456789ab", 4));
    assertEquals(org.apache.kafka.streams.errors.ProcessingExceptionHandler.Result.FAIL, response.result());
  }

  @Test
  void globalLimitsAreSharedOutSoThatAllDecisionTasksTogetherStayWithinThem() {
    PolicySettings p = PolicyConfig.parse(Map.of("global.max.failure.triggers.per.hour", "500",
        "global.max.requested.triggers.per.hour", "10000"));
    assertEquals(p, p.sharedAmong(1));
    PolicySettings third = p.sharedAmong(3);
    assertEquals(166, third.maxFailureTriggersPerHour());
    assertEquals(3333, third.maxRequestedTriggersPerHour());
    assertTrue(3 * third.maxFailureTriggersPerHour() <= 500);
    assertEquals(p.version(), third.version(), "decisions still name the configured policy");
  }

  @Test
  void aProcessingErrorBecomesARejectionWithTheOriginalBytes() {
    byte[] original = "{\"payload\":{}}".getBytes(StandardCharsets.UTF_8);
    ErrorHandlerContext context = new ErrorHandlerContext() {
      @Override
      public String topic() { return "pulse.raw"; }
      @Override
      public int partition() { return 2; }
      @Override
      public long offset() { return 41; }
      @Override
      public Headers headers() { return new RecordHeaders(); }
      @Override
      public String processorNodeId() { return "decide"; }
      @Override
      public TaskId taskId() { return new TaskId(1, 2); }
      @Override
      public long timestamp() { return 1_433_152_800_000L; }
      @Override
      public byte[] sourceRawKey() { return "build.x.1.finished".getBytes(StandardCharsets.UTF_8); }
      @Override
      public byte[] sourceRawValue() { return original; }
    };
    var response = new RejectOnProcessingError().handleError(context, null, new IllegalStateException("boom"));
    assertEquals(org.apache.kafka.streams.errors.ProcessingExceptionHandler.Result.RESUME, response.result());
    ProducerRecord<byte[], byte[]> record = response.deadLetterQueueRecords().get(0);
    assertEquals(Topics.PULSE_REJECTED.name(), record.topic());
    RejectedMessage rejected = Topics.REJECTED_MESSAGE.decode(record.value(), "test");
    assertEquals("PROCESSING_ERROR", rejected.getReason());
    assertEquals("pulse.raw", rejected.getSourceTopic());
    assertEquals(2, rejected.getSourcePartition());
    assertEquals(41, rejected.getSourceOffset());
    assertTrue(rejected.getError().contains("decide") && rejected.getError().contains("boom"), rejected.getError());
    assertEquals(ByteBuffer.wrap(original), rejected.getOriginalBody());
  }
}
