package org.triggerbot.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  private static TriggerDecision decision() {
    return TriggerDecision.newBuilder()
        .setDecisionId("d-1").setBranch("try").setRevision("abcdef012345")
        .setBuilder("Rev3 WINNT 6.1 try opt test mochitest-1")
        .setEvent(JobEvent.FINISHED).setResult(2).setReason(DecisionReason.TRIGGER_FAILURE).setCount(1)
        .setFailuresOnPush(0).setJobsOnPush(3).setBudgetLimit(5).setPolicyVersion("p1").setUser("dev@example.com")
        .setEventTime(Instant.parse("2015-06-01T10:00:00Z")).setDecidedAt(null).setRoutingKey("build.x.1.finished")
        .build();
  }

  @Test
  void roundTripsThroughKafkaSerializer() {
    TriggerDecision d = decision();
    byte[] bytes = Topics.TRIGGER_DECISION.serializer().serialize("trigger.decisions", d);
    assertEquals((byte) 0xC3, bytes[0], "single-object encoding marker");
    assertEquals((byte) 0x01, bytes[1], "single-object encoding marker");
    assertEquals(d, Topics.TRIGGER_DECISION.deserializer().deserialize("trigger.decisions", bytes));
  }

  @Test
  void nullIsATombstone() {
    assertNull(Topics.PUSH_VERDICT.serializer().serialize("push.verdicts", null));
    assertNull(Topics.PUSH_VERDICT.deserializer().deserialize("push.verdicts", null));
  }

  @Test
  void unknownFingerprintIsAClearSerializationException() {
    byte[] bytes = Topics.TRIGGER_DECISION.encode(decision());
    byte[] other = Arrays.copyOf(bytes, bytes.length);
    other[5] ^= 0x55; // corrupt the fingerprint
    SerializationException e = assertThrows(SerializationException.class,
        () -> Topics.TRIGGER_DECISION.deserializer().deserialize("trigger.decisions", other));
    assertTrue(e.getMessage().contains("unknown schema fingerprint"), e.getMessage());
    assertTrue(e.getMessage().contains("trigger.decisions"), e.getMessage());
    assertTrue(e.getMessage().contains("TriggerDecision"), e.getMessage());
  }

  @Test
  void valueWithoutHeaderIsAClearSerializationException() {
    byte[] json = "{\"payload\":{}}".getBytes(StandardCharsets.UTF_8);
    SerializationException e = assertThrows(SerializationException.class,
        () -> Topics.PULSE_MESSAGE.deserializer().deserialize("pulse.raw", json));
    assertTrue(e.getMessage().contains("not an Avro single-object encoded PulseMessage"), e.getMessage());
  }

  @Test
  void readsAnOlderWriterSchemaThatItWasToldAbout() throws Exception {
    // An older PulseMessage without messageId/redelivered: new fields have defaults, so it must still read.
    Schema v0 = SchemaBuilder.record("PulseMessage").namespace("org.triggerbot.schemas").fields()
        .requiredString("exchange").requiredString("routingKey").requiredBytes("body")
        .name("receivedAt").type(Schema.create(Schema.Type.LONG)).noDefault()
        .endRecord();
    GenericRecord old = new GenericData.Record(v0);
    old.put("exchange", "exchange/build/");
    old.put("routingKey", "build.try_x.1.finished");
    old.put("body", ByteBuffer.wrap("{}".getBytes(StandardCharsets.UTF_8)));
    old.put("receivedAt", 42L);
    byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old).array();

    assertThrows(SerializationException.class, () -> Topics.PULSE_MESSAGE.decode(bytes, "test"));
    PulseMessage read = AvroSerde.of(PulseMessage.class, v0).decode(bytes, "test");
    assertEquals("build.try_x.1.finished", read.getRoutingKey());
    assertEquals(Instant.ofEpochMilli(42), read.getReceivedAt());
    assertNull(read.getMessageId());
    assertEquals(false, read.getRedelivered());
  }

  @Test
  void commandsOfTheReleaseBeforeConfirmationsStillRead() throws Exception {
    // Written by a processor of version 1 (no priorJobs) and still in trigger.commands when the sink is upgraded.
    Schema v1 = AvroSerde.olderSchema(Topics.class, "history/TriggerCommand-1.avsc");
    assertNull(v1.getField("priorJobs"), "version 1 is the schema before priorJobs");
    GenericRecord old = new GenericData.Record(v1);
    old.put("commandId", "c-1");
    old.put("branch", "try");
    old.put("revision", "abcdef012345");
    old.put("builder", "b");
    old.put("count", 2);
    old.put("reason", new GenericData.EnumSymbol(v1.getField("reason").schema(), "TRIGGER_FAILURE"));
    old.put("requestedAt", 42L);
    byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();

    TriggerCommand read = Topics.TRIGGER_COMMAND.decode(bytes, "trigger.commands");
    assertEquals("c-1", read.getCommandId());
    assertEquals(2, read.getCount());
    assertEquals(0, read.getPriorJobs(), "a first trigger, as every command of version 1 was");
  }

  @Test
  void aMissingOlderSchemaIsAPackagingErrorThatSaysWhich() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> AvroSerde.olderSchema(Topics.class, "history/Nothing-9.avsc"));
    assertTrue(e.getMessage().contains("history/Nothing-9.avsc"), e.getMessage());
  }

  @Test
  void jsonFormUsesAvroFieldNamesAndPlainValues() throws Exception {
    JsonNode node = new ObjectMapper().readTree(AvroJson.toJsonLine(decision()));
    assertEquals("try", node.get("branch").asText());
    assertEquals(2, node.get("result").asInt());
    assertEquals("TRIGGER_FAILURE", node.get("reason").asText());
    assertEquals("FINISHED", node.get("event").asText());
    assertEquals("2015-06-01T10:00:00Z", node.get("eventTime").asText());
    assertTrue(node.get("decidedAt").isNull());

    PulseMessage m = PulseMessage.newBuilder().setExchange("e").setRoutingKey("k")
        .setBody(ByteBuffer.wrap("{\"a\":1}".getBytes(StandardCharsets.UTF_8))).setReceivedAt(Instant.EPOCH).build();
    assertEquals("{\"a\":1}", new ObjectMapper().readTree(AvroJson.toJsonLine(m)).get("body").asText());
    PulseMessage binary = PulseMessage.newBuilder(m).setBody(ByteBuffer.wrap(new byte[] {(byte) 0xff, 0})).build();
    assertArrayEquals(new byte[] {(byte) 0xff, 0}, java.util.Base64.getDecoder().decode(
        new ObjectMapper().readTree(AvroJson.toJsonLine(binary)).get("body").asText().substring("base64:".length())));
  }
}
