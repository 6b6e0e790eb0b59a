// GET /el/ws while no upstream can take a message, and for requests an upstream took and never
// answered: nothing is silently dropped (defect 1 of the incident). Queued requests go out in order
// once a node is back, a full queue answers with errors, and requests in flight on a killed node
// are re-sent when safe or answered with an error, exactly once either way.

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;
using nlohmann::json;

ClusterOptions with_websocket(const std::string& settings) {
  ClusterOptions options;
  options.extra_toml = "[websocket]\n" + settings;
  return options;
}

TEST(WsQueue, RequestsSentThroughThreeSecondsWithoutUpstreamAreAllAnsweredInOrder) {
  // A short backoff: the node comes back while the session is still retrying.
  WsCluster c(with_websocket("reconnect_backoff_ms = 50\nreconnect_backoff_max_ms = 300\n"));
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  ASSERT_EQ(ws.upstream_name(), "el-primary");
  ASSERT_TRUE(c.kill_all_el());

  // 100 per second for 3 seconds; the pacing pump also records anything that arrives meanwhile.
  constexpr int kRequests = 300;
  auto start = std::chrono::steady_clock::now();
  for (int id = 1; id <= kRequests; ++id) {
    ASSERT_TRUE(ws.send(request_text(std::to_string(id), "eth_blockNumber")));
    auto next = start + id * 10ms;
    ws.pump_until([] { return false; },
                  std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now()));
  }
  EXPECT_TRUE(ws.answers().size() <= 1u) << "answered without an upstream: " << ws.answers().back().text;

  ASSERT_TRUE(c.restart("el-backup"));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() >= kRequests + 1; }, 20s))
      << ws.answers().size() - 1 << " of " << kRequests << " answered";
  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  ASSERT_EQ(ws.answers().size(), static_cast<std::size_t>(kRequests + 1));
  for (int id = 1; id <= kRequests; ++id) {
    const auto& answer = ws.answers()[static_cast<std::size_t>(id)];
    EXPECT_EQ(answer.id, std::to_string(id)) << "answers out of order at " << id;
    EXPECT_TRUE(answer.body.contains("result")) << answer.text;
  }
}

TEST(WsQueue, AFullQueueAnswersTheExcessWithErrorsAndKeepsTheRest) {
  WsCluster c(with_websocket("max_pending_requests = 4\nreconnect_backoff_max_ms = 300\n"));
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  ASSERT_EQ(ws.upstream_name(), "el-primary");
  ASSERT_TRUE(c.kill_all_el());

  for (int id = 1; id <= 7; ++id) ASSERT_TRUE(ws.send(request_text(std::to_string(id), "eth_chainId")));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() >= 1 + 3; }, 10s)) << "overflow went unanswered";
  for (int id = 5; id <= 7; ++id) {
    auto with = ws.answers_with(std::to_string(id));
    ASSERT_EQ(with.size(), 1u) << id;
    EXPECT_EQ(with[0]->body["error"].value("code", 0), -32005) << with[0]->text;
  }
  EXPECT_EQ(c.metric("vixy_ws_queue_full_errors_total"), 3);

  ASSERT_TRUE(c.restart("el-primary"));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() >= 1 + 7; }, 20s));
  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  for (int id = 1; id <= 4; ++id) {
    auto with = ws.answers_with(std::to_string(id));
    ASSERT_EQ(with.size(), 1u) << id;
    EXPECT_EQ(with[0]->body.value("result", json()), "0x1") << with[0]->text;
  }
}

TEST(WsQueue, RequestsInFlightAtTheKillAreAnsweredOnce) {
  WsCluster c;
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  ASSERT_EQ(ws.upstream_name(), "el-primary");
  // Held long enough on the primary that the kill finds them there; the backup answers at once.
  for (const char* method : {"eth_getBalance", "eth_sendTransaction"}) {
    ASSERT_TRUE(c.admin("el-primary", "/method", json{{"method", method}, {"delay_ms", 5000}}.dump()));
  }
  const json balance_params = {"0x00000000000000000000000000000000000000aa", "latest"};
  ASSERT_TRUE(ws.send(request_text("\"balance\"", "eth_getBalance", balance_params)));
  ASSERT_TRUE(ws.send(request_text("9", "eth_sendTransaction", json::array({json::object()}))));
  ASSERT_TRUE(chaos::wait_until([&] { return c.node_state("el-primary").value("in_flight", 0) == 2; }, 10s));

  ASSERT_TRUE(c.kill("el-primary"));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answer_count("\"balance\"") && ws.answer_count("9"); }, 10s));
  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  ASSERT_EQ(ws.answer_count("\"balance\""), 1u);
  ASSERT_EQ(ws.answer_count("9"), 1u);

  // A read is safe to repeat: the backup's answer, the same as asking the backup directly.
  auto direct = parse_body(chaos::post_json("127.0.0.1", c.cluster.node("el-backup").rpc_port, "/",
                                            rpc(1, "eth_getBalance", balance_params)));
  EXPECT_EQ(ws.answers_with("\"balance\"")[0]->body.value("result", json()), direct["result"]);
  // Sending a transaction twice is not: an error saying so. Re-sent, it would have reached the
  // backup, whose "method does not exist" (-32601) would be the answer.
  const json& unsafe = ws.answers_with("9")[0]->body;
  ASSERT_TRUE(unsafe.contains("error")) << unsafe;
  EXPECT_NE(unsafe["error"].value("code", 0), -32601) << "re-sent to the backup: " << unsafe;
  EXPECT_GE(c.metric("vixy_ws_resent_requests_total"), 1);
}

}  // namespace
}  // namespace vixy::testing
