#include "chaos/report.hpp"

#include <algorithm>

namespace vixy::chaos {

using nlohmann::json;

namespace {

json latency_json(const std::vector<double>& values) {
  return {{"count", values.size()},
          {"p50", percentile(values, 50)},
          {"p90", percentile(values, 90)},
          {"p99", percentile(values, 99)},
          {"max", percentile(values, 100)}};
}

json hostile_json(const HostileReport& h) {
  json out = json::object();
  for (const auto& [group, outcomes] : h.outcomes) out[group] = outcomes;
  if (!h.slow_reader_closed_after_ms.empty()) out["slow_reader_closed_after_ms"] = latency_json(h.slow_reader_closed_after_ms);
  return out;
}

double longest(const std::vector<double>& a, const std::vector<double>& b) {
  double out = 0;
  for (const auto* values : {&a, &b}) {
    for (double v : *values) out = std::max(out, v);
  }
  return out;
}

}  // namespace

void judge_thresholds(const Expectations& x, RunReport& r) {
  const auto& st = r.check.stats;
  double answers = static_cast<double>(st.answers + r.http_requests);
  double errors = static_cast<double>(st.error_answers + r.http_errors);
  if (x.max_error_rate) {
    double rate = answers > 0 ? errors / answers : 0;
    r.thresholds.push_back({"max_error_rate", *x.max_error_rate, rate, rate <= *x.max_error_rate});
  }
  if (x.p99_ms) {
    std::vector<double> all = st.latencies_ms;
    all.insert(all.end(), r.http_latencies_ms.begin(), r.http_latencies_ms.end());
    double p99 = percentile(all, 99);
    r.thresholds.push_back({"p99_ms", *x.p99_ms, p99, p99 <= *x.p99_ms});
  }
  if (x.max_latency_ms) {
    double worst = longest(st.latencies_ms, r.http_latencies_ms);
    r.thresholds.push_back({"max_latency_ms", *x.max_latency_ms, worst, worst <= *x.max_latency_ms});
  }
}

bool RunReport::ok() const {
  return fatal.empty() && check.ok() && std::all_of(thresholds.begin(), thresholds.end(), [](const auto& t) { return t.held; });
}

json report_to_json(const RunReport& r) {
  json invariants = json::array();
  for (const auto& i : r.check.invariants) {
    json first = json::array();
    for (const auto& v : i.first) first.push_back({{"where", v.where}, {"at_ms", v.at_ms}, {"message", v.message}});
    invariants.push_back({{"name", i.name}, {"status", i.status}, {"note", i.note},
                          {"violations", i.violation_count}, {"first", first}});
  }
  json thresholds = json::array();
  for (const auto& t : r.thresholds) {
    thresholds.push_back({{"name", t.name}, {"limit", t.limit}, {"value", t.value}, {"held", t.held}});
  }
  json timeline = json::array();
  for (const auto& a : r.timeline) {
    timeline.push_back({{"at_ms", a.event.at_ms}, {"actual_ms", a.actual_ms}, {"action", a.event.action},
                        {"target", a.event.target}, {"args", a.event.args}, {"result", a.result}});
  }
  const auto& s = r.check.stats;
  json out{{"scenario", r.scenario},
           {"file", r.file},
           {"proxy_bin", r.proxy_bin},
           {"ok", r.ok()},
           {"fatal", r.fatal},
           {"duration_s", r.duration_s},
           {"invariants", invariants},
           {"thresholds", thresholds},
           {"counts",
            {{"connections", s.connections}, {"closed_by_proxy", s.closed_by_peer},
             {"connect_failures", r.connect_failures}, {"requests", s.requests}, {"answers", s.answers},
             {"error_answers", s.error_answers}, {"notifications", s.notifications},
             {"unanswered_when_proxy_closed", s.unanswered_at_peer_close}, {"http_requests", r.http_requests},
             {"http_errors", r.http_errors}}},
           {"latency_ms", {{"ws", latency_json(s.latencies_ms)}, {"http", latency_json(r.http_latencies_ms)}}},
           {"failback",
            {{"primaries_healthy_from_ms", r.healthy_since_ms ? json(*r.healthy_since_ms) : json(nullptr)},
             {"failback_ms", s.failback_ms ? json(*s.failback_ms) : json(nullptr)},
             {"max_time_on_backup_ms", s.max_time_on_backup_ms},
             {"connections_ended_on_backup", s.never_failed_back},
             {"probe_answers_by_node", s.probe_answers_by_node}}},
           {"proxy_metrics", r.proxy_metrics},
           {"timeline", timeline}};
  if (r.sse) {
    const auto& e = *r.sse;
    out["sse"] = {{"listeners", e.listeners}, {"streams", e.streams}, {"failed_opens", e.failed_opens},
                  {"ended_by_proxy", e.ended_by_proxy}, {"reconnections", e.reconnections}, {"events", e.events},
                  {"head_events", e.head_events}, {"longest_gap_ms", e.longest_gap_ms},
                  {"longest_gap_where", e.longest_gap_where}};
  }
  if (r.hostile) out["hostile"] = hostile_json(*r.hostile);
  if (r.proxy_died_at_ms) out["proxy_died_at_ms"] = *r.proxy_died_at_ms;
  if (r.proxy_peak_rss_mb) out["proxy_peak_rss_mb"] = *r.proxy_peak_rss_mb;
  if (!r.proxy_log_tail.empty()) out["proxy_log_tail"] = r.proxy_log_tail;
  if (!r.page_path.empty()) out["page"] = r.page_path;
  return out;
}

void print_report(const RunReport& r, std::FILE* out) {
  std::fprintf(out, "\n== %s: %s ==\n", r.scenario.c_str(), r.ok() ? "OK" : "FAILED");
  if (!r.fatal.empty()) std::fprintf(out, "  run failed: %s\n", r.fatal.c_str());
  print_invariants(r.check, out);
  for (const auto& t : r.thresholds) {
    std::fprintf(out, "  %-15s %-5s value %.3f, limit %.3f\n", t.name.c_str(), t.held ? "held" : "FAIL", t.value, t.limit);
  }
  const auto& s = r.check.stats;
  std::fprintf(out, "  connections %zu (%zu closed by the proxy, %llu connect failures); requests %zu, answers %zu (%zu errors), notifications %zu\n",
               s.connections, s.closed_by_peer, static_cast<unsigned long long>(r.connect_failures), s.requests,
               s.answers, s.error_answers, s.notifications);
  std::fprintf(out, "  ws latency ms: p50 %.1f p90 %.1f p99 %.1f max %.1f\n", percentile(s.latencies_ms, 50),
               percentile(s.latencies_ms, 90), percentile(s.latencies_ms, 99), percentile(s.latencies_ms, 100));
  if (r.http_requests > 0) {
    std::fprintf(out, "  http: %zu requests, %zu errors; latency ms p50 %.1f p99 %.1f max %.1f\n", r.http_requests,
                 r.http_errors, percentile(r.http_latencies_ms, 50), percentile(r.http_latencies_ms, 99),
                 percentile(r.http_latencies_ms, 100));
  }
  std::string nodes;
  for (const auto& [node, n] : s.probe_answers_by_node) nodes += " " + node + "=" + std::to_string(n);
  std::fprintf(out, "  probes by node:%s; longest time on a backup %.0f ms", nodes.empty() ? " none" : nodes.c_str(),
               s.max_time_on_backup_ms);
  if (s.failback_ms) std::fprintf(out, "; failback after %.0f ms", *s.failback_ms);
  if (s.never_failed_back > 0) std::fprintf(out, "; %zu connection(s) ended on a backup", s.never_failed_back);
  std::fputc('\n', out);
  if (r.sse) {
    const auto& e = *r.sse;
    std::fprintf(out, "  cl event streams: %zu listener(s), %zu stream(s) (%zu reconnection(s), %zu ended by the proxy, %zu failed open(s)), %zu event(s); longest gap without a head %.0f ms%s%s\n",
                 e.listeners, e.streams, e.reconnections, e.ended_by_proxy, e.failed_opens, e.events, e.longest_gap_ms,
                 e.longest_gap_where.empty() ? "" : " at ", e.longest_gap_where.c_str());
  }
  if (r.hostile) {
    for (const auto& [group, outcomes] : r.hostile->outcomes) {
      std::string counts;
      for (const auto& [outcome, n] : outcomes) counts += (counts.empty() ? "" : "; ") + outcome + " x" + std::to_string(n);
      std::fprintf(out, "  hostile %s: %s\n", group.c_str(), counts.c_str());
    }
    const auto& closed = r.hostile->slow_reader_closed_after_ms;
    if (!closed.empty()) {
      std::fprintf(out, "  slow readers closed by the proxy after ms: p50 %.0f max %.0f\n", percentile(closed, 50),
                   percentile(closed, 100));
    }
  }
  if (r.proxy_peak_rss_mb) std::fprintf(out, "  proxy peak resident memory %.0f MB\n", *r.proxy_peak_rss_mb);
  if (!r.proxy_metrics.empty()) std::fprintf(out, "  proxy metrics: %s\n", r.proxy_metrics.dump().c_str());
  if (!r.page_path.empty()) std::fprintf(out, "  picture of the run: %s\n", r.page_path.c_str());
}

}  // namespace vixy::chaos
