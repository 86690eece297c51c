package org.triggerbot.sink;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of the trigger-sink jar: {@code sink [--config FILE]}. */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args)));
  }

  static int run(List<String> args) {
    Path file = null;
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--config") && i + 1 < args.size()) {
        file = Path.of(args.get(++i));
      } else if (args.get(i).equals("--help")) {
        System.out.println("usage: triggerbot sink [--config FILE]\n"
            + "Configuration: TRIGGERBOT_<KEY> environment variables or the properties FILE; consumer.* and producer.* "
            + "keys go to the Kafka clients. Keys:\n" + SinkConfig.DEFINITION.toEnrichedRst());
        return 0;
      } else if (!args.get(i).equals("sink")) {
        System.err.println("triggerbot sink: unknown argument '" + args.get(i) + "' (usage: --config FILE)");
        return 2;
      }
    }
    SinkConfig config;
    try {
      config = SinkConfig.load(file, System.getenv());
      config.password();
    } catch (ConfigException e) {
      System.err.println("triggerbot sink: invalid configuration: " + e.getMessage());
      return 2;
    }
    TriggerSink sink = new TriggerSink(config);
    Thread worker = new Thread(sink, "trigger-sink");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      sink.close();
      try {
        sink.awaitStopped();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "sink-shutdown"));
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    worker.setUncaughtExceptionHandler((t, e) -> {
      failure.set(e);
      LOG.error("trigger-sink failed: {}", e.toString(), e);
    });
    worker.start();
    try {
      worker.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return failure.get() == null ? 0 : 1;
  }
}
