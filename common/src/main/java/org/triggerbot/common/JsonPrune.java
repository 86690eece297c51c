package org.triggerbot.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a JSON document into a tree that holds only the fields a reader needs, skipping the rest as tokens: no
 * nodes, strings or numbers are made for them. A buildbot Pulse body is 2-10 KB of steps, times and properties
 * of which triggerbot reads a few hundred bytes, and building the whole tree was most of the processor's CPU.
 *
 * <p>The result is what {@code mapper.readTree(body)} gives with everything outside the kept paths removed, and
 * the document is still validated whole: the skipped parts are tokenized, so malformed JSON anywhere, or content
 * after the document, fails exactly as {@code readTree} fails (in that case, and when the root is not an object,
 * the document is read again by {@code readTree} itself, so the error is the same one). Duplicate names: the last
 * wins, as in {@code readTree}.
 */
public final class JsonPrune {

  /**
   * Per mapper, a reader of one value in the middle of a document: the mapper's own configuration may refuse
   * trailing tokens (at the root that is right; here the rest of the document follows).
   */
  private static final Map<ObjectMapper, ObjectReader> VALUE_READERS = new ConcurrentHashMap<>();

  private final Map<String, JsonPrune> fields; // null: keep the whole value (or, with entries, a list)
  private final java.util.Set<String> entryValues; // non-null: a list of [name, value, ...] entries

  private JsonPrune(Map<String, JsonPrune> fields) {
    this(fields, null);
  }

  private JsonPrune(Map<String, JsonPrune> fields, java.util.Set<String> entryValues) {
    this.fields = fields;
    this.entryValues = entryValues;
  }

  /** Keep this value whole, whatever it is. */
  public static JsonPrune whole() {
    return new JsonPrune(null);
  }

  /**
   * Of an object, keep only these fields, each pruned in turn. A value that is not an object is kept whole, so
   * that a reader can still tell "missing" from "wrong type".
   */
  public static JsonPrune fields(Map<String, JsonPrune> fields) {
    return new JsonPrune(Map.copyOf(fields));
  }

  /**
   * A list of named entries {@code [name, value, ...]}, as buildbot's {@code properties}: every entry keeps its
   * name, but only the entries named in {@code names} keep their value and the rest; the others become
   * {@code [name, null]}. An element that is not an array of at least two elements starting with a string is kept
   * whole, so a reader still sees every malformed entry where it was. A value that is not a list is kept whole.
   */
  public static JsonPrune namedEntries(java.util.Set<String> names) {
    return new JsonPrune(null, java.util.Set.copyOf(names));
  }

  /**
   * The pruned tree of {@code body}; as {@link ObjectMapper#readTree(byte[])} when the root is not an object.
   *
   * @throws IOException exactly when {@code mapper.readTree(body)} throws, with its exception
   */
  public JsonNode read(ObjectMapper mapper, byte[] body) throws IOException {
    try (JsonParser parser = mapper.createParser(body)) {
      if (parser.nextToken() != JsonToken.START_OBJECT || fields == null) {
        return mapper.readTree(body);
      }
      ObjectReader values = VALUE_READERS.computeIfAbsent(mapper,
          m -> m.readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS));
      ObjectNode root = readObject(mapper, values, parser, this);
      if (parser.nextToken() != null) {
        return mapper.readTree(body); // trailing content: let readTree report it as it does
      }
      return root;
    } catch (JsonProcessingException e) {
      return mapper.readTree(body); // malformed: the same error readTree gives (it throws)
    }
  }

  private static ObjectNode readObject(ObjectMapper mapper, ObjectReader values, JsonParser parser, JsonPrune spec)
      throws IOException {
    ObjectNode node = mapper.createObjectNode();
    for (String name = parser.nextFieldName(); name != null; name = parser.nextFieldName()) {
      JsonToken value = parser.nextToken();
      JsonPrune child = spec.fields.get(name);
      if (child == null) {
        parser.skipChildren(); // a scalar is already consumed; an object or array is skipped to its end
      } else if (child.entryValues != null && value == JsonToken.START_ARRAY) {
        node.set(name, readEntries(mapper, values, parser, child.entryValues));
      } else if (child.fields == null || value != JsonToken.START_OBJECT) {
        node.set(name, value(values, parser));
      } else {
        node.set(name, readObject(mapper, values, parser, child));
      }
    }
    if (parser.currentToken() != JsonToken.END_OBJECT) {
      throw new com.fasterxml.jackson.core.JsonParseException(parser, "expected the end of an object");
    }
    return node;
  }

  /**
   * The value at the parser's current token, whole; JSON null as a {@link NullNode}. Strings and nulls, most of
   * what is kept, are made here as {@code readTree} makes them ({@code TextNode.valueOf(text)}), because each
   * {@code readTree} call sets up a deserialization context, which cost more than the rest of the message.
   */
  private static JsonNode value(ObjectReader values, JsonParser parser) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_STRING) {
      return TextNode.valueOf(parser.getText());
    }
    if (token == JsonToken.VALUE_NULL) {
      return NullNode.getInstance();
    }
    JsonNode node = values.readTree(parser);
    return node == null ? NullNode.getInstance() : node;
  }

  /** The parser is on the list's START_ARRAY; leaves it on its END_ARRAY. */
  private static ArrayNode readEntries(ObjectMapper mapper, ObjectReader values, JsonParser parser,
      java.util.Set<String> names) throws IOException {
    ArrayNode list = mapper.createArrayNode();
    for (JsonToken element = parser.nextToken(); element != JsonToken.END_ARRAY; element = parser.nextToken()) {
      if (element != JsonToken.START_ARRAY) {
        list.add(value(values, parser));
        continue;
      }
      ArrayNode entry = list.addArray();
      JsonToken first = parser.nextToken();
      boolean keep = first != JsonToken.VALUE_STRING || names.contains(parser.getText());
      if (first != JsonToken.END_ARRAY) {
        entry.add(value(values, parser));
      }
      for (JsonToken t = first == JsonToken.END_ARRAY ? first : parser.nextToken(); t != JsonToken.END_ARRAY;
          t = parser.nextToken()) {
        if (keep) {
          entry.add(value(values, parser));
        } else {
          // An entry nobody reads: its value becomes null (the entry keeps its shape), the rest is dropped.
          if (entry.size() == 1) {
            entry.addNull();
          }
          parser.skipChildren();
        }
      }
    }
    return list;
  }
}
