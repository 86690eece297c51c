package org.triggerbot.sink;

import java.util.Arrays;
import java.util.List;
import org.triggerbot.common.ServiceArgs;

/** Entry point of the trigger-sink jar: {@code sink [--config FILE]}. */
public final class Main {

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
    return ServiceArgs.run("sink", () -> SinkService.start(parsed.config()), System.err);
  }
}
