package org.triggerbot.bridge;

import java.util.Arrays;
import java.util.List;
import org.triggerbot.common.ServiceArgs;

/** Entry point of the bridge jar: {@code bridge} runs the service, {@code publish} publishes a file to AMQP. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args)));
  }

  static int run(List<String> args) {
    if (args.isEmpty()) {
      System.err.println("usage: triggerbot bridge [--config FILE] | triggerbot publish --help");
      return 2;
    }
    List<String> rest = args.subList(1, args.size());
    return switch (args.get(0)) {
      case "bridge" -> bridge(rest);
      case "publish" -> PublishCommand.run(rest, System.getenv(), System.out, System.err);
      default -> {
        System.err.println("unknown command '" + args.get(0) + "': expected bridge or publish");
        yield 2;
      }
    };
  }

  private static int bridge(List<String> args) {
    ServiceArgs.Outcome<BridgeConfig> parsed = ServiceArgs.parse("bridge", args, BridgeConfig.DEFINITION,
        "Runs the bridge: Pulse (AMQP) deliveries into pulse.raw. producer.* keys go to the Kafka producer. "
            + "Health and metrics are served on admin.port.",
        file -> {
          BridgeConfig c = BridgeConfig.load(file, System.getenv());
          c.connectionFactory(); // validates the AMQP address and secrets now, naming the key
          return c;
        }, System.out, System.err);
    if (!parsed.run()) {
      return parsed.exitCode();
    }
    return ServiceArgs.run("bridge", () -> BridgeService.start(parsed.config()), System.err);
  }
}
