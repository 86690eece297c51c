package org.triggerbot.processor.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.DecisionNote;
import org.triggerbot.processor.state.EventKind;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.schemas.AvroSerde;

/**
 * The state stores read what the release before verdicts wrote (their changelogs after an upgrade in place), with
 * the new fields at their defaults, and those defaults are as mutable as a new state's.
 */
class StateSchemaHistoryTest {

  private static byte[] encode(Schema schema, GenericRecord record) throws Exception {
    return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record).array();
  }

  @Test
  void aPushOfVersionOneReadsWithoutAVerdict() throws Exception {
    Schema v1 = AvroSerde.olderSchema(PushState.class, "history/PushState-1.avsc");
    GenericRecord old = new GenericData.Record(v1);
    old.put("lifeStart", 1L);
    old.put("lastSeen", 2L);
    old.put("tryLineSeen", true);
    old.put("rebuild", 0);
    old.put("rebuildTalos", 0);
    old.put("noRetry", false);
    old.put("pusher", "dev@example.com");
    old.put("buildersSeen", 7);
    old.put("failureTriggered", 1);

    PushState read = DecideProcessor.PUSH_STATE.decode(encode(v1, old), "push-state");
    assertEquals(7, read.getBuildersSeen());
    assertNull(read.getVerdict());
    read.getTestBuilders().merge("PASS", 1, Integer::sum);
    assertEquals(Map.of("PASS", 1), read.getTestBuilders());
  }

  @Test
  void aBuilderOfVersionOneReadsUnclassifiedWithNoDecisions() throws Exception {
    Schema v1 = AvroSerde.olderSchema(BuilderState.class, "history/BuilderState-1.avsc");
    GenericRecord old = new GenericData.Record(v1);
    old.put("testJob", true);
    old.put("startSeen", true);
    old.put("triggered", true);
    old.put("jobsIssued", 1);
    old.put("runs", Map.of("3", 2));

    BuilderState read = DecideProcessor.BUILDER_STATE.decode(encode(v1, old), "builder-state");
    assertEquals(Map.of("3", 2), read.getRuns());
    assertEquals(0, read.getFailureTriggers());
    assertNull(read.getClassification());
    read.getDecisions().add(DecisionNote.newBuilder().setDecisionId("d").setEvent(EventKind.FINISHED)
        .setBuildNumber(4).setResult(2).setReason("TRIGGER_FAILURE").setCount(1).setFailuresOnPush(1)
        .setJobsOnPush(7).setEventTime(3).build());
    assertEquals(List.of("d"), read.getDecisions().stream().map(DecisionNote::getDecisionId).toList());
  }
}
