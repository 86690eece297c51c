package org.triggerbot.processor.app;

import java.util.Arrays;
import java.util.List;
import org.triggerbot.processor.replay.ReplayCommand;
import org.triggerbot.processor.whatif.WhatIfCommand;

/**
 * Entry point of the processor jar: {@code processor} runs the service, {@code replay} replays a feed,
 * {@code whatif} sweeps policies over one.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args)));
  }

  static int run(List<String> args) {
    if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h")) {
      System.out.println("usage: triggerbot processor [--config FILE] | triggerbot replay --help"
          + " | triggerbot whatif --help");
      return args.isEmpty() ? 2 : 0;
    }
    List<String> rest = args.subList(1, args.size());
    if (args.get(0).equals("replay") || args.get(0).equals("whatif")) {
      // A replay is a command-line tool: its standard error is for the user (rejected lines, the summary),
      // not for the embedded Kafka Streams' start-up chatter. Must be set before the first logger exists.
      System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
    }
    return switch (args.get(0)) {
      case "replay" -> ReplayCommand.run(rest, System.out, System.err);
      case "whatif" -> WhatIfCommand.run(rest, System.out, System.err);
      case "processor" -> ProcessorMain.run(rest);
      default -> {
        System.err.println("unknown command '" + args.get(0) + "': expected processor, replay or whatif");
        yield 2;
      }
    };
  }
}
