package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.triggerbot.schemas.VerdictState;

/** What the paths and parameters of the HTTP interface accept, and how they say no. */
class RequestValidationTest {

  @Test
  void aRevisionOf12To40LowercaseHexIsCutTo12() throws Exception {
    assertEquals(new PushRef("try", "abcdef012345"), PushRef.parse("try/abcdef012345"));
    assertEquals(new PushRef("try", "abcdef012345"), PushRef.parse("try/abcdef0123456789abcdef0123456789abcdef01"));
    assertEquals(new PushRef("try", "abcdef012345"), PushRef.parse("try/abcdef0123456"));
  }

  @Test
  void aMalformedRevisionIsABadRequestThatSaysWhatARevisionIs() {
    for (String bad : List.of("abcdef01234", "ABCDEF012345", "abcdef01234g",
        "abcdef0123456789abcdef0123456789abcdef012",
        "abcdef012345%20", "%61bcdef012345x")) {
      BadRequest e = assertThrows(BadRequest.class, () -> PushRef.parse("try/" + bad), bad);
      assertTrue(e.getMessage().contains("revision") && e.getMessage().contains("[0-9a-f]{12,40}"), e.getMessage());
    }
  }

  @Test
  void theBranchIsEverythingBeforeTheLastSegmentDecoded() throws Exception {
    assertEquals(new PushRef("releases/mozilla-beta", "0123456789ab"),
        PushRef.parse("releases/mozilla-beta/0123456789ab"));
    assertEquals(new PushRef("releases/mozilla-beta", "0123456789ab"),
        PushRef.parse("releases%2Fmozilla-beta/0123456789ab"));
    assertEquals(new PushRef("a b+c<é>", "0123456789ab"), PushRef.parse("a%20b+c%3C%C3%A9%3E/0123456789ab"),
        "+ is itself in a path; UTF-8 escapes decode");
    assertEquals("0123456789ab", PushRef.parse("try/%30123456789ab").revision(), "an encoded revision decodes too");
  }

  @Test
  void missingPartsAndBrokenEscapesAreBadRequests() {
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("")).getMessage().contains("{branch}/{revision}"));
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("0123456789ab")).getMessage()
        .contains("{branch}/{revision}"));
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("/0123456789ab")).getMessage()
        .contains("branch is missing"));
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("try/")).getMessage()
        .contains("revision is missing"));
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("tr%y/0123456789ab")).getMessage()
        .contains("percent-encoding"));
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("try%4/0123456789ab")).getMessage()
        .contains("percent-encoding"));
    assertTrue(assertThrows(BadRequest.class, () -> PushRef.parse("%C3%28/0123456789ab")).getMessage()
        .contains("not UTF-8"));
  }

  @Test
  void aLongInputIsQuotedBackCut() {
    String longRevision = "x".repeat(5000);
    BadRequest e = assertThrows(BadRequest.class, () -> PushRef.parse("try/" + longRevision));
    assertTrue(e.getMessage().length() < 300, e.getMessage());
  }

  @Test
  void pathsOfPushesEncodeWhatNeedsItAndReadBackTheSame() throws Exception {
    PushRef ref = new PushRef("releases/a b?#%<x>", "0123456789ab");
    assertEquals("releases/a%20b%3F%23%25%3Cx%3E/0123456789ab", ref.path());
    assertEquals(ref, PushRef.parse(ref.path()));
    assertEquals("/pushes/releases/a%20b%3F%23%25%3Cx%3E/0123456789ab",
        HtmlPages.pushHref(ref.branch(), ref.revision()));
  }

  @Test
  void theListDefaultsToEveryVerdictAndFifty() throws Exception {
    assertEquals(new ListQuery(null, 50), ListQuery.parse(null));
    assertEquals(new ListQuery(null, 50), ListQuery.parse(""));
    assertEquals(new ListQuery(VerdictState.FAILING, 50), ListQuery.parse("state=FAILING"));
    assertEquals(new ListQuery(VerdictState.GREEN, 7), ListQuery.parse("state=GREEN&limit=7"));
    assertEquals(new ListQuery(null, 500), ListQuery.parse("limit=500&state="), "an empty state (a form's 'any')");
    assertEquals(new ListQuery(null, 1), ListQuery.parse("limit=1&"));
    assertEquals("state=FAILING&limit=7", new ListQuery(VerdictState.FAILING, 7).toQueryString());
    assertEquals("", ListQuery.defaults().toQueryString());
  }

  @Test
  void aBadStateNamesTheVerdictsAllowed() {
    for (String bad : List.of("failing", "RED", "FAILING%20", "PASS")) {
      BadRequest e = assertThrows(BadRequest.class, () -> ListQuery.parse("state=" + bad), bad);
      assertEquals(List.of("PENDING", "GREEN", "INTERMITTENT_ONLY", "FAILING", "UNKNOWN"), e.allowed());
      assertTrue(e.getMessage().contains("FAILING, UNKNOWN"), e.getMessage());
    }
  }

  @Test
  void aBadLimitSaysTheRange() {
    for (String bad : List.of("0", "501", "-1", "ten", "1.5", "99999999999", " 5")) {
      BadRequest e = assertThrows(BadRequest.class, () -> ListQuery.parse("limit=" + bad), bad);
      assertTrue(e.getMessage().contains("from 1 to 500"), e.getMessage());
    }
  }

  @Test
  void unknownOrRepeatedParametersAreErrorsNotIgnored() {
    BadRequest unknown = assertThrows(BadRequest.class, () -> ListQuery.parse("stat=FAILING"));
    assertTrue(unknown.getMessage().contains("'stat'"), unknown.getMessage());
    assertEquals(List.of("state", "limit"), unknown.allowed());
    assertTrue(assertThrows(BadRequest.class, () -> ListQuery.parse("limit=1&limit=2")).getMessage()
        .contains("twice"));
  }

  @Test
  void theEscaperCoversTextAndBothQuotes() {
    assertEquals("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;",
        Html.escape("<script>alert('x')</script> & \"q\""));
    assertEquals("plain é text", Html.escape("plain é text"));
    assertEquals("", Html.escape(null));
    assertEquals("42", Html.escape(42));
  }

  @Test
  void queryValuesDecodePlusAsSpaceButPathsDoNot() throws Exception {
    assertEquals("a b", UriCodec.decodeQuery("a+b"));
    assertEquals("a+b", UriCodec.decodePath("a+b"));
    assertNull(ListQuery.parse("state=").state());
  }
}
