package org.triggerbot.processor.app;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.triggerbot.common.ServiceArgs;
import org.triggerbot.processor.topology.ProcessorTopology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the processor service: reads configuration, starts Kafka Streams, installs the shutdown hook, waits.
 * A stream thread that dies of an unexpected exception is replaced up to {@link #MAX_THREAD_REPLACEMENTS}
 * times; after that the client shuts down and the process exits 1, loudly, so that the orchestrator restarts it.
 */
public final class ProcessorMain {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessorMain.class);
  static final int MAX_THREAD_REPLACEMENTS = 3;

  private ProcessorMain() {}

  static int run(List<String> args) {
    ServiceArgs.Outcome<ProcessorConfig> parsed = ServiceArgs.parse("processor", args, ProcessorConfig.DEFINITION,
        "Runs the processor: pulse.raw in, trigger.decisions and trigger.commands out (Kafka Streams). "
            + "streams.* keys go to Kafka Streams.",
        file -> ProcessorConfig.load(file, System.getenv()), System.out, System.err);
    if (!parsed.run()) {
      return parsed.exitCode();
    }
    ProcessorConfig config = parsed.config();

    KafkaStreams streams = new KafkaStreams(ProcessorTopology.build(config.topologySettings()),
        config.streamsProperties());
    AtomicInteger replacements = new AtomicInteger();
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicInteger exitCode = new AtomicInteger(0);
    streams.setUncaughtExceptionHandler(e -> {
      if (replacements.incrementAndGet() <= MAX_THREAD_REPLACEMENTS) {
        LOG.error("stream thread died; replacing it ({} of {})", replacements.get(), MAX_THREAD_REPLACEMENTS, e);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
      }
      LOG.error("stream thread died {} times; shutting down", replacements.get(), e);
      exitCode.set(1);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      LOG.info("processor state {} -> {}", before, now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        stopped.countDown();
      }
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close(streams);
      stopped.countDown();
    }, "triggerbot-shutdown"));
    LOG.info("starting processor {} (policy {})", config.getString(ProcessorConfig.APPLICATION_ID),
        config.policy().version());
    streams.start();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    close(streams);
    return exitCode.get();
  }

  /**
   * Commits and leaves the consumer group, so that a restarted (or another) instance gets the partitions at
   * once instead of after the session timeout: triggerbot typically runs one processor, and a rebalance is cheap.
   */
  private static void close(KafkaStreams streams) {
    streams.close(CloseOptions.timeout(Duration.ofSeconds(30))
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
  }
}
