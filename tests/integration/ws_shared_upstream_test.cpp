// Sessions share each node's few upstream WebSockets (issue 13), seen from outside: the fake nodes
// count the connections, subscriptions and calls that reach them, and every client checks its own
// stream (its ids, one answer per request, heads whole across the failover).

#include <gtest/gtest.h>

#include <set>

#include "jsonrpc/jsonrpc.hpp"
#include "support/ws_cluster.hpp"
#include "support/ws_fleet.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;
using nlohmann::json;

constexpr std::size_t kFleet = 60;
constexpr std::size_t kPool = 2;      // [websocket] upstream_connections
constexpr std::size_t kSharingThreads = 2;   // vixy's; each thread has its own kPool sockets per node
constexpr std::size_t kDistinct = 2;  // newHeads, and logs (every fourth session)
constexpr std::uint64_t kGap = 5;     // blocks the sessions miss while the primary stalls before it dies

std::uint64_t head_number(const json& result) {
  return jsonrpc::from_quantity(result.value("number", "")).value_or(0);
}

// One fleet client's stream, folded in message by message.
struct Stream {
  std::size_t folded = 0;
  std::string heads_id, logs_id;
  std::vector<json> heads;  // newHeads results, in arrival order
  std::size_t logs = 0;
  std::map<std::string, std::size_t> answers;  // by raw id
  std::vector<std::string> problems;

  void fold(const std::vector<std::string>& received) {
    for (; folded < received.size(); ++folded) {
      const std::string& text = received[folded];
      json body = json::parse(text, nullptr, false);
      if (!body.is_object()) {
        problems.push_back("not a JSON object: " + text);
      } else if (body.value("method", "") == "eth_subscription") {
        std::string sub = body["params"].value("subscription", "");
        if (sub == heads_id && !sub.empty()) {
          heads.push_back(body["params"]["result"]);
        } else if (sub == logs_id && !sub.empty()) {
          ++logs;
        } else {
          problems.push_back("notification under an id this client was not given: " + text);
        }
      } else {
        std::string id = raw_id(text).value_or("");
        if (++answers[id] > 1) problems.push_back("second answer: " + text);
        if (id == "1") heads_id = body.value("result", "");
        if (id == "2") logs_id = body.value("result", "");
        if (id != "1" && id != "2" && id != "3") problems.push_back("unsolicited: " + text);
      }
    }
  }
  bool subscribed(bool wants_logs) const { return !heads_id.empty() && (!wants_logs || !logs_id.empty()); }
  std::uint64_t last_head() const {
    return heads.empty() ? 0 : head_number(heads.back());
  }
  // Each head follows the one before it: no gap, no repeat.
  std::string breaks() const {
    std::string out;
    for (std::size_t i = 1; i < heads.size(); ++i) {
      if (heads[i].value("parentHash", "") != heads[i - 1].value("hash", "")) {
        out += heads[i - 1].value("number", "?") + " -> " + heads[i].value("number", "?") + "; ";
      }
    }
    return out;
  }
};

std::uint64_t calls(const json& state, const std::string& method) {
  return state["ws_calls"].value(method, std::uint64_t{0});
}

TEST(WsSharedUpstream, SessionsShareAFewSocketsAndOneSubscriptionPerKindThroughAFailover) {
  ClusterOptions options;
  // The kill moves the sessions; a stalled primary stays healthy until then.
  options.global_toml = "max_el_lag_blocks = 100000\n";
  options.extra_toml = "[websocket]\nupstream_connections = " + std::to_string(kPool) + "\n[server]\nthreads = " +
                       std::to_string(kSharingThreads) + "\n";
  WsCluster c(options);
  ASSERT_TRUE(c.open());

  WsFleet fleet(kFleet);
  ASSERT_EQ(fleet.connect_all(c.cluster.proxy_port(), "/el/ws", 20s), kFleet);
  auto wants_logs = [](std::size_t i) { return i % 4 == 0; };
  for (std::size_t i = 0; i < kFleet; ++i) {
    fleet.send(i, request_text("1", "eth_subscribe", {"newHeads"}));
    // The same filter spelled two ways is the same upstream subscription.
    json filter = i % 8 == 0 ? json::parse(R"({"topics":[],"address":[]})") : json::parse(R"({"address":[],"topics":[]})");
    if (wants_logs(i)) fleet.send(i, request_text("2", "eth_subscribe", {"logs", filter}));
  }
  std::vector<Stream> streams(kFleet);
  auto all = [&](const std::function<bool(std::size_t, const Stream&)>& condition) {
    return [&, condition] {
      bool ok = true;
      for (std::size_t i = 0; i < kFleet; ++i) {
        streams[i].fold(fleet.received(i));
        ok = ok && condition(i, streams[i]);
      }
      return ok;
    };
  };
  ASSERT_TRUE(fleet.run_until(all([&](std::size_t i, const Stream& s) { return s.subscribed(wants_logs(i)) && !s.heads.empty(); }), 20s));

  json primary = c.node_state("el-primary");
  // vixy's own test session (c.ws) is one more client on the same sockets.
  EXPECT_LE(primary["ws_connections"].get<std::size_t>(), kSharingThreads * kPool) << primary.dump();
  EXPECT_LE(primary["subscriptions"].get<std::size_t>(), kSharingThreads * kPool * kDistinct) << primary.dump();
  EXPECT_LE(calls(primary, "eth_subscribe"), kSharingThreads * kPool * kDistinct) << primary.dump();
  EXPECT_EQ(c.metric("vixy_ws_upstream_connections{node=\"el-primary\"}"), primary["ws_connections"].get<double>());
  EXPECT_EQ(c.metric("vixy_ws_upstream_subscriptions{node=\"el-primary\"}"), primary["subscriptions"].get<double>());
  EXPECT_EQ(c.metric("vixy_ws_shared_subscribers{kind=\"newHeads\"}"), static_cast<double>(kFleet));
  EXPECT_EQ(c.metric("vixy_ws_shared_subscribers{kind=\"logs\"}"), static_cast<double>(kFleet / 4));
  std::set<std::string> ids;
  for (const auto& s : streams) {
    EXPECT_TRUE(is_proxy_subscription_id(s.heads_id)) << s.heads_id;
    ids.insert(s.heads_id);
    if (!s.logs_id.empty()) ids.insert(s.logs_id);
  }
  EXPECT_EQ(ids.size(), kFleet + kFleet / 4) << "every client subscription has an id of its own";

  // The sessions fall kGap blocks behind the backup, then their node dies under them.
  ASSERT_TRUE(c.admin("el-primary", "/pause"));
  std::uint64_t paused_at = c.node_head("el-primary");
  ASSERT_TRUE(chaos::wait_until([&] { return c.node_head("el-backup") >= paused_at + kGap; }, 20s));
  ASSERT_TRUE(c.kill("el-primary"));
  for (std::size_t i = 0; i < kFleet; ++i) fleet.send(i, request_text("3", "eth_chainId"));
  std::uint64_t target = c.node_head("el-backup") + 2;
  EXPECT_TRUE(fleet.run_until(
      all([&](std::size_t, const Stream& s) { return s.answers.count("3") && s.last_head() >= target; }), 30s));

  std::size_t shown = 0;
  for (std::size_t i = 0; i < kFleet; ++i) {
    const Stream& s = streams[i];
    std::string breaks = s.breaks();
    if ((!s.problems.empty() || !breaks.empty()) && ++shown <= 3) {
      ADD_FAILURE() << "session " << i << ": breaks " << breaks << " problems "
                    << (s.problems.empty() ? "" : s.problems.front());
    }
  }
  EXPECT_EQ(shown, 0u) << "sessions whose stream broke I1-I3 or I7";
  EXPECT_EQ(fleet.closed_count(), 0u);

  json backup = c.node_state("el-backup");
  EXPECT_LE(backup["ws_connections"].get<std::size_t>(), kSharingThreads * kPool) << backup.dump();
  // One re-subscribe per distinct subscription and socket, not one per client subscription (75).
  EXPECT_LE(calls(backup, "eth_subscribe"), kSharingThreads * kPool * kDistinct) << backup.dump();
  // Filling the gap fetched each missed block about once per socket, not once per session: without
  // sharing it takes kFleet * kGap = 300 fetches or more.
  EXPECT_LT(calls(backup, "eth_getBlockByNumber"), kFleet) << backup.dump();
  EXPECT_LT(calls(backup, "eth_getLogs"), kFleet / 4) << backup.dump();
  EXPECT_GE(c.metric("vixy_ws_backfilled_total{kind=\"newHeads\"}"), static_cast<double>(kFleet * kGap));
  EXPECT_EQ(c.metric("vixy_ws_unfilled_gaps_total{kind=\"newHeads\"}"), 0);
}

// One client stops reading while its answers (20 MiB) and another client's heads arrive on the one
// socket both share: the socket's reader must go on reading, queueing the stuck client's share in
// its own backlog, so the other client keeps getting every head as the node makes it.
TEST(WsSharedUpstream, AClientThatStopsReadingDoesNotHoldUpTheOthersOnItsSocket) {
  ClusterOptions options;
  // One thread with one socket, so the two clients share it; the stuck client stays stuck for the
  // whole test (no backlog or write deadline closes it before the checks are done).
  options.extra_toml =
      "[server]\nclient_write_timeout_ms = 60000\nthreads = 1\n[websocket]\nupstream_connections = 1\n"
      "max_client_backlog_bytes = 268435456\n";
  WsCluster c(options);
  ASSERT_TRUE(c.open());
  std::string heads = c.ws.subscribe("\"heads\"", json::array({"newHeads"}));
  ASSERT_FALSE(heads.empty());

  // Every eth_call is answered with 512 KiB (an error whose message is that long: cheap for the node).
  json big{{"method", "eth_call"}, {"error", {{"code", -32000}, {"message", std::string(512 * 1024, 'x')}}}};
  ASSERT_TRUE(c.admin("el-primary", "/method", big.dump()));
  RpcWs stuck;
  ASSERT_TRUE(c.connect(stuck));
  for (int id = 1; id <= 40; ++id) ASSERT_TRUE(stuck.send(request_text(std::to_string(id), "eth_call")));
  // The kernel holds a few MiB of what stuck does not read; the rest waits in vixy.
  ASSERT_TRUE(chaos::wait_until(
      [&] {
        c.ws.observe(50ms);
        return c.metric("vixy_ws_buffered_bytes") >= 8.0 * 1024 * 1024;
      },
      30s))
      << "the stuck client's answers never piled up in vixy: " << c.metric("vixy_ws_buffered_bytes");
  EXPECT_LE(c.node_state("el-primary").value("ws_connections", SIZE_MAX), 1u) << "the clients do not share a socket";

  // Meanwhile the other client sees each new head the node makes (200 ms apart), and its requests
  // are answered.
  for (int round = 0; round < 5; ++round) {
    std::uint64_t made = c.node_head("el-primary");
    ASSERT_GT(made, 0u);
    EXPECT_TRUE(c.ws.pump_until(
        [&] {
          auto results = c.ws.results_of(heads);
          return !results.empty() && head_number(results.back()) >= made;
        },
        5s))
        << "head " << made << " did not reach the client that reads, round " << round;
  }
  auto chain = c.ws.call("\"chain\"", "eth_chainId");
  ASSERT_TRUE(chain.has_value());
  EXPECT_TRUE((*chain)["result"].is_string()) << chain->dump();
  EXPECT_TRUE(c.ws.notified_only_under(heads));
  EXPECT_EQ(c.metric(R"(vixy_ws_slow_clients_closed_total{reason="write_timeout"})"), 0)
      << "the stuck client was closed before the checks ran: they saw no stall";
}

}  // namespace
}  // namespace vixy::testing
