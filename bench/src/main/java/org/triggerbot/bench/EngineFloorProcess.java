package org.triggerbot.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.triggerbot.testsupport.ChildJvm;

/**
 * {@link EngineFloor} in its own JVM, started as {@link ProcessorProcess} starts the processor (same heap and JVM
 * options, state and log under the work directory), so that the two rates and CPU figures differ by what the
 * processor does and not by where it runs.
 */
final class EngineFloorProcess implements AutoCloseable {

  private final ChildJvm jvm;
  private final Path runningMarker;

  private EngineFloorProcess(ChildJvm jvm, Path runningMarker) {
    this.jvm = jvm;
    this.runningMarker = runningMarker;
  }

  static EngineFloorProcess start(String bootstrap, String appId, Path workDir, String heap,
      List<String> extraJvmOptions) {
    Path stateDir = workDir.resolve(appId + "-state");
    Path marker = workDir.resolve(appId + ".running");
    try {
      Files.createDirectories(stateDir);
      Files.deleteIfExists(marker);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the engine floor's state in " + workDir, e);
    }
    List<String> jvmOptions = new ArrayList<>(List.of("-Xmx" + heap));
    jvmOptions.addAll(extraJvmOptions);
    ChildJvm jvm = ChildJvm.start(appId, EngineFloor.class.getName(),
        List.of(bootstrap, appId, stateDir.toString(), marker.toString()), jvmOptions, Map.of(),
        workDir.resolve(appId + ".log"));
    return new EngineFloorProcess(jvm, marker);
  }

  /** Whether Kafka Streams has reached RUNNING. */
  boolean running() {
    return Files.exists(runningMarker);
  }

  boolean alive() {
    return jvm.isAlive();
  }

  /** As {@link ProcessorProcess#cpuMillis()}. */
  long cpuMillis() {
    return ProcessorProcess.cpuMillis(jvm.pid());
  }

  String logTail() {
    return jvm.logTail(4000);
  }

  /** SIGTERM, a clean close; killed if it does not stop in a minute. */
  void stop() {
    jvm.stop(60);
  }

  @Override
  public void close() {
    jvm.close();
  }
}
