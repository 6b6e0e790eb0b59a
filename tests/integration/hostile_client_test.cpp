// Clients that try to hurt vixy or the other clients (issue 12), against the real binary: JSON
// nested 100,000 levels deep (which crashed the process), batches of a million entries, and a
// WebSocket client that stops reading while notifications keep coming.

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;

std::string deeply_nested(std::size_t levels) {
  std::string text;
  for (std::size_t i = 0; i < levels; ++i) text += "{\"a\":";
  return text + "1" + std::string(levels, '}');
}

std::string batch_of(std::size_t count, std::string_view entry = "") {
  std::string body = "[";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) body += ',';
    body += entry.empty() ? R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"eth_chainId"})"
                          : std::string(entry);
  }
  return body + "]";
}

void expect_refused(const chaos::HttpResult& r, const std::string& message) {
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  auto body = parse_body(r);
  EXPECT_TRUE(body.is_object() && body["id"].is_null()) << r.body.substr(0, 300);
  EXPECT_EQ(body["error"]["code"], -32600);
  EXPECT_EQ(body["error"]["message"], message);
}

// The paths where vixy answers itself built a tree of the body and copied it recursively.
TEST(HostileClient, DeeplyNestedIdIsRefusedWhetherOrNotANodeIsHealthy) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  std::string body = R"({"jsonrpc":"2.0","method":"eth_chainId","id":)" + deeply_nested(100000) + "}";
  const std::string too_deep = "invalid request: JSON nested deeper than 128 levels (max_json_depth)";
  expect_refused(cluster.proxy_post("/el", body), too_deep);

  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_EQ(cluster.admin("el-backup", "/kill").status, 200);
  ASSERT_TRUE(chaos::wait_until([&] { return cluster.proxy_get("/ready").status == 503; }, 10s));
  expect_refused(cluster.proxy_post("/el", body), too_deep);
  EXPECT_TRUE(cluster.proxy().running());
  EXPECT_EQ(cluster.proxy_get("/health").status, 200);
}

TEST(HostileClient, AnObjectIdIsRefusedAndNeverReachesTheNode) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  auto r = cluster.proxy_post("/el", R"({"jsonrpc":"2.0","method":"eth_chainId","id":{"nested":[1]}})");
  expect_refused(r, "invalid request: \"id\" must be a number, a string or null");
}

TEST(HostileClient, AMillionEntryBatchIsRefusedWholeAndTheNodesStayHealthy) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  auto r = cluster.proxy_post("/el", batch_of(1'000'000, "{}"), 30s);  // 3 MB, under max_body_size
  expect_refused(r, "invalid request: batch of more than 1000 requests (max_batch_size)");
  auto at_limit = cluster.proxy_post("/el", batch_of(1000));
  EXPECT_EQ(at_limit.status, 200);
  EXPECT_EQ(parse_body(at_limit).size(), 1000u);
  EXPECT_TRUE(node_status(cluster, "el-primary").value("is_healthy", false));
}

TEST(HostileClient, WebSocketDeepFilterAndLargeBatchGetErrorsAndTheSessionGoesOn) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster.proxy_port()));
  ASSERT_TRUE(ws.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["logs",)" +
                      deeply_nested(100000) + "]}"));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() >= 1; }));
  EXPECT_EQ(ws.answers()[0].body["error"]["code"], -32600) << ws.answers()[0].text;
  ASSERT_TRUE(ws.send(batch_of(1001)));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() >= 2; }));
  EXPECT_EQ(ws.answers()[1].body["error"]["message"],
            "invalid request: batch of more than 1000 requests (max_batch_size)");
  auto chain = ws.call("3", "eth_chainId");
  ASSERT_TRUE(chain.has_value());
  EXPECT_TRUE((*chain)["result"].is_string()) << chain->dump();
  EXPECT_TRUE(cluster.proxy().running());
}

std::string log_tail(Cluster& cluster) {
  std::string log = cluster.proxy().log();
  return log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
}

double slow_clients_closed(Cluster& cluster) {
  return proxy_metric(cluster, R"(vixy_ws_slow_clients_closed_total{reason="backlog"})") +
         proxy_metric(cluster, R"(vixy_ws_slow_clients_closed_total{reason="write_timeout"})") +
         proxy_metric(cluster, R"(vixy_ws_slow_clients_closed_total{reason="process_buffer"})");
}

// A client asks for large answers and stops reading: it used to be "closed" again and again
// without ever going (its writes had no deadline), while its memory grew and other sessions waited.
// `reason` is the bound that must close it, with `extra_toml` making it the first one reached.
void slow_reader_is_closed(const std::string& extra_toml, const std::string& reason) {
  ClusterOptions options;
  options.extra_toml = extra_toml;
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  RpcWs steady;
  ASSERT_TRUE(steady.connect(cluster.proxy_port()));
  ASSERT_FALSE(steady.subscribe("\"heads\"", json::array({"newHeads"})).empty());
  // Every eth_call is answered with 512 KiB (an error whose message is that long: cheap for the node).
  json big{{"method", "eth_call"}, {"error", {{"code", -32000}, {"message", std::string(512 * 1024, 'x')}}}};
  for (const char* node : {"el-primary", "el-backup"}) ASSERT_EQ(cluster.admin(node, "/method", big.dump()).status, 200);

  // Forty such answers, and then `slow` reads nothing: the first fill the kernel's buffers (about
  // 4 MB on loopback), the others wait in vixy.
  RpcWs slow;
  ASSERT_TRUE(slow.connect(cluster.proxy_port()));
  for (int id = 1; id <= 40; ++id) ASSERT_TRUE(slow.send(request_text(std::to_string(id), "eth_call")));

  ASSERT_TRUE(chaos::wait_until(
      [&] {
        steady.observe(100ms);
        return slow_clients_closed(cluster) >= 1;
      },
      60s))
      << "the client that stopped reading was never closed; queued: " << proxy_metric(cluster, "vixy_ws_buffered_bytes")
      << " bytes; messages to nodes: " << proxy_metric(cluster, R"(vixy_ws_messages_total{direction="client_to_upstream"})")
      << ", to clients: " << proxy_metric(cluster, R"(vixy_ws_messages_total{direction="upstream_to_client"})") << "\n"
      << log_tail(cluster);
  EXPECT_EQ(proxy_metric(cluster, "vixy_ws_slow_clients_closed_total{reason=\"" + reason + "\"}"), 1.0)
      << "closed for another reason than " << reason;
  EXPECT_TRUE(chaos::wait_until([&] { return proxy_metric(cluster, "vixy_ws_buffered_bytes") == 0; }, 10s))
      << "what was queued for the closed client was not freed";
  auto chain = steady.call("\"after\"", "eth_chainId");
  ASSERT_TRUE(chain.has_value()) << "the client that kept reading lost its session\n" << log_tail(cluster);
  EXPECT_TRUE((*chain)["result"].is_string());
  slow.pump_until([] { return false; }, 20s);  // reads what the kernel holds, until the end
  EXPECT_TRUE(slow.closed()) << "the slow client's connection was not ended";
}

TEST(HostileClient, AWebSocketClientPastItsBacklogIsClosedAndItsMemoryFreed) {
  // The backlog is reached at once; the deadline still bounds the write in progress after it.
  slow_reader_is_closed("[server]\nclient_write_timeout_ms = 1000\n[websocket]\nmax_client_backlog_bytes = 65536\n",
                        "backlog");
}

// With room to queue everything, the write that never finishes is what ends the client.
TEST(HostileClient, AWebSocketClientWhoseWriteOutlastsItsDeadlineIsClosed) {
  slow_reader_is_closed("[server]\nclient_write_timeout_ms = 1000\n[websocket]\nmax_client_backlog_bytes = 268435456\n",
                        "write_timeout");
}

// The bound on what all clients together may hold ([server] max_buffered_bytes, at its least),
// with the client's own backlog bound out of reach: the process-wide bound is what must close the
// client that stops reading (within a fraction of a second here, long before the write deadline,
// which then ends the write in progress and frees the last of its memory), and the one that keeps
// reading stays.
TEST(HostileClient, AWebSocketClientHoldingMoreThanItsShareOfTheProcessBoundIsClosed) {
  slow_reader_is_closed("[server]\nclient_write_timeout_ms = 3000\nmax_buffered_bytes = 1048576\n"
                        "[websocket]\nmax_client_backlog_bytes = 268435456\n",
                        "process_buffer");
}

}  // namespace
}  // namespace vixy::testing
