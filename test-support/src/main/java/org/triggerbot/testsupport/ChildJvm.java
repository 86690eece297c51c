package org.triggerbot.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service started in its own JVM, on this JVM's class path, so that it can be killed with SIGKILL ({@code kill
 * -9}) as an orchestrator or the kernel's OOM killer would: no shutdown hook, no flush, no commit. Crash tests and
 * the benchmark run the real entry points ({@code Main} of a module) this way.
 *
 * <p>Its standard output and error go to a log file (never to a pipe nobody drains, which would block it).
 */
public final class ChildJvm implements AutoCloseable {

  private final Process process;
  private final Path log;
  private final String name;

  private ChildJvm(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM. {@code jvmOptions} come before the class (e.g.
   * {@code -Xmx512m}); {@code env} is added to this process's environment; output is appended to {@code log}.
   */
  public static ChildJvm start(String name, String mainClass, List<String> args, List<String> jvmOptions,
      Map<String, String> env, Path log) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(coverageAgent());
    command.addAll(jvmOptions);
    // The class path is passed by environment rather than on the command line: under Maven Surefire it can be
    // long, and it is the same value either way (a manifest-only booter jar or the expanded list).
    command.add(mainClass);
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      Files.writeString(log, "---- " + name + ": " + String.join(" ", args) + System.lineSeparator(),
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      return new ChildJvm(name, builder.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + mainClass + ")", e);
    }
  }

  /**
   * This JVM's JaCoCo agent option, when the build runs the tests under it (jacoco-maven-plugin's prepare-agent), so
   * that a child's coverage joins the module's {@code jacoco.exec}: the agent appends, locking the file, and writes
   * when the child exits normally (a child killed with SIGKILL records nothing). Empty otherwise.
   */
  private static List<String> coverageAgent() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-javaagent:") && a.contains("jacoco"))
        .limit(1)
        .toList();
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path log() {
    return log;
  }

  /** SIGKILL, then waits until the process is gone: nothing of it runs after this returns. */
  public void kill() {
    process.destroyForcibly();
    waitFor(30, "after SIGKILL");
  }

  /**
   * SIGTERM (the service's clean shutdown), waits up to {@code timeoutSeconds} and answers the exit code; kills
   * it if it does not stop in time and then throws.
   */
  public int stop(long timeoutSeconds) {
    process.destroy();
    try {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        kill();
        throw new IllegalStateException(name + " did not stop within " + timeoutSeconds + " s of SIGTERM; killed it."
            + " Log: " + log);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping " + name, e);
    }
  }

  /** Waits for the process to end on its own; answers the exit code. */
  public int awaitExit(long timeoutSeconds) {
    return waitFor(timeoutSeconds, "to exit");
  }

  private int waitFor(long timeoutSeconds, String what) {
    try {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " still running " + timeoutSeconds + " s " + what + "; log: " + log);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    }
  }

  /** The last {@code maxChars} characters of the log, for assertion messages. */
  public String logTail(int maxChars) {
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8);
      return text.length() <= maxChars ? text : text.substring(text.length() - maxChars);
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  /** Kills the process if it still runs (a test that failed half-way must not leave JVMs behind). */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ")";
  }
}
