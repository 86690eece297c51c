package org.triggerbot.processor.app;

import java.util.List;
import org.triggerbot.common.ServiceArgs;

/**
 * Runs the processor service: reads configuration, starts it ({@link ProcessorService}: the admin port with the
 * push queries, then Kafka Streams), installs the shutdown hook, waits. A stream thread that dies of an unexpected
 * exception is replaced up to {@link #MAX_THREAD_REPLACEMENTS} times; after that the client shuts down and the
 * process exits 1, loudly, so that the orchestrator restarts it. An admin port that cannot be bound also exits 1,
 * before anything starts.
 */
public final class ProcessorMain {

  static final int MAX_THREAD_REPLACEMENTS = 3;

  private ProcessorMain() {}

  static int run(List<String> args) {
    ServiceArgs.Outcome<ProcessorConfig> parsed = ServiceArgs.parse("processor", args, ProcessorConfig.DEFINITION,
        "Runs the processor: pulse.raw in, trigger.decisions and trigger.commands out (Kafka Streams). "
            + "streams.* keys go to Kafka Streams. Health, metrics and the push verdicts (pages at /, JSON at "
            + "/api/pushes) are served on admin.port.",
        file -> ProcessorConfig.load(file, System.getenv()), System.out, System.err);
    if (!parsed.run()) {
      return parsed.exitCode();
    }
    return ServiceArgs.run("processor", () -> ProcessorService.start(parsed.config()), System.err);
  }
}
