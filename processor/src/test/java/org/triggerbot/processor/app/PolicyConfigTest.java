package org.triggerbot.processor.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.triggerbot.processor.policy.PolicySettings;

/** SPEC section 4, policy keys: defaults, validation that names the key, list syntax, the policy version. */
class PolicyConfigTest {

  private static PolicySettings parse(String... keyValues) {
    return PolicyConfig.fromAssignments(List.of(keyValues));
  }

  @Test
  void defaultsAreTheSpecTable() {
    PolicySettings s = PolicyConfig.parse(Map.of());
    assertEquals(Set.of("try"), s.branches());
    assertTrue(s.requireTrySyntax());
    assertEquals(1, s.retryCount());
    assertEquals(20, s.requestedLimit());
    assertEquals(5, s.budgetFloor());
    assertEquals(0, new BigDecimal("0.03").compareTo(s.budgetRatio()), "budget.ratio " + s.budgetRatio());
    assertEquals(500L, s.maxFailureTriggersPerHour());
    assertEquals(10_000L, s.maxRequestedTriggersPerHour());
    assertTrue(s.triggeringEnabled());
    assertFalse(s.dryRun());
    assertEquals(Set.of(), s.triggerUsers());
    assertEquals(Set.of(), s.ignoreUsers());
    assertEquals(List.of(), s.buildersDeny());
    assertEquals(Set.of(), s.buildersHidden());
    assertEquals(Duration.ofDays(14), s.pushTtl());
    assertEquals(1_048_576L, s.pulseMaxBytes());
    assertEquals(1, s.confirmPasses());
    assertEquals(3, s.confirmFailures());
    assertEquals(3, s.confirmMaxRetriggers());
  }

  @Test
  void confirmationKeysAreSetAndChangeThePolicyVersion() {
    PolicySettings legacy = parse("confirm.passes=2", "confirm.failures=2", "confirm.max.retriggers=1");
    assertEquals(2, legacy.confirmPasses());
    assertEquals(2, legacy.confirmFailures());
    assertEquals(1, legacy.confirmMaxRetriggers());
    assertNotEquals(parse().version(), legacy.version());
    assertNotEquals(parse("confirm.passes=2").version(), parse("confirm.failures=2").version());
    assertEquals(parse().version(), parse("confirm.max.retriggers=3").version(), "a default spelled out");
  }

  @Test
  void everyKeyCanBeSet() {
    PolicySettings s = parse(
        "branches=try,try-comm-central",
        "require.try.syntax=false",
        "retry.count=3",
        "requested.limit=7",
        "budget.floor=2",
        "budget.ratio=0.5",
        "global.max.failure.triggers.per.hour=11",
        "global.max.requested.triggers.per.hour=12",
        "triggering.enabled=false",
        "dry.run=true",
        "trigger.users=a@example.com",
        "ignore.users=b@example.com",
        "builders.deny=talos",
        "builders.hidden=Some Builder",
        "push.ttl=PT12H",
        "pulse.max.bytes=4096");
    assertEquals(Set.of("try", "try-comm-central"), s.branches());
    assertFalse(s.requireTrySyntax());
    assertEquals(3, s.retryCount());
    assertEquals(7, s.requestedLimit());
    assertEquals(2, s.budgetFloor());
    assertEquals(0, new BigDecimal("0.5").compareTo(s.budgetRatio()));
    assertEquals(11L, s.maxFailureTriggersPerHour());
    assertEquals(12L, s.maxRequestedTriggersPerHour());
    assertFalse(s.triggeringEnabled());
    assertTrue(s.dryRun());
    assertEquals(Set.of("a@example.com"), s.triggerUsers());
    assertEquals(Set.of("b@example.com"), s.ignoreUsers());
    assertEquals(List.of("talos"), s.buildersDeny().stream().map(Pattern::pattern).toList());
    assertEquals(Set.of("Some Builder"), s.buildersHidden());
    assertEquals(Duration.ofHours(12), s.pushTtl());
    assertEquals(4096L, s.pulseMaxBytes());
  }

  @Test
  void budgetRatioIsReadAsAnExactDecimal() {
    assertEquals(new BigDecimal("0.333333333333333333333333"),
        parse("budget.ratio=0.333333333333333333333333").budgetRatio());
    assertEquals(new BigDecimal("0.29"), parse("budget.ratio=0.29").budgetRatio());
  }

  // --- errors name the key -----------------------------------------------------------------------------------

  private static void assertInvalid(String key, String value) {
    Map<String, String> m = new HashMap<>();
    m.put(key, value);
    ConfigException e = assertThrows(ConfigException.class, () -> PolicyConfig.parse(m), key + "=" + value);
    assertTrue(e.getMessage() != null && e.getMessage().contains(key),
        "the message names the key " + key + ": " + e.getMessage());
  }

  @Test
  void anUnknownKeyIsAnErrorThatNamesIt() {
    assertInvalid("retry.cuont", "1");
    assertInvalid("bootstrap.servers", "localhost:9092");
    assertInvalid("Branches", "try");
  }

  @Test
  void anUnknownKeyIsAnErrorEvenNextToValidOnes() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("retry.count", "2");
    m.put("dry.runn", "true");
    ConfigException e = assertThrows(ConfigException.class, () -> PolicyConfig.parse(m));
    assertTrue(e.getMessage().contains("dry.runn"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "confirm.passes|0",
      "confirm.passes|x",
      "confirm.failures|0",
      "confirm.failures|-1",
      "confirm.max.retriggers|0",
      "confirm.max.retriggers|1.5",
      "retry.count|abc",
      "retry.count|1.5",
      "retry.count|-1",
      "retry.count|99999999999",
      "requested.limit|x",
      "requested.limit|-1",
      "budget.floor|five",
      "budget.floor|-1",
      "budget.ratio|-1",
      "budget.ratio|-0.01",
      "budget.ratio|abc",
      "budget.ratio|1/33",
      "budget.ratio|3%",
      "global.max.failure.triggers.per.hour|lots",
      "global.max.failure.triggers.per.hour|-1",
      "global.max.requested.triggers.per.hour|1e4",
      "push.ttl|14 days",
      "push.ttl|14d",
      "push.ttl|P14",
      "builders.deny|[",
      "builders.deny|ok,(unclosed",
      "builders.deny|*talos",
      "dry.run|yes",
      "dry.run|1",
      "dry.run|TRUE",
      "dry.run|False",
      "triggering.enabled|off",
      "require.try.syntax|no",
      "branches|' , '",
      "branches|,",
      "pulse.max.bytes|big"})
  void anInvalidValueIsAnErrorThatNamesTheKey(String key, String value) {
    assertInvalid(key, value);
  }

  @Test
  void anEmptyBranchListIsAnError() {
    assertInvalid("branches", "");
    assertInvalid("branches", " , ");
  }

  // --- lists -------------------------------------------------------------------------------------------------

  @Test
  void listsAreSplitOnCommasTrimmedAndEmptyItemsDropped() {
    PolicySettings s = parse(
        "branches= try ,, try-comm-central ,",
        "trigger.users=a@example.com , b@example.com,",
        "ignore.users=, ,c@example.com",
        "builders.deny= talos , ^Rev3 ,,",
        "builders.hidden=Ubuntu VM 12.04 try opt test a , Linux x86-64 try build");
    assertEquals(Set.of("try", "try-comm-central"), s.branches());
    assertEquals(Set.of("a@example.com", "b@example.com"), s.triggerUsers());
    assertEquals(Set.of("c@example.com"), s.ignoreUsers());
    assertEquals(List.of("talos", "^Rev3"), s.buildersDeny().stream().map(Pattern::pattern).toList());
    assertEquals(Set.of("Ubuntu VM 12.04 try opt test a", "Linux x86-64 try build"), s.buildersHidden(),
        "spaces inside a name are kept");
  }

  @Test
  void emptyListsAreEmpty() {
    PolicySettings s = parse("trigger.users=", "ignore.users= , ,", "builders.deny=,", "builders.hidden=");
    assertEquals(Set.of(), s.triggerUsers());
    assertEquals(Set.of(), s.ignoreUsers());
    assertEquals(List.of(), s.buildersDeny());
    assertEquals(Set.of(), s.buildersHidden());
  }

  @Test
  void userNamesKeepTheirCase() {
    assertEquals(Set.of("Dev@Example.com"), parse("trigger.users=Dev@Example.com").triggerUsers());
  }

  @Test
  void splitHelper() {
    assertEquals(List.of("a", "b c", "d"), PolicyConfig.split(" a ,b c,, d ,"));
    assertEquals(List.of(), PolicyConfig.split(""));
    assertEquals(List.of(), PolicyConfig.split(" , ,"));
  }

  // --- version -----------------------------------------------------------------------------------------------

  @Test
  void theVersionIsStableForEqualSettings() {
    String v = PolicyConfig.parse(Map.of()).version();
    assertFalse(v.isBlank());
    assertEquals(v, PolicyConfig.parse(Map.of()).version());
    assertEquals(v,
        parse("branches=try", "retry.count=1", "budget.ratio=0.03", "dry.run=false", "push.ttl=P14D").version(),
        "the defaults written out are the same policy");
    Map<String, String> ab = new LinkedHashMap<>();
    ab.put("retry.count", "2");
    ab.put("dry.run", "true");
    Map<String, String> ba = new LinkedHashMap<>();
    ba.put("dry.run", "true");
    ba.put("retry.count", "2");
    assertEquals(PolicyConfig.parse(ab).version(), PolicyConfig.parse(ba).version(), "key order does not matter");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "branches|try,mozilla-inbound",
      "require.try.syntax|false",
      "retry.count|2",
      "requested.limit|19",
      "budget.floor|6",
      "budget.ratio|0.04",
      "global.max.failure.triggers.per.hour|499",
      "global.max.requested.triggers.per.hour|9999",
      "triggering.enabled|false",
      "dry.run|true",
      "trigger.users|a@example.com",
      "ignore.users|a@example.com",
      "builders.deny|talos",
      "builders.hidden|Some Builder",
      "push.ttl|P13D",
      "pulse.max.bytes|1048577"})
  void theVersionDiffersWhenAnyValueDiffers(String key, String value) {
    String defaults = PolicyConfig.parse(Map.of()).version();
    assertNotEquals(defaults, PolicyConfig.parse(Map.of(key, value)).version());
  }

  @Test
  void theVersionTellsDifferentValuesOfOneKeyApart() {
    assertNotEquals(parse("retry.count=2").version(), parse("retry.count=3").version());
    assertNotEquals(parse("trigger.users=a").version(), parse("ignore.users=a").version());
  }

  @Test
  void equivalentSpellingsShareAVersion() {
    assertEquals(parse("branches=try").version(), parse("branches=try,,").version());
    assertEquals(parse("budget.ratio=0.03").version(), parse("budget.ratio=0.030").version());
    assertEquals(parse("trigger.users=a,b").version(), parse("trigger.users= b , a").version());
    assertEquals(parse("push.ttl=P14D").version(), parse("push.ttl=PT336H").version());
  }
}
