package org.triggerbot.processor.query;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.triggerbot.testsupport.pulse.PulseJson;

/**
 * Pushes with a known outcome under the default policy (SPEC 4, 4.1), as Pulse bodies and as the values the
 * HTTP interface must show for them.
 *
 * <ul>
 *   <li>{@link Kind#INTERMITTENT}: the test builder fails (2), is retriggered ({@code TRIGGER_FAILURE}), and the
 *       retriggered run passes (0): builder {@code INTERMITTENT}, push {@code INTERMITTENT_ONLY}.</li>
 *   <li>{@link Kind#PENDING}: the builder fails and is retriggered; the retrigger has not finished: builder and
 *       push {@code PENDING}.</li>
 *   <li>{@link Kind#GREEN}: a build job, then the test builder starts and passes: nothing decided, builder
 *       {@code PASS}, push {@code GREEN}; J counts the build job, the builders list does not.</li>
 * </ul>
 */
final class QueryScenario {

  static final String SUITE = "mochitest-1";
  static final String BUILDER = "Ubuntu VM 12.04 try opt test " + SUITE;

  enum Kind { INTERMITTENT, PENDING, GREEN }

  /**
   * One push.
   *
   * @param fullRevision the 40 characters the Pulse messages carry
   * @param startMinute its first event, in minutes after {@link PulseJson#T0}
   */
  record Push(String branch, String fullRevision, Kind kind, int startMinute) {

    String revision() {
      return fullRevision.substring(0, 12);
    }

    String key() {
      return branch + "/" + revision();
    }

    /** The path below {@code /api/pushes/} or {@code /pushes/}: the branch's slash kept, as links write it. */
    String path() {
      return branch + "/" + revision();
    }

    String verdict() {
      return switch (kind) {
        case INTERMITTENT -> "INTERMITTENT_ONLY";
        case PENDING -> "PENDING";
        case GREEN -> "GREEN";
      };
    }

    String classification() {
      return switch (kind) {
        case INTERMITTENT -> "INTERMITTENT";
        case PENDING -> "PENDING";
        case GREEN -> "PASS";
      };
    }

    /** Build number and result of each finished run of the test builder. */
    List<int[]> runs() {
      return switch (kind) {
        case INTERMITTENT -> List.of(new int[] {0, 2}, new int[] {1, 0});
        case PENDING -> List.of(new int[] {0, 2});
        case GREEN -> List.of(new int[] {0, 0});
      };
    }

    int jobsOnPush() {
      return kind == Kind.GREEN ? 2 : 1;
    }

    int failuresOnPush() {
      return kind == Kind.GREEN ? 0 : 1;
    }

    /** The reasons of the decisions on the test builder, in order. */
    List<String> reasons() {
      return kind == Kind.GREEN ? List.of() : List.of("TRIGGER_FAILURE");
    }

    int lastMinute() {
      return startMinute + (kind == Kind.INTERMITTENT ? 20 : kind == Kind.GREEN ? 10 : 0);
    }

    /**
     * When the verdict last changed: a started builder without a failed run is already {@code PASS} (SPEC 4.1's
     * first rule), so a green push is green from its test builder's start; the others change with their last run.
     */
    String verdictUpdatedAt() {
      return time(kind == Kind.GREEN ? startMinute : lastMinute()).toString();
    }

    String lastSeen() {
      return PulseJson.T0.plusSeconds(60L * lastMinute()).toString();
    }

    /** The Pulse bodies of the push, in event order. */
    List<String> bodies() {
      PulseJson test = PulseJson.test(SUITE).branch(branch).rev(fullRevision);
      List<String> out = new ArrayList<>();
      switch (kind) {
        case INTERMITTENT -> {
          out.add(test.number(0).atMinutes(startMinute).finished(2));
          out.add(test.number(1).atMinutes(startMinute + 20).finished(0));
        }
        case PENDING -> out.add(test.number(0).atMinutes(startMinute).finished(2));
        case GREEN -> {
          out.add(PulseJson.build("linux64").branch(branch).rev(fullRevision).number(7).atMinutes(startMinute)
              .finished(0));
          out.add(test.number(0).atMinutes(startMinute).started());
          out.add(test.number(0).atMinutes(startMinute + 10).finished(0));
        }
      }
      return out;
    }

    String builder() {
      // PulseJson writes the branch into the buildername, as buildbot does.
      return BUILDER.replace(" try ", " " + branch + " ");
    }
  }

  private QueryScenario() {}

  /**
   * {@code count} pushes on try cycling through the kinds, and one intermittent push on
   * {@code releases/mozilla-beta}, each starting 3 minutes after the one before.
   */
  static List<Push> pushes(int count) {
    List<Push> pushes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      pushes.add(new Push("try", revision(i), Kind.values()[i % Kind.values().length], 3 * i));
    }
    pushes.add(new Push("releases/mozilla-beta", revision(count), Kind.INTERMITTENT, 3 * count));
    return pushes;
  }

  static List<String> bodies(List<Push> pushes) {
    return pushes.stream().flatMap(p -> p.bodies().stream()).toList();
  }

  /** A 40-character revision per push, distinct in its first 12. */
  static String revision(int i) {
    return String.format("%012x", 0xc0ffee000000L + 0x10101L * (i + 1)) + "0123456789abcdef01234567";
  }

  static Instant time(int minute) {
    return PulseJson.T0.plusSeconds(60L * minute);
  }
}
