// What a scenario's timeline implies for the checks: when the primaries are healthy for good, and
// when no CL node can send events. Kept apart from parsing, which only validates what is written.
#include <algorithm>
#include <climits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "chaos/scenario.hpp"

namespace vixy::chaos {

std::vector<std::string> final_el_primaries(const Scenario& s) {
  for (auto e = s.timeline.rbegin(); e != s.timeline.rend(); ++e) {
    if (e->action == "reload") return e->args.at("el_primaries").get<std::vector<std::string>>();
  }
  return s.topology.el_primaries;
}

Recovery primaries_recovery(const Scenario& s) {
  // An interim 1xx response is legal HTTP, not a fault: a proxy must take it in stride, so it
  // neither delays nor ends the recovery. A reload targets the proxy, so it counts as the last
  // event like a signal does: sessions move off removed nodes, and failback is owed from there.
  // The primaries that matter are the ones configured at the end; a node removed by then may
  // stay broken.
  const auto primaries = final_el_primaries(s);
  std::map<std::string, std::set<std::string>> faults;  // target -> active faults
  int last = 0;
  for (const auto& e : s.timeline) {
    bool relevant = e.target == "proxy" || std::find(primaries.begin(), primaries.end(), e.target) != primaries.end();
    if (!relevant || e.action == "interim") continue;
    last = std::max(last, e.at_ms);
    auto& f = faults[e.target];
    const nlohmann::json& a = e.args;
    auto set = [&](const std::string& name, bool on) { on ? (void)f.insert(name) : (void)f.erase(name); };
    if (e.action == "kill" || e.action == "restart") set("killed", e.action == "kill");
    else if (e.action == "pause" || e.action == "resume") set("paused", e.action == "pause");
    else if (e.action == "lag") set("lagging", a.value("blocks", 0) > 0);
    else if (e.action == "method_error") set("method " + a.value("method", std::string()) + " failing", true);
    else if (e.action == "method_delay") set("method " + a.value("method", std::string()) + " delayed", a.value("delay_ms", 0) > 0);
    else if (e.action == "latency") set("slow", a.value("ms", 0) > 0);
    else if (e.action == "blackhole") set("blackholed", a.value("on", true));
    else if (e.action == "proxy_signal" && a.value("signal", std::string()) == "STOP") set("stopped", true);
    else if (e.action == "proxy_signal" && a.value("signal", std::string()) == "CONT") set("stopped", false);
    if (e.action == "clear" || e.action == "method_clear") {
      std::erase_if(f, [&](const std::string& x) {
        return e.action == "clear" || (x.rfind("method ", 0) == 0 && (!a.contains("method") || x.find(" " + a.value("method", std::string()) + " ") != std::string::npos));
      });
    }
  }
  for (const auto& [target, f] : faults) {
    if (!f.empty()) return {std::nullopt, target + " is still " + *f.begin() + " at the end of the timeline"};
  }
  return {last, ""};
}

std::vector<std::pair<int, int>> cl_outages(const Scenario& s) {
  const auto& cl = s.topology.cl_nodes;
  std::vector<std::pair<int, int>> out;
  if (cl.empty()) return out;
  // Per node, its faults that keep every event from listeners. A lag is not one: the node's stream
  // is quiet only until its reported head passes what it already announced, a bounded silence.
  std::map<std::string, std::set<std::string>> faults;
  int since = -1;  // when the current outage began
  for (const auto& e : s.timeline) {
    if (std::find(cl.begin(), cl.end(), e.target) == cl.end()) continue;
    auto& f = faults[e.target];
    if (e.action == "kill") f.insert("kill");
    if (e.action == "restart") f.erase("kill");
    if (e.action == "pause") f.insert("pause");
    if (e.action == "resume") f.erase("pause");
    if (e.action == "blackhole" && e.args.value("on", true)) f.insert("blackhole");
    if (e.action == "blackhole" && !e.args.value("on", true)) f.erase("blackhole");
    if (e.action == "clear") std::erase_if(f, [](const std::string& x) { return x != "kill"; });  // no restart
    bool all = std::count_if(faults.begin(), faults.end(), [](const auto& n) { return !n.second.empty(); }) ==
               static_cast<std::ptrdiff_t>(cl.size());
    if (all && since < 0) since = e.at_ms;
    if (!all && since >= 0) {
      out.emplace_back(since, e.at_ms);
      since = -1;
    }
  }
  if (since >= 0) out.emplace_back(since, INT_MAX);
  return out;
}

}  // namespace vixy::chaos
