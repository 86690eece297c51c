package org.triggerbot.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.triggerbot.schemas.AvroSerde;
import org.triggerbot.sink.state.EntryState;
import org.triggerbot.sink.state.SinkEntry;

/** An upgraded sink resumes from the journal its previous version wrote (entries without priorJobs). */
class SinkJournalSchemaTest {

  @Test
  void aJournalEntryOfVersionOneReadsAsAFirstTrigger() throws Exception {
    Schema v1 = AvroSerde.olderSchema(SinkEntry.class, "history/SinkEntry-1.avsc");
    GenericRecord old = new GenericData.Record(v1);
    old.put("commandId", "c-1");
    old.put("commandKey", "try/abcdef012345/b");
    old.put("branch", "try");
    old.put("revision", "abcdef012345");
    old.put("builder", "b");
    old.put("count", 1);
    old.put("state", new GenericData.EnumSymbol(v1.getField("state").schema(), "POSTING"));
    for (String counter : new String[] {"attempts", "noIdRetries", "transientFailures", "verifications"}) {
      old.put(counter, 0);
    }
    old.put("nextAttemptAt", 0L);
    byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();

    SinkEntry read = TriggerSink.ENTRY.decode(bytes, "trigger.sink-journal");
    assertEquals(EntryState.POSTING, read.getState());
    assertEquals(0, read.getPriorJobs());
    assertEquals("try/abcdef012345/b", read.getCommandKey());
  }
}
