package org.triggerbot.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildJvmTest {

  /** The child: says it is up (with its environment and arguments), then waits to be stopped or killed. */
  public static final class Waiter {
    public static void main(String[] args) throws InterruptedException {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
      System.out.println("up " + String.join(",", args) + " " + System.getenv("CHILD_JVM_TEST"));
      System.out.flush();
      new CountDownLatch(1).await();
    }
  }

  @Test
  void killIsSigkillWithoutShutdownHooks(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("child.log");
    try (ChildJvm child = ChildJvm.start("waiter", Waiter.class.getName(), List.of("a", "b"), List.of("-Xmx64m"),
        Map.of("CHILD_JVM_TEST", "env-passed"), log)) {
      Await.until("the child to start", Duration.ofSeconds(30),
          () -> Files.readString(log).contains("up a,b env-passed"));
      assertTrue(child.isAlive());
      child.kill();
      assertFalse(child.isAlive());
      assertEquals(137, child.awaitExit(1), "128 + SIGKILL");
      assertFalse(child.logTail(10_000).contains("shutdown hook ran"), child.logTail(10_000));
    }
  }

  @Test
  void stopIsSigtermAndRunsShutdownHooks(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("child.log");
    try (ChildJvm child = ChildJvm.start("waiter", Waiter.class.getName(), List.of(), List.of("-Xmx64m"), Map.of(),
        log)) {
      Await.until("the child to start", Duration.ofSeconds(30), () -> Files.readString(log).contains("up "));
      assertEquals(143, child.stop(30), "128 + SIGTERM");
      assertTrue(child.logTail(10_000).contains("shutdown hook ran"), child.logTail(10_000));
    }
  }
}
