package org.triggerbot.processor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC section 4, rule 2: finding the try line in commit comments and reading its options. */
class TryOptionsTest {

  private static final int LIMIT = 20;

  private static TryOptions read(String comments) {
    return TryOptions.fromComments(comments, LIMIT);
  }

  private static TryOptions opts(int rebuild, int rebuildTalos, boolean noRetry) {
    return new TryOptions(rebuild, rebuildTalos, noRetry);
  }

  // --- finding the try line ----------------------------------------------------------------------------------

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {
      "Bug 1 - fix the thing. r=me",
      "Try: -b o -p all --rebuild 2",         // case-sensitive
      "TRY: --rebuild 2",
      "try:--rebuild 2",                       // no space after the colon
      "try:\t--rebuild 2",                     // a tab is not the space
      "try -b o --rebuild 2",
      "Bug 1\nTry: --rebuild 2\ntry:--no-retry"})
  void noTryLineGivesNull(String comments) {
    assertNull(read(comments));
  }

  @Test
  void aTryLineWithoutOptionsIsStillATryLine() {
    assertEquals(TryOptions.NONE, read("try: "));
    assertEquals(TryOptions.NONE, read("try: -b o -p linux -u all -t none"));
  }

  @Test
  void theTryLineMayBeAnyLineOfTheComments() {
    assertEquals(opts(3, 0, false), read("Bug 1 - fix the thing. r=me\n\ntry: -b o -p all --rebuild 3\n"));
    assertEquals(opts(3, 0, false), read("Bug 1 - fix\r\ntry: -b o --rebuild 3\r\n"));
  }

  @Test
  void theTryLineNeedNotStartTheLine() {
    assertEquals(opts(4, 0, false), read("Bug 1 - see try: -b o --rebuild 4"));
  }

  @Test
  void onlyTheFirstTryLineCounts() {
    assertEquals(TryOptions.NONE, read("try: -b o -p all\ntry: --rebuild 5 --no-retry"));
    assertEquals(opts(2, 0, false), read("Try: --rebuild 9\ntry: --rebuild 2\ntry: --rebuild 7"));
  }

  @Test
  void optionsAreTheTextAfterTheFirstTryColonSpaceOfTheLine() {
    // Reading after a later "try: " would lose --no-retry; reading the whole line would be the same here, so a
    // second case puts an option before the first "try: ", where it must not count.
    assertEquals(opts(3, 0, true), read("try: --no-retry try: --rebuild 3"));
    assertEquals(opts(0, 0, false), read("--rebuild 5 --no-retry try: -b o"));
  }

  // --- quotes ------------------------------------------------------------------------------------------------

  @Test
  void autolandQuotesTheWholeLine() {
    assertEquals(opts(2, 0, false), read("Bug 1 - thing r=me\n\"try: -b do -p linux64 -u all --rebuild 2\""));
  }

  @Test
  void autolandQuotedLineEndingInANumberStillReadsTheNumber() {
    // Without removing the closing quote the last token would be 2" and not a value.
    assertEquals(opts(0, 5, false), read("\"try: -b o -p all -t all --rebuild-talos 5\""));
  }

  @Test
  void quotesAroundTheTextAfterTryAreRemoved() {
    assertEquals(opts(2, 0, true), read("try: \"-b o -p all --no-retry --rebuild 2\""));
  }

  @Test
  void onlyOnePairOfQuotesIsRemoved() {
    // After removing one pair the tokens are "--rebuild and 2" : neither is an option nor a value.
    assertEquals(TryOptions.NONE, read("try: \"\"--rebuild 2\"\""));
  }

  // --- tokens and [...] groups -------------------------------------------------------------------------------

  @Test
  void anOptionInsideBracketsIsNotAnOption() {
    assertEquals(TryOptions.NONE, read("try: -b o -p linux -u mochitest[--rebuild 3]"));
    assertEquals(TryOptions.NONE, read("try: -b o -p linux -u all [x --rebuild 3]"));
    assertEquals(TryOptions.NONE, read("try: -u mochitest-1[Windows 7 --no-retry] -t none"));
    assertEquals(TryOptions.NONE, read("try: -b o [--rebuild-talos 4]"));
  }

  @Test
  void bracketGroupsWithSpacesDoNotHideLaterOptions() {
    assertEquals(opts(3, 0, true),
        read("try: -b o -p linux -u mochitest-1[Windows 7,Windows XP] --rebuild 3 --no-retry"));
    assertEquals(opts(2, 0, false), read("try: -u all[x, y] -t tp5o[Windows 8] --rebuild 2"));
  }

  @Test
  void aValueInsideBracketsIsNotAValue() {
    // "--rebuild" then the group "[3]": not an unsigned integer, so --rebuild is ignored.
    assertEquals(TryOptions.NONE, read("try: --rebuild [3]"));
    // The option's value is the next token; a bracket group glued to the digits makes it not a number.
    assertEquals(TryOptions.NONE, read("try: --rebuild 3[x y]"));
  }

  @Test
  void tokensAreSeparatedByAnyRunOfSpaces() {
    assertEquals(opts(4, 0, true), read("try:    --rebuild     4      --no-retry   "));
  }

  @Test
  void unknownTokensAreIgnored() {
    assertEquals(opts(2, 0, false),
        read("try: -b do -p all -u all -t all --post-to-bugzilla Bug 848519 --rebuild 2 --foo 7"));
  }

  // --- values ------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "--rebuild {0} -> {1}")
  @CsvSource({
      "0, 0",
      "1, 1",
      "19, 19",
      "20, 20",
      "21, 20",
      "007, 7",
      "0000000000000000000005, 5",
      "1000000, 20",
      "2147483647, 20",
      "2147483648, 20",
      "9223372036854775808, 20",
      "99999999999999999999999999999999999999999999999999, 20"})
  void valuesAreUnsignedDecimalsCappedToTheLimit(String value, int expected) {
    assertEquals(opts(expected, 0, false), read("try: --rebuild " + value));
    assertEquals(opts(0, expected, false), read("try: --rebuild-talos " + value));
  }

  @Test
  void theCapIsTheGivenLimit() {
    assertEquals(opts(7, 3, false), TryOptions.fromComments("try: --rebuild 8 --rebuild-talos 3", 7));
    assertEquals(opts(0, 0, false), TryOptions.fromComments("try: --rebuild 8 --rebuild-talos 3", 0));
    assertEquals(opts(999, 0, false), TryOptions.fromComments("try: --rebuild 999", 1000));
  }

  @ParameterizedTest(name = "--rebuild {0} is ignored")
  @ValueSource(strings = {"-1", "x", "2.5", "+5", "5x", "0x10", "1e3", "\"5\"", "５", "٣"})
  void badValuesAreIgnored(String value) {
    assertEquals(TryOptions.NONE, read("try: --rebuild " + value));
    assertEquals(TryOptions.NONE, read("try: --rebuild-talos " + value));
  }

  @ParameterizedTest(name = "{0} is not an option")
  @ValueSource(strings = {"--rebuild=5", "--rebuil 5", "--rebuild-tal 5", "--rebuild-talos=5", "-rebuild 5",
      "--Rebuild 5", "--rebuild_talos 5", "--no-retry=true", "--no-retr", "--noretry", "rebuild 5", "--rebuilds 5"})
  void notExactlyAnOptionIsNotAnOption(String text) {
    assertEquals(TryOptions.NONE, read("try: " + text));
  }

  @Test
  void anOptionAtTheEndWithoutAValueIsIgnored() {
    assertEquals(TryOptions.NONE, read("try: -b o --rebuild"));
    assertEquals(opts(0, 0, true), read("try: --no-retry --rebuild-talos"));
  }

  @Test
  void aBadValueIsReadAsTheNextToken() {
    assertEquals(opts(0, 0, true), read("try: --rebuild --no-retry"));
    assertEquals(opts(3, 0, false), read("try: --rebuild --rebuild 3"));
    assertEquals(opts(0, 4, false), read("try: --rebuild --rebuild-talos 4"));
    assertEquals(opts(0, 0, true), read("try: --rebuild-talos --no-retry"));
    // "x" is not consumed and is ignored as an unknown token; "2" after it is not a value of anything.
    assertEquals(opts(0, 0, false), read("try: --rebuild x 2"));
  }

  @Test
  void aValueIsConsumedAndIsNotReadAgain() {
    // The value 5 belongs to --rebuild; nothing else happens with it.
    assertEquals(opts(5, 0, false), read("try: --rebuild 5 5"));
  }

  @Test
  void repeatedOptionLastValidValueWins() {
    assertEquals(opts(0, 0, false), read("try: --rebuild 5 --rebuild 0"));
    assertEquals(opts(5, 0, false), read("try: --rebuild 5 --rebuild x"));
    assertEquals(opts(5, 0, false), read("try: --rebuild 5 --rebuild -1"));
    assertEquals(opts(5, 0, false), read("try: --rebuild 5 --rebuild"));
    assertEquals(opts(20, 0, false), read("try: --rebuild 2 --rebuild 999"));
    assertEquals(opts(0, 1, false), read("try: --rebuild-talos 4 --rebuild-talos 1"));
    assertEquals(opts(0, 0, true), read("try: --no-retry --no-retry"));
  }

  @Test
  void rebuildTalosIsItsOwnOption() {
    assertEquals(opts(0, 6, false), read("try: -b o -p all -u none -t all --rebuild-talos 6"));
    assertEquals(opts(2, 6, false), read("try: --rebuild-talos 6 --rebuild 2"));
    assertEquals(opts(2, 6, false), read("try: --rebuild 2 --rebuild-talos 6"));
  }

  @Test
  void allThreeOptionsTogether() {
    TryOptions o = read(
        "Bug 123 - part 2\ntry: -b do -p linux64,win32 -u mochitest-1 -t tp5o --rebuild 3 --rebuild-talos 2 --no-retry");
    assertNotNull(o);
    assertEquals(3, o.rebuild());
    assertEquals(2, o.rebuildTalos());
    assertEquals(true, o.noRetry());
  }
}
