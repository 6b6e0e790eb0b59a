#include "chaos/scenario.hpp"

#include "chaos/scenario_obj.hpp"
#include "fakenodes/filters.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace vixy::chaos {
namespace {

using nlohmann::json;
using namespace scenario_detail;

const std::vector<std::string> kMethods{"eth_blockNumber", "eth_chainId",  "net_version",
                                        "web3_clientVersion", "eth_syncing", "eth_getBlockByNumber",
                                        "eth_getBalance", "eth_getLogs"};
const std::vector<std::string> kKinds{"newHeads", "logs", "newPendingTransactions"};
const std::vector<std::string> kInvariants{"I1", "I2", "I3", "I4", "I6", "I7"};
const std::vector<std::string> kTopics{"head", "block", "finalized_checkpoint", "chain_reorg"};
const std::vector<std::string> kSignals{"STOP", "CONT", "HUP", "USR1", "USR2"};
// action -> the args keys it accepts
const std::map<std::string, std::set<std::string>> kActions{
    {"kill", {}},          {"restart", {}},       {"pause", {}},
    {"resume", {}},        {"reset", {}},         {"close_all", {}},
    {"clear", {}},         {"lag", {"blocks"}},   {"method_error", {"method", "code", "message"}},
    {"method_delay", {"method", "delay_ms"}},     {"method_clear", {"method"}},
    {"latency", {"ms", "jitter_ms", "direction"}}, {"blackhole", {"on"}},
    {"proxy_signal", {"signal"}},                  {"reorg", {"depth", "fork_seed"}},
    {"interim", {"status"}},                     {"reload", {"el_primaries", "el_backups"}}};

Topology parse_topology(const Obj& root) {
  Topology t;
  if (!root.has("topology")) return t;
  Obj o(root.at("topology"), "topology",
        {"el_primaries", "el_backups", "el_spares", "cl_nodes", "chain_seed", "block_time_ms", "injectors"});
  t.el_primaries = o.strings("el_primaries", t.el_primaries);
  t.el_backups = o.strings("el_backups", t.el_backups);
  t.el_spares = o.strings("el_spares", t.el_spares);
  t.cl_nodes = o.strings("cl_nodes", t.cl_nodes);
  if (t.el_primaries.empty()) fail("topology.el_primaries", "at least one primary is needed");
  t.chain_seed = static_cast<std::uint64_t>(o.integer("chain_seed", 7, 0, INT64_MAX));
  t.block_time_ms = static_cast<int>(o.integer("block_time_ms", t.block_time_ms, 10, 60'000));
  t.injectors = o.boolean("injectors", t.injectors);
  std::set<std::string> seen;
  for (const auto* list : {&t.el_primaries, &t.el_backups, &t.el_spares, &t.cl_nodes}) {
    for (const auto& name : *list) {
      if (name == "proxy") fail("topology", "\"proxy\" is reserved for the proxy");
      if (!seen.insert(name).second) fail("topology", "node name \"" + name + "\" is used twice");
    }
  }
  return t;
}

ProxySettings parse_proxy(const Obj& root) {
  ProxySettings p;
  if (!root.has("proxy")) return p;
  Obj o(root.at("proxy"), "proxy", {"global", "extra_toml"});
  if (o.has("global")) {
    const json& g = o.at("global");
    if (!g.is_object()) fail("proxy.global", "expected an object of [global] keys");
    for (const auto& [key, value] : g.items()) {
      if (!(value.is_number() || value.is_boolean() || value.is_string())) {
        fail("proxy.global." + key, "expected a number, boolean or string");
      }
      p.global.emplace_back(key, value);
    }
  }
  p.extra_toml = o.string("extra_toml", "");
  return p;
}

Workload parse_workload(const Obj& root) {
  Workload w;
  if (!root.has("workload")) return w;
  Obj o(root.at("workload"), "workload",
        {"duration_ms", "drain_ms", "ws_clients", "subscriptions_per_client", "subscription_kinds",
         "requests_per_second", "method_mix", "id_style", "probe_interval_ms", "resubscribe_every_ms", "fault_bursts",
         "reconnect_every_ms", "http_requests_per_second", "logs_filter", "sse_listeners", "sse_topics",
         "sse_retry_ms", "hostile"});
  w.duration_ms = static_cast<int>(o.integer("duration_ms", w.duration_ms, 500, 3'600'000));
  w.drain_ms = static_cast<int>(o.integer("drain_ms", w.drain_ms, 0, 600'000));
  w.ws_clients = static_cast<int>(o.integer("ws_clients", w.ws_clients, 0, 1000));
  w.subscriptions_per_client = static_cast<int>(o.integer("subscriptions_per_client", w.subscriptions_per_client, 0, 100));
  w.subscription_kinds = o.strings("subscription_kinds", w.subscription_kinds, &kKinds);
  if (w.subscription_kinds.empty()) fail("workload.subscription_kinds", "at least one kind is needed");
  w.requests_per_second = o.number("requests_per_second", w.requests_per_second, 0, 10'000);
  if (o.has("method_mix")) {
    const json& mix = o.at("method_mix");
    if (!mix.is_object() || mix.empty()) fail("workload.method_mix", "expected an object of method: weight");
    w.method_mix.clear();
    for (const auto& [method, weight] : mix.items()) {
      std::string p = "workload.method_mix." + method;
      if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
        fail(p, "unknown method (known: " + join(kMethods) + ")");
      }
      if (!weight.is_number() || weight.get<double>() <= 0) fail(p, "expected a positive weight");
      w.method_mix.emplace_back(method, weight.get<double>());
    }
  }
  std::string style = o.string("id_style", "sequential");
  if (style == "sequential") w.id_style = IdStyle::sequential;
  else if (style == "reused") w.id_style = IdStyle::reused;
  else if (style == "string") w.id_style = IdStyle::string;
  else fail("workload.id_style", "unknown id style \"" + style + "\" (known: sequential, reused, string)");
  w.probe_interval_ms = static_cast<int>(o.integer("probe_interval_ms", w.probe_interval_ms, 0, 600'000));
  w.resubscribe_every_ms = static_cast<int>(o.integer("resubscribe_every_ms", 0, 0, 600'000));
  w.reconnect_every_ms = static_cast<int>(o.integer("reconnect_every_ms", 0, 0, 600'000));
  w.fault_bursts = static_cast<int>(o.integer("fault_bursts", 0, 0, 200));
  w.http_requests_per_second = o.number("http_requests_per_second", 0, 0, 10'000);
  if (o.has("logs_filter")) {
    w.logs_filter = o.at("logs_filter");
    Obj keys(w.logs_filter, "workload.logs_filter", {"address", "topics"});
    (void)keys;
    auto filter = fakenodes::parse_log_filter(w.logs_filter);
    if (!filter) fail("workload.logs_filter", filter.problem());
  }
  w.sse_listeners = static_cast<int>(o.integer("sse_listeners", 0, 0, 100));
  w.sse_topics = o.strings("sse_topics", w.sse_topics, &kTopics);
  // The checks judge head events: a listener without them would have nothing to be judged on.
  if (std::find(w.sse_topics.begin(), w.sse_topics.end(), "head") == w.sse_topics.end()) {
    fail("workload.sse_topics", "must include \"head\" (the events the checks follow)");
  }
  w.sse_retry_ms = static_cast<int>(o.integer("sse_retry_ms", w.sse_retry_ms, 0, 60'000));
  if (o.has("hostile")) w.hostile = parse_hostile(o.at("hostile"), "workload.hostile");
  return w;
}

bool listed(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// A reload gives the proxy's next EL configuration in full: nodes of the topology (a spare joins, a
// node left out is removed), each once, with at least one primary as the proxy's config requires.
// Both lists are required: "backups unchanged" and "no backups" must not look alike.
void validate_reload(const Obj& args, const Topology& t) {
  std::vector<std::string> el = t.el_primaries;
  el.insert(el.end(), t.el_backups.begin(), t.el_backups.end());
  el.insert(el.end(), t.el_spares.begin(), t.el_spares.end());
  std::set<std::string> seen;
  for (const char* key : {"el_primaries", "el_backups"}) {
    if (!args.has(key)) fail(args.path(key), "missing (a reload gives both EL lists; [] for none)");
    for (const auto& name : args.strings(key, {})) {
      if (listed(t.cl_nodes, name)) fail(args.path(key), "\"" + name + "\" is a CL node; a reload lists EL nodes");
      if (!listed(el, name)) fail(args.path(key), "unknown node \"" + name + "\" (EL nodes: " + join(el) + ")");
      if (!seen.insert(name).second) fail(args.path(key), "node \"" + name + "\" is listed twice");
    }
  }
  if (args.at("el_primaries").empty()) fail(args.path("el_primaries"), "at least one primary is needed");
}

TimelineEvent parse_event(const json& j, const std::string& path, const Scenario& s) {
  Obj o(j, path, {"at_ms", "action", "target", "args"});
  TimelineEvent e;
  if (!o.has("at_ms")) fail(path + ".at_ms", "missing");
  if (!o.has("action")) fail(path + ".action", "missing");
  e.at_ms = static_cast<int>(o.integer("at_ms", 0, 0, s.workload.duration_ms - 1));
  e.action = o.string("action", "");
  auto known = kActions.find(e.action);
  if (known == kActions.end()) {
    std::vector<std::string> names;
    for (const auto& [name, keys] : kActions) names.push_back(name);
    fail(path + ".action", "unknown action \"" + e.action + "\" (known: " + join(names) + ")");
  }
  bool on_proxy = e.action == "proxy_signal" || e.action == "reload";
  e.target = o.string("target", on_proxy ? "proxy" : "");
  if (on_proxy) {
    if (e.target != "proxy") fail(path + ".target", e.action + " only targets \"proxy\"");
  } else {
    const auto& t = s.topology;
    bool found = false;
    for (const auto* list : {&t.el_primaries, &t.el_backups, &t.el_spares, &t.cl_nodes}) {
      found = found || std::find(list->begin(), list->end(), e.target) != list->end();
    }
    if (!found) fail(path + ".target", "no node named \"" + e.target + "\" in the topology");
  }
  if (o.has("args")) e.args = o.at("args");
  Obj args(e.args, path + ".args", known->second);
  if (e.action == "lag") {
    if (!args.has("blocks")) fail(path + ".args.blocks", "missing");
    args.integer("blocks", 0, 0, 1'000'000);
  } else if (e.action == "method_error" || e.action == "method_delay") {
    if (args.string("method", "").empty()) fail(path + ".args.method", "expected a method name");
    args.integer("code", -32000, INT32_MIN, INT32_MAX);
    args.string("message", "");
    if (e.action == "method_delay" && !args.has("delay_ms")) fail(path + ".args.delay_ms", "missing");
    args.integer("delay_ms", 0, 0, 600'000);
  } else if (e.action == "method_clear") {
    args.string("method", "");
  } else if (e.action == "latency") {
    if (!args.has("ms")) fail(path + ".args.ms", "missing");
    args.integer("ms", 0, 0, 60'000);
    args.integer("jitter_ms", 0, 0, 60'000);
    std::string d = args.string("direction", "both");
    if (d != "both" && d != "to_node" && d != "to_client") {
      fail(path + ".args.direction", "unknown direction \"" + d + "\" (known: both, to_node, to_client)");
    }
  } else if (e.action == "blackhole") {
    args.boolean("on", true);
  } else if (e.action == "reorg") {
    const auto& t = s.topology;
    if (std::find(t.cl_nodes.begin(), t.cl_nodes.end(), e.target) != t.cl_nodes.end()) {
      fail(path + ".target", "only an EL node reorgs");
    }
    if (!args.has("depth")) fail(path + ".args.depth", "missing");
    args.integer("depth", 1, 1, 1024);
    args.integer("fork_seed", 0, 0, INT64_MAX);
  } else if (e.action == "interim") {
    if (!args.has("status")) fail(path + ".args.status", "missing");
    auto status = args.integer("status", 0, 0, 199);
    if ((status != 0 && status < 100) || status == 101) {
      fail(path + ".args.status", "must be a 1xx status other than 101 (100, 102, 103...), or 0 to stop, got " +
                                      std::to_string(status));
    }
  } else if (e.action == "proxy_signal") {
    std::string sig = args.string("signal", "");
    if (std::find(kSignals.begin(), kSignals.end(), sig) == kSignals.end()) {
      fail(path + ".args.signal", "unknown signal \"" + sig + "\" (known: " + join(kSignals) + ")");
    }
  } else if (e.action == "reload") {
    validate_reload(args, s.topology);
  }
  return e;
}

Expectations parse_expectations(const Obj& root) {
  Expectations x;
  if (!root.has("expectations")) return x;
  Obj o(root.at("expectations"), "expectations",
        {"invariants", "failback_within_ms", "max_error_rate", "p99_ms", "max_latency_ms", "sse_max_gap_ms"});
  x.invariants = o.strings("invariants", x.invariants, &kInvariants);
  x.failback_within_ms = static_cast<int>(o.integer("failback_within_ms", x.failback_within_ms, 0, 600'000));
  if (o.has("max_error_rate")) x.max_error_rate = o.number("max_error_rate", 0, 0, 1);
  if (o.has("p99_ms")) x.p99_ms = o.number("p99_ms", 0, 0, 3'600'000);
  if (o.has("max_latency_ms")) x.max_latency_ms = o.number("max_latency_ms", 0, 0, 3'600'000);
  if (o.has("sse_max_gap_ms")) x.sse_max_gap_ms = static_cast<int>(o.integer("sse_max_gap_ms", 0, 1, 600'000));
  return x;
}

// vixy relays an event stream from one node until either side leaves or the node stops being
// routable. A gap bound is a promise for faults that end the stream's connection (kill, close_all,
// reset) and for stalls that make the node unroutable while it stays connected (pause: it falls
// behind; lag: it reports being behind; blackhole: its checks time out), each within the bound the
// scenario sets for detection. Latency and method faults can leave a node routable yet slow, or
// answering the events path with errors, so no bound holds with them.
void validate_sse(const Scenario& s) {
  const auto& w = s.workload;
  if (w.sse_listeners > 0 && s.topology.cl_nodes.empty()) {
    fail("workload.sse_listeners", "needs at least one node in topology.cl_nodes");
  }
  if (!s.expectations.sse_max_gap_ms) return;
  if (w.sse_listeners == 0) fail("expectations.sse_max_gap_ms", "needs workload.sse_listeners");
  // interim: 1xx before an answer is legal HTTP; a proxy that reads it as the answer is at fault.
  static const std::set<std::string> kBounded{"kill",  "restart", "close_all", "reset",     "clear",
                                              "pause", "resume",  "lag",       "blackhole", "interim"};
  const auto& cl = s.topology.cl_nodes;
  for (std::size_t i = 0; i < s.timeline.size(); ++i) {
    const auto& e = s.timeline[i];
    if (std::find(cl.begin(), cl.end(), e.target) == cl.end() || kBounded.count(e.action)) continue;
    fail("expectations.sse_max_gap_ms",
         "the timeline has " + e.action + " on CL node \"" + e.target + "\" at " + std::to_string(e.at_ms) +
             " ms; vixy keeps relaying a stream from a node that stays routable, so no gap bound holds (only "
             "kill, restart, close_all, reset, pause, resume, lag, blackhole, interim and clear may touch CL nodes)");
  }
}

}  // namespace

bool action_needs_injector(const std::string& action) { return action == "latency" || action == "reset"; }

Scenario parse_scenario(const json& document) {
  Obj root(document, "", {"name", "description", "topology", "proxy", "workload", "timeline", "expectations"});
  Scenario s;
  s.name = root.string("name", "");
  if (s.name.empty()) fail("name", "missing (every scenario has a name)");
  s.description = root.string("description", "");
  s.topology = parse_topology(root);
  s.proxy = parse_proxy(root);
  s.workload = parse_workload(root);
  if (root.has("timeline")) {
    const json& t = root.at("timeline");
    if (!t.is_array()) fail("timeline", "expected a list of events");
    for (std::size_t i = 0; i < t.size(); ++i) s.timeline.push_back(parse_event(t[i], "timeline[" + std::to_string(i) + "]", s));
    std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  }
  s.expectations = parse_expectations(root);
  validate_sse(s);
  const auto& inv = s.expectations.invariants;
  if (std::find(inv.begin(), inv.end(), "I6") != inv.end()) {
    auto r = primaries_recovery(s);
    if (r.healthy_from_ms && *r.healthy_from_ms + s.expectations.failback_within_ms + 500 > s.workload.duration_ms) {
      fail("expectations.failback_within_ms",
           "the workload ends (duration_ms " + std::to_string(s.workload.duration_ms) +
               ") less than 500 ms after the failback deadline (primaries healthy from " +
               std::to_string(*r.healthy_from_ms) + " ms + " + std::to_string(s.expectations.failback_within_ms) + " ms)");
    }
  }
  return s;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScenarioError(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  json document = json::parse(text.str(), nullptr, false);
  if (document.is_discarded()) throw ScenarioError(path + ": not valid JSON");
  try {
    return parse_scenario(document);
  } catch (const ScenarioError& e) {
    throw ScenarioError(path + ": " + e.what());
  }
}

json scenario_to_json(const Scenario& s) {
  json global = json::object();
  for (const auto& [key, value] : s.proxy.global) global[key] = value;
  json mix = json::object();
  for (const auto& [method, weight] : s.workload.method_mix) mix[method] = weight;
  const char* styles[] = {"sequential", "reused", "string"};
  const auto& w = s.workload;
  json timeline = json::array();
  for (const auto& e : s.timeline) {
    timeline.push_back({{"at_ms", e.at_ms}, {"action", e.action}, {"target", e.target}, {"args", e.args}});
  }
  json x = {{"invariants", s.expectations.invariants}, {"failback_within_ms", s.expectations.failback_within_ms}};
  if (s.expectations.max_error_rate) x["max_error_rate"] = *s.expectations.max_error_rate;
  if (s.expectations.p99_ms) x["p99_ms"] = *s.expectations.p99_ms;
  if (s.expectations.max_latency_ms) x["max_latency_ms"] = *s.expectations.max_latency_ms;
  if (s.expectations.sse_max_gap_ms) x["sse_max_gap_ms"] = *s.expectations.sse_max_gap_ms;
  return {{"name", s.name},
          {"description", s.description},
          {"topology",
           {{"el_primaries", s.topology.el_primaries}, {"el_backups", s.topology.el_backups},
            {"el_spares", s.topology.el_spares}, {"cl_nodes", s.topology.cl_nodes}, {"chain_seed", s.topology.chain_seed},
            {"block_time_ms", s.topology.block_time_ms}, {"injectors", s.topology.injectors}}},
          {"proxy", {{"global", global}, {"extra_toml", s.proxy.extra_toml}}},
          {"workload",
           {{"duration_ms", w.duration_ms}, {"drain_ms", w.drain_ms}, {"ws_clients", w.ws_clients},
            {"subscriptions_per_client", w.subscriptions_per_client}, {"subscription_kinds", w.subscription_kinds},
            {"requests_per_second", w.requests_per_second}, {"method_mix", mix},
            {"id_style", styles[static_cast<int>(w.id_style)]}, {"probe_interval_ms", w.probe_interval_ms},
            {"resubscribe_every_ms", w.resubscribe_every_ms}, {"reconnect_every_ms", w.reconnect_every_ms},
            {"fault_bursts", w.fault_bursts},
            {"http_requests_per_second", w.http_requests_per_second}, {"logs_filter", w.logs_filter},
            {"sse_listeners", w.sse_listeners}, {"sse_topics", w.sse_topics}, {"sse_retry_ms", w.sse_retry_ms},
            {"hostile", hostile_to_json(w.hostile)}}},
          {"timeline", timeline},
          {"expectations", x}};
}

}  // namespace vixy::chaos
