package org.triggerbot.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.triggerbot.testsupport.ChildJvm;

/**
 * The processor service as operators run it: its own JVM, the real entry point and a configuration file, so that
 * its rate, heap and state are its own and not the benchmark's (which hosts the broker). Read through its admin
 * port ({@code /health/ready}, {@code /metrics}).
 */
final class ProcessorProcess implements AutoCloseable {

  static final String MAIN = "org.triggerbot.processor.app.Main";

  private final ChildJvm jvm;
  private final int adminPort;
  private final Path stateDir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private ProcessorProcess(ChildJvm jvm, int adminPort, Path stateDir) {
    this.jvm = jvm;
    this.adminPort = adminPort;
    this.stateDir = stateDir;
  }

  /**
   * Starts a processor with application id {@code appId} and {@code guarantee} ({@code exactly_once_v2} or
   * {@code at_least_once}), its state and log under {@code workDir}, and a heap of {@code heap} (e.g. 1g).
   */
  static ProcessorProcess start(String bootstrap, String appId, String guarantee, Path workDir, String heap,
      List<String> extraJvmOptions) {
    int port = freePort();
    Path stateDir = workDir.resolve(appId + "-state");
    Path config = workDir.resolve(appId + ".properties");
    try {
      Files.createDirectories(stateDir);
      Files.writeString(config, String.join("\n",
          "bootstrap.servers=" + bootstrap,
          "application.id=" + appId,
          "state.dir=" + stateDir,
          "processing.guarantee=" + guarantee,
          "admin.bind=127.0.0.1",
          "admin.port=" + port,
          ""), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the processor's configuration in " + workDir, e);
    }
    List<String> jvmOptions = new java.util.ArrayList<>(List.of("-Xmx" + heap));
    jvmOptions.addAll(extraJvmOptions);
    ChildJvm jvm = ChildJvm.start(appId, MAIN, List.of("processor", "--config", config.toString()), jvmOptions,
        Map.of(), workDir.resolve(appId + ".log"));
    return new ProcessorProcess(jvm, port, stateDir);
  }

  /** Whether {@code /health/ready} answers 200 (Kafka Streams is RUNNING). */
  boolean ready() {
    try {
      return get("/health/ready").statusCode() == 200;
    } catch (IOException e) {
      return false; // not listening yet
    }
  }

  boolean alive() {
    return jvm.isAlive();
  }

  /**
   * Heap in use after a full collection ({@code jcmd GC.run}, then the JVM's own {@code jvm_memory_used_bytes}
   * over the heap pools): what the processor's state in memory really takes, not garbage waiting to be collected.
   */
  long heapUsedAfterGc() throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (Files.isExecutable(jcmd)) {
      Process gc = new ProcessBuilder(jcmd.toString(), Long.toString(jvm.pid()), "GC.run")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!gc.waitFor(60, TimeUnit.SECONDS)) {
        gc.destroyForcibly();
      }
    }
    return (long) metricSum("jvm_memory_used_bytes", "area=\"heap\"");
  }

  /** The sum of a Prometheus metric's samples whose labels contain {@code labelFilter}. */
  double metricSum(String name, String labelFilter) throws IOException, InterruptedException {
    String text = get("/metrics").body();
    double sum = 0;
    for (String line : text.split("\n", -1)) {
      if (line.startsWith(name + "{") && line.contains(labelFilter)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /**
   * CPU time (user + system) the processor's JVM has used so far, in milliseconds, from {@code /proc/PID/stat};
   * -1 where there is no {@code /proc}. Less sensitive than a rate to what else the machine runs, so it shows
   * what a change to the processor saves.
   */
  long cpuMillis() {
    return cpuMillis(jvm.pid());
  }

  /** {@link #cpuMillis()} of any process: the engine floor's JVM is measured the same way. */
  static long cpuMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command (which is in parentheses and may hold spaces): state is the 3rd, utime the 14th.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 1000 / CLOCK_TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The JVM's resident memory (heap, RocksDB's native memory, everything), from {@code /proc}; -1 elsewhere. */
  long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(jvm.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
      return -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Linux's USER_HZ, 100 on every mainstream architecture. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  /** Bytes on disk under the state directory (RocksDB files and checkpoints). */
  long stateDirBytes() throws IOException {
    try (Stream<Path> files = Files.walk(stateDir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0; // RocksDB removed it meanwhile
        }
      }).sum();
    }
  }

  String logTail() {
    return jvm.logTail(4000);
  }

  /** SIGTERM, the service's clean shutdown; a processor that does not stop in a minute is killed. */
  void stop() {
    jvm.stop(60);
  }

  @Override
  public void close() {
    jvm.close();
  }

  private HttpResponse<String> get(String path) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
        .timeout(Duration.ofSeconds(30)).build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }
}
