package org.triggerbot.processor.query;

import static org.triggerbot.processor.query.Html.escape;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.triggerbot.schemas.DecisionReason;

/**
 * The two pages a developer reads, as HTML text: the recent pushes with their verdicts, and one push with each
 * failing builder's runs, classification and decisions. Pure functions of the views, so they are tested as
 * strings.
 *
 * <p>No JavaScript and no external assets: one inline style sheet, links and a plain GET form. Every value that
 * comes from the data (branch, builder, pusher, reason...) goes through {@link Html#escape}; links are built from
 * percent-encoded path segments and escaped as well.
 */
final class HtmlPages {

  private HtmlPages() {}

  private static final String STYLE = """
      :root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--link:#0969da}
      *{box-sizing:border-box}
      body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
        color:var(--fg);background:#fff}
      header.top{background:#24292f;color:#fff;padding:10px 24px;display:flex;gap:12px;align-items:baseline}
      header.top a{color:#fff;font-weight:600;text-decoration:none;font-size:17px}
      header.top span{color:#c9d1d9;font-size:13px}
      main{max-width:1180px;margin:0 auto;padding:18px 24px 40px}
      h1{font-size:22px;margin:6px 0 14px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
      h2{font-size:17px;margin:26px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
      h3{font-size:15px;margin:0;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
      a{color:var(--link);text-decoration:none} a:hover{text-decoration:underline}
      code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
      h1 .mono{font-size:20px}
      .nowrap{white-space:nowrap}
      table{border-collapse:collapse;width:100%}
      table.decisions{table-layout:fixed}
      th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
      th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);background:var(--bg)}
      th.sym{text-transform:none;font-size:13px}
      td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
      .muted{color:var(--muted)} .small{font-size:13px}
      .badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;
        letter-spacing:.02em;border:1px solid transparent;white-space:nowrap}
      .v-GREEN,.c-PASS,.r-0{background:#dafbe1;color:#116329;border-color:#aceebb}
      .v-INTERMITTENT_ONLY,.c-INTERMITTENT,.r-1{background:#fff1c2;color:#7d4e00;border-color:#f5d67b}
      .v-FAILING,.c-CONSISTENT_FAILURE,.r-2,.r-4{background:#ffebe9;color:#a40e26;border-color:#ffcecb}
      .v-PENDING,.c-PENDING{background:#ddf4ff;color:#0a3069;border-color:#b6e3ff}
      .v-UNKNOWN,.c-UNCONFIRMED,.v-NONE,.c-NONE,.r-3,.r-5,.r-6{background:#eaeef2;color:#424a53;border-color:#d0d7de}
      .facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0 0 8px;padding:12px 16px;
        background:var(--bg);border:1px solid var(--line);border-radius:8px}
      .facts dt{color:var(--muted)} .facts dd{margin:0}
      .card{border:1px solid var(--line);border-radius:8px;margin:0 0 16px;overflow:hidden}
      .card>.head{padding:10px 14px;background:var(--bg);border-bottom:1px solid var(--line)}
      .card>.body{padding:10px 14px}
      .card tbody tr:last-child td{border-bottom:0}
      .runs{display:flex;gap:6px;flex-wrap:wrap;margin:2px 0 10px}
      .meta{margin:0 0 8px}
      .chips{display:flex;gap:6px;flex-wrap:wrap}
      form.filter{display:flex;gap:14px;align-items:center;margin:0 0 14px;flex-wrap:wrap}
      form.filter select,form.filter input{font:inherit;padding:3px 6px}
      form.filter button{font:inherit;padding:4px 14px;border:1px solid var(--line);border-radius:6px;
        background:var(--bg);cursor:pointer}
      details summary{cursor:pointer;margin:6px 0}
      .error{border:1px solid #ffcecb;background:#fff8f7;border-radius:8px;padding:14px 18px}
      footer{color:var(--muted);font-size:12px;margin-top:32px}
      """;

  /** The list of recent pushes with their verdicts, each linking to its page. */
  static String index(PushList list, ListQuery query) {
    StringBuilder b = new StringBuilder(4096);
    b.append("<h1>Recent pushes</h1>\n");
    b.append("<form class=\"filter\" method=\"get\" action=\"/\"><label>Verdict <select name=\"state\">")
        .append("<option value=\"\">any</option>");
    for (String state : ListQuery.states()) {
      b.append("<option value=\"").append(escape(state)).append('"')
          .append(query.state() != null && query.state().name().equals(state) ? " selected" : "").append('>')
          .append(escape(state)).append("</option>");
    }
    b.append("</select></label><label>Show <input type=\"number\" name=\"limit\" min=\"").append(ListQuery.MIN_LIMIT)
        .append("\" max=\"").append(ListQuery.MAX_LIMIT).append("\" value=\"").append(query.limit())
        .append("\"></label><button type=\"submit\">Filter</button></form>\n");
    if (list.pushes().isEmpty()) {
      b.append("<p class=\"muted\">")
          .append(query.state() == null ? "No push has a verdict yet."
              : "No push has the verdict " + escape(query.state().name()) + ".")
          .append("</p>\n");
      return page("Recent pushes", b.toString());
    }
    b.append("<table><thead><tr><th>Verdict</th><th>Push</th><th>Pusher</th><th>Test builders</th>")
        .append("<th class=\"num sym\" title=\"builders seen on the push\">J</th>")
        .append(
            "<th class=\"num sym\" title=\"builders failure-retriggered\">f</th><th>Last seen (UTC)</th></tr></thead>")
        .append("<tbody>\n");
    for (PushSummary p : list.pushes()) {
      b.append("<tr><td>").append(badge("v", p.verdict())).append("</td><td><a class=\"mono nowrap\" href=\"")
          .append(escape(pushHref(p.branch(), p.revision()))).append("\">").append(escape(p.branch())).append('/')
          .append(escape(p.revision())).append("</a></td><td>").append(escape(orDash(p.pusher())))
          .append("</td><td><div class=\"chips\">");
      p.classifications().forEach((classification, count) -> {
        if (count > 0) {
          b.append("<span class=\"badge c-").append(escape(classification)).append("\">").append(count).append(' ')
              .append(escape(classification)).append("</span>");
        }
      });
      b.append("</div></td><td class=\"num\">").append(p.jobsOnPush()).append("</td><td class=\"num\">")
          .append(p.failuresOnPush()).append("</td><td class=\"small nowrap\">").append(escape(when(p.lastSeen())))
          .append("</td></tr>\n");
    }
    b.append("</tbody></table>\n<p class=\"muted small\">").append(list.pushes().size())
        .append(list.pushes().size() == 1 ? " push" : " pushes").append(", latest first.</p>\n");
    return page("Recent pushes", b.toString());
  }

  /** One push: its verdict and facts, then each failing builder in full, then the others in brief. */
  static String push(PushView p) {
    StringBuilder b = new StringBuilder(8192);
    b.append("<p class=\"small\"><a href=\"/\">&larr; recent pushes</a></p>\n");
    b.append("<h1><span class=\"mono\">").append(escape(p.branch())).append('/').append(escape(p.revision()))
        .append("</span>").append(badge("v", p.verdict())).append("</h1>\n");
    b.append("<dl class=\"facts\">");
    fact(b, "Verdict", p.verdict() == null ? "none yet: no test builder has reported"
        : escape(p.verdict()) + " <span class=\"muted\">&mdash; " + escape(verdictMeaning(p.verdict()))
            + (p.verdictUpdatedAt() == null ? "" : ", since " + escape(when(p.verdictUpdatedAt()))) + "</span>");
    fact(b, "Pusher", escape(orDash(p.pusher())));
    fact(b, "Try options", tryOptions(p.tryOptions()));
    fact(b, "Builders seen (J)", String.valueOf(p.jobsOnPush()));
    fact(b, "Failure-retriggered builders (f)", String.valueOf(p.failuresOnPush()));
    fact(b, "Seen", escape(when(p.lifeStart())) + " &ndash; " + escape(when(p.lastSeen())) + " UTC");
    b.append("</dl>\n");

    List<PushView.BuilderView> failing = p.builders().stream().filter(PushView.BuilderView::failing).toList();
    List<PushView.BuilderView> others = p.builders().stream().filter(x -> !x.failing()).toList();
    b.append("<h2>Failing builders (").append(failing.size()).append(")</h2>\n");
    if (failing.isEmpty()) {
      b.append("<p class=\"muted\">No test run has failed on this push.</p>\n");
    }
    for (PushView.BuilderView builder : failing) {
      failingBuilder(b, builder);
    }
    b.append("<h2>Other test builders (").append(others.size()).append(")</h2>\n");
    if (others.isEmpty()) {
      b.append("<p class=\"muted\">None.</p>\n");
    } else {
      Map<String, Integer> counts = new TreeMap<>();
      others.forEach(x -> counts.merge(x.classification() == null ? "NONE" : x.classification(), 1, Integer::sum));
      b.append("<div class=\"chips\">");
      counts.forEach((c, n) -> b.append("<span class=\"badge c-").append(escape(c)).append("\">").append(n)
          .append(' ').append(escape(c)).append("</span>"));
      b.append("</div>\n<details><summary>Show all ").append(others.size()).append("</summary><table><thead><tr>")
          .append("<th>Builder</th><th>Classification</th><th>Runs</th><th class=\"num\">Decisions</th></tr>")
          .append("</thead><tbody>\n");
      for (PushView.BuilderView x : others) {
        b.append("<tr><td>").append(escape(x.builder())).append("</td><td>").append(badge("c", x.classification()))
            .append("</td><td><div class=\"runs\">").append(runs(x.runs())).append("</div></td><td class=\"num\">")
            .append(x.decisions().size()).append("</td></tr>\n");
      }
      b.append("</tbody></table></details>\n");
    }
    return page(p.branch() + "/" + p.revision(), b.toString());
  }

  /** An error page: the status, a title and the message (all escaped). */
  static String error(int status, String title, String message) {
    return page(status + " " + title, "<h1>" + escape(title) + "</h1>\n<div class=\"error\"><p>" + escape(message)
        + "</p><p class=\"muted small\">HTTP " + status + (status == 503 ? " &mdash; try again in a few seconds" : "")
        + ". <a href=\"/\">Recent pushes</a></p></div>\n");
  }

  // --- pieces --------------------------------------------------------------------------------------------------

  private static void failingBuilder(StringBuilder b, PushView.BuilderView x) {
    b.append("<section class=\"card\"><div class=\"head\"><h3><span>").append(escape(x.builder())).append("</span>")
        .append(badge("c", x.classification())).append("</h3></div><div class=\"body\">\n");
    b.append("<div class=\"runs\">").append(runs(x.runs())).append("</div>\n");
    b.append("<p class=\"meta small muted\">Jobs issued for it: ").append(x.jobsIssued())
        .append(" &middot; failure retriggers: ").append(x.failureTriggers()).append("</p>\n");
    if (x.decisions().isEmpty()) {
      b.append("<p class=\"muted small\">No decision taken on this builder.</p>\n");
    } else {
      // Fixed column widths, so that the decision tables of successive builders line up.
      b.append("<table class=\"decisions\"><colgroup><col style=\"width:170px\"><col style=\"width:100px\">")
          .append("<col style=\"width:70px\"><col style=\"width:110px\"><col><col style=\"width:70px\">")
          .append("<col style=\"width:45px\"><col style=\"width:45px\"></colgroup>")
          .append("<thead><tr><th>Event time (UTC)</th><th>Event</th><th class=\"num\">Build</th>")
          .append("<th>Result</th><th>Decision</th><th class=\"num\">Count</th>")
          .append("<th class=\"num sym\" title=\"builders failure-retriggered before this decision\">f</th>")
          .append("<th class=\"num sym\" title=\"builders seen on the push\">J</th></tr></thead><tbody>\n");
      for (PushView.DecisionView d : x.decisions()) {
        b.append("<tr><td class=\"small nowrap\">").append(escape(when(d.eventTime()))).append("</td><td>")
            .append(escape(d.event())).append("</td><td class=\"num\">#").append(d.buildNumber()).append("</td><td>")
            .append(d.result() == null ? "<span class=\"muted\">&ndash;</span>"
                : "<span class=\"badge r-" + d.result() + "\">" + escape(resultName(d.result())) + "</span>")
            .append("</td><td><code>").append(escape(d.reason())).append("</code><div class=\"small muted\">")
            .append(escape(reasonMeaning(d.reason()))).append("</div></td><td class=\"num\">").append(d.count())
            .append("</td><td class=\"num\">").append(d.failuresOnPush()).append("</td><td class=\"num\">")
            .append(d.jobsOnPush()).append("</td></tr>\n");
      }
      b.append("</tbody></table>\n");
    }
    b.append("</div></section>\n");
  }

  private static String runs(List<PushView.Run> runs) {
    if (runs.isEmpty()) {
      return "<span class=\"muted small\">no finished run yet</span>";
    }
    StringBuilder b = new StringBuilder();
    for (PushView.Run r : runs) {
      String run = r.taskId() == null ? "build " + r.buildNumber() : "task " + r.taskId() + " run " + r.buildNumber();
      String label = r.taskId() == null ? "#" + r.buildNumber()
          : r.taskId().substring(0, Math.min(6, r.taskId().length())) + "…/" + r.buildNumber();
      b.append("<span class=\"badge r-").append(r.result()).append("\" title=\"").append(escape(run))
          .append(", result ").append(r.result()).append("\">").append(escape(label)).append(' ')
          .append(escape(resultName(r.result()))).append("</span>");
    }
    return b.toString();
  }

  private static String tryOptions(PushView.TryOptions t) {
    if (!t.trySyntaxSeen()) {
      return "<span class=\"muted\">no try: line seen</span>";
    }
    StringBuilder b = new StringBuilder("try: line seen");
    if (t.rebuild() > 0) {
      b.append(" &middot; <code>--rebuild ").append(t.rebuild()).append("</code>");
    }
    if (t.rebuildTalos() > 0) {
      b.append(" &middot; <code>--rebuild-talos ").append(t.rebuildTalos()).append("</code>");
    }
    if (t.noRetry()) {
      b.append(" &middot; <code>--no-retry</code>");
    }
    if (t.rebuild() == 0 && t.rebuildTalos() == 0 && !t.noRetry()) {
      b.append(" <span class=\"muted\">(no --rebuild, --rebuild-talos or --no-retry)</span>");
    }
    return b.toString();
  }

  private static void fact(StringBuilder b, String name, String html) {
    b.append("<dt>").append(escape(name)).append("</dt><dd>").append(html).append("</dd>");
  }

  private static String badge(String kind, String symbol) {
    String s = symbol == null ? "NONE" : symbol;
    return "<span class=\"badge " + kind + "-" + escape(s) + "\">" + escape(symbol == null ? "no verdict" : s)
        + "</span>";
  }

  private static String page(String title, String body) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        + "<title>" + escape(title) + " &middot; triggerbot</title><style>" + STYLE + "</style></head>\n<body>"
        + "<header class=\"top\"><a href=\"/\">triggerbot</a><span>push verdicts</span></header>\n<main>\n" + body
        + "<footer>Times are event times from the CI feed, in UTC. Verdicts as in SPEC 4.1; the JSON of this page "
        + "is under /api/pushes.</footer>\n</main></body></html>\n";
  }

  static String pushHref(String branch, String revision) {
    return "/pushes/" + UriCodec.encodeBranch(branch) + "/" + UriCodec.encodeSegment(revision);
  }

  /** {@code 2015-06-01T10:20:00Z} as {@code 2015-06-01 10:20:00}. */
  private static String when(String isoInstant) {
    if (isoInstant == null) {
      return "";
    }
    return isoInstant.replace('T', ' ').replace("Z", "");
  }

  private static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }

  /** Buildbot's result codes (SPEC 3). */
  static String resultName(int result) {
    return switch (result) {
      case 0 -> "success";
      case 1 -> "warnings";
      case 2 -> "failure";
      case 3 -> "skipped";
      case 4 -> "exception";
      case 5 -> "retry";
      case 6 -> "cancelled";
      default -> "result " + result;
    };
  }

  static String verdictMeaning(String verdict) {
    return switch (verdict) {
      case "GREEN" -> "no test failed";
      case "INTERMITTENT_ONLY" -> "every failure passed when run again: intermittent";
      case "FAILING" -> "a test failed again and again: a real failure";
      case "PENDING" -> "retriggered runs are still to finish";
      case "UNKNOWN" -> "a failure could not be confirmed either way";
      default -> "a verdict this version does not know";
    };
  }

  /** What a decision reason means, in a few words (SPEC 4's table). */
  static String reasonMeaning(String reason) {
    DecisionReason r;
    try {
      r = DecisionReason.valueOf(reason);
    } catch (IllegalArgumentException | NullPointerException e) {
      return "a reason this version does not know";
    }
    return switch (r) {
      case SKIP_IGNORED_USER -> "not triggered: the pusher is in ignore.users";
      case SKIP_NO_TRY_SYNTAX -> "not triggered: no try: line on the push";
      case SKIP_NO_RETRY -> "not triggered: the push asked for --no-retry";
      case SKIP_REQUESTED_PUSH -> "not triggered: the push asked for --rebuild, so no failure retriggers";
      case SKIP_ALREADY_TRIGGERED -> "not triggered: already triggered on this push";
      case SKIP_DENIED_BUILDER -> "not triggered: the builder matches builders.deny";
      case SKIP_HIDDEN_BUILDER -> "not triggered: the builder is hidden";
      case SKIP_PUSH_BUDGET -> "not triggered: the push's retrigger budget is used up";
      case SKIP_DISABLED -> "not triggered: triggering is switched off";
      case SKIP_GLOBAL_LIMIT -> "not triggered: the hourly limit across all pushes was reached";
      case DRY_RUN -> "would have triggered (dry run)";
      case TRIGGER_REQUESTED -> "triggered, as the try line asked";
      case TRIGGER_FAILURE -> "retriggered, for evidence on a failure";
      default -> "a reason this version does not know";
    };
  }
}
