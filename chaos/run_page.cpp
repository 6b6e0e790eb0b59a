#include "chaos/run_page.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace vixy::chaos {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Which lane-state a timeline action opens or closes. Empty: an instant (or nothing to draw).
std::string fault_key(const TimelineEvent& e) {
  const auto& a = e.action;
  if (a == "kill" || a == "restart") return "down";
  if (a == "blackhole" || a == "pause" || a == "resume" || a == "lag" || a == "latency" || a == "interim") {
    return a == "resume" ? "pause" : a;
  }
  if (a == "method_error" || a == "method_delay") return "method " + e.args.value("method", std::string("?"));
  if (a == "proxy_signal" && (e.args.value("signal", "") == "STOP" || e.args.value("signal", "") == "CONT")) return "stopped";
  return "";
}

// What the span a (successfully applied) event opens shows; "" when the event ends its key's span.
std::string opened_by(const TimelineEvent& e) {
  const auto& a = e.action;
  const auto& args = e.args;
  if (a == "kill") return "down";
  if (a == "blackhole") return args.value("on", true) ? "blackholed" : "";
  if (a == "pause") return "paused";
  if (a == "lag") return args.value("blocks", 0) > 0 ? std::to_string(args.value("blocks", 0)) + " blocks behind" : "";
  if (a == "latency") {
    return args.value("ms", 0) > 0 ? "latency " + std::to_string(args.value("ms", 0)) + " ms ± " +
                                         std::to_string(args.value("jitter_ms", 0)) : "";
  }
  if (a == "interim") return args.value("status", 0) != 0 ? "interim " + std::to_string(args.value("status", 0)) : "";
  if (a == "method_error") return args.value("method", std::string("?")) + " answered with an error";
  if (a == "method_delay") {
    return args.value("method", std::string("?")) + " delayed " + std::to_string(args.value("delay_ms", 0)) + " ms";
  }
  if (a == "proxy_signal") return args.value("signal", "") == "STOP" ? "stopped (SIGSTOP)" : "";
  return "";  // restart, resume, CONT
}

}  // namespace

std::vector<FaultSpan> fault_spans(const std::vector<AppliedEvent>& timeline, double end_ms) {
  std::vector<FaultSpan> out;
  std::map<std::pair<std::string, std::string>, FaultSpan> open;  // (node, key) -> span
  auto close = [&](const std::string& node, const std::string& key, double at) {
    auto it = open.find({node, key});
    if (it == open.end()) return;
    it->second.to_ms = at;
    out.push_back(std::move(it->second));
    open.erase(it);
  };
  for (const auto& applied : timeline) {
    const auto& e = applied.event;
    const std::string node = e.target.empty() ? "proxy" : e.target;
    const double at = applied.actual_ms;
    if (applied.result != "ok") {
      out.push_back({node, e.action + " (not applied: " + applied.result + ")", at, at});
      continue;
    }
    if (e.action == "clear" || e.action == "method_clear") {
      // clear undoes every fault but a kill; method_clear the one method's (or all of them).
      std::string only = e.action == "method_clear" && e.args.contains("method") ? "method " + e.args.value("method", "") : "";
      std::vector<std::string> keys;
      for (const auto& [where, span] : open) {
        if (where.first != node || where.second == "down") continue;
        if (e.action == "method_clear" && (only.empty() ? where.second.rfind("method ", 0) != 0 : where.second != only)) continue;
        keys.push_back(where.second);
      }
      for (const auto& key : keys) close(node, key, at);
      continue;
    }
    std::string key = fault_key(e);
    if (key.empty()) {
      out.push_back({node, e.action, at, at});
      continue;
    }
    close(node, key, at);  // a new setting replaces the one before, an undo ends it
    if (std::string what = opened_by(e); !what.empty()) open[{node, key}] = {node, what, at, at};
  }
  for (auto& [where, span] : open) {
    span.to_ms = end_ms;
    out.push_back(std::move(span));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.from_ms < b.from_ms; });
  return out;
}

namespace {

// Geometry: time runs left to right over the plot; lanes are stacked top to bottom.
constexpr double kLabelWidth = 210;
constexpr double kPlotWidth = 900;
constexpr double kLane = 14;
constexpr std::size_t kMaxSessionLanes = 80;
constexpr std::size_t kMaxSubscriptionLanes = 60;
constexpr std::size_t kMaxPoints = 20'000;
const char* const kNodeColors[] = {"#2b7bb9", "#3a9d5d", "#e08a1e", "#b8509b", "#7a5cc7", "#c0a020"};

class Timeline {
 public:
  Timeline(const Scenario& s, const RunReport& r) : s_(s), r_(r) {
    end_ms_ = std::max({r.picture.end_ms, static_cast<double>(s.workload.duration_ms), 1.0});
    std::vector<std::string> nodes = s.topology.el_primaries;
    nodes.insert(nodes.end(), s.topology.el_backups.begin(), s.topology.el_backups.end());
    nodes.insert(nodes.end(), s.topology.el_spares.begin(), s.topology.el_spares.end());
    for (std::size_t i = 0; i < nodes.size(); ++i) color_[nodes[i]] = kNodeColors[i % std::size(kNodeColors)];
  }

  std::string svg() {
    axis();
    faults();
    sessions();
    latencies();
    notifications();
    violations();
    std::string out = "<svg width=\"" + num(kLabelWidth + kPlotWidth + 20) + "\" height=\"" + num(y_ + 10) +
                      "\" viewBox=\"0 0 " + num(kLabelWidth + kPlotWidth + 20) + " " + num(y_ + 10) +
                      "\" font-family=\"sans-serif\" font-size=\"11\">\n";
    // Second lines first, so everything else is drawn over them.
    for (double t = 0; t <= end_ms_; t += tick_ms()) {
      out += "<line x1=\"" + num(x(t)) + "\" y1=\"24\" x2=\"" + num(x(t)) + "\" y2=\"" + num(y_) +
             "\" stroke=\"#eee\"/>\n";
    }
    return out + body_ + "</svg>\n";
  }

  std::string legend() const {
    std::string out = "<p class=\"legend\">Sessions are coloured by the node that answered their last probe: ";
    for (const auto& [node, color] : color_) {
      out += "<span style=\"background:" + std::string(color) + "\"></span>" + escaped(node) + " ";
    }
    return out + "<span style=\"background:#ccc\"></span>no probe answered yet.</p>\n";
  }

 private:
  double x(double ms) const { return kLabelWidth + std::clamp(ms / end_ms_, 0.0, 1.0) * kPlotWidth; }
  double tick_ms() const {
    for (double t : {1000.0, 2000.0, 5000.0, 10000.0, 30000.0, 60000.0}) {
      if (end_ms_ / t <= 20) return t;
    }
    return 300000.0;
  }
  void heading(const std::string& text) {
    y_ += 18;
    body_ += "<text x=\"4\" y=\"" + num(y_) + "\" font-weight=\"bold\">" + escaped(text) + "</text>\n";
    y_ += 6;
  }
  void label(const std::string& text) {
    std::string shown = text;
    if (shown.size() > 34) {
      std::size_t cut = 33;
      while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
      shown = shown.substr(0, cut) + "…";
    }
    body_ += "<text x=\"4\" y=\"" + num(y_ + kLane - 3) + "\"><title>" + escaped(text) + "</title>" + escaped(shown) +
             "</text>\n";
  }
  void rect(double from, double to, double y, double h, const std::string& fill, const std::string& title) {
    double x1 = x(from);
    double w = std::max(1.0, x(to) - x1);
    body_ += "<rect x=\"" + num(x1) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
             "\" fill=\"" + fill + "\"><title>" + escaped(title) + "</title></rect>\n";
  }
  std::string time_range(double from, double to) const { return num(from / 1000) + "–" + num(to / 1000) + " s"; }

  void axis() {
    y_ = 20;
    for (double t = 0; t <= end_ms_; t += tick_ms()) {
      body_ += "<text x=\"" + num(x(t)) + "\" y=\"" + num(y_) + "\" text-anchor=\"middle\">" +
               std::to_string(std::lround(t / 1000)) + " s</text>\n";
    }
  }

  void faults() {
    heading("Faults, per node (what the harness did)");
    std::vector<std::string> lanes = s_.topology.el_primaries;
    lanes.insert(lanes.end(), s_.topology.el_backups.begin(), s_.topology.el_backups.end());
    lanes.insert(lanes.end(), s_.topology.el_spares.begin(), s_.topology.el_spares.end());
    lanes.insert(lanes.end(), s_.topology.cl_nodes.begin(), s_.topology.cl_nodes.end());
    auto spans = fault_spans(r_.timeline, end_ms_);
    for (const auto& span : spans) {
      if (std::find(lanes.begin(), lanes.end(), span.node) == lanes.end()) lanes.push_back(span.node);
    }
    for (const auto& node : lanes) {
      label(node);
      rect(0, end_ms_, y_ + 5, 3, "#d8ead8", node + ": no fault");
      for (const auto& span : spans) {
        if (span.node != node) continue;
        if (span.from_ms == span.to_ms) {
          body_ += "<path d=\"M" + num(x(span.from_ms)) + " " + num(y_) + " l4 " + num(kLane - 2) + " h-8 z\" fill=\"#555\"><title>" +
                   escaped(node + ": " + span.what + " at " + num(span.from_ms / 1000) + " s") + "</title></path>\n";
          continue;
        }
        // A node that answers nothing fills the lane; lesser faults the lower half, so both show.
        bool silent = span.what == "down" || span.what == "blackholed";
        rect(span.from_ms, span.to_ms, silent ? y_ + 1 : y_ + kLane / 2, silent ? kLane - 2 : kLane / 2 - 1,
             silent ? "#d9534f" : "#f0ad4e", node + ": " + span.what + ", " + time_range(span.from_ms, span.to_ms));
      }
      y_ += kLane;
    }
  }

  void sessions() {
    const auto& connections = r_.picture.connections;
    heading("WebSocket sessions: the node that answered their probes (" + std::to_string(connections.size()) + " connections)");
    for (std::size_t i = 0; i < std::min(connections.size(), kMaxSessionLanes); ++i) {
      const auto& c = connections[i];
      label(c.label);
      double from = c.opened_ms;
      std::string node;
      auto segment = [&](double to) {
        auto it = color_.find(node);
        std::string fill = node.empty() ? "#ccc" : it == color_.end() ? "#999" : it->second;
        rect(from, to, y_ + 2, kLane - 4, fill, c.label + (node.empty() ? ": no probe answered yet" : " on " + node) + ", " + time_range(from, to));
      };
      for (const auto& [at, by] : c.served_by) {
        if (by == node) continue;
        segment(at);
        from = at;
        node = by;
      }
      segment(c.ended_ms);
      if (c.ended_by_peer) {
        body_ += "<path d=\"M" + num(x(c.ended_ms) - 4) + " " + num(y_ + 1) + " l8 " + num(kLane - 2) + " m0 -" + num(kLane - 2) +
                 " l-8 " + num(kLane - 2) + "\" stroke=\"#d9534f\" stroke-width=\"2\"><title>" +
                 escaped(c.label + " closed by the proxy at " + num(c.ended_ms / 1000) + " s: " + c.end_reason) + "</title></path>\n";
      }
      y_ += kLane;
    }
    if (connections.size() > kMaxSessionLanes) note(std::to_string(connections.size() - kMaxSessionLanes) + " more connections not drawn");
  }

  void latencies() {
    const auto& requests = r_.picture.requests;
    heading("Request waits, ms (log scale; blue WebSocket, grey HTTP, red an error answer)");
    const double top = y_;
    const double height = 150;
    double highest = 10;
    for (const auto& q : requests) highest = std::max(highest, q.latency_ms);
    const double lo = std::log10(0.1);
    const double hi = std::log10(highest) + 0.1;
    auto y_of = [&](double ms) { return top + height - (std::log10(std::max(ms, 0.1)) - lo) / (hi - lo) * height; };
    for (double v = 0.1; v <= highest * 1.01; v *= 10) {
      body_ += "<line x1=\"" + num(kLabelWidth) + "\" x2=\"" + num(kLabelWidth + kPlotWidth) + "\" y1=\"" + num(y_of(v)) +
               "\" y2=\"" + num(y_of(v)) + "\" stroke=\"#ddd\"/><text x=\"" + num(kLabelWidth - 4) + "\" y=\"" +
               num(y_of(v) + 4) + "\" text-anchor=\"end\">" + (v < 1 ? std::string("0.1") : std::to_string(std::lround(v))) +
               "</text>\n";
    }
    std::size_t stride = requests.size() / kMaxPoints + 1;
    for (std::size_t i = 0; i < requests.size(); i += stride) {
      const auto& q = requests[i];
      std::string fill = q.error ? "#d9534f" : q.http ? "#888" : "#2b7bb9";
      body_ += "<circle cx=\"" + num(x(q.sent_ms)) + "\" cy=\"" + num(y_of(q.latency_ms)) + "\" r=\"1.6\" fill=\"" + fill + "\"/>\n";
    }
    y_ = top + height + 4;
    if (stride > 1) note("every " + std::to_string(stride) + "th of " + std::to_string(requests.size()) + " requests drawn");
  }

  void notifications() {
    const auto& subs = r_.picture.subscriptions;
    heading("Notifications, per subscription (" + std::to_string(subs.size()) + " subscriptions)");
    for (std::size_t i = 0; i < std::min(subs.size(), kMaxSubscriptionLanes); ++i) {
      label(subs[i].label);
      std::string path;
      for (double at : subs[i].notified_ms) path += "M" + num(x(at)) + " " + num(y_ + 2) + "v" + num(kLane - 4);
      body_ += "<path d=\"" + path + "\" stroke=\"#3a9d5d\"><title>" + escaped(subs[i].label) + ": " +
               std::to_string(subs[i].notified_ms.size()) + " notifications</title></path>\n";
      y_ += kLane;
    }
    if (subs.size() > kMaxSubscriptionLanes) note(std::to_string(subs.size() - kMaxSubscriptionLanes) + " more subscriptions not drawn");
  }

  // A red line through every lane at each kept violation, numbered as in the list under the picture.
  void violations() {
    int n = 0;
    for (const auto& i : r_.check.invariants) {
      for (const auto& v : i.first) {
        ++n;
        double vx = x(v.at_ms);
        body_ += "<a href=\"#v" + std::to_string(n) + "\"><line x1=\"" + num(vx) + "\" y1=\"24\" x2=\"" + num(vx) + "\" y2=\"" +
                 num(y_) + "\" stroke=\"#d9534f\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>" +
                 escaped(i.name + " at " + num(v.at_ms) + " ms, " + v.where + ": " + v.message) + "</title></line>" +
                 "<text x=\"" + num(vx + 2) + "\" y=\"34\" fill=\"#d9534f\">" + std::to_string(n) + "</text></a>\n";
      }
    }
  }

  void note(const std::string& text) {
    y_ += 12;
    body_ += "<text x=\"" + num(kLabelWidth) + "\" y=\"" + num(y_) + "\" fill=\"#777\">" + escaped(text) + "</text>\n";
  }

  const Scenario& s_;
  const RunReport& r_;
  double end_ms_ = 1;
  double y_ = 0;
  std::string body_;
  std::map<std::string, const char*> color_;
};

std::string verdicts(const RunReport& r) {
  std::string out = "<table><tr><th>check</th><th>status</th><th>violations</th><th>note</th></tr>\n";
  for (const auto& i : r.check.invariants) {
    out += "<tr class=\"" + std::string(i.status == "violated" ? "bad" : "") + "\"><td>" + escaped(i.name) + "</td><td>" +
           escaped(i.status) + "</td><td>" + std::to_string(i.violation_count) + "</td><td>" + escaped(i.note) + "</td></tr>\n";
  }
  for (const auto& t : r.thresholds) {
    out += "<tr class=\"" + std::string(t.held ? "" : "bad") + "\"><td>" + escaped(t.name) + "</td><td>" +
           (t.held ? "held" : "missed") + "</td><td></td><td>value " + num(t.value) + ", limit " + num(t.limit) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string violation_list(const RunReport& r) {
  std::string out;
  int n = 0;
  for (const auto& i : r.check.invariants) {
    for (const auto& v : i.first) {
      ++n;
      out += "<li id=\"v" + std::to_string(n) + "\" value=\"" + std::to_string(n) + "\"><b>" + escaped(i.name) + "</b> at " +
             num(v.at_ms) + " ms, " + escaped(v.where) + ": <code>" + escaped(v.message) + "</code></li>\n";
    }
    if (i.violation_count > i.first.size()) {
      out += "<li class=\"more\">" + escaped(i.name) + ": " + std::to_string(i.violation_count - i.first.size()) +
             " more violations, not kept</li>\n";
    }
  }
  return out.empty() ? "<p>None.</p>\n" : "<ol>\n" + out + "</ol>\n";
}

}  // namespace

std::string render_run_page(const Scenario& s, const RunReport& r) {
  Timeline timeline(s, r);
  std::string svg = timeline.svg();
  std::string title = s.name + ": " + (r.ok() ? "ok" : "FAILED");
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escaped(title) +
      "</title>\n<style>body{font-family:sans-serif;margin:1em 2em;color:#222}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}tr.bad td{background:#f8d7d7}"
      "code{white-space:pre-wrap;word-break:break-all}.legend span{display:inline-block;width:12px;height:12px;"
      "margin:0 4px 0 10px;vertical-align:middle}li.more{list-style:none;color:#777}</style></head><body>\n";
  out += "<h1>" + escaped(title) + "</h1>\n<p>" + escaped(s.description) + "</p>\n";
  if (!r.fatal.empty()) out += "<p class=\"bad\"><b>The run failed:</b> " + escaped(r.fatal) + "</p>\n";
  out += verdicts(r);
  const auto& st = r.check.stats;
  out += "<p>" + std::to_string(st.connections) + " WebSocket connections (" + std::to_string(st.closed_by_peer) +
         " closed by the proxy), " + std::to_string(st.requests) + " requests, " + std::to_string(st.answers) + " answers (" +
         std::to_string(st.error_answers) + " errors), " + std::to_string(st.notifications) + " notifications; " +
         std::to_string(r.http_requests) + " HTTP requests. Proxy: <code>" + escaped(r.proxy_bin) + "</code></p>\n";
  out += "<h2>Timeline</h2>\n" + timeline.legend() + svg;
  out += "<h2>Violations</h2>\n" + violation_list(r);
  if (!r.proxy_log_tail.empty()) out += "<h2>The proxy's last log lines</h2>\n<pre>" + escaped(r.proxy_log_tail) + "</pre>\n";
  return out + "</body></html>\n";
}

}  // namespace vixy::chaos
