package org.triggerbot.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.app.PolicyConfig;
import org.triggerbot.processor.policy.PolicySettings;
import org.triggerbot.processor.pulse.ParseOutcome;
import org.triggerbot.processor.pulse.PulseParser;
import org.triggerbot.processor.replay.FastReplay;
import org.triggerbot.processor.replay.Input;
import org.triggerbot.processor.replay.JsonLinesOutput;
import org.triggerbot.processor.replay.Replay;
import org.triggerbot.processor.replay.ReplayEngine;
import org.triggerbot.processor.replay.ReplaySource;
import org.triggerbot.processor.whatif.WhatIf;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.Topic;
import org.triggerbot.schemas.Topics;
import org.triggerbot.testsupport.Await;
import org.triggerbot.testsupport.EmbeddedKafka;
import org.triggerbot.testsupport.pulse.PulseLoad;

/**
 * {@code triggerbot bench}: measures the processor on this machine, all in one run so that the figures are
 * comparable (see {@link BenchOptions#USAGE}). A processor's rate is the whole input divided by the time from
 * Kafka Streams reaching RUNNING to the last decision becoming visible (read_committed), so neither JVM start
 * nor the first rebalance counts, and every message's processing does. The engine floor ({@link EngineFloor}) is
 * timed the same way, so that the processor's rate can be read against what Kafka Streams itself allows.
 */
public final class Bench {

  static {
    // Before any class that logs is loaded (the schemas are): the embedded broker's INFO lines would bury the
    // benchmark's own. Warnings still show.
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
      System.setProperty("org.slf4j.simpleLogger.log.org.triggerbot", "warn");
    }
  }

  private static final String PULSE_RAW = Topics.PULSE_RAW.name();
  private static final int RAW_MIN_SECONDS = 3;

  private final BenchOptions options;
  private final Path work;
  private final PrintStream log;
  private final Map<String, Object> results = new LinkedHashMap<>();

  private Bench(BenchOptions options, Path work, PrintStream log) {
    this.options = options;
    this.work = work;
    this.log = log;
  }

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args)));
  }

  static int run(List<String> args) {
    if (args.contains("--help") || args.contains("-h")) {
      System.out.print(BenchOptions.USAGE);
      return 0;
    }
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("triggerbot bench: " + e.getMessage());
      System.err.print(BenchOptions.USAGE);
      return 2;
    }
    if (options.taskclusterBridge()) {
      try {
        TaskclusterBridgeBench.run(options, System.err, System.out);
        return 0;
      } catch (Exception e) {
        System.err.println("triggerbot bench --taskcluster-bridge: failed: " + e);
        e.printStackTrace(System.err);
        return 1;
      }
    }
    Path work = null;
    try {
      work = Files.createTempDirectory("triggerbot-bench-");
      Bench bench = new Bench(options, work, System.err);
      bench.measure();
      bench.write();
      return 0;
    } catch (Exception e) {
      System.err.println("triggerbot bench: failed: " + e);
      e.printStackTrace(System.err);
      System.err.println("work directory (processor logs): " + work);
      return 1;
    }
  }

  private void measure() throws Exception {
    long begin = System.nanoTime();
    results.put("machine", machine());
    PulseLoad load = PulseLoad.of(options.seed(), options.pushes(), options.jobs());
    Path feed = work.resolve("load.jsonl");
    int[] sizes = writeLoad(load, feed);
    Arrays.sort(sizes);
    results.put("pushes", options.pushes());
    results.put("testJobsPerPush", options.jobs());
    results.put("messages", load.size());
    results.put("messageBytesMedian", sizes[sizes.length / 2]);
    results.put("messageBytesP95", sizes[(int) (sizes.length * 0.95)]);
    results.put("loadBytes", Arrays.stream(sizes).asLongStream().sum());
    log.printf("load: %d messages, %d pushes x %d test jobs, body median %d B%n", load.size(), options.pushes(),
        options.jobs(), sizes[sizes.length / 2]);

    parser(feed);
    Set<String> expected = replay(feed);
    fastReplay(feed);
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      createTopics(kafka);
      kafka.createTopic(EngineFloor.OUTPUT, 1, RETAINED);
      preload(kafka.bootstrapServers(), load, feed);
      rawConsumer(kafka.bootstrapServers(), load.size());
      engineFloor(kafka.bootstrapServers(), load.size());
      processorRun(kafka.bootstrapServers(), "exactly_once_v2", "Eos", load.size(), expected, true);
      processorRun(kafka.bootstrapServers(), "at_least_once", "Alos", load.size(), expected, false);
    }
    results.put("ratioEos", ratio("processorRateEos", "rawConsumerRate"));
    results.put("ratioAlos", ratio("processorRateAlos", "rawConsumerRate"));
    results.put("ratioToEngineFloorEos", ratio("processorRateEos", "engineFloorRateEos"));
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      createTopics(kafka);
      latency(kafka.bootstrapServers(), load);
    }
    results.put("benchSeconds", Math.round(Await.elapsedMillis(begin) / 1000.0));
  }

  /** Writes the load as JSON Lines (the replay's input); answers the body sizes in bytes. */
  private int[] writeLoad(PulseLoad load, Path feed) throws IOException {
    int[] sizes = new int[load.size()];
    try (BufferedWriter out = Files.newBufferedWriter(feed, StandardCharsets.UTF_8)) {
      int i = 0;
      for (PulseLoad.Event e : load.events()) {
        String body = load.render(e);
        sizes[i++] = body.getBytes(StandardCharsets.UTF_8).length;
        out.write(body);
        out.write('\n');
      }
    }
    return sizes;
  }

  /**
   * The Pulse parser alone, in this JVM, over (up to 20,000 of) the load's bodies: microseconds per body, the
   * median of five rounds after three of warm-up. The one stage of the processor that reads the bodies' bytes.
   */
  private void parser(Path feed) throws IOException {
    List<byte[]> bodies = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(feed, StandardCharsets.UTF_8)) {
      String line;
      while (bodies.size() < 20_000 && (line = in.readLine()) != null) {
        bodies.add(line.getBytes(StandardCharsets.UTF_8));
      }
    }
    PolicySettings policy = PolicyConfig.parse(Map.of());
    PulseParser parser = new PulseParser(policy.branches(), policy.pulseMaxBytes());
    double[] rounds = new double[8];
    long accepted = 0;
    for (int round = 0; round < rounds.length; round++) {
      long start = System.nanoTime();
      for (byte[] body : bodies) {
        if (parser.parse(body) instanceof ParseOutcome.Accepted) {
          accepted++;
        }
      }
      rounds[round] = (System.nanoTime() - start) / 1000.0 / bodies.size();
    }
    double[] measured = Arrays.copyOfRange(rounds, 3, rounds.length);
    Arrays.sort(measured);
    results.put("parserMicrosPerMessage", Math.round(measured[measured.length / 2] * 10) / 10.0);
    log.printf("parser: %.1f us/body (median of 5 rounds over %d bodies, %d accepted a round)%n",
        measured[measured.length / 2], bodies.size(), accepted / rounds.length);
  }

  /**
   * The fast replay engine on the same feed: {@code replay} (one policy, decisions written) and an 8-policy
   * {@code whatif}, each against the parse floor, the rate at which one thread only reads the lines and tokenizes
   * them with Jackson (no tree). Each is measured twice and the second run counts, so JIT warm-up does not.
   */
  private void fastReplay(Path feed) throws IOException {
    PolicySettings policy = PolicyConfig.parse(Map.of());
    List<PolicySettings> grid = new ArrayList<>();
    for (String floor : List.of("1", "3", "5", "10")) {
      for (String max : List.of("1", "3")) {
        grid.add(PolicyConfig.parse(Map.of("budget.floor", floor, "confirm.max.retriggers", max)));
      }
    }
    com.fasterxml.jackson.core.JsonFactory tokens = new com.fasterxml.jackson.core.JsonFactory();
    double floor = 0;
    double replay = 0;
    double whatif = 0;
    long lines = 0;
    long decisions = 0;
    for (int round = 0; round < 2; round++) {
      long start = System.nanoTime();
      lines = 0;
      try (ReplaySource in = ReplaySource.lines(Files.newInputStream(feed), Files.size(feed))) {
        for (List<Input> chunk = in.next(1024); !chunk.isEmpty(); chunk = in.next(1024)) {
          for (Input input : chunk) {
            lines++;
            try (com.fasterxml.jackson.core.JsonParser p = tokens.createParser(input.body())) {
              while (p.nextToken() != null) {
                // tokenize only
              }
            } catch (com.fasterxml.jackson.core.JsonProcessingException malformed) {
              // a malformed body costs what it costs
            }
          }
        }
      }
      floor = lines / ((System.nanoTime() - start) / 1e9);
      start = System.nanoTime();
      try (ReplaySource in = ReplaySource.lines(Files.newInputStream(feed), Files.size(feed));
           BufferedWriter writer = Files.newBufferedWriter(work.resolve("fast-replay.jsonl"), StandardCharsets.UTF_8)) {
        decisions = new FastReplay(policy).run(in, new JsonLinesOutput(writer, null),
            new PrintStream(OutputStream.nullOutputStream())).decisions();
      }
      replay = lines / ((System.nanoTime() - start) / 1e9);
      start = System.nanoTime();
      try (ReplaySource in = ReplaySource.lines(Files.newInputStream(feed), Files.size(feed))) {
        new WhatIf(ReplayEngine.defaultThreads(), ReplayEngine.Progress.NONE).run(in, feed.toString(),
            grid.stream().map(PolicySettings::version).toList(), grid, (where, reason, error) -> {});
      }
      whatif = lines / ((System.nanoTime() - start) / 1e9);
    }
    results.put("parseFloorRate", round(floor));
    results.put("replayRate", round(replay));
    results.put("whatif8Rate", round(whatif));
    results.put("replayToParseFloor", Math.round(replay / floor * 100) / 100.0);
    results.put("fastReplayDecisionsMatch", decisions == ((Number) results.get("decisions")).longValue());
    log.printf("replay (fast): %.0f lines/s, whatif of 8 policies: %.0f lines/s, parse floor (1 thread, tokenize "
        + "only): %.0f lines/s, replay/floor %.2f%n", replay, whatif, floor, replay / floor);
  }

  /** The offline replay's rate, and its decision ids: what the live runs must reproduce. */
  private Set<String> replay(Path feed) throws IOException {
    Path out = work.resolve("replay-decisions.jsonl");
    long start = System.nanoTime();
    Replay.Summary summary;
    try (ReplaySource in = ReplaySource.lines(Files.newInputStream(feed), Files.size(feed));
         BufferedWriter writer = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      summary = new Replay(PolicyConfig.parse(Map.of()))
          .run(in, new JsonLinesOutput(writer, null), new PrintStream(OutputStream.nullOutputStream()));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    results.put("replayRateTopology", round(summary.lines() / seconds));
    results.put("decisions", summary.decisions());
    results.put("rejected", summary.rejected());
    log.printf("replay --engine topology: %d lines in %.1f s, %.0f lines/s, %d decisions%n", summary.lines(), seconds,
        summary.lines() / seconds, summary.decisions());
    Set<String> ids = new HashSet<>();
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader in = Files.newBufferedReader(out, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        ids.add(json.readTree(line).get("decisionId").asText());
      }
    }
    return ids;
  }

  /** The load carries 2015 event times, which its outputs inherit: without this the broker would delete them. */
  private static final Map<String, String> RETAINED = Map.of("retention.ms", "-1");

  private static void createTopics(EmbeddedKafka kafka) {
    // pulse.raw has one partition in the bench: it is sized for a 2-core machine, where the processor runs one
    // decision task.
    for (Topic<String, ?> topic : Topics.ALL) {
      kafka.createTopic(topic.name(), 1, RETAINED);
    }
  }

  /**
   * Sends {@code record}; a failure is kept in {@code failed} (the first one), for {@link #checkSent} after the
   * flush. A message lost unnoticed would make the bench measure a smaller load than it reports.
   */
  // The callback receives the outcome; the Future would only repeat it.
  @SuppressWarnings("FutureReturnValueIgnored")
  private static void send(KafkaProducer<String, byte[]> producer, ProducerRecord<String, byte[]> record,
      AtomicReference<Exception> failed) {
    producer.send(record, (metadata, error) -> {
      if (error != null) {
        failed.compareAndSet(null, error);
      }
    });
  }

  /** After a flush: fails when any {@link #send} failed. */
  private static void checkSent(AtomicReference<Exception> failed) {
    Exception e = failed.get();
    if (e != null) {
      throw new IllegalStateException("writing the load to " + PULSE_RAW + " failed: " + e, e);
    }
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap, int lingerMs) {
    // The bridge's producer settings: idempotent, acks=all, zstd.
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd",
        ProducerConfig.LINGER_MS_CONFIG, lingerMs,
        ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024),
        new StringSerializer(), new ByteArraySerializer());
  }

  private static byte[] record(String routingKey, byte[] body, long receivedAt) {
    return Topics.PULSE_MESSAGE.encode(PulseMessage.newBuilder()
        .setExchange("exchange/build/")
        .setRoutingKey(routingKey)
        .setBody(java.nio.ByteBuffer.wrap(body))
        .setReceivedAt(Instant.ofEpochMilli(receivedAt))
        .build());
  }

  /** pulse.raw: key the push (branch/revision), as the bridge writes it; timestamp {@code _meta.sent}. */
  private void preload(String bootstrap, PulseLoad load, Path feed) throws Exception {
    long start = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer = producer(bootstrap, 20);
         BufferedReader in = Files.newBufferedReader(feed, StandardCharsets.UTF_8)) {
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (PulseLoad.Event e : load.events()) {
        byte[] body = in.readLine().getBytes(StandardCharsets.UTF_8);
        String routingKey = load.routingKey(e);
        send(producer, new ProducerRecord<>(PULSE_RAW, null, e.sentMillis(),
            PulseEnvelope.read(body).recordKey(routingKey), record(routingKey, body, e.sentMillis())), failed);
      }
      producer.flush();
      checkSent(failed);
    }
    log.printf("preload: %d messages into %s in %.1f s%n", load.size(), PULSE_RAW, (System.nanoTime() - start) / 1e9);
  }

  /**
   * The physical limit: a plain consumer reading pulse.raw (with the same zstd batches the processor reads) and
   * doing nothing with the records. The topic is read again and again for at least {@link #RAW_MIN_SECONDS}, so
   * that a small load still gives a stable figure; the clock starts at the first records.
   */
  private void rawConsumer(String bootstrap, int messages) {
    TopicPartition partition = new TopicPartition(PULSE_RAW, 0);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        // At the end of a pass the fetch already in flight waits this long for data that will not come; the
        // default 500 ms would be counted against every pass. A fetch with data returns at once either way.
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(partition));
      long deadline = Await.deadlineIn(Duration.ofMinutes(5));
      long read = 0;
      long bytes = 0;
      long firstBatch = -1;
      long firstNanos = 0;
      int passes = 0;
      while (passes < 2 || System.nanoTime() - firstNanos < TimeUnit.SECONDS.toNanos(RAW_MIN_SECONDS)) {
        consumer.seekToBeginning(List.of(partition));
        long pass = 0;
        while (pass < messages) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("raw consumer read " + pass + " of " + messages + " in 5 minutes");
          }
          ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
          if (firstBatch < 0 && !records.isEmpty()) {
            firstNanos = System.nanoTime();
            firstBatch = records.count();
          }
          for (var r : records) {
            bytes += r.value().length;
          }
          pass += records.count();
        }
        read += pass;
        passes++;
      }
      double seconds = (System.nanoTime() - firstNanos) / 1e9;
      double rate = (read - firstBatch) / seconds;
      log.printf("raw consumer: %d passes, %d messages (%d MB) in %.2f s, %.0f msg/s%n", passes, read, bytes >> 20,
          seconds, rate);
      results.put("rawConsumerRate", round(rate));
    }
  }

  /**
   * The engine floor ({@link EngineFloor}) over the preloaded topic, exactly-once, in its own JVM: the rate the
   * processor could reach if its own work cost nothing. Timed as {@link #processorRun} times the processor, from
   * RUNNING to the last output record visible to a read_committed consumer: both clocks stop at the commit of the
   * transaction that holds the last output, the transaction that also commits the input offsets. (Not the
   * committed offset itself: the processor is not timed by it, and Admin can only be polled coarsely.) The floor
   * writes an output for every message, the processor a decision for some: should its last decision come from a
   * message before the last one, its clock stops early: the ratio to the floor can only err in the processor's favour.
   */
  private void engineFloor(String bootstrap, int messages) {
    String appId = "bench-engine-floor-eos";
    TopicPartition partition = new TopicPartition(EngineFloor.OUTPUT, 0);
    try (KafkaConsumer<byte[], byte[]> output = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        // As DecisionWatch's, so that the moment the last output is seen is as late or early as a decision's.
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100),
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
         EngineFloorProcess floor = EngineFloorProcess.start(bootstrap, appId, work, options.heap(),
             options.processorJvmOptions())) {
      output.assign(List.of(partition));
      output.seekToBeginning(List.of(partition)); // the topic is this run's: all of it is the floor's output
      long deadline = Await.deadlineIn(Duration.ofMinutes(20));
      awaitStart(appId, deadline, floor::running, () -> check(floor), floor::logTail);
      long runningNanos = System.nanoTime();
      long cpuAtRunning = floor.cpuMillis();
      long seen = 0;
      long lastVisibleNanos = runningNanos;
      while (seen < messages) {
        check(floor);
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(appId + " wrote " + seen + " of " + messages + " records in 20 minutes:\n"
              + floor.logTail());
        }
        ConsumerRecords<byte[], byte[]> records = output.poll(Duration.ofMillis(200));
        if (!records.isEmpty()) {
          lastVisibleNanos = System.nanoTime();
          seen += records.count();
        }
      }
      long cpuAtEnd = floor.cpuMillis();
      if (cpuAtRunning >= 0 && cpuAtEnd >= 0) {
        results.put("engineFloorCpuMicrosPerMessage", round((cpuAtEnd - cpuAtRunning) * 1000.0 / messages));
      }
      double seconds = (lastVisibleNanos - runningNanos) / 1e9;
      double rate = messages / seconds;
      log.printf("engine floor exactly_once_v2: %d messages in %.2f s (RUNNING to last output), %.0f msg/s, CPU %s"
          + " us/message%n", messages, seconds, rate, results.get("engineFloorCpuMicrosPerMessage"));
      results.put("engineFloorRateEos", round(rate));
      floor.stop();
    }
  }

  /**
   * Waits until a child JVM's Kafka Streams runs, polling often so that the start is known to ~20 ms (a remote
   * state is polled: there is nothing to wait on instead); {@code check} fails if the child died.
   */
  private static void awaitStart(String appId, long deadline, java.util.function.BooleanSupplier started,
      Runnable check, java.util.function.Supplier<String> logTail) {
    while (!started.getAsBoolean()) {
      check.run();
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(appId + " not running after 20 minutes:\n" + logTail.get());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  private static void check(EngineFloorProcess floor) {
    if (!floor.alive()) {
      throw new IllegalStateException("the engine floor exited:\n" + floor.logTail());
    }
  }

  /**
   * One processor run over the preloaded topic: its rate from the first to the last decision, the decisions
   * checked against the replay's, then (with {@code measureFootprint}) heap after GC and state size.
   */
  private void processorRun(String bootstrap, String guarantee, String suffix, int messages, Set<String> expected,
      boolean measureFootprint) throws Exception {
    String appId = "bench-" + guarantee.replace('_', '-');
    try (DecisionWatch watch = new DecisionWatch(bootstrap);
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
         ProcessorProcess processor =
             ProcessorProcess.start(bootstrap, appId, guarantee, work, options.heap(), options.processorJvmOptions())) {
      long deadline = Await.deadlineIn(Duration.ofMinutes(20));
      // The clock starts when Kafka Streams is RUNNING (JVM start, topic set-up and the first rebalance are
      // start-up) and stops at the last decision.
      awaitStart(appId, deadline, processor::ready, () -> check(processor), processor::logTail);
      long runningNanos = System.nanoTime();
      long cpuAtRunning = processor.cpuMillis();
      Await.until("all " + expected.size() + " decisions of " + appId, deadline, () -> {
        check(processor);
        return watch.count() >= expected.size();
      });
      long cpuAtEnd = processor.cpuMillis();
      if (cpuAtRunning >= 0 && cpuAtEnd >= 0) {
        results.put("processorCpuMicrosPerMessage" + suffix, round((cpuAtEnd - cpuAtRunning) * 1000.0 / messages));
      }
      // Where the stream thread's time went (Kafka Streams' own thread metrics, over its recent window).
      Map<String, Double> threadTime = new LinkedHashMap<>();
      for (String part : List.of("poll", "process", "commit", "punctuate")) {
        threadTime.put(part, round3(processor.metricSum("kafka_stream_thread_" + part + "_ratio", "")));
      }
      results.put("streamThreadTime" + suffix, threadTime);
      List<DecisionWatch.Seen> seen = watch.seen();
      double seconds = (seen.get(seen.size() - 1).visibleNanos() - runningNanos) / 1e9;
      double rate = messages / seconds;
      Set<String> ids = watch.decisionIds();
      boolean matches = ids.equals(expected) && seen.size() == expected.size();
      log.printf("processor %s: %d messages in %.2f s (RUNNING to last decision), %.0f msg/s, processor CPU %s us"
          + "/message; decisions %s the replay's; stream thread time %s%n", guarantee, messages, seconds, rate,
          results.get("processorCpuMicrosPerMessage" + suffix), matches ? "equal" : "DIFFER FROM", threadTime);
      results.put("processorRate" + suffix, round(rate));
      results.put("decisionsMatchReplay" + suffix, matches);
      if (measureFootprint) {
        Await.until("the processor to commit the whole input", deadline, () -> committed(admin, appId) >= messages);
        long heap = processor.heapUsedAfterGc();
        long rss = processor.residentBytes();
        results.put("heapUsedAfterGcBytes", heap);
        results.put("processorResidentBytes", rss);
        processor.stop();
        // After the clean stop: RocksDB has flushed its memtables to files (Kafka Streams runs it without a
        // write-ahead log, so before that the state is in memory and the directory says little).
        long state = processor.stateDirBytes();
        results.put("stateDirBytes", state);
        log.printf("processor footprint after %d pushes: heap %d MB after GC, resident %d MB, state dir %d KB"
            + " after a clean stop%n", options.pushes(), heap >> 20, rss >> 20, state >> 10);
      } else {
        processor.stop();
      }
    }
  }

  private static void check(ProcessorProcess processor) {
    if (!processor.alive()) {
      throw new IllegalStateException("the processor exited:\n" + processor.logTail());
    }
  }

  /** The processor's committed offset on pulse.raw (0 before its first commit). */
  private static long committed(Admin admin, String appId) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(appId)
        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    OffsetAndMetadata o = offsets.get(new TopicPartition(PULSE_RAW, 0));
    return o == null ? 0 : o.offset();
  }

  /**
   * Decision latency at fixed input rates, on a processor that is already running: each message is stamped with
   * the wall clock as it is produced ({@code _meta.sent} and the record timestamp, which the decision inherits), and
   * latency is the time until the decision is visible to a read_committed consumer. The first
   * {@code warmupSeconds} of each rate are not counted.
   */
  private void latency(String bootstrap, PulseLoad preloaded) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    // Fresh pushes for the live feed, enough that no message repeats (a repeat is a duplicate: no decision).
    long needed = 0;
    for (int rate : options.rates()) {
      needed += (long) rate * (options.warmupSeconds() + options.latencySeconds());
    }
    double perPush = (double) preloaded.size() / options.pushes();
    PulseLoad load = PulseLoad.of(options.seed() + 1, (int) Math.ceil(needed * 1.1 / perPush) + 1, options.jobs());
    try (DecisionWatch watch = new DecisionWatch(bootstrap);
         ProcessorProcess processor = ProcessorProcess.start(bootstrap, "bench-latency", "exactly_once_v2", work,
             options.heap(), options.processorJvmOptions());
         KafkaProducer<String, byte[]> producer = producer(bootstrap, 5)) {
      Await.until("the latency processor to be ready", Duration.ofMinutes(2), () -> {
        check(processor);
        return processor.ready();
      });
      int next = 0;
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (int rate : options.rates()) {
        long measureFrom = System.currentTimeMillis() + options.warmupSeconds() * 1000L;
        int count = rate * (options.warmupSeconds() + options.latencySeconds());
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
          long due = start + (long) (i * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait); // pacing the producer, not synchronising a test
          }
          PulseLoad.Event e = load.events().get(next++);
          long now = System.currentTimeMillis();
          byte[] body = load.render(e, Instant.ofEpochMilli(now)).getBytes(StandardCharsets.UTF_8);
          String routingKey = load.routingKey(e);
          send(producer, new ProducerRecord<>(PULSE_RAW, null, now, PulseEnvelope.read(body).recordKey(routingKey),
              record(routingKey, body, now)), failed);
        }
        producer.flush();
        checkSent(failed);
        double achieved = count / ((System.nanoTime() - start) / 1e9);
        long measureTo = System.currentTimeMillis();
        // Drained: no new decision for 3 s (a decision takes well under a second at these rates).
        Await.until("the decisions at " + rate + " msg/s to drain", Duration.ofMinutes(2), () -> {
          check(processor);
          return watch.quietNanos() > TimeUnit.SECONDS.toNanos(3);
        });
        long[] latencies = watch.seen().stream()
            .filter(s -> s.timestamp() >= measureFrom && s.timestamp() <= measureTo)
            .mapToLong(s -> s.visibleMillis() - s.timestamp()).sorted().toArray();
        if (latencies.length == 0) {
          throw new IllegalStateException("no decision in the " + options.latencySeconds() + " s measured at " + rate
              + " msg/s (a longer --latency-seconds gives more); processor log:\n" + processor.logTail());
        }
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("rate", rate);
        run.put("achievedRate", round(achieved));
        run.put("decisions", latencies.length);
        run.put("p50Ms", percentile(latencies, 0.50));
        run.put("p95Ms", percentile(latencies, 0.95));
        run.put("p99Ms", percentile(latencies, 0.99));
        run.put("maxMs", latencies[latencies.length - 1]);
        runs.add(run);
        log.printf("latency at %d msg/s (achieved %.0f): %d decisions, p50 %d ms, p95 %d ms, p99 %d ms, max %d ms%n",
            rate, achieved, latencies.length, percentile(latencies, 0.5), percentile(latencies, 0.95),
            percentile(latencies, 0.99), latencies[latencies.length - 1]);
      }
      processor.stop();
    }
    results.put("latency", runs);
    // The top-level percentiles are those of the highest rate: the demanding case, not the flattering one.
    Map<String, Object> top = runs.get(runs.size() - 1);
    results.put("latencyRate", top.get("rate"));
    results.put("latencyP50Ms", top.get("p50Ms"));
    results.put("latencyP95Ms", top.get("p95Ms"));
    results.put("latencyP99Ms", top.get("p99Ms"));
  }

  /** Nearest-rank percentile of sorted values. */
  static long percentile(long[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private Double ratio(String rateKey, String baseKey) {
    Object rate = results.get(rateKey);
    Object base = results.get(baseKey);
    return rate instanceof Number r && base instanceof Number b ? round3(r.doubleValue() / b.doubleValue()) : null;
  }

  private void write() throws IOException {
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(options.output().toFile(), results);
    PrintStream out = System.out;
    out.println();
    out.printf("%-44s %s%n", "machine", results.get("machine"));
    row(out, "load", results.get("messages") + " messages, body median " + results.get("messageBytesMedian") + " B");
    row(out, "raw consumer (msg/s)", results.get("rawConsumerRate"));
    row(out, "engine floor exactly_once_v2 (msg/s)", results.get("engineFloorRateEos") + "  processor EOS / floor "
        + results.get("ratioToEngineFloorEos"));
    row(out, "engine floor CPU per message (us)", results.get("engineFloorCpuMicrosPerMessage"));
    row(out, "processor exactly_once_v2 (msg/s)", results.get("processorRateEos") + "  ratio "
        + results.get("ratioEos"));
    row(out, "processor at_least_once (msg/s)", results.get("processorRateAlos") + "  ratio "
        + results.get("ratioAlos"));
    row(out, "processor CPU per message, EOS / ALOS (us)", results.get("processorCpuMicrosPerMessageEos") + " / "
        + results.get("processorCpuMicrosPerMessageAlos"));
    row(out, "decisions equal the replay's (EOS, ALOS)", results.get("decisionsMatchReplayEos") + ", "
        + results.get("decisionsMatchReplayAlos"));
    for (Object o : (List<?>) results.get("latency")) {
      Map<?, ?> run = (Map<?, ?>) o;
      row(out, "latency at " + run.get("rate") + " msg/s p50/p95/p99 (ms)", run.get("p50Ms") + " / "
          + run.get("p95Ms") + " / " + run.get("p99Ms") + "  (" + run.get("decisions") + " decisions)");
    }
    row(out, "replay (lines/s), fast / topology engine", results.get("replayRate") + " / "
        + results.get("replayRateTopology") + "  (same decisions: " + results.get("fastReplayDecisionsMatch") + ")");
    row(out, "whatif of 8 policies (lines/s)", results.get("whatif8Rate"));
    row(out, "parse floor: read + tokenize, 1 thread (lines/s)", results.get("parseFloorRate") + "  replay/floor "
        + results.get("replayToParseFloor"));
    row(out, "parser alone (us per message)", results.get("parserMicrosPerMessage"));
    row(out, "processor heap after GC, " + options.pushes() + " pushes (MB)",
        ((Number) results.get("heapUsedAfterGcBytes")).longValue() >> 20);
    row(out, "processor resident memory (MB)", ((Number) results.get("processorResidentBytes")).longValue() >> 20);
    row(out, "state dir after a clean stop (KB)", ((Number) results.get("stateDirBytes")).longValue() >> 10);
    row(out, "results", options.output().toAbsolutePath());
  }

  private static void row(PrintStream out, String name, Object value) {
    out.printf("%-44s %s%n", name, value);
  }

  static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("date", Instant.now().toString());
    return m;
  }

  private static double round(double v) {
    return Math.round(v);
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
