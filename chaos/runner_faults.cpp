#include "chaos/runner_faults.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "chaos/injector.hpp"

namespace vixy::chaos {

using nlohmann::json;

namespace {
class InjectorRelay : public Relay {
 public:
  explicit InjectorRelay(std::uint16_t target_port) : injector_("127.0.0.1", target_port) {}
  std::uint16_t port() const override { return injector_.port(); }
  void latency(std::chrono::milliseconds ms, std::chrono::milliseconds jitter, const std::string& d) override {
    Direction direction = d == "to_node" ? Direction::to_node : d == "to_client" ? Direction::to_client : Direction::both;
    injector_.set_latency(direction, ms, jitter);
  }
  void blackhole(bool on) override { injector_.set_blackhole(on); }
  void reset() override { injector_.reset_peers(); }
  void close_all() override { injector_.close_all(); }
  void kill() override { injector_.kill(); }
  void restart() override { injector_.restart(); }
  void clear() override { injector_.clear(); }
  json state() const override { return injector_.state(); }

 private:
  FaultInjector injector_;
};
}  // namespace

std::unique_ptr<Relay> make_relay(std::uint16_t target_port) { return std::make_unique<InjectorRelay>(target_port); }

void check_supported(const Scenario& s, bool relays) {
  for (std::size_t i = 0; i < s.timeline.size(); ++i) {
    const auto& action = s.timeline[i].action;
    if (!action_needs_injector(action) || relays) continue;
    throw ScenarioError("timeline[" + std::to_string(i) + "].action: \"" + action +
                        "\" needs a fault injector, and the topology turns injectors off (topology.injectors: false)");
  }
}

Relay* FaultDriver::relay(const std::string& node) {
  auto it = relays_.find(node);
  return it == relays_.end() ? nullptr : it->second.get();
}

std::string FaultDriver::admin(const std::string& node, const std::string& path, const json& body) {
  auto r = cluster_.admin(node, path, body.dump());
  if (r.ec) return "admin " + path + " on " + node + " failed: " + r.ec.message();
  if (r.status != 200) return "admin " + path + " on " + node + " answered " + std::to_string(r.status) + ": " + r.body;
  return "ok";
}

// Reorg events at the same at_ms with the same fork seed are one network-wide reorg: the first
// node forks `depth` blocks below its head, every other one takes the same fork at the same height
// (its head may have moved on by a block meanwhile), so all of them agree on the new chain.
std::string FaultDriver::reorg(const TimelineEvent& e) {
  std::uint64_t fork_seed = e.args.value("fork_seed", static_cast<std::uint64_t>(e.at_ms) + 1);
  json body{{"depth", e.args.at("depth")}, {"fork_seed", fork_seed}};
  for (const auto& r : reorgs_) {
    if (r.at_ms == e.at_ms && r.fork_seed == fork_seed) body = {{"from_height", r.from_height}, {"fork_seed", fork_seed}};
  }
  auto reply = cluster_.admin(e.target, "/reorg", body.dump());
  if (reply.ec) return "admin /reorg on " + e.target + " failed: " + reply.ec.message();
  if (reply.status != 200) return "admin /reorg on " + e.target + " answered " + std::to_string(reply.status) + ": " + reply.body;
  json state = json::parse(reply.body, nullptr, false);
  if (state.is_discarded() || !state.contains("state") || !state["state"].contains("forks") ||
      state["state"]["forks"].empty()) {
    return "admin /reorg on " + e.target + " did not report the fork: " + reply.body;
  }
  const json& fork = state["state"]["forks"].back();
  reorgs_.push_back({e.target, e.at_ms, fork.at("from_height").get<std::uint64_t>(), fork_seed});
  return "ok";
}

namespace {
std::string number_text(double n) {
  char out[32];
  std::snprintf(out, sizeof out, "%g", n);
  return out;
}
}  // namespace

std::map<std::string, double> config_reloads(std::string_view metrics) {
  constexpr std::string_view kName = "vixy_config_reloads_total{";
  std::map<std::string, double> out;
  while (!metrics.empty()) {
    auto end = metrics.find('\n');
    std::string_view line = metrics.substr(0, end);
    metrics.remove_prefix(end == std::string_view::npos ? metrics.size() : end + 1);
    auto close = line.find('}');
    if (!line.starts_with(kName) || close == std::string_view::npos) continue;
    std::string_view labels = line.substr(kName.size(), close - kName.size());
    auto label = labels.find("result=\"");
    while (label != std::string_view::npos && label != 0 && labels[label - 1] != ',') {
      label = labels.find("result=\"", label + 1);  // "myresult=" is another label
    }
    if (label == std::string_view::npos) continue;
    std::string_view rest = labels.substr(label + 8);
    std::string result(rest.substr(0, rest.find('"')));
    std::string_view value = line.substr(close + 1);
    value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
    value = value.substr(0, value.find(' '));  // a timestamp may follow
    try {
      out[result] += std::stod(std::string(value));
    } catch (const std::exception&) {
      continue;  // not a sample of the counter; nothing to count
    }
  }
  return out;
}

// The harness cannot see inside vixy, so a reload counts as done when vixy says so: its
// "applied" counter rises once the new configuration serves new requests. Then every node the
// reload dropped must lose the proxy's WebSocket connections (its fake node counts them), which is
// what moving the sessions off it means; a node only re-tiered is still configured and keeps them.
std::string FaultDriver::reload(const TimelineEvent& e) {
  auto counts = [&]() -> std::optional<std::map<std::string, double>> {
    auto r = cluster_.proxy_get("/metrics", std::chrono::milliseconds(2000));
    if (r.ec || r.status != 200) return std::nullopt;
    return config_reloads(r.body);
  };
  auto before = counts();
  if (!before) return "GET /metrics on the proxy failed before the reload";
  double applied_before = before->contains("applied") ? before->at("applied") : 0;
  auto primaries = e.args.at("el_primaries").get<std::vector<std::string>>();
  auto backups = e.args.at("el_backups").get<std::vector<std::string>>();
  std::vector<std::string> removed;
  for (const auto* tier : {&cluster_.configured_el_primaries(), &cluster_.configured_el_backups()}) {
    for (const auto& name : *tier) {
      if (std::find(primaries.begin(), primaries.end(), name) == primaries.end() &&
          std::find(backups.begin(), backups.end(), name) == backups.end()) {
        removed.push_back(name);
      }
    }
  }
  cluster_.rewrite_config(primaries, backups);
  if (::kill(cluster_.proxy().pid(), SIGHUP) != 0) return std::string("kill(SIGHUP) failed: ") + std::strerror(errno);
  std::optional<std::map<std::string, double>> after;
  bool applied = wait_until(
      [&] {
        after = counts();
        return after && after->contains("applied") && after->at("applied") >= applied_before + 1;
      },
      kReloadBound, std::chrono::milliseconds(50));
  std::string bound = std::to_string(kReloadBound.count()) + " ms";
  if (!applied) {
    std::string why = "vixy_config_reloads_total{result=\"applied\"} did not rise from " + number_text(applied_before) +
                      " within " + bound + " of SIGHUP";
    if (!after) return why + " (GET /metrics failed)";
    if (after->empty()) return why + " (/metrics has no vixy_config_reloads_total: the proxy does not reload)";
    std::string seen;
    for (const auto& [result, n] : *after) seen += (seen.empty() ? "" : ", ") + result + " " + number_text(n);
    return why + " (now: " + seen + ")";
  }
  for (const auto& name : removed) {
    std::size_t open = 0;
    bool left = wait_until(
        [&] {
          auto r = cluster_.admin(name, "/state");
          json state = r.ec || r.status != 200 ? json() : json::parse(r.body, nullptr, false);
          if (!state.is_object() || !state.contains("state")) return false;
          open = state["state"].value("ws_connections", std::size_t{0});
          return open == 0;
        },
        kReloadBound, std::chrono::milliseconds(50));
    if (!left) {
      return "applied, but " + name + ", removed by it, still has " + std::to_string(open) +
             " WebSocket connection(s) from the proxy " + bound + " later";
    }
  }
  return "ok";
}

std::string FaultDriver::apply(const TimelineEvent& e) {
  const json& a = e.args;
  Relay* r = e.target == "proxy" ? nullptr : relay(e.target);
  const std::string& t = e.target;
  try {
    if (e.action == "kill") {
      if (r) return r->kill(), "ok";
      return admin(t, "/kill", json::object());
    }
    if (e.action == "restart") {
      if (r) return r->restart(), "ok";
      return admin(t, "/restart", json::object());
    }
    if (e.action == "pause") return admin(t, "/pause", json::object());
    if (e.action == "resume") return admin(t, "/resume", json::object());
    if (e.action == "lag") return admin(t, "/lag", {{"blocks", a.at("blocks")}});
    if (e.action == "method_error") {
      json error{{"code", a.value("code", -32000)}, {"message", a.value("message", std::string("injected error"))}};
      return admin(t, "/method", {{"method", a.at("method")}, {"error", error}});
    }
    if (e.action == "method_delay") return admin(t, "/method", {{"method", a.at("method")}, {"delay_ms", a.at("delay_ms")}});
    if (e.action == "method_clear") {
      json body = a.contains("method") ? json{{"method", a.at("method")}} : json::object();
      return admin(t, "/method/clear", body);
    }
    if (e.action == "latency") {
      if (!r) return "no injector in front of " + t;
      r->latency(std::chrono::milliseconds(a.value("ms", 0)), std::chrono::milliseconds(a.value("jitter_ms", 0)),
                 a.value("direction", std::string("both")));
      return "ok";
    }
    if (e.action == "blackhole") {
      if (r) return r->blackhole(a.value("on", true)), "ok";
      return admin(t, "/silent", {{"silent", a.value("on", true)}});
    }
    if (e.action == "reset") {
      if (!r) return "no injector in front of " + t;
      return r->reset(), "ok";
    }
    if (e.action == "close_all") {
      if (r) return r->close_all(), "ok";
      return admin(t, "/close-connections", json::object());
    }
    if (e.action == "clear") {
      if (r) r->clear();
      for (const auto& [path, body] : std::vector<std::pair<std::string, json>>{
               {"/lag", {{"blocks", 0}}}, {"/silent", {{"silent", false}}}, {"/method/clear", json::object()},
               {"/resume", json::object()}, {"/interim", {{"status", 0}}}}) {
        auto result = admin(t, path, body);
        if (result != "ok") return result;
      }
      return "ok";
    }
    if (e.action == "interim") return admin(t, "/interim", {{"status", a.at("status")}});
    if (e.action == "reorg") return reorg(e);
    if (e.action == "reload") return reload(e);
    if (e.action == "proxy_signal") {
      static const std::map<std::string, int> signals{
          {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"HUP", SIGHUP}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
      if (::kill(cluster_.proxy().pid(), signals.at(a.at("signal").get<std::string>())) != 0) return "kill() failed";
      return "ok";
    }
  } catch (const std::exception& ex) {
    return std::string("failed: ") + ex.what();
  }
  return "unknown action " + e.action;
}

GaplessSpec gapless_spec(const Scenario& s, const std::vector<AppliedReorg>& reorgs) {
  GaplessSpec spec;
  std::size_t el_nodes = s.topology.el_primaries.size() + s.topology.el_backups.size() + s.topology.el_spares.size();
  std::vector<fakenodes::Fork> forks;
  std::map<std::pair<int, std::uint64_t>, std::size_t> nodes_per_reorg;  // (at_ms, fork_seed)
  for (const auto& r : reorgs) {
    fakenodes::Fork fork{r.from_height, r.fork_seed};
    if (std::find(forks.begin(), forks.end(), fork) == forks.end()) forks.push_back(fork);
    ++nodes_per_reorg[{r.at_ms, r.fork_seed}];
  }
  // Every reorg event group took all EL nodes, each to the same fork (one from_height per group).
  bool network_wide = forks.size() == nodes_per_reorg.size();
  for (const auto& [key, count] : nodes_per_reorg) network_wide = network_wide && count == el_nodes;
  if (!network_wide) return spec;
  spec.chain_seed = s.topology.chain_seed;
  spec.forks = std::move(forks);
  return spec;
}

}  // namespace vixy::chaos
