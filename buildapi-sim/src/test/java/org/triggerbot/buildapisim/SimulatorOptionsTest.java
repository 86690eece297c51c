package org.triggerbot.buildapisim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Options, and the strict decoding of paths and forms. */
class SimulatorOptionsTest {

  @Test
  void defaultsAreAFreePortTheTriggerbotUserAndNoLag() {
    SimulatorOptions options = SimulatorOptions.defaults();

    assertEquals(new SimulatorOptions(0, "triggerbot", "sim-password", Duration.ZERO), options);
    assertTrue(options.authRequired());
    assertFalse(options.withCredentials(null, "ignored").authRequired());
  }

  @Test
  void toStringNeverShowsThePassword() {
    String text = SimulatorOptions.defaults().toString();

    assertFalse(text.contains("sim-password"), text);
    assertTrue(text.contains("user=triggerbot"), text);
  }

  @Test
  void invalidOptionsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new SimulatorOptions(-1, null, null, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new SimulatorOptions(65_536, null, null, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new SimulatorOptions(0, "u", null, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new SimulatorOptions(0, "u", "", Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new SimulatorOptions(0, "a:b", "p", Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new SimulatorOptions(0, null, null, Duration.ofSeconds(-1)));
    assertThrows(NullPointerException.class, () -> new SimulatorOptions(0, null, null, null));
  }

  @Test
  void pathSegmentsAreSplitBeforeDecoding() {
    assertEquals(List.of("self-serve", "a/b c+", "rev", "ü"),
        HttpCodec.decodePathSegments("/self-serve/a%2Fb%20c+/rev/%C3%BC"));
    assertEquals(List.of("x", ""), HttpCodec.decodePathSegments("/x/"));
    assertThrows(IllegalArgumentException.class, () -> HttpCodec.percentDecode("%4"));
    assertThrows(IllegalArgumentException.class, () -> HttpCodec.percentDecode("%zz"));
    assertThrows(IllegalArgumentException.class, () -> HttpCodec.percentDecode("%C3"));
  }

  @Test
  void formsDecodePlusAsSpaceAndKeepTheLastValue() {
    assertEquals(Map.of("a", "1 2+3", "b", "", "c", "ü"), HttpCodec.decodeForm("a=0&a=1+2%2B3&b&&c=%C3%BC"));
    assertEquals(Map.of(), HttpCodec.decodeForm(null));
    assertThrows(IllegalArgumentException.class, () -> HttpCodec.decodeForm("a=%ff"));
  }
}
