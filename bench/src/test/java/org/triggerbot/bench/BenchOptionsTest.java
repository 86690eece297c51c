package org.triggerbot.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void quickIsSmallerThanTheDefault() {
    BenchOptions quick = BenchOptions.parse(List.of("--quick"));
    BenchOptions full = BenchOptions.parse(List.of());
    assertTrue(quick.pushes() < full.pushes());
    assertTrue(quick.latencySeconds() < full.latencySeconds());
    assertEquals(List.of(100, 1000), full.rates());
    assertEquals(130, full.jobs());
    assertEquals(Path.of("bench-results.json"), full.output());
  }

  @Test
  void explicitValuesWinOverQuick() {
    BenchOptions o = BenchOptions.parse(List.of("--pushes", "7", "--quick", "--rates", "50, 500", "--output", "x.json",
        "--processor-jvm-options", " -Xss1m  -Dx=y "));
    assertEquals(7, o.pushes());
    assertEquals(List.of(50, 500), o.rates());
    assertEquals(Path.of("x.json"), o.output());
    assertEquals(List.of("-Xss1m", "-Dx=y"), o.processorJvmOptions());
  }

  @Test
  void badArgumentsSayWhatIsWrong() {
    assertEquals("unknown argument: --pushs",
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(List.of("--pushs", "3"))).getMessage());
    assertEquals("--pushes must be positive, got 0",
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(List.of("--pushes", "0"))).getMessage());
    assertEquals("--rates needs a number, got \"100,x\"",
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(List.of("--rates", "100,x")))
            .getMessage());
    assertEquals("unknown argument or missing value: --output",
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(List.of("--output"))).getMessage());
  }

  @Test
  void percentilesAreNearestRank() {
    long[] values = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    assertEquals(50, Bench.percentile(values, 0.50));
    assertEquals(100, Bench.percentile(values, 0.95));
    assertEquals(100, Bench.percentile(values, 0.99));
    assertEquals(10, Bench.percentile(values, 0.01));
    assertEquals(7, Bench.percentile(new long[] {7}, 0.99));
  }
}
