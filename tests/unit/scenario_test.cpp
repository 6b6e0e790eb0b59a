// Scenario files: what a good file becomes, and that every kind of mistake is named by its path.
#include "chaos/scenario.hpp"

#include "chaos/fuzz.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <set>

namespace vixy::chaos {
namespace {

using nlohmann::json;

json minimal() { return json{{"name", "t"}}; }

json good() {
  return json::parse(R"({
    "name": "replay",
    "topology": {"el_primaries": ["p1"], "el_backups": ["b1"], "chain_seed": 9, "block_time_ms": 100},
    "proxy": {"global": {"health_check_interval_ms": 100, "max_retries": 1}, "extra_toml": "[metrics]\nenabled = true\n"},
    "workload": {"duration_ms": 8000, "ws_clients": 3, "subscriptions_per_client": 5,
                 "subscription_kinds": ["newHeads", "logs"], "requests_per_second": 20,
                 "method_mix": {"eth_blockNumber": 3, "eth_getBalance": 1}, "id_style": "reused"},
    "timeline": [{"at_ms": 3000, "action": "restart", "target": "p1"},
                 {"at_ms": 1000, "action": "kill", "target": "p1"},
                 {"at_ms": 2000, "action": "proxy_signal", "args": {"signal": "HUP"}}],
    "expectations": {"invariants": ["I1", "I6"], "failback_within_ms": 2000, "max_error_rate": 0.1, "p99_ms": 500}
  })");
}

std::string error_of(const json& j) {
  try {
    parse_scenario(j);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Scenario, GoodFileParses) {
  auto s = parse_scenario(good());
  EXPECT_EQ(s.name, "replay");
  EXPECT_EQ(s.topology.el_primaries, std::vector<std::string>{"p1"});
  EXPECT_EQ(s.topology.chain_seed, 9u);
  ASSERT_EQ(s.proxy.global.size(), 2u);
  EXPECT_EQ(s.proxy.global[1].first, "max_retries");
  EXPECT_EQ(s.workload.id_style, IdStyle::reused);
  EXPECT_EQ(s.workload.method_mix.size(), 2u);
  ASSERT_EQ(s.timeline.size(), 3u);
  EXPECT_EQ(s.timeline[0].action, "kill");  // sorted by time
  EXPECT_EQ(s.timeline[1].target, "proxy");
  EXPECT_EQ(s.expectations.invariants, (std::vector<std::string>{"I1", "I6"}));
  EXPECT_EQ(*s.expectations.p99_ms, 500);
  auto r = primaries_recovery(s);
  EXPECT_EQ(r.healthy_from_ms, 3000);
}

TEST(Scenario, DefaultsWhenSectionsAreLeftOut) {
  auto s = parse_scenario(minimal());
  EXPECT_EQ(s.topology.el_primaries, std::vector<std::string>{"el-primary"});
  EXPECT_TRUE(s.timeline.empty());
  EXPECT_EQ(primaries_recovery(s).healthy_from_ms, 0);
}

TEST(Scenario, RoundTripsThroughJson) {
  auto s = parse_scenario(good());
  auto again = parse_scenario(scenario_to_json(s));
  EXPECT_EQ(scenario_to_json(again), scenario_to_json(s));
}

TEST(Scenario, ErrorsNameTheKeyPath) {
  auto with = [](const char* pointer, json value) {
    json j = good();
    j[json::json_pointer(pointer)] = std::move(value);
    return error_of(j);
  };
  EXPECT_EQ(with("/timeline/2/action", "kil").rfind("timeline[2].action: unknown action \"kil\"", 0), 0u)
      << with("/timeline/2/action", "kil");
  EXPECT_EQ(with("/bogus", 1).rfind("bogus: unknown key", 0), 0u);
  EXPECT_EQ(with("/workload/ws_client", 1).rfind("workload.ws_client: unknown key", 0), 0u);
  EXPECT_EQ(with("/workload/ws_clients", "3"), "workload.ws_clients: expected an integer, got \"3\"");
  EXPECT_EQ(with("/workload/ws_clients", -1), "workload.ws_clients: must be between 0 and 1000, got -1");
  EXPECT_EQ(with("/workload/id_style", "random").rfind("workload.id_style: unknown id style", 0), 0u);
  EXPECT_EQ(with("/workload/method_mix/eth_call", 1).rfind("workload.method_mix.eth_call: unknown method", 0), 0u);
  EXPECT_EQ(with("/workload/subscription_kinds/1", "blocks").rfind("workload.subscription_kinds[1]: unknown value", 0), 0u);
  EXPECT_EQ(with("/timeline/0/target", "p2"), "timeline[0].target: no node named \"p2\" in the topology");
  EXPECT_EQ(with("/timeline/0/at_ms", 9000), "timeline[0].at_ms: must be between 0 and 7999, got 9000");
  EXPECT_EQ(with("/timeline/0/args", json{{"blocks", 1}}).rfind("timeline[0].args.blocks: unknown key", 0), 0u);
  EXPECT_EQ(with("/timeline/2/args/signal", "TERM").rfind("timeline[2].args.signal: unknown signal \"TERM\"", 0), 0u);
  EXPECT_EQ(with("/expectations/invariants/0", "I9").rfind("expectations.invariants[0]: unknown value \"I9\"", 0), 0u);
  EXPECT_EQ(with("/expectations/max_error_rate", 2), "expectations.max_error_rate: must be between 0 and 1, got 2");
  EXPECT_EQ(with("/topology/el_backups/0", "p1"), "topology: node name \"p1\" is used twice");
  EXPECT_EQ(with("/topology/el_primaries", json::array()), "topology.el_primaries: at least one primary is needed");
  EXPECT_EQ(with("/proxy/global/max_retries", json::array()), "proxy.global.max_retries: expected a number, boolean or string");
  json lag = {{"at_ms", 1}, {"action", "lag"}, {"target", "b1"}};
  EXPECT_EQ(with("/timeline/3", lag), "timeline[3].args.blocks: missing");
  EXPECT_EQ(error_of(json{{"description", "x"}}), "name: missing (every scenario has a name)");
  EXPECT_EQ(error_of(json::array()), "(document): expected an object");
}

TEST(Scenario, FailbackDeadlineMustFitTheRun) {
  json j = good();
  j["expectations"]["failback_within_ms"] = 5000;  // 3000 + 5000 + 500 > 8000
  EXPECT_EQ(error_of(j).rfind("expectations.failback_within_ms: the workload ends", 0), 0u) << error_of(j);
}

TEST(Scenario, RecoveryFollowsEveryPrimaryFault) {
  json j = minimal();
  j["workload"] = {{"duration_ms", 10000}};
  j["timeline"] = json::parse(R"([
    {"at_ms": 100, "action": "lag", "target": "el-primary", "args": {"blocks": 10}},
    {"at_ms": 200, "action": "kill", "target": "el-backup"},
    {"at_ms": 300, "action": "method_error", "target": "el-primary", "args": {"method": "eth_blockNumber"}},
    {"at_ms": 400, "action": "lag", "target": "el-primary", "args": {"blocks": 0}}
  ])");
  j["expectations"] = {{"invariants", {"I1"}}};
  auto r = primaries_recovery(parse_scenario(j));
  EXPECT_FALSE(r.healthy_from_ms.has_value());
  EXPECT_EQ(r.reason, "el-primary is still method eth_blockNumber failing at the end of the timeline");
  j["timeline"].push_back({{"at_ms", 500}, {"action", "method_clear"}, {"target", "el-primary"}});
  EXPECT_EQ(primaries_recovery(parse_scenario(j)).healthy_from_ms, 500);
  j["timeline"].push_back({{"at_ms", 600}, {"action", "proxy_signal"}, {"args", {{"signal", "STOP"}}}});
  EXPECT_FALSE(primaries_recovery(parse_scenario(j)).healthy_from_ms.has_value());
}

// Two primaries and a spare the proxy starts without; a reload swaps a primary for the spare.
json with_reload() {
  json j = minimal();
  j["topology"] = {{"el_primaries", {"p1", "p2"}}, {"el_backups", {"b1"}}, {"el_spares", {"p3"}}, {"cl_nodes", {"c1"}}};
  j["workload"] = {{"duration_ms", 10000}};
  j["timeline"] = json::parse(R"([
    {"at_ms": 500, "action": "kill", "target": "p3"},
    {"at_ms": 1000, "action": "restart", "target": "p3"},
    {"at_ms": 2000, "action": "reload", "args": {"el_primaries": ["p2", "p3"], "el_backups": ["b1"]}}
  ])");
  j["expectations"] = {{"invariants", {"I1", "I6"}}};
  return j;
}

TEST(Scenario, ReloadNamesTheNextElNodesAndSparesStartOutsideTheConfig) {
  auto s = parse_scenario(with_reload());
  EXPECT_EQ(s.topology.el_spares, std::vector<std::string>{"p3"});
  ASSERT_EQ(s.timeline.size(), 3u);
  const auto& reload = s.timeline[2];
  EXPECT_EQ(reload.action, "reload");
  EXPECT_EQ(reload.target, "proxy");  // like proxy_signal: it is the proxy that reloads
  EXPECT_EQ(reload.args["el_primaries"], json({"p2", "p3"}));
  EXPECT_EQ(final_el_primaries(s), (std::vector<std::string>{"p2", "p3"}));
  // The reload is the last event touching the proxy, and the spare's kill was undone before it.
  EXPECT_EQ(primaries_recovery(s).healthy_from_ms, 2000);
  auto again = parse_scenario(scenario_to_json(s));
  EXPECT_EQ(scenario_to_json(again), scenario_to_json(s));
  EXPECT_EQ(final_el_primaries(parse_scenario(minimal())), std::vector<std::string>{"el-primary"});
}

TEST(Scenario, RecoveryIsOwedByThePrimariesOfTheLastReload) {
  json j = with_reload();
  // p1 stays killed, but the reload removed it: nothing is owed by it any more.
  j["timeline"].push_back({{"at_ms", 1500}, {"action", "kill"}, {"target", "p1"}});
  EXPECT_EQ(primaries_recovery(parse_scenario(j)).healthy_from_ms, 2000);
  // The spare, a primary after the reload, dies for good: no failback can be owed.
  j["timeline"].push_back({{"at_ms", 3000}, {"action", "kill"}, {"target", "p3"}});
  auto r = primaries_recovery(parse_scenario(j));
  EXPECT_FALSE(r.healthy_from_ms.has_value());
  EXPECT_EQ(r.reason, "p3 is still killed at the end of the timeline");
}

TEST(Scenario, ReloadErrorsNameTheKeyPath) {
  auto with = [](const char* pointer, json value) {
    json j = with_reload();
    j[json::json_pointer(pointer)] = std::move(value);
    return error_of(j);
  };
  EXPECT_EQ(with("/timeline/2/args/el_primaries/1", "x"), "timeline[2].args.el_primaries: unknown node \"x\" (EL nodes: p1, p2, b1, p3)");
  EXPECT_EQ(with("/timeline/2/args/el_backups/0", "c1"), "timeline[2].args.el_backups: \"c1\" is a CL node; a reload lists EL nodes");
  EXPECT_EQ(with("/timeline/2/args/el_backups/0", "p2"), "timeline[2].args.el_backups: node \"p2\" is listed twice");
  EXPECT_EQ(with("/timeline/2/args/el_primaries", json::array()), "timeline[2].args.el_primaries: at least one primary is needed");
  EXPECT_EQ(with("/timeline/2/args/el_primaries", "p2"), "timeline[2].args.el_primaries: expected a list of strings");
  EXPECT_EQ(with("/timeline/2/args", json{{"el_primaries", {"p2"}}}),
            "timeline[2].args.el_backups: missing (a reload gives both EL lists; [] for none)");
  EXPECT_EQ(with("/timeline/2/args/signal", "HUP").rfind("timeline[2].args.signal: unknown key", 0), 0u);
  EXPECT_EQ(with("/timeline/2/target", "p1"), "timeline[2].target: reload only targets \"proxy\"");
  EXPECT_EQ(with("/timeline/0/target", "p4"), "timeline[0].target: no node named \"p4\" in the topology");
  EXPECT_EQ(with("/topology/el_spares/0", "b1"), "topology: node name \"b1\" is used twice");
  EXPECT_EQ(with("/topology/el_spares/0", ""), "topology.el_spares[0]: expected a non-empty string");
  EXPECT_EQ(error_of(with_reload()), "(accepted)");
}

json with_listeners() {
  json j = minimal();
  j["topology"] = {{"cl_nodes", {"cl-a", "cl-b"}}};
  j["workload"] = {{"duration_ms", 10000}, {"sse_listeners", 3}, {"sse_topics", {"head", "block"}}, {"sse_retry_ms", 250}};
  j["timeline"] = json::parse(R"([
    {"at_ms": 1000, "action": "kill", "target": "cl-a"},
    {"at_ms": 2000, "action": "kill", "target": "cl-b"},
    {"at_ms": 3000, "action": "restart", "target": "cl-a"},
    {"at_ms": 3500, "action": "restart", "target": "cl-b"},
    {"at_ms": 4000, "action": "close_all", "target": "cl-b"},
    {"at_ms": 5000, "action": "kill", "target": "cl-a"}
  ])");
  j["expectations"] = {{"invariants", {"I1"}}, {"sse_max_gap_ms", 4000}};
  return j;
}

json with_hostile() {
  json j = minimal();
  j["workload"] = json::parse(R"({"duration_ms": 10000, "hostile": {
    "slow_readers": 3, "slow_reader_subscriptions": 150, "nested_json_per_second": 2.5, "nested_depth": 50000,
    "huge_batches_per_second": 0.5, "huge_batch_size": 3000, "idle_connections": 30, "connection_flood_per_second": 12}})");
  j["timeline"] = json::parse(R"([
    {"at_ms": 1000, "action": "interim", "target": "el-primary", "args": {"status": 100}},
    {"at_ms": 2000, "action": "kill", "target": "el-primary"},
    {"at_ms": 3000, "action": "restart", "target": "el-primary"},
    {"at_ms": 5000, "action": "interim", "target": "el-primary", "args": {"status": 0}}
  ])");
  j["expectations"] = {{"invariants", {"I1", "I6"}}, {"max_latency_ms", 2500}};
  return j;
}

TEST(Scenario, HostileWorkloadKeys) {
  auto s = parse_scenario(with_hostile());
  const auto& h = s.workload.hostile;
  EXPECT_EQ(h.slow_readers, 3);
  EXPECT_EQ(h.slow_reader_subscriptions, 150);
  EXPECT_EQ(h.nested_json_per_second, 2.5);
  EXPECT_EQ(h.nested_depth, 50000);
  EXPECT_EQ(h.huge_batches_per_second, 0.5);
  EXPECT_EQ(h.huge_batch_size, 3000);
  EXPECT_EQ(h.idle_connections, 30);
  EXPECT_EQ(h.connection_flood_per_second, 12);
  EXPECT_TRUE(h.any());
  EXPECT_EQ(s.expectations.max_latency_ms, 2500);
  EXPECT_EQ(scenario_to_json(parse_scenario(scenario_to_json(s))), scenario_to_json(s));
  // Left out: no hostile client at all, and no latency bound.
  auto d = parse_scenario(minimal());
  EXPECT_FALSE(d.workload.hostile.any());
  EXPECT_FALSE(d.expectations.max_latency_ms.has_value());
  json only_idle = minimal();
  only_idle["workload"] = {{"hostile", {{"idle_connections", 1}}}};
  EXPECT_TRUE(parse_scenario(only_idle).workload.hostile.any());
}

TEST(Scenario, HostileWorkloadErrorsNameTheKey) {
  auto with = [](const char* pointer, json value) {
    json j = with_hostile();
    j[json::json_pointer(pointer)] = std::move(value);
    return error_of(j);
  };
  EXPECT_EQ(with("/workload/hostile/slow_reader", 1).rfind("workload.hostile.slow_reader: unknown key (known: ", 0), 0u)
      << with("/workload/hostile/slow_reader", 1);
  EXPECT_EQ(with("/workload/hostile", 3), "workload.hostile: expected an object");
  EXPECT_EQ(with("/workload/hostile/slow_readers", -1), "workload.hostile.slow_readers: must be between 0 and 100, got -1");
  EXPECT_EQ(with("/workload/hostile/nested_depth", 1), "workload.hostile.nested_depth: must be between 2 and 1000000, got 1");
  EXPECT_EQ(with("/workload/hostile/huge_batch_size", 0), "workload.hostile.huge_batch_size: must be between 1 and 1000000, got 0");
  EXPECT_EQ(with("/workload/hostile/idle_connections", 501), "workload.hostile.idle_connections: must be between 0 and 500, got 501");
  EXPECT_EQ(with("/workload/hostile/nested_json_per_second", "2"), "workload.hostile.nested_json_per_second: expected a number, got \"2\"");
  EXPECT_EQ(with("/expectations/max_latency_ms", -1), "expectations.max_latency_ms: must be between 0 and 3600000, got -1");
  EXPECT_EQ(with("/timeline/0/args/status", 101),
            "timeline[0].args.status: must be a 1xx status other than 101 (100, 102, 103...), or 0 to stop, got 101");
  EXPECT_EQ(with("/timeline/0/args/status", 42).rfind("timeline[0].args.status: must be a 1xx status", 0), 0u);
  EXPECT_EQ(with("/timeline/0/args/status", 200), "timeline[0].args.status: must be between 0 and 199, got 200");
  EXPECT_EQ(with("/timeline/0/args", json::object()), "timeline[0].args.status: missing");
  EXPECT_EQ(with("/timeline/0/args/code", 1).rfind("timeline[0].args.code: unknown key", 0), 0u);
}

TEST(Scenario, InterimResponsesAreNoFaultOfTheNode) {
  // A 1xx before an answer is legal HTTP: the primaries count as healthy from their restart on.
  EXPECT_EQ(primaries_recovery(parse_scenario(with_hostile())).healthy_from_ms, 3000);
  // A gap bound holds while a CL node sends them: they are no reason for a stream to stop.
  json j = with_listeners();
  j["timeline"].push_back({{"at_ms", 6000}, {"action", "interim"}, {"target", "cl-b"}, {"args", {{"status", 103}}}});
  EXPECT_NO_THROW(parse_scenario(j)) << error_of(j);
}

TEST(Scenario, SseListenerKeys) {
  auto s = parse_scenario(with_listeners());
  EXPECT_EQ(s.workload.sse_listeners, 3);
  EXPECT_EQ(s.workload.sse_topics, (std::vector<std::string>{"head", "block"}));
  EXPECT_EQ(s.workload.sse_retry_ms, 250);
  EXPECT_EQ(s.expectations.sse_max_gap_ms, 4000);
  EXPECT_EQ(scenario_to_json(parse_scenario(scenario_to_json(s))), scenario_to_json(s));
  auto d = parse_scenario(minimal());
  EXPECT_EQ(d.workload.sse_listeners, 0);
  EXPECT_EQ(d.workload.sse_topics, std::vector<std::string>{"head"});
  EXPECT_EQ(d.workload.sse_retry_ms, 1000);
  EXPECT_FALSE(d.expectations.sse_max_gap_ms.has_value());
}

TEST(Scenario, SseListenerErrorsNameTheKey) {
  auto with = [](const char* pointer, json value) {
    json j = with_listeners();
    j[json::json_pointer(pointer)] = std::move(value);
    return error_of(j);
  };
  EXPECT_EQ(with("/workload/sse_listeners", 101), "workload.sse_listeners: must be between 0 and 100, got 101");
  EXPECT_EQ(with("/workload/sse_topics/1", "blocks").rfind("workload.sse_topics[1]: unknown value \"blocks\"", 0), 0u);
  EXPECT_EQ(with("/workload/sse_topics", json{"block"}), "workload.sse_topics: must include \"head\" (the events the checks follow)");
  EXPECT_EQ(with("/workload/sse_retry_ms", "1s"), "workload.sse_retry_ms: expected an integer, got \"1s\"");
  EXPECT_EQ(with("/expectations/sse_max_gap_ms", 0), "expectations.sse_max_gap_ms: must be between 1 and 600000, got 0");
  EXPECT_EQ(with("/topology/cl_nodes", json::array()).rfind("timeline[0].target: no node named \"cl-a\"", 0), 0u);
  json no_cl = with_listeners();
  no_cl["topology"]["cl_nodes"] = json::array();
  no_cl["timeline"] = json::array();
  EXPECT_EQ(error_of(no_cl), "workload.sse_listeners: needs at least one node in topology.cl_nodes");
  EXPECT_EQ(with("/workload/sse_listeners", 0), "expectations.sse_max_gap_ms: needs workload.sse_listeners");
  // A node that stays connected and routable but is slow, or answers the events path with errors,
  // keeps its listeners: no gap bound can be promised.
  json delay = {{"at_ms", 6000}, {"action", "method_delay"}, {"target", "cl-b"},
                {"args", {{"method", "/eth/v1/events"}, {"delay_ms", 3000}}}};
  EXPECT_EQ(with("/timeline/6", delay).rfind("expectations.sse_max_gap_ms: the timeline has method_delay on CL node \"cl-b\" at 6000 ms", 0), 0u)
      << with("/timeline/6", delay);
  json latency = {{"at_ms", 6000}, {"action", "latency"}, {"target", "cl-b"}, {"args", {{"ms", 100}}}};
  EXPECT_EQ(with("/timeline/6", latency).rfind("expectations.sse_max_gap_ms: the timeline has latency on CL node", 0), 0u);
  json relaxed = with_listeners();
  relaxed["expectations"].erase("sse_max_gap_ms");
  relaxed["timeline"].push_back(delay);
  EXPECT_EQ(error_of(relaxed), "(accepted)");
  // vixy ends the streams of a node that stalls or falls behind while connected: those have a bound.
  for (json stall : {json{{"at_ms", 6000}, {"action", "pause"}, {"target", "cl-b"}},
                     json{{"at_ms", 6000}, {"action", "lag"}, {"target", "cl-b"}, {"args", {{"blocks", 20}}}},
                     json{{"at_ms", 6000}, {"action", "blackhole"}, {"target", "cl-b"}, {"args", {{"on", true}}}}}) {
    EXPECT_EQ(with("/timeline/6", stall), "(accepted)") << stall.dump();
  }
}

TEST(Scenario, ClOutagesAreWhenEveryClNodeIsKilled) {
  auto s = parse_scenario(with_listeners());
  EXPECT_EQ(cl_outages(s), (std::vector<std::pair<int, int>>{{2000, 3000}}));
  json j = with_listeners();
  j["timeline"].push_back({{"at_ms", 6000}, {"action", "kill"}, {"target", "cl-b"}});  // both down to the end
  EXPECT_EQ(cl_outages(parse_scenario(j)), (std::vector<std::pair<int, int>>{{2000, 3000}, {6000, INT_MAX}}));
  EXPECT_TRUE(cl_outages(parse_scenario(minimal())).empty());
}

TEST(Scenario, ClOutagesCountPausedAndBlackholedNodesButNotLaggingOnes) {
  json j = with_listeners();
  j["timeline"] = json::parse(R"([
    {"at_ms": 1000, "action": "pause", "target": "cl-a"},
    {"at_ms": 2000, "action": "blackhole", "target": "cl-b", "args": {"on": true}},
    {"at_ms": 3000, "action": "resume", "target": "cl-a"},
    {"at_ms": 4000, "action": "kill", "target": "cl-a"},
    {"at_ms": 5000, "action": "clear", "target": "cl-b"},
    {"at_ms": 6000, "action": "clear", "target": "cl-a"},
    {"at_ms": 7000, "action": "blackhole", "target": "cl-b", "args": {"on": true}},
    {"at_ms": 8000, "action": "blackhole", "target": "cl-b", "args": {"on": false}}
  ])");
  // clear turns faults off but does not restart a killed node: cl-a stays down from 4000 on.
  EXPECT_EQ(cl_outages(parse_scenario(j)), (std::vector<std::pair<int, int>>{{2000, 3000}, {4000, 5000}, {7000, 8000}}));
  json lagging = with_listeners();
  lagging["timeline"] = json::parse(R"([
    {"at_ms": 1000, "action": "lag", "target": "cl-a", "args": {"blocks": 50}},
    {"at_ms": 1000, "action": "lag", "target": "cl-b", "args": {"blocks": 50}}
  ])");
  EXPECT_TRUE(cl_outages(parse_scenario(lagging)).empty());
}

TEST(Scenario, EveryFileInTheLibraryParses) {
  namespace fs = std::filesystem;
  int count = 0;
  // extended/ holds the bigger variants CI does not run; they must stay valid all the same.
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(VIXY_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    EXPECT_NO_THROW(load_scenario(entry.path().string())) << entry.path();
  }
  EXPECT_GE(count, 8);  // the library the issue asks for
}

TEST(Scenario, FileErrorsNameTheFile) {
  try {
    load_scenario("/nonexistent/x.json");
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.json: cannot be read");
  }
}

TEST(Fuzz, DrawsTheSameValidScenarioForTheSameSeed) {
  auto a = draw_scenario(11, 3, 10'000, false);
  EXPECT_EQ(scenario_to_json(a), scenario_to_json(draw_scenario(11, 3, 10'000, false)));
  EXPECT_NE(scenario_to_json(a), scenario_to_json(draw_scenario(11, 4, 10'000, false)));
  for (int i = 0; i < 50; ++i) {
    auto s = draw_scenario(99, i, 8'000, i % 2 == 0);
    EXPECT_NO_THROW(parse_scenario(scenario_to_json(s)));
    // Every fault is undone, so failback is checkable in every drawn run.
    auto r = primaries_recovery(s);
    ASSERT_TRUE(r.healthy_from_ms.has_value()) << r.reason;
    EXPECT_EQ(*r.healthy_from_ms, recovery_at_ms(8'000));
    for (const auto& e : s.timeline) {
      if (i % 2 == 1) {
        EXPECT_FALSE(action_needs_injector(e.action)) << e.action;
      }
    }
  }
}

TEST(Fuzz, SometimesDrawsHostileClientsAndInterimResponses) {
  int hostile = 0, interim = 0;
  for (int i = 0; i < 40; ++i) {
    auto s = draw_scenario(7, i, 10'000, true);
    hostile += s.workload.hostile.any();
    bool has_interim = std::any_of(s.timeline.begin(), s.timeline.end(), [](const auto& e) { return e.action == "interim"; });
    interim += has_interim;
    // Recovery clears every node, interim responses included, so nothing drawn outlives it.
    if (has_interim) {
      EXPECT_TRUE(std::any_of(s.timeline.begin(), s.timeline.end(), [](const auto& e) {
        return e.action == "clear" && e.at_ms == recovery_at_ms(10'000);
      }));
    }
  }
  // About one run in four each; never all or none.
  EXPECT_GT(hostile, 0);
  EXPECT_LT(hostile, 40);
  EXPECT_GT(interim, 0);
  EXPECT_LT(interim, 40);
}

// Slow answers on every node from the start, so that faults find requests in flight.
TEST(Fuzz, SometimesDrawsSlowAnswersOnEveryNodeFromTheStart) {
  int slow = 0;
  for (int i = 0; i < 40; ++i) {
    auto s = draw_scenario(7, i, 10'000, true);
    std::set<std::string> delayed;
    for (const auto& e : s.timeline) {
      if (e.at_ms != 0 || e.action != "method_delay") continue;
      EXPECT_EQ(e.args["method"], "eth_getBalance");
      EXPECT_GE(e.args["delay_ms"].get<int>(), 200);
      EXPECT_LE(e.args["delay_ms"].get<int>(), 800);
      delayed.insert(e.target);
    }
    if (delayed.empty()) continue;
    ++slow;
    EXPECT_EQ(delayed.size(), s.topology.el_primaries.size() + s.topology.el_backups.size());
    const auto& mix = s.workload.method_mix;
    auto balance = std::find_if(mix.begin(), mix.end(), [](const auto& m) { return m.first == "eth_getBalance"; });
    ASSERT_NE(balance, mix.end());
    EXPECT_GT(balance->second, 0);
  }
  EXPECT_GT(slow, 0);
  EXPECT_LT(slow, 40);
}

TEST(Fuzz, SometimesDrawsClListenersAndNetworkWideReorgs) {
  int with_cl = 0, with_reorg = 0;
  const int recover = recovery_at_ms(10'000);
  for (int i = 0; i < 40; ++i) {
    auto s = draw_scenario(7, i, 10'000, true);
    EXPECT_NE(std::find(s.expectations.invariants.begin(), s.expectations.invariants.end(), "I7"),
              s.expectations.invariants.end());
    if (!s.topology.cl_nodes.empty()) {
      ++with_cl;
      EXPECT_GE(s.workload.sse_listeners, 1);
      for (const auto& node : s.topology.cl_nodes) {  // every CL fault is undone by the recovery
        for (const char* undo : {"restart", "clear"}) {
          EXPECT_TRUE(std::any_of(s.timeline.begin(), s.timeline.end(), [&](const auto& e) {
            return e.target == node && e.action == undo && e.at_ms == recover;
          })) << node << " " << undo;
        }
      }
    }
    std::map<std::string, std::pair<int, int>> reorgs;  // EL node -> (at, fork seed)
    for (const auto& e : s.timeline) {
      if (e.action == "reorg") reorgs[e.target] = {e.at_ms, e.args["fork_seed"].get<int>()};
    }
    if (reorgs.empty()) continue;
    ++with_reorg;
    EXPECT_EQ(reorgs.size(), s.topology.el_primaries.size() + s.topology.el_backups.size());
    for (const auto& [node, when] : reorgs) EXPECT_EQ(when, reorgs.begin()->second) << node;  // one fork, everywhere
  }
  EXPECT_GT(with_cl, 0);
  EXPECT_LT(with_cl, 40);
  EXPECT_GT(with_reorg, 0);
  EXPECT_LT(with_reorg, 40);
}

TEST(Fuzz, ShrinkingDropsFaultsAndKeepsRecovery) {
  auto s = draw_scenario(5, 0, 10'000, false);
  int recover = recovery_at_ms(10'000);
  s.timeline.erase(std::remove_if(s.timeline.begin(), s.timeline.end(), [&](const auto& e) { return e.at_ms < recover; }),
                   s.timeline.end());
  std::size_t recovery_events = s.timeline.size();
  for (int at : {1000, 2000, 3000, 4000}) s.timeline.push_back({at, "kill", "p1", nlohmann::json::object()});
  auto candidates = shrink_candidates(s);
  ASSERT_EQ(candidates.size(), 2u + 4u);  // two halves, then each single fault
  EXPECT_EQ(candidates[0].timeline.size(), recovery_events + 2);
  EXPECT_EQ(candidates[2].timeline.size(), recovery_events + 3);
  for (const auto& c : candidates) {
    EXPECT_EQ(std::count_if(c.timeline.begin(), c.timeline.end(), [&](const auto& e) { return e.at_ms >= recover; }),
              static_cast<long>(recovery_events));
  }
}

}  // namespace
}  // namespace vixy::chaos
