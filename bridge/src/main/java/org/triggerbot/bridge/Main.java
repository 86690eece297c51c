package org.triggerbot.bridge;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of the bridge jar: {@code bridge} runs the service, {@code publish} publishes a file to AMQP. */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

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
    Path file = null;
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--config") && i + 1 < args.size()) {
        file = Path.of(args.get(++i));
      } else if (args.get(i).equals("--help")) {
        System.out.println("usage: triggerbot bridge [--config FILE]\n"
            + "Configuration: TRIGGERBOT_<KEY> environment variables or the properties FILE; producer.* keys go to "
            + "the Kafka producer. Keys:\n" + BridgeConfig.DEFINITION.toEnrichedRst());
        return 0;
      } else {
        System.err.println("triggerbot bridge: unknown argument '" + args.get(i) + "' (usage: --config FILE)");
        return 2;
      }
    }
    BridgeConfig config;
    try {
      config = BridgeConfig.load(file, System.getenv());
      config.connectionFactory();
    } catch (ConfigException e) {
      System.err.println("triggerbot bridge: invalid configuration: " + e.getMessage());
      return 2;
    }
    PulseBridge bridge = new PulseBridge(config);
    Runtime.getRuntime().addShutdownHook(new Thread(bridge::close, "bridge-shutdown"));
    bridge.start();
    try {
      Exception failure = bridge.awaitStopped();
      if (failure != null) {
        LOG.error("bridge failed: {}", failure.getMessage());
        return 1;
      }
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }
}
