package org.triggerbot.sink;

import java.io.UncheckedIOException;
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
            + "consumer.* and producer.* keys go to the Kafka clients. Health and metrics are served on admin.port.",
        file -> {
          SinkConfig c = SinkConfig.load(file, System.getenv());
          c.password(); // a missing password file is reported now, naming the key
          return c;
        }, System.out, System.err);
    if (!parsed.run()) {
      return parsed.exitCode();
    }
    SinkService service;
    try {
      service = SinkService.start(parsed.config());
    } catch (UncheckedIOException e) {
      LOG.error("cannot start the trigger-sink: {}", e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(service::close, "sink-shutdown"));
    Throwable failure = null;
    try {
      failure = service.awaitStopped();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return failure == null ? 0 : 1;
  }
}
