package org.triggerbot.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PushKeyTest {

  private static final String REV = "0123456789abcdef0123456789abcdef01234567";

  private static PulseEnvelope read(String properties) {
    return PulseEnvelope.read(body(properties));
  }

  private static byte[] body(String properties) {
    return ("{\"payload\":{\"build\":{\"steps\":[{\"name\":\"x\"}],\"properties\":" + properties + "}},"
        + "\"_meta\":{\"routing_key\":\"build.try-x.1.finished\",\"sent\":\"2015-06-01T10:00:00Z\"}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void thePushIsBranchAndTheRevisionsFirstTwelveCharacters() {
    PulseEnvelope e =
        read("[[\"branch\",\"try\",\"x\"],[\"buildername\",\"b\",\"x\"],[\"revision\",\"" + REV + "\",\"x\"]]");
    assertEquals("try/0123456789ab", e.push());
    assertEquals("try/0123456789ab", e.recordKey("build.try-x.1.finished"));
    assertEquals("build.try-x.1.finished", e.routingKey(), "one pass reads the envelope too");
    assertEquals(PushKey.of("try", "0123456789ab"), PushKey.of("try", REV), "12 or 40 characters: one push");
    assertEquals("mozilla-b2g37_v2_2/0123456789ab",
        read("[[\"branch\",\"mozilla-b2g37_v2_2\"],[\"revision\",\"0123456789ab\"]]").push());
  }

  @Test
  void aRepeatedPropertyTheLastWinsAsInTheProcessor() {
    assertEquals("b2/abcdefabcdef", read("[[\"branch\",\"b1\"],[\"revision\",\"" + REV + "\"],[\"branch\",\"b2\"],"
        + "[\"revision\",\"abcdefabcdef\"]]").push());
  }

  @Test
  void aBodyWithoutAReadablePushKeepsTheRoutingKey() {
    String rev = ",[\"revision\",\"" + REV + "\"]]";
    for (String properties : new String[] {
        "[[\"branch\",\"try\"]]", // no revision
        "[[\"revision\",\"" + REV + "\"]]", // no branch
        "[[\"branch\",7]" + rev, // not a string
        "[[\"branch\",\"try\"],[\"revision\",\"0123456789AB\"]]", // upper case
        "[[\"branch\",\"try\"],[\"revision\",\"0123456789a\"]]", // 11 characters
        "[[\"branch\",\"try\"],[\"revision\",\"" + REV + "0\"]]", // 41 characters
        "[[\"branch\",\"try\"],[\"x\"]" + rev, // an entry without a value: the processor rejects the body
        "[[\"branch\",\"try\"],\"x\"" + rev, // an entry that is not a list
        "{\"branch\":\"try\"}", // not a list
        "null"}) {
      PulseEnvelope e = read(properties);
      assertNull(e.push(), properties);
      assertEquals("build.try-x.1.finished", e.recordKey("build.try-x.1.finished"), properties);
    }
    assertNull(PulseEnvelope.read("{not json".getBytes(StandardCharsets.UTF_8)).push());
    assertNull(PulseEnvelope.read("[1]".getBytes(StandardCharsets.UTF_8)).push());
    assertNull(PulseEnvelope.read("{\"payload\":{\"build\":[]}}".getBytes(StandardCharsets.UTF_8)).push());
  }

  @Test
  void anEmptyBranchIsABranchAsForTheProcessorsParser() {
    assertEquals("/0123456789ab", read("[[\"branch\",\"\"],[\"revision\",\"" + REV + "\"]]").push());
  }

  @Test
  void revisions() {
    assertTrue(PushKey.isRevision("0123456789ab"));
    assertTrue(PushKey.isRevision(REV));
    assertFalse(PushKey.isRevision(null));
    assertFalse(PushKey.isRevision("0123456789ag"));
    assertThrows(IllegalArgumentException.class, () -> PushKey.of("try", "nope"));
  }
}
