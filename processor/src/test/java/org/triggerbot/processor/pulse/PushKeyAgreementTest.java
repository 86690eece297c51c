package org.triggerbot.processor.pulse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.PulseEnvelope;
import org.triggerbot.processor.decide.Keys;
import org.triggerbot.processor.state.PushEvent;
import org.triggerbot.testsupport.pulse.PulseJson;
import org.triggerbot.testsupport.pulse.ScenarioStream;

/**
 * The bridge keys {@code pulse.raw} by {@link PulseEnvelope#push()}, and the processor decides straight from it,
 * trusting that key to be the push of every body its parser accepts. This holds that to account over real-shaped
 * bodies and bodies whose push properties are mutated in every way the two could read differently: repeated
 * entries, case, lengths, types, malformed entries, duplicate JSON names.
 */
class PushKeyAgreementTest {

  private static final PulseParser PARSER = new PulseParser(Set.of("try", "mozilla-inbound", ""), 1 << 20);

  @Test
  void everyAcceptedBodysRecordKeyIsItsEventsPush() {
    List<String> bodies = new ArrayList<>(ScenarioStream.generate(3, 30, 10));
    bodies.add(PulseJson.test("full").full(true).branch("mozilla-inbound").rev("0123456789ab").finished(2));
    Random random = new Random(12);
    int accepted = 0;
    int mutatedAccepted = 0;
    for (String body : List.copyOf(bodies)) {
      for (int m = 0; m < 3; m++) {
        bodies.add(mutate(body, random));
      }
    }
    for (int i = 0; i < bodies.size(); i++) {
      byte[] bytes = bodies.get(i).getBytes(StandardCharsets.UTF_8);
      ParseOutcome o = PARSER.parse(bytes);
      if (o instanceof ParseOutcome.Accepted a) {
        PushEvent e = a.event();
        assertEquals(Keys.push(e.getBranch(), e.getRevision()), PulseEnvelope.read(bytes).push(), bodies.get(i));
        accepted++;
        if (i >= bodies.size() / 4) {
          mutatedAccepted++;
        }
      }
    }
    assertTrue(accepted > 500 && mutatedAccepted > 100, accepted + " accepted, " + mutatedAccepted + " mutated");
  }

  /** The body with its branch or revision properties changed in one of the ways a reader could get wrong. */
  private static String mutate(String body, Random random) {
    String branch = "\\[\"branch\",\"try\"";
    String rev = "\"revision\",\"";
    return switch (random.nextInt(10)) {
      case 0 -> body.replaceFirst(branch, "[\"branch\",\"mozilla-inbound\"],[\"branch\",\"try\"");
      case 1 -> body.replaceFirst(branch, "[\"branch\",\"try\"],[\"branch\",\"mozilla-inbound\"");
      case 2 -> body.replaceFirst("\\[" + rev, "[" + rev + "0123456789abcdef\"],[" + rev);
      case 3 -> {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(rev + "([0-9a-f]{12})").matcher(body);
        yield m.find() ? body.substring(0, m.start(1)) + m.group(1).toUpperCase(Locale.ROOT) + body.substring(m.end(1))
            : body;
      }
      case 4 -> body.replaceFirst(rev + "([0-9a-f]{11})[0-9a-f]*", rev + "$1");
      case 5 -> body.replaceFirst(branch, "[\"branch\",\"\"");
      case 6 -> body.replaceFirst(branch, "[\"branch\",7");
      case 7 -> body.replaceFirst("\"properties\":\\[", "\"properties\":[[\"x\"],");
      case 8 -> body.replaceFirst("\"build\":\\{", "\"build\":{\"properties\":[[\"branch\",\"x\"]],");
      default -> body.replaceFirst("\"payload\":\\{", "\"payload\":{\"build\":{},");
    };
  }
}
