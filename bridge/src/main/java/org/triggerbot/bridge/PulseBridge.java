package org.triggerbot.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.common.PushKey;
import org.triggerbot.common.TaskclusterRecord;
import org.triggerbot.schemas.PulseMessage;
import org.triggerbot.schemas.RejectedMessage;
import org.triggerbot.schemas.Topics;

/**
 * Copies every Pulse delivery into {@code pulse.raw}, at least once: a delivery is acknowledged to the broker only
 * after Kafka has acknowledged its record (idempotent producer, {@code acks=all}); a write that fails is rejected
 * with requeue, so the broker delivers it again. A crash at any point therefore loses nothing: what was not
 * acknowledged is redelivered (and may be written twice, with {@code redelivered=true}; the processor
 * de-duplicates by routing key).
 *
 * <p>Threads: the AMQP client's dispatch thread only enqueues deliveries; the Kafka producer's I/O thread only
 * enqueues completions; one bridge thread does everything else — sending, and every {@code basicAck} and
 * {@code basicNack}, one tag at a time, never {@code multiple=true}. At most {@code amqp.prefetch} deliveries are
 * unacknowledged at once ({@code basic.qos} before {@code basic.consume}), which bounds memory while Kafka is
 * down: the broker then simply stops delivering.
 *
 * <p>Connection: the first connection is retried with backoff until it succeeds or the bridge is closed (the
 * client's automatic recovery covers only connections that once succeeded). After that, automatic connection and
 * topology recovery re-open the channel, re-declare the queue and bindings and re-consume; acknowledgements of
 * deliveries from before a recovery are dropped by the client (the broker redelivers those).
 *
 * <p>Each record: key = the body's push, {@code branch/revision} ({@link PushKey}: the rules the processor reads
 * a push by), or the routing key when the body yields none (the processor rejects such a body anyway); value =
 * {@code PulseMessage} with the body byte for byte; timestamp =
 * {@code _meta.sent} of the body, else the AMQP timestamp, else the receive time. Bodies above
 * {@code pulse.hard.max.bytes} go to {@code pulse.rejected} instead (reason {@code OVERSIZED}, first 64 KiB kept), as
 * do, with {@code taskcluster.enabled}, task results whose task definition cannot be fetched (reason
 * {@code TASK_UNAVAILABLE}, original body; see {@link TaskDefinitions}).
 *
 * <p>Metrics, in the {@link MeterRegistry} given (one bridge per registry): counters
 * {@code triggerbot.bridge.delivered}, {@code .written}, {@code .acked}, {@code .requeued} and {@code .rejected}
 * (in Prometheus {@code triggerbot_bridge_delivered_total}, ...), and the Kafka producer's own metrics
 * ({@code kafka_producer_*}, through Micrometer's {@link KafkaClientMetrics}).
 */
public final class PulseBridge implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PulseBridge.class);
  static final int REJECTED_BODY_KEEP = 64 * 1024;
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /** Called on the bridge thread after Kafka acknowledged a delivery's record, before the broker is acked. */
  interface WriteListener {
    void written(long deliveryTag, String routingKey);
  }

  private sealed interface Event {}

  /**
   * A carrier from the AMQP thread to the bridge loop, never compared or hashed: the array is fine.
   *
   * @param message a Taskcluster result's JSON, read once as it arrives (for the definition's prefetch and the
   *     enrichment), or null: not a Taskcluster result, Taskcluster off, or not a JSON object
   */
  @SuppressWarnings("ArrayRecordComponent")
  private record Delivered(long tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body,
      JsonNode message) implements Event {

    String taskId() {
      return TaskclusterRecord.taskIdOf(message);
    }
  }

  private record Completed(long tag, String routingKey, Exception error) implements Event {}

  private final BridgeConfig config;
  private final Producer<String, byte[]> producer;
  private final WriteListener listener;
  /** Null unless {@code taskcluster.enabled}. */
  private final TaskDefinitions taskDefinitions;
  private final KafkaClientMetrics producerMetrics;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch consuming = new CountDownLatch(1);
  private final Thread thread;
  /** The producer's request.timeout.ms: how long writes may wait for any answer before readiness says Kafka fails. */
  private final long kafkaStallNanos;
  private volatile boolean aborted;
  private volatile Connection connection;
  private volatile Exception failure;
  /** Why the last attempt of the first connection failed, in a few fixed words (for readiness); null before. */
  private volatile String lastConnectFailure;
  private long inFlight;

  // Kafka's answers, for readiness (written by the producer's I/O thread and the bridge thread, read by the admin
  // server's): System.nanoTime() of the last successful and failed write, what the last failure was, how many writes
  // were sent and answered, and since when writes have waited without any answer.
  private volatile long lastWriteOk;
  private volatile long lastWriteFailed;
  private volatile String lastWriteError = "";
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private volatile long waitingSince;
  /** Bridge thread only: whether it has logged that Kafka writes fail, so the change is logged once each way. */
  private boolean kafkaFailingLogged;
  private long kafkaFailingSince;

  final AtomicLong delivered = new AtomicLong();
  final AtomicLong written = new AtomicLong();
  final AtomicLong acked = new AtomicLong();
  final AtomicLong requeued = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();

  /** A bridge whose meters go nowhere in particular (a private {@link SimpleMeterRegistry}). */
  public PulseBridge(BridgeConfig config) {
    this(config, (tag, key) -> {});
  }

  /** A bridge with its meters (see the class comment) in {@code registry}. */
  public PulseBridge(BridgeConfig config, MeterRegistry registry) {
    this(config, (tag, key) -> {}, registry);
  }

  PulseBridge(BridgeConfig config, WriteListener listener) {
    this(config, listener, new SimpleMeterRegistry());
  }

  PulseBridge(BridgeConfig config, WriteListener listener, MeterRegistry registry) {
    this.config = config;
    this.listener = listener;
    this.producer = new KafkaProducer<>(config.producerProperties(), new StringSerializer(), new ByteArraySerializer());
    Object requestTimeout = config.producerProperties().get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG);
    this.kafkaStallNanos = TimeUnit.MILLISECONDS.toNanos(
        requestTimeout == null ? 30_000 : Long.parseLong(requestTimeout.toString().trim()));
    this.thread = new Thread(this::run, "pulse-bridge");
    counter(registry, "delivered", delivered, "AMQP deliveries received");
    counter(registry, "written", written,
        "deliveries Kafka acknowledged (to pulse.raw, or to pulse.rejected when rejected)");
    counter(registry, "acked", acked, "deliveries acknowledged to the AMQP broker after their Kafka write");
    counter(registry, "requeued", requeued, "deliveries rejected with requeue after a failed Kafka write");
    counter(registry, "rejected", rejected,
        "deliveries sent to pulse.rejected instead of pulse.raw: over pulse.hard.max.bytes (OVERSIZED), or with no "
            + "task definition to be had (TASK_UNAVAILABLE)");
    this.taskDefinitions = config.taskclusterEnabled() ? new TaskDefinitions(config.taskFetch(), registry) : null;
    this.producerMetrics = new KafkaClientMetrics(producer);
    producerMetrics.bindTo(registry);
  }

  private static void counter(MeterRegistry registry, String name, AtomicLong value, String description) {
    FunctionCounter.builder("triggerbot.bridge." + name, value, AtomicLong::doubleValue)
        .description(description).register(registry);
  }

  /** Starts the bridge thread; returns at once (the first connection is retried in the background). */
  public PulseBridge start() {
    thread.start();
    return this;
  }

  /** Waits until the bridge consumes from its queue; false on timeout or if it failed first. */
  public boolean awaitConsuming(Duration timeout) throws InterruptedException {
    return consuming.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && failure == null;
  }

  /**
   * Whether the bridge does its work now, for the admin server's readiness: ready while it consumes its queue on
   * an open connection and Kafka takes its writes; not ready while it connects (or the client recovers a lost
   * connection), while Kafka writes fail, and once it stops or fails. A failure is named by its class only
   * (messages may quote addresses).
   *
   * <p>Kafka writes fail, for readiness, when (a) the most recent write Kafka answered failed (a failure since the
   * last success; the next success clears it: a failed write is requeued and written again, so one always follows
   * once Kafka is back), or (b) writes are waiting and none has been answered, either way, for the producer's
   * {@code request.timeout.ms} (30 s by default): an unreachable Kafka answers nothing until a write expires at
   * {@code delivery.timeout.ms} (120 s by default), and (b) says so sooner. One slow write among answered ones
   * changes neither, so readiness does not flap on it. With no messages to write, a Kafka outage is not seen until
   * the next message comes.
   */
  public AdminServer.Health readiness() {
    Map<String, Object> details = Map.of("queue", config.queueName());
    if (failure != null) {
      return AdminServer.Health.down("failed: " + failure.getClass().getSimpleName(), details);
    }
    if (stopped.getCount() == 0 || stopRequested.getCount() == 0) {
      return AdminServer.Health.down("stopping or stopped", details);
    }
    if (consuming.getCount() > 0) {
      String last = lastConnectFailure;
      return AdminServer.Health.down("connecting to the AMQP broker" + (last == null ? "" : "; last attempt: " + last),
          details);
    }
    Connection c = connection;
    if (c == null || !c.isOpen()) {
      return AdminServer.Health.down("AMQP connection lost; the client is recovering it", details);
    }
    String kafka = kafkaFailure();
    if (kafka != null) {
      return AdminServer.Health.down(kafka, details);
    }
    return AdminServer.Health.up(details);
  }

  /** Why Kafka writes count as failing (see {@link #readiness()}), or null while they succeed. */
  private String kafkaFailure() {
    long ok = lastWriteOk;
    long failed = lastWriteFailed;
    if (failed != 0 && (ok == 0 || failed - ok > 0)) {
      return "Kafka writes fail (last: " + lastWriteError + "); the failed deliveries are requeued";
    }
    long waiting = sent.get() - answered.get();
    long silentNanos = System.nanoTime() - waitingSince;
    if (waiting > 0 && silentNanos > kafkaStallNanos) {
      return "Kafka has answered none of " + waiting + " waiting writes for "
          + TimeUnit.NANOSECONDS.toSeconds(silentNanos) + " s";
    }
    return null;
  }

  /** Called for every answer Kafka gives to a write (or a send that failed at once), on any thread. */
  private void answer(Exception error) {
    long now = System.nanoTime();
    if (error == null) {
      lastWriteOk = now;
    } else {
      lastWriteError = error.getClass().getSimpleName();
      lastWriteFailed = now;
    }
    waitingSince = now;
    answered.incrementAndGet();
  }

  /** Waits until the bridge thread ended; returns the error that ended it, or null after a clean close. */
  public Exception awaitStopped() throws InterruptedException {
    stopped.await();
    return failure;
  }

  /**
   * Clean shutdown: stop consuming, write what was received, flush, acknowledge what Kafka has, close. What is
   * still unacknowledged after {@link #DRAIN_TIMEOUT} is left to the broker to redeliver.
   */
  @Override
  public void close() {
    stopRequested.countDown();
    if (taskDefinitions != null) {
      taskDefinitions.close(); // a fetch waiting to try again gives up; its message is redelivered
    }
    try {
      if (thread.isAlive() && thread != Thread.currentThread()) {
        thread.join(DRAIN_TIMEOUT.plusSeconds(15).toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Simulates a crash (tests): drops the AMQP connection at once, acknowledging nothing more, and stops. The
   * broker redelivers everything unacknowledged to the next consumer.
   */
  void abort() {
    aborted = true;
    Connection c = connection;
    if (c != null) {
      c.abort(1_000);
    }
    stopRequested.countDown();
  }

  private void run() {
    try {
      connection = connect();
      if (connection == null) {
        return; // closed before the first connection succeeded
      }
      Channel channel = connection.createChannel();
      String consumerTag = subscribe(channel);
      consuming.countDown();
      LOG.info("consuming {} from {} (prefetch {}), writing to {}", config.queueName(), config.describeBroker(),
          config.prefetch(), Topics.PULSE_RAW.name());
      while (!aborted && stopRequested.getCount() > 0) {
        Event e = events.poll(100, TimeUnit.MILLISECONDS);
        if (e != null) {
          handle(channel, e);
        }
      }
      if (!aborted) {
        drain(channel, consumerTag);
      }
    } catch (Exception e) {
      failure = e;
      LOG.error("bridge stopped: {}", e.getMessage(), e);
    } finally {
      closeConnection();
      producer.close(aborted ? Duration.ZERO : Duration.ofSeconds(10));
      producerMetrics.close();
      consuming.countDown();
      stopped.countDown();
    }
  }

  private String subscribe(Channel channel) throws IOException {
    String queue = config.queueName();
    channel.basicQos(config.prefetch()); // before basic.consume, or the prefetch does not apply
    for (BridgeConfig.Binding binding : config.bindings()) {
      try {
        channel.exchangeDeclarePassive(binding.exchange());
      } catch (IOException e) {
        throw new IOException("exchange '" + binding.exchange() + "' does not exist on " + config.describeBroker()
            + " (Pulse exchanges are declared by their publishers; check " + BridgeConfig.PULSE_BINDINGS + ")", e);
      }
    }
    channel.queueDeclare(queue, true, false, false, null);
    for (BridgeConfig.Binding binding : config.bindings()) {
      for (String pattern : binding.patterns()) {
        channel.queueBind(queue, binding.exchange(), pattern);
      }
    }
    return channel.basicConsume(queue, false, config.connectionName(), new DefaultConsumer(channel) {
      @Override
      public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        JsonNode message = null;
        if (taskDefinitions != null && body.length <= config.hardMaxBytes()
            && TaskclusterRecord.isQueueExchange(envelope.getExchange())) {
          message = TaskclusterRecord.readMessage(body);
          taskDefinitions.prefetch(TaskclusterRecord.taskIdOf(message)); // its answer is taken in order, later
        }
        events.add(new Delivered(envelope.getDeliveryTag(), envelope, properties, body, message));
      }

      @Override
      public void handleCancel(String tag) {
        // The broker cancelled us (queue deleted): a restart re-declares the queue; fail loudly.
        failure = new IOException("the broker cancelled the consumer of " + queue);
        stopRequested.countDown();
      }
    });
  }

  private void handle(Channel channel, Event e) {
    if (e instanceof Delivered d) {
      send(d);
    } else if (e instanceof Completed c) {
      inFlight--;
      if (c.error() == null) {
        if (kafkaFailingLogged) {
          kafkaFailingLogged = false;
          LOG.info("Kafka writes succeed again after {} ms of failures",
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - kafkaFailingSince));
        }
        written.incrementAndGet();
        listener.written(c.tag(), c.routingKey());
        if (aborted) {
          return;
        }
        if (settle(channel, c.tag(), true)) {
          acked.incrementAndGet();
        }
      } else if (c.error() instanceof TaskDefinitions.Unavailable) {
        // Closed while waiting to fetch a task definition: not written, and no sign of Kafka failing.
        LOG.info("{} left to the broker to redeliver: {}", c.routingKey(), c.error().getMessage());
        if (settle(channel, c.tag(), false)) {
          requeued.incrementAndGet();
        }
      } else {
        if (!kafkaFailingLogged) {
          kafkaFailingLogged = true;
          kafkaFailingSince = System.nanoTime();
          LOG.warn("Kafka writes are failing ({}); not ready until a write succeeds",
              c.error().getClass().getSimpleName());
        }
        LOG.warn("writing {} to Kafka failed ({}); the broker will redeliver it", c.routingKey(), c.error().toString());
        if (settle(channel, c.tag(), false)) {
          requeued.incrementAndGet();
        }
      }
    }
  }

  /**
   * Acks, or nacks with requeue. While the connection is down (before recovery) this fails: the broker then
   * redelivers the message itself, so the failure is only logged.
   */
  private static boolean settle(Channel channel, long tag, boolean ack) {
    try {
      if (ack) {
        channel.basicAck(tag, false);
      } else {
        channel.basicNack(tag, false, true);
      }
      return true;
    } catch (IOException | com.rabbitmq.client.ShutdownSignalException e) {
      LOG.warn("cannot {} delivery {} ({}); the broker will redeliver it", ack ? "ack" : "nack", tag, e.toString());
      return false;
    }
  }

  // The callback receives every send's outcome (answer, then Completed); the Future would only repeat it.
  @SuppressWarnings("FutureReturnValueIgnored")
  private void send(Delivered d) {
    delivered.incrementAndGet();
    inFlight++;
    String routingKey = d.envelope().getRoutingKey();
    long receivedAt = System.currentTimeMillis();
    ProducerRecord<String, byte[]> record;
    byte[] body = d.body();
    String unavailable = null;
    if (taskDefinitions != null && d.body().length <= config.hardMaxBytes()
        && TaskclusterRecord.isQueueExchange(d.envelope().getExchange())) {
      try {
        body = enrich(d, receivedAt);
      } catch (TaskDefinitions.Unavailable e) {
        if (e.closing) {
          // Not written: nacked with requeue, the broker redelivers it to the next bridge.
          events.add(new Completed(d.tag(), routingKey, e));
          return;
        }
        unavailable = e.getMessage();
      }
    }
    if (d.body().length > config.hardMaxBytes() || unavailable != null) {
      rejected.incrementAndGet();
      boolean oversized = unavailable == null;
      RejectedMessage r = RejectedMessage.newBuilder()
          .setSourceTopic("amqp:" + d.envelope().getExchange())
          .setSourcePartition(-1)
          .setSourceOffset(-1)
          .setReason(oversized ? "OVERSIZED" : "TASK_UNAVAILABLE")
          .setError(oversized ? "body of " + d.body().length + " bytes is more than "
              + BridgeConfig.PULSE_HARD_MAX_BYTES + "=" + config.hardMaxBytes() + "; the first " + REJECTED_BODY_KEEP
              + " bytes are kept" : unavailable)
          .setOriginalBody(ByteBuffer.wrap(Arrays.copyOf(d.body(), Math.min(d.body().length, REJECTED_BODY_KEEP))))
          .setRejectedAt(Instant.ofEpochMilli(receivedAt))
          .build();
      record = new ProducerRecord<>(Topics.PULSE_REJECTED.name(), null, receivedAt, routingKey,
          Topics.REJECTED_MESSAGE.encode(r));
    } else {
      PulseMessage m = PulseMessage.newBuilder()
          .setExchange(d.envelope().getExchange())
          .setRoutingKey(routingKey)
          .setBody(ByteBuffer.wrap(body))
          .setReceivedAt(Instant.ofEpochMilli(receivedAt))
          .setMessageId(d.properties().getMessageId())
          .setRedelivered(d.envelope().isRedeliver())
          .build();
      // One pass over the body gives both the event time and the push, the record's key (SPEC 5): a push's
      // messages then share a partition, in order, however many partitions pulse.raw has.
      PulseEnvelope envelope = PulseEnvelope.read(body);
      record = new ProducerRecord<>(Topics.PULSE_RAW.name(), null, eventTime(envelope, d, receivedAt),
          envelope.recordKey(routingKey), Topics.PULSE_MESSAGE.encode(m));
    }
    if (sent.get() == answered.get()) {
      waitingSince = System.nanoTime(); // nothing was waiting: the wait for an answer starts now
    }
    sent.incrementAndGet();
    try {
      producer.send(record, (metadata, error) -> {
        answer(error);
        events.add(new Completed(d.tag(), routingKey, error));
      });
    } catch (RuntimeException e) {
      // Not sent at all (e.g. metadata unavailable for max.block.ms): same as a failed write.
      answer(e);
      events.add(new Completed(d.tag(), routingKey, e));
    }
  }

  /**
   * A Taskcluster task result with its task's definition (SPEC 3b, {@link TaskclusterRecord}): what the processor
   * reads, so that it never calls the queue and a replay decides as live. A body that is not a JSON object with a
   * {@code status.taskId} is copied as it is: the processor rejects it with the reason, as any bad input.
   *
   * @throws TaskDefinitions.Unavailable when the definition cannot be fetched: the message goes to
   *     {@code pulse.rejected} as {@code TASK_UNAVAILABLE}, with its original body
   */
  private byte[] enrich(Delivered d, long receivedAt) throws TaskDefinitions.Unavailable {
    String taskId = d.taskId(); // the message was read as it arrived
    if (taskId == null) {
      return d.body();
    }
    JsonNode message = d.message();
    JsonNode definition = taskDefinitions.definition(taskId);
    refillPrefetches();
    try {
      return PulseEnvelope.JSON.writeValueAsBytes(TaskclusterRecord.enriched(d.envelope().getExchange(),
          d.envelope().getRoutingKey(), message, definition, Instant.ofEpochMilli(receivedAt)));
    } catch (IOException e) {
      throw new IllegalStateException("a JSON tree could not be written: " + e.getMessage(), e);
    }
  }

  /**
   * Starts the definition requests of the deliveries waiting behind this one, as far as the concurrency allows: the
   * broker hands over up to {@code amqp.prefetch} deliveries at once, more than a prefetch at arrival can start, so
   * each answer taken makes room for the next waiting one. Bridge thread; a look at the waiting deliveries only.
   */
  private void refillPrefetches() {
    for (Event e : events) { // weakly consistent: deliveries that arrive meanwhile were prefetched on arrival
      if (!taskDefinitions.hasRoom()) {
        return;
      }
      if (e instanceof Delivered waiting && waiting.message() != null) {
        taskDefinitions.prefetch(waiting.taskId());
      }
    }
  }

  /** _meta.sent, else the AMQP timestamp, else when we received it: stream time is event time downstream. */
  // The AMQP client's BasicProperties carries its timestamp as a java.util.Date.
  @SuppressWarnings("JavaUtilDate")
  private static long eventTime(PulseEnvelope envelope, Delivered d, long receivedAt) {
    Long sent = envelope.sent();
    if (sent != null) {
      return sent;
    }
    return d.properties().getTimestamp() != null ? d.properties().getTimestamp().getTime() : receivedAt;
  }

  private void drain(Channel channel, String consumerTag) throws InterruptedException {
    try {
      channel.basicCancel(consumerTag);
    } catch (IOException | RuntimeException e) {
      LOG.warn("cancelling the consumer failed ({}); unacknowledged deliveries will be redelivered", e.toString());
    }
    long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
    Event e;
    while ((e = events.poll()) != null) {
      handle(channel, e); // deliveries received before the cancel took effect are still written
    }
    producer.flush();
    while (inFlight > 0 && System.nanoTime() < deadline) {
      e = events.poll(100, TimeUnit.MILLISECONDS);
      if (e != null) {
        handle(channel, e);
      }
    }
    LOG.info(
        "bridge closed: {} delivered, {} written, {} acked, {} requeued, {} rejected (oversized or task unavailable), "
            + "{} left to redeliver",
        delivered.get(), written.get(), acked.get(), requeued.get(), rejected.get(), inFlight);
  }

  /**
   * The first connection, retried with backoff until it succeeds or the bridge is closed, whatever the failure:
   * broker down, wrong credentials, and TLS failures too (an untrusted certificate, or one for another host). Each of
   * these may be mended on the broker's side (its certificate replaced, the user fixed) without touching the
   * bridge, which then connects by itself; meanwhile every attempt logs one line naming the cause, and readiness
   * says it. (A trust store fixed on the bridge's side needs a restart: the JVM reads it once.)
   */
  private Connection connect() throws InterruptedException {
    ConnectionFactory factory = config.connectionFactory();
    long backoff = 1_000;
    while (stopRequested.getCount() > 0) {
      try {
        return factory.newConnection(config.connectionName());
      } catch (IOException | TimeoutException e) {
        ConnectFailure why = ConnectFailure.of(e, factory.getHost());
        lastConnectFailure = why.summary();
        LOG.warn("cannot connect to {} ({}); retrying in {} ms", config.describeBroker(), why.line(), backoff);
      }
      if (stopRequested.await(backoff, TimeUnit.MILLISECONDS)) {
        break;
      }
      backoff = Math.min(backoff * 2, config.connectBackoffMaxMs());
    }
    return null;
  }

  /**
   * Why a connection attempt failed: {@code summary}, a few fixed words for readiness, and {@code line}, for the
   * log: the innermost cause's class and message (connection errors never quote credentials), which for TLS
   * failures comes after what it means. JSSE's own words for an untrusted certificate ("unable to find valid
   * certification path to requested target") do not say that the trust store is what to change.
   */
  record ConnectFailure(String summary, String line) {

    static ConnectFailure of(Throwable e, String host) {
      Throwable root = e;
      boolean tls = false;
      boolean certificatePath = false;
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        root = t;
        tls |= t instanceof SSLException;
        certificatePath |= t instanceof CertPathBuilderException || t instanceof CertPathValidatorException;
      }
      String detail = root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
      if (tls && certificatePath) {
        return new ConnectFailure("TLS: the broker's certificate is not trusted",
            "TLS: the broker's certificate is not trusted: " + detail + ". The bridge trusts the CAs of the JVM's "
                + "trust store; give it one holding the broker's CA with -Djavax.net.ssl.trustStore=FILE "
                + "(and javax.net.ssl.trustStorePassword, javax.net.ssl.trustStoreType)");
      }
      // JSSE's host name check (the identity check of amqp.tls) fails with a bare CertificateException: "No subject
      // alternative names matching IP address ...", "No subject alternative DNS name matching ...", "No name
      // matching ...".
      String message = String.valueOf(root.getMessage());
      if (tls && root.getClass() == CertificateException.class
          && (message.startsWith("No subject alternative") || message.startsWith("No name matching"))) {
        return new ConnectFailure("TLS: the broker's certificate does not match the host name",
            "TLS: the broker's certificate does not match host " + host + ": " + detail + ". Connect by a name "
                + "the certificate lists (amqp.host or the amqps:// address)");
      }
      if (tls) {
        return new ConnectFailure("TLS handshake failed", "TLS handshake failed: " + detail);
      }
      return new ConnectFailure(root.getClass().getSimpleName(), detail);
    }
  }

  private void closeConnection() {
    Connection c = connection;
    try {
      if (!aborted && c != null && c.isOpen()) {
        c.close(5_000);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing the connection: {}", e.toString());
    }
  }
}
