#include "chaos/checker.hpp"

#include "chaos/bounded_json.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

namespace vixy::chaos {
namespace {

using nlohmann::json;
constexpr std::size_t kKeptViolations = 10;

struct SentRequest {
  std::string method;
  json params;
  SteadyTime at;
};

struct Probe {
  SteadyTime at;    // answered
  SteadyTime sent;  // asked: where a request goes is decided after this, so I6 judges by it
  std::string node;
};

class Collector {
 public:
  Collector(SteadyTime start, std::vector<std::string> wanted) : start_(start) {
    for (auto& name : wanted) results_[name].name = name;
    order_ = std::move(wanted);
  }
  void add(const std::string& invariant, const ConnectionHistory& h, SteadyTime at, std::string message) {
    auto it = results_.find(invariant);
    if (it == results_.end()) return;
    ++it->second.violation_count;
    if (it->second.first.size() < kKeptViolations) {
      double ms = std::chrono::duration<double, std::milli>(at - start_).count();
      it->second.first.push_back({h.label(), ms, std::move(message)});
    }
  }
  double ms(SteadyTime at) const { return std::chrono::duration<double, std::milli>(at - start_).count(); }
  InvariantResult* result(const std::string& name) {
    auto it = results_.find(name);
    return it == results_.end() ? nullptr : &it->second;
  }
  std::vector<InvariantResult> finish() {
    std::vector<InvariantResult> out;
    for (const auto& name : order_) {
      auto& r = results_[name];
      // Connections are checked one after another: show the kept violations in time order.
      std::stable_sort(r.first.begin(), r.first.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
      if (r.status.empty()) r.status = r.violation_count > 0 ? "violated" : "held";
      out.push_back(r);
    }
    return out;
  }

 private:
  SteadyTime start_;
  std::vector<std::string> order_;
  std::map<std::string, InvariantResult> results_;
};

std::string id_text(const json& id) { return id.dump(); }

bool is_hex(const json& v, std::size_t max_len) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() > 2 && s.size() <= max_len && s.rfind("0x", 0) == 0;
}

// One connection's record walked once; I1–I3 findings go to the collector, numbers to stats.
class ConnectionCheck {
 public:
  ConnectionCheck(const ConnectionHistory& h, Collector& c, CheckStats& stats, std::vector<Probe>& probes)
      : h_(h), c_(c), stats_(stats), probes_(probes) {}

  void run() {
    std::optional<SteadyTime> closed_at;
    for (const auto& e : h_.events) {
      if (e.kind == EventKind::closed_by_peer || e.kind == EventKind::closed_by_client) {
        closed_at = e.at;
        break;
      }
      json message = parse_bounded(e.text);
      if (e.kind == EventKind::sent) {
        for_each_element(message, [&](const json& m) { on_sent(m, e.at); });
      } else if (std::size_t depth = nesting_depth(e.text); depth > kMaxParsedDepth) {
        // No well-behaved request nests this deep: the message is some hostile client's.
        c_.add("I2", h_, e.at, "a message nested " + std::to_string(depth) + " deep: " + short_text(e.text));
      } else if (message.is_discarded()) {
        c_.add("I2", h_, e.at, "a message that is not JSON: " + short_text(e.text));
      } else {
        for_each_element(message, [&](const json& m) { on_received(m, e); });
      }
    }
    bool by_peer = h_.ended_by_peer();
    std::vector<std::pair<SteadyTime, std::string>> unanswered;  // reported oldest first
    for (const auto& [id, queue] : outstanding_) {
      for (const auto& p : queue) {
        // How long the client waited tells a slow proxy from one that forgot the request.
        std::string waited = closed_at ? "; the client waited " + std::to_string(std::lround(c_.ms(*closed_at) - c_.ms(p.at))) +
                                             " ms before it closed the connection"
                                       : "";
        unanswered.emplace_back(p.at, "request id " + id + " (" + p.method + ") never got an answer" + waited);
      }
    }
    std::sort(unanswered.begin(), unanswered.end());
    for (auto& [at, message] : unanswered) {
      if (by_peer) {
        ++stats_.unanswered_at_peer_close;
      } else {
        c_.add("I1", h_, at, std::move(message));
      }
    }
  }

 private:
  template <class F>
  static void for_each_element(const json& message, F f) {
    if (message.is_array()) {
      for (const auto& m : message) f(m);
    } else {
      f(message);
    }
  }

  void on_sent(const json& m, SteadyTime at) {
    if (!m.is_object() || !m.contains("method") || !m.contains("id")) return;  // notifications expect nothing
    ++stats_.requests;
    outstanding_[id_text(m["id"])].push_back({m["method"].is_string() ? m["method"].get<std::string>() : "?",
                                              m.value("params", json::array()), at});
  }

  void on_received(const json& m, const HistoryEvent& e) {
    if (!m.is_object()) {
      c_.add("I2", h_, e.at, "a message that is neither an answer nor a notification: " + short_text(e.text));
      return;
    }
    if (m.contains("method")) {
      on_notification(m, e);
      return;
    }
    if (!m.contains("id") || (!m.contains("result") && !m.contains("error"))) {
      c_.add("I2", h_, e.at, "a message that is neither an answer nor a notification: " + short_text(e.text));
      return;
    }
    std::string id = id_text(m["id"]);
    auto& queue = outstanding_[id];
    if (queue.empty()) {
      std::string what = answered_.count(id) ? "another answer with id " + id + ", which had no request left open"
                                             : "an answer with id " + id + " the client never asked for";
      c_.add("I2", h_, e.at, what + ": " + short_text(e.text));
      if (answered_.count(id)) c_.add("I1", h_, e.at, "request id " + id + " answered more than once");
      return;
    }
    SentRequest p = std::move(queue.front());
    queue.pop_front();
    answered_.insert(id);
    ++stats_.answers;
    stats_.latencies_ms.push_back(std::chrono::duration<double, std::milli>(e.at - p.at).count());
    if (m.contains("error")) {
      ++stats_.error_answers;
      return;
    }
    const json& result = m["result"];
    if (!answer_fits(p.method, result)) {
      c_.add("I2", h_, e.at, "the answer to id " + id + " (" + p.method + ") does not fit it: " + short_text(e.text));
      return;
    }
    if (p.method == "eth_subscribe") {
      given_.insert(result.get<std::string>());
    } else if (p.method == "eth_unsubscribe" && result.is_boolean() && p.params.is_array() && !p.params.empty() &&
               p.params[0].is_string()) {
      const std::string sub = p.params[0].get<std::string>();
      if (result == false && given_.count(sub) && !ended_.count(sub)) {
        c_.add("I3", h_, e.at,
               "eth_unsubscribe of subscription " + sub + ", which this connection holds, answered false: " +
                   "it stays alive wherever the proxy subscribed it");
      }
      ended_.emplace(sub, e.at);  // either way, no notification for it may follow
    } else if (p.method == "web3_clientVersion") {
      const auto& version = result.get_ref<const std::string&>();
      std::string node = version.substr(version.rfind('/') + 1);
      ++stats_.probe_answers_by_node[node];
      probes_.push_back({e.at, p.at, node});
    }
  }

  void on_notification(const json& m, const HistoryEvent& e) {
    const json* sub = nullptr;
    if (m["method"] == "eth_subscription" && m.contains("params") && m["params"].is_object() &&
        m["params"].contains("subscription")) {
      sub = &m["params"]["subscription"];
    }
    if (sub == nullptr) {
      c_.add("I2", h_, e.at, "a request or notification the client did not subscribe to: " + short_text(e.text));
      return;
    }
    std::string key = sub->is_string() ? sub->get<std::string>() : sub->dump();
    ++stats_.notifications;
    if (auto ended = ended_.find(key); ended != ended_.end()) {
      c_.add("I3", h_, e.at,
             "notification for subscription " + key + " " + std::to_string(std::lround(c_.ms(e.at) - c_.ms(ended->second))) +
                 " ms after its eth_unsubscribe was answered");
    } else if (!given_.count(key)) {
      std::string message = "notification under subscription id " + key + ", which no eth_subscribe answer gave";
      c_.add("I2", h_, e.at, message);
      c_.add("I3", h_, e.at, message);
    }
  }

  const ConnectionHistory& h_;
  Collector& c_;
  CheckStats& stats_;
  std::vector<Probe>& probes_;
  std::map<std::string, std::deque<SentRequest>> outstanding_;
  std::set<std::string> answered_;
  std::set<std::string> given_;
  std::map<std::string, SteadyTime> ended_;
};

bool is_primary(const FailbackSpec& f, const std::string& node) {
  return std::find(f.primaries.begin(), f.primaries.end(), node) != f.primaries.end();
}

// I6 on one connection's probes (in time order); also its failback time and time on a backup.
void check_failback(const ConnectionHistory& h, const std::vector<Probe>& probes, const FailbackSpec& f,
                    Collector& c, CheckStats& stats, bool& any_probe_after_deadline) {
  double on_backup = 0;
  for (std::size_t i = 0; i + 1 < probes.size(); ++i) {
    if (!is_primary(f, probes[i].node)) {
      on_backup += std::chrono::duration<double, std::milli>(probes[i + 1].at - probes[i].at).count();
    }
  }
  stats.max_time_on_backup_ms = std::max(stats.max_time_on_backup_ms, on_backup);
  if (!f.healthy_since) return;
  SteadyTime since = *f.healthy_since;
  SteadyTime deadline = since + f.within;
  bool was_open_at_recovery = h.opened <= since;
  // The failback time counts from the last probe on a non-primary: a connection knocked to a
  // backup after recovery (its upstream cut) must come back too. Probes count by when they were
  // sent: one asked before the recovery and answered late by a backup it was sent to then says
  // nothing about where requests go now (on a loaded machine such answers come seconds late).
  std::vector<const Probe*> by_sending;
  for (const auto& p : probes) {
    if (p.sent >= since) by_sending.push_back(&p);
  }
  std::stable_sort(by_sending.begin(), by_sending.end(), [](const Probe* a, const Probe* b) { return a->sent < b->sent; });
  std::optional<SteadyTime> back_at;
  bool on_backup_at_end = false;
  for (const Probe* p : by_sending) {
    if (is_primary(f, p->node)) {
      if (!back_at) back_at = p->sent;
      on_backup_at_end = false;
    } else {
      back_at.reset();
      on_backup_at_end = true;
    }
  }
  if (was_open_at_recovery && back_at) {
    stats.failback_ms = std::max(stats.failback_ms.value_or(0), std::chrono::duration<double, std::milli>(*back_at - since).count());
  }
  if (was_open_at_recovery && on_backup_at_end) ++stats.never_failed_back;
  for (const Probe* p : by_sending) {
    if (p->sent < deadline) continue;
    any_probe_after_deadline = true;
    if (!is_primary(f, p->node)) {
      c.add("I6", h, p->at,
            "probe sent " + std::to_string(std::lround(c.ms(p->sent) - c.ms(since))) +
                " ms after every primary was healthy again answered by " + p->node + " (bound " +
                std::to_string(f.within.count()) + " ms)");
      return;
    }
  }
}

}  // namespace

void check_http(const std::vector<HttpSample>& samples, SteadyTime start, CheckReport& report) {
  auto i2 = std::find_if(report.invariants.begin(), report.invariants.end(), [](const auto& r) { return r.name == "I2"; });
  if (i2 == report.invariants.end()) return;
  for (const auto& h : samples) {
    if (!h.wrong_id) continue;
    i2->status = "violated";
    ++i2->violation_count;
    if (i2->first.size() < kKeptViolations) {
      i2->first.push_back({"http client", std::chrono::duration<double, std::milli>(h.sent - start).count(), h.detail});
    }
  }
}

bool answer_fits(const std::string& method, const json& result) {
  if (method == "eth_subscribe") return result.is_string();
  if (method == "eth_unsubscribe") return result.is_boolean();
  if (method == "eth_blockNumber" || method == "eth_chainId") return is_hex(result, 18);
  if (method == "eth_getBalance") return is_hex(result, 66);
  if (method == "web3_clientVersion") return result.is_string() && result.get_ref<const std::string&>().find('/') != std::string::npos;
  if (method == "net_version") return result.is_string() && result.get_ref<const std::string&>().rfind("0x", 0) != 0;
  if (method == "eth_getBlockByNumber" || method == "eth_getBlockByHash") return result.is_object() || result.is_null();
  if (method == "eth_getLogs") return result.is_array();
  if (method == "eth_syncing") return result.is_boolean() || result.is_object();
  return true;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

bool CheckReport::ok() const {
  return std::none_of(invariants.begin(), invariants.end(), [](const auto& r) { return r.status == "violated"; });
}

const InvariantResult* CheckReport::find(const std::string& name) const {
  for (const auto& r : invariants) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

CheckReport check_histories(const std::vector<ConnectionHistory>& histories, SteadyTime start,
                            const FailbackSpec& failback, const std::vector<std::string>& wanted,
                            const GaplessSpec& gapless) {
  Collector collector(start, wanted);
  CheckReport report;
  bool any_probe_after_deadline = false;
  for (const auto& h : histories) {
    ++report.stats.connections;
    if (h.ended_by_peer()) ++report.stats.closed_by_peer;
    std::vector<Probe> probes;
    ConnectionCheck(h, collector, report.stats, probes).run();
    check_failback(h, probes, failback, collector, report.stats, any_probe_after_deadline);
  }
  if (auto* r = collector.result("I4")) {
    r->status = "not checked";
    r->note = "the order requests reach the upstream cannot be seen by a client";
  }
  if (auto* r = collector.result("I6"); r != nullptr && r->violation_count == 0) {
    if (!failback.healthy_since) {
      r->status = "not checked";
      r->note = failback.not_checkable_reason;
    } else if (!any_probe_after_deadline) {
      r->status = "not checked";
      r->note = "no web3_clientVersion probe was answered after the failback deadline";
    }
  }
  if (auto* r = collector.result("I7")) {
    GaplessReport g = check_gapless(histories, gapless);
    for (auto& v : g.violations) collector.add("I7", *v.history, v.at, std::move(v.message));
    r->note = g.note();
    if (g.head_subscriptions + g.log_subscriptions == 0) r->status = "not checked";
  }
  report.invariants = collector.finish();
  return report;
}

void print_invariants(const CheckReport& check, std::FILE* out) {
  for (const auto& i : check.invariants) {
    std::fprintf(out, "  %-3s %-11s", i.name.c_str(), i.status.c_str());
    if (i.violation_count > 0) std::fprintf(out, " %zu violation(s)", i.violation_count);
    if (!i.note.empty()) std::fprintf(out, " (%s)", i.note.c_str());
    std::fputc('\n', out);
    for (std::size_t k = 0; k < std::min<std::size_t>(i.first.size(), 3); ++k) {
      const auto& v = i.first[k];
      std::fprintf(out, "        at %.0f ms, %s: %s\n", v.at_ms, v.where.c_str(), v.message.c_str());
    }
  }
}

}  // namespace vixy::chaos
