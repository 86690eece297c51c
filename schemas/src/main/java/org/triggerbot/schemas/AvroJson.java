package org.triggerbot.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;

/**
 * The JSON Lines form of triggerbot's records, for files and for people (SPEC section 5): one JSON object per
 * record with the Avro field names, unions written as their plain value (not Avro's {@code {"type": value}}
 * wrapping), enums as their symbol, timestamps as ISO-8601 instants, bytes as UTF-8 text when they are valid
 * UTF-8 (Pulse bodies are JSON text), else base64.
 */
public final class AvroJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private AvroJson() {}

  /** The record as a JSON object node. */
  public static ObjectNode toNode(IndexedRecord record) {
    ObjectNode node = NODES.objectNode();
    for (Schema.Field field : record.getSchema().getFields()) {
      node.set(field.name(), value(record.get(field.pos())));
    }
    return node;
  }

  /** The record as one line of compact JSON (no trailing newline). */
  public static String toJsonLine(IndexedRecord record) {
    try {
      return MAPPER.writeValueAsString(toNode(record));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON for " + record.getSchema().getName(), e);
    }
  }

  private static JsonNode value(Object v) {
    if (v == null) {
      return NODES.nullNode();
    } else if (v instanceof IndexedRecord r) {
      return toNode(r);
    } else if (v instanceof CharSequence || v instanceof Enum<?>) {
      return NODES.textNode(v.toString());
    } else if (v instanceof Integer i) {
      return NODES.numberNode(i);
    } else if (v instanceof Long l) {
      return NODES.numberNode(l);
    } else if (v instanceof Boolean b) {
      return NODES.booleanNode(b);
    } else if (v instanceof Double d) {
      return NODES.numberNode(d);
    } else if (v instanceof Float f) {
      return NODES.numberNode(f);
    } else if (v instanceof Instant t) {
      return NODES.textNode(t.toString());
    } else if (v instanceof ByteBuffer b) {
      return bytes(b);
    } else if (v instanceof Collection<?> c) {
      ArrayNode array = NODES.arrayNode();
      c.forEach(item -> array.add(value(item)));
      return array;
    } else if (v instanceof Map<?, ?> m) {
      ObjectNode object = NODES.objectNode();
      m.forEach((k, item) -> object.set(k.toString(), value(item)));
      return object;
    }
    return NODES.textNode(v.toString());
  }

  private static JsonNode bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    try {
      return NODES.textNode(StandardCharsets.UTF_8.newDecoder().decode(b).toString());
    } catch (CharacterCodingException e) {
      byte[] raw = new byte[buffer.remaining()];
      buffer.duplicate().get(raw);
      return NODES.textNode("base64:" + Base64.getEncoder().encodeToString(raw));
    }
  }
}
