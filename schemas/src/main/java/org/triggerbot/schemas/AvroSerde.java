package org.triggerbot.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for a generated Avro record, on Avro's own single-object encoding: every value starts with the
 * two marker bytes {@code C3 01} and the 8-byte CRC-64-AVRO fingerprint of the writer schema, then the binary
 * datum. No schema registry is needed: the reader resolves the fingerprint against the schemas it knows (the
 * current one, plus older versions passed to {@link #of(Class, Schema...)}), and schema resolution turns an
 * older or newer compatible writer into the current reader class.
 *
 * <p>Guarantees: a value written by this serde is read back equal. A value whose header is missing, or whose
 * fingerprint is not known, fails with a {@link SerializationException} that names the topic, the record type and
 * the fingerprint, never with a half-read record. {@code null} maps to {@code null} (tombstones).
 *
 * <p>Thread-safe: Avro's message encoder and decoder are.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

  static {
    trustOwnGeneratedClasses();
  }

  private final Class<T> type;
  private final Schema schema;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  private AvroSerde(Class<T> type, Schema... olderWriterSchemas) {
    this.type = type;
    this.schema = SpecificData.get().getSchema(type);
    SchemaStore.Cache known = new SchemaStore.Cache();
    for (Schema older : olderWriterSchemas) {
      known.addSchema(older);
    }
    this.encoder = new BinaryMessageEncoder<>(SpecificData.get(), schema);
    this.decoder = new BinaryMessageDecoder<>(SpecificData.get(), schema, known);
  }

  /** A serde for {@code type}, also able to read values written with any of {@code olderWriterSchemas}. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type, Schema... olderWriterSchemas) {
    return new AvroSerde<>(type, olderWriterSchemas);
  }

  /**
   * An older writer schema kept as a resource beside {@code owner} (e.g. {@code history/TriggerCommand-1.avsc}),
   * for {@link #of(Class, Schema...)}: the schema a released version wrote, with its named types inlined, so that
   * records it left in topics and changelogs stay readable after an upgrade.
   *
   * @throws IllegalStateException when the resource is missing or not a schema (a packaging error)
   */
  public static Schema olderSchema(Class<?> owner, String resource) {
    try (java.io.InputStream in = owner.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("older schema " + resource + " is missing beside " + owner.getName());
      }
      return new Schema.Parser().parse(in);
    } catch (IOException | org.apache.avro.SchemaParseException e) {
      throw new IllegalStateException("older schema " + resource + " beside " + owner.getName() + " is unreadable", e);
    }
  }

  /** The reader (and writer) schema of this serde. */
  public Schema schema() {
    return schema;
  }

  /** Encodes one record, without a topic (files, state stores, tests). */
  public byte[] encode(T value) {
    try {
      ByteBuffer buffer = encoder.encode(value);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /** Decodes one value; {@code where} only goes into the error message. */
  public T decode(byte[] bytes, String where) {
    try {
      return decoder.decode(bytes);
    } catch (MissingSchemaException e) {
      throw new SerializationException(where + ": " + type.getSimpleName() + " written with unknown schema fingerprint "
          + fingerprintOf(bytes) + " (known: " + fingerprint(schema) + " and older versions registered)", e);
    } catch (BadHeaderException e) {
      throw new SerializationException(where + ": not an Avro single-object encoded " + type.getSimpleName()
          + " (" + e.getMessage() + ")", e);
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(where + ": cannot decode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Avro 1.12 refuses to instantiate classes named by a schema unless they are trusted (a defence against
   * schemas that name arbitrary classes). Our own generated records and enums are what these serdes read; trust
   * exactly those, in addition to whatever the JVM already trusts.
   */
  private static synchronized void trustOwnGeneratedClasses() {
    ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(new ClassSecurityValidator.ClassSecurityPredicate() {
      @Override
      public boolean isTrusted(Class<?> c) {
        boolean own = c.getName().startsWith("org.triggerbot.")
            && (SpecificRecord.class.isAssignableFrom(c) || c.isEnum());
        return own || previous.isTrusted(c);
      }

      @Override
      public void forbiddenClass(String className) {
        previous.forbiddenClass(className);
      }
    });
  }

  /** The fingerprint as it appears in the header, in hex, for messages. */
  public static String fingerprint(Schema schema) {
    return String.format("%016x", Long.reverseBytes(SchemaNormalization.parsingFingerprint64(schema)));
  }

  private static String fingerprintOf(byte[] bytes) {
    return bytes.length >= 10 ? HexFormat.of().formatHex(bytes, 2, 10) : "(truncated header)";
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, value) -> value == null ? null : encode(value);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> bytes == null ? null : decode(bytes, "topic " + topic);
  }
}
