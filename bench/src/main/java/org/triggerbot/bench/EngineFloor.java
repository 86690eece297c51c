package org.triggerbot.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.triggerbot.schemas.Topics;

/**
 * The engine floor: the least an exactly-once Kafka Streams application can do with each {@code pulse.raw}
 * record and still be a stateful one, run in its own JVM as the processor is. Per record it makes one put to a
 * persistent (RocksDB), changelogged store and writes one record downstream, in the processor's transactions:
 * what the processor cannot avoid paying, whatever its own logic costs. The value is not decoded; the store and
 * the output hold only its length, so the floor pays for the engine and not for bytes the processor never writes.
 *
 * <p>Started by {@link EngineFloorProcess} with arguments {@code BOOTSTRAP APPLICATION_ID STATE_DIR
 * RUNNING_MARKER}; creates {@code RUNNING_MARKER} when Kafka Streams first reaches RUNNING (the benchmark's clock
 * starts there, as it does at the processor's {@code /health/ready}); SIGTERM closes it cleanly.
 */
public final class EngineFloor {

  /** The floor's output topic: one record a message. */
  static final String OUTPUT = "bench.engine-floor";
  static final String STORE = "floor-lengths";

  private EngineFloor() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 4) {
      System.err.println("usage: EngineFloor BOOTSTRAP APPLICATION_ID STATE_DIR RUNNING_MARKER");
      System.exit(2);
    }
    Path marker = Path.of(args[3]);
    KafkaStreams streams = new KafkaStreams(topology(), properties(args[0], args[1], Path.of(args[2])));
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicInteger exitCode = new AtomicInteger();
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) {
        running(marker);
      }
      if (now == KafkaStreams.State.ERROR) {
        exitCode.set(1);
      }
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        stopped.countDown();
      }
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(30)), "floor-shutdown"));
    streams.start();
    stopped.await();
    if (exitCode.get() != 0) {
      System.err.println("engine floor: Kafka Streams failed");
      System.exit(exitCode.get());
    }
  }

  /**
   * What {@code ProcessorConfig#streamsProperties} gives the processor by default, less what only concerns the
   * processor's own records (its processing exception handler) or its admin server ({@code application.server},
   * metadata only): everything else Kafka Streams' defaults, as the processor's are, notably the commit interval
   * (100 ms under exactly_once_v2), one stream thread and the same producer and consumer settings.
   */
  // processing.exception.handler.global.enabled is deprecated from its first release (4.3) and goes in 5.0, where
  // its true becomes the default; set here only to silence the warning Kafka Streams logs without it.
  @SuppressWarnings("deprecation")
  static Properties properties(String bootstrap, String appId, Path stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
    // Not a handler: without it Kafka Streams warns (as the processor would) of a default changing in 5.0.
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    return p;
  }

  /** Source (String keys, undecoded values, as the processor's), one store put, sink: every node named. */
  static Topology topology() {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(Topics.PULSE_RAW_BYTES.name(),
        Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("floor-source"))
        .process(new PutLength(), Named.as("floor-put"))
        .to(OUTPUT, Produced.with(Serdes.String(), Serdes.Integer()).withName("floor-sink"));
    return builder.build();
  }

  /**
   * Puts each record's value length under its key and forwards it. The store is built as the processor's are
   * ({@code Stores.keyValueStoreBuilder} over a persistent store: RocksDB, changelogged, not cached).
   */
  private static final class PutLength implements ProcessorSupplier<String, byte[], String, Integer> {
    @Override
    public Processor<String, byte[], String, Integer> get() {
      return new Processor<>() {
        private ProcessorContext<String, Integer> context;
        private KeyValueStore<String, Integer> store;

        @Override
        public void init(ProcessorContext<String, Integer> context) {
          this.context = context;
          this.store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, byte[]> record) {
          int length = record.value() == null ? 0 : record.value().length;
          store.put(record.key(), length);
          context.forward(record.withValue(length));
        }
      };
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return Set.of(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
          Serdes.Integer()));
    }
  }

  private static void running(Path marker) {
    try {
      Files.createFile(marker);
    } catch (FileAlreadyExistsException e) {
      // RUNNING again after a rebalance: the clock started at the first
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + marker, e);
    }
  }
}
