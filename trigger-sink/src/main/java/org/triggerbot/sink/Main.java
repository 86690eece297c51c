package org.triggerbot.sink;

import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.triggerbot.common.ServiceArgs;

/** Entry point of the trigger-sink jar: {@code sink [--config FILE]}. */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args)));
  }

  static int run(List<String> args) {
    ServiceArgs.Outcome<SinkConfig> parsed = ServiceArgs.parse("sink", args, SinkConfig.DEFINITION,
        "Runs the trigger-sink: trigger.commands to buildapi rebuilds, one result each on trigger.results. "
            + "consumer.* and producer.* keys go to the Kafka clients.",
        file -> {
          SinkConfig c = SinkConfig.load(file, System.getenv());
          c.password(); // a missing password file is reported now, naming the key
          return c;
        }, System.out, System.err);
    if (!parsed.run()) {
      return parsed.exitCode();
    }
    SinkConfig config = parsed.config();
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
