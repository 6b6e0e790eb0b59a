// A thousand WebSocket sessions through one vixy process, each with a subscription: all are
// notified, then fall ten blocks behind the backup while their primary stalls, and one primary kill
// moves them all to the backup with I1 (one answer per request), I2 (nothing unsolicited), I3
// (notifications under the id each client was given) and I7 (every head once, in order) intact,
// for about one fetch per missed block and vixy thread in all.

#include <gtest/gtest.h>

#include <set>

#include "jsonrpc/jsonrpc.hpp"
#include "support/harness.hpp"
#include "support/ws_fleet.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;

constexpr std::size_t kSessions = 1000;
constexpr std::uint64_t kMissedBlocks = 10;  // blocks the sessions miss while their primary stalls
// vixy's threads; each has its own upstream connections per node, which its sessions share. One:
// with a thread per core, this test's vixy alone loads every core, and the timing-bound tests that
// ctest runs beside it miss their deadlines (Threads.* covers several threads).
constexpr std::size_t kScaleThreads = 1;

// What one client saw, folded in message by message.
struct Seen {
  std::size_t folded = 0;
  std::string subscription;
  std::map<std::string, std::vector<json>> answers;  // by raw id
  std::size_t notifications = 0;
  std::size_t notifications_after_switch = 0;  // after the answer of request 2
  std::string last_hash;  // of the last head
  std::uint64_t last_number = 0;
  std::vector<std::string> problems;

  void fold(const std::vector<std::string>& received) {
    for (; folded < received.size(); ++folded) {
      const std::string& text = received[folded];
      json body = json::parse(text, nullptr, false);
      if (!body.is_object()) {
        problems.push_back("not a JSON object: " + text);
      } else if (body.value("method", "") == "eth_subscription") {
        ++notifications;
        if (answers.count("2")) ++notifications_after_switch;
        if (body["params"].value("subscription", "") != subscription) problems.push_back("foreign: " + text);
        const json& head = body["params"]["result"];
        if (!head.is_object()) {
          problems.push_back("not a header: " + text);
          continue;
        }
        if (!last_hash.empty() && head.value("parentHash", "") != last_hash) {
          problems.push_back("head " + head.value("number", "?") + " does not follow " + std::to_string(last_number));
        }
        last_hash = head.value("hash", "");
        last_number = jsonrpc::from_quantity(head.value("number", "")).value_or(0);
      } else {
        std::string id = raw_id(text).value_or("");
        if (id != "1" && id != "2") problems.push_back("unsolicited: " + text);
        if (!answers[id].empty()) problems.push_back("second answer: " + text);
        answers[id].push_back(body);
        if (id == "1") subscription = body.value("result", "");
      }
    }
  }
};

TEST(WsScale, AThousandSubscribedSessionsAllMoveOnOnePrimaryKill) {
  raise_open_file_limit();  // before the cluster starts: vixy and the fake nodes inherit it
  ClusterOptions options;
  options.block_time_ms = 1000;  // a thousand notifications per block is load enough
  // The kill is the event under test. A fake node busy with a thousand sessions on a loaded ASan
  // machine misses 500 ms health checks and answers pings late; the monitor or the pings would
  // then move sessions for their own reasons, and slow connects must not count as failures.
  // Nor may a slow move count as a failure: under ASan on a loaded 2-core machine moving a thousand
  // sessions can take longer than the default 30 s request timeout, and requests sent at the kill
  // would be answered with timeouts. What is checked here is who answers, once, and what is
  // delivered, not how fast (bench/ measures that).
  options.global_toml =
      "max_el_lag_blocks = 100000\nhealth_check_max_failures = 100000\nconnect_timeout_ms = 15000\n"
      "proxy_timeout_ms = 600000\n";
  options.extra_toml = "[websocket]\nping_interval_ms = 30000\npong_timeout_ms = 30000\n[server]\nthreads = " +
                       std::to_string(kScaleThreads) + "\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));

  WsFleet fleet(kSessions);
  ASSERT_EQ(fleet.connect_all(cluster.proxy_port(), "/el/ws", 30s, 100), kSessions);
  for (std::size_t i = 0; i < kSessions; ++i) fleet.send(i, request_text("1", "eth_subscribe", {"newHeads"}));
  std::vector<Seen> seen(kSessions);
  auto all = [&](const std::function<bool(const Seen&)>& condition) {
    return [&, condition] {
      bool ok = true;
      for (std::size_t i = 0; i < kSessions; ++i) {
        seen[i].fold(fleet.received(i));
        ok = ok && condition(seen[i]);
      }
      return ok;
    };
  };
  // Where the sessions stand, for failure messages.
  auto census = [&] {
    std::size_t subscribed = 0, notified = 0, answered_2 = 0, moved = 0;
    for (const auto& s : seen) {
      subscribed += s.subscription.empty() ? 0 : 1;
      notified += s.notifications > 0 ? 1 : 0;
      answered_2 += s.answers.count("2");
      moved += s.notifications_after_switch > 0 ? 1 : 0;
    }
    return "subscribed " + std::to_string(subscribed) + ", notified " + std::to_string(notified) +
           ", answered after the kill " + std::to_string(answered_2) + ", notified after that " +
           std::to_string(moved) + ", closed " + std::to_string(fleet.closed_count()) + "\n" +
           cluster.proxy_get("/metrics", 30s).body;
  };
  ASSERT_TRUE(fleet.run_until(all([](const Seen& s) { return s.notifications > 0; }), 60s))
      << "not every session was notified: " << census();
  std::set<std::string> ids;
  for (const auto& s : seen) {
    ASSERT_TRUE(is_proxy_subscription_id(s.subscription)) << s.subscription;
    ids.insert(s.subscription);
  }
  EXPECT_EQ(ids.size(), kSessions) << "two sessions were given the same subscription id";
  EXPECT_EQ(metric_sample(cluster.proxy_get("/metrics", 30s).body, "vixy_ws_connections_active"), kSessions);

  // The sessions fall kMissedBlocks blocks behind the backup, then their node dies under them. The admin
  // API shares the fake node's one thread with a thousand sessions: give it time.
  auto admin = [&](const std::string& node, const std::string& path) {
    return chaos::http_request("127.0.0.1", cluster.node(node).admin_port, boost::beast::http::verb::post, path,
                               "{}", {}, 30s);
  };
  ASSERT_EQ(admin("el-primary", "/pause").status, 200);
  auto head_of = [&](const std::string& node) {
    auto state = chaos::get("127.0.0.1", cluster.node(node).admin_port, "/state", 30s);
    return json::parse(state.body, nullptr, false).value("state", json::object()).value("head", std::uint64_t{0});
  };
  std::uint64_t paused_at = head_of("el-primary");
  ASSERT_TRUE(fleet.run_until([&] { return head_of("el-backup") >= paused_at + kMissedBlocks; }, 60s));
  ASSERT_EQ(chaos::http_request("127.0.0.1", cluster.node("el-primary").admin_port, boost::beast::http::verb::post,
                                "/kill", "{}", {}, 30s)
                .status,
            200);
  for (std::size_t i = 0; i < kSessions; ++i) fleet.send(i, request_text("2", "web3_clientVersion"));
  // Sessions share the backup's few sockets (issue 13): one re-subscribe per socket, and the heads
  // a session missed while moving are fetched about once per block, not once per session. Before
  // sharing, this move sent the backup some ten thousand fetches and took up to 170 s under ASan.
  EXPECT_TRUE(fleet.run_until(
      all([](const Seen& s) { return s.answers.count("2") && s.notifications_after_switch > 0; }), 240s))
      << "not every session was answered and notified after the kill: " << census();
  fleet.run_until([] { return false; }, 500ms);  // an observation window for late strays
  all([](const Seen&) { return true; })();

  std::size_t on_backup = 0;
  std::size_t with_problems = 0;
  std::size_t elsewhere_shown = 0;
  for (std::size_t i = 0; i < kSessions; ++i) {
    const Seen& s = seen[i];
    // Every session is checked; the first few sessions' stories are enough to read.
    if (!s.problems.empty() && ++with_problems <= 3) {
      for (const auto& problem : s.problems) ADD_FAILURE() << "session " << i << ": " << problem;
    }
    if (s.answers.count("2") && s.answers.at("2")[0].value("result", "").ends_with("/el-backup")) {
      ++on_backup;
    } else if (s.answers.count("2") && ++elsewhere_shown <= 3) {
      ADD_FAILURE() << "session " << i << " was not answered by the backup: " << s.answers.at("2")[0].dump();
    }
  }
  EXPECT_EQ(with_problems, 0u) << "sessions that saw I1-I3 broken";
  EXPECT_EQ(on_backup, kSessions);
  EXPECT_EQ(fleet.closed_count(), 0u);
  auto backup = chaos::get("127.0.0.1", cluster.node("el-backup").admin_port, "/state", 30s);
  json state = json::parse(backup.body, nullptr, false).value("state", json::object());
  const std::size_t pool = 4 * kScaleThreads;  // [websocket] upstream_connections by default, per thread
  EXPECT_LE(state.value("ws_connections", SIZE_MAX), pool) << backup.body;
  ASSERT_TRUE(state["ws_calls"].is_object()) << backup.body;
  EXPECT_LE(state["ws_calls"].value("eth_subscribe", SIZE_MAX), pool) << backup.body;
  // The missed heads: about one fetch each per thread (gap fills that start a moment apart are
  // answered from the node's recent answers), not one per session and block (ten thousand).
  EXPECT_LE(state["ws_calls"].value("eth_getBlockByNumber", 0u), kScaleThreads * 2 * kMissedBlocks) << backup.body;
  RecordProperty("backup_header_fetches", static_cast<int>(state["ws_calls"].value("eth_getBlockByNumber", 0u)));
  // Issue 13's target: everything vixy itself sent the backup for the move (re-subscribes, gap
  // fills, block numbers) stays within 200 messages for a thousand sessions; the clients' own
  // web3_clientVersion requests are theirs, not the move's.
  std::size_t move_messages = 0;
  for (const auto& [method, calls] : state["ws_calls"].items()) {
    if (method != "web3_clientVersion") move_messages += calls.get<std::size_t>();
  }
  EXPECT_LE(move_messages, 200u) << backup.body;
  RecordProperty("backup_messages_for_the_move", static_cast<int>(move_messages));
  auto metrics = cluster.proxy_get("/metrics", 30s).body;
  EXPECT_EQ(metric_sample(metrics, "vixy_ws_subscriptions_active"), kSessions);
  EXPECT_EQ(metric_sample(metrics, "vixy_ws_subscriptions_total"), kSessions) << "replays counted as new";
  EXPECT_GE(metric_sample(metrics, "vixy_ws_replayed_subscriptions_total"), kSessions);
  EXPECT_GE(metric_sample(metrics, "vixy_ws_backfilled_total{kind=\"newHeads\"}"), kSessions * kMissedBlocks);
  EXPECT_EQ(metric_sample(metrics, "vixy_ws_unfilled_gaps_total{kind=\"newHeads\"}"), 0);
}

}  // namespace
}  // namespace vixy::testing
