// What a client may put on GET /el/ws besides one plain request: batches, odd ids (which must come
// back byte for byte, also after a reconnection), binary frames, text that is not JSON and frames
// over the size limit. Each gets a deliberate answer or close code, and other sessions never
// notice.

#include <gtest/gtest.h>

#include <set>

#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;
using nlohmann::json;

// The ids JSON-RPC clients are known to send, each written as the client wrote it.
const std::vector<std::string> kOddIds = {
    R"("abc")", R"("")", R"("q\"\u00e9\\ \/")", "123456789012345678901234567890", "-42", "1.5", "-0.25", "0",
    "null"};

std::set<std::string> ids_in(const json& batch_answer) {
  std::set<std::string> ids;
  for (const auto& a : batch_answer) ids.insert(a.value("id", json()).dump());
  return ids;
}

TEST(WsFrames, BatchesAreAnsweredAsOneArrayAlsoAfterAReconnection) {
  WsCluster c;
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  const std::string batch = "[" + request_text("1", "eth_chainId") + "," + request_text(R"("b")", "net_version") +
                            R"(,{"jsonrpc":"2.0","method":"eth_chainId"},)" + request_text("3", "no_such_method") + "]";
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "before the kill" : "right after the kill");
    if (round == 1) {
      ASSERT_TRUE(c.kill("el-primary"));
    }
    std::size_t before = ws.answers().size();
    ASSERT_TRUE(ws.send(batch));
    ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() > before; }, 10s));
    EXPECT_EQ(ws.observe(kQuietWindow), 0u);
    ASSERT_EQ(ws.answers().size(), before + 1);
    const json& answer = ws.answers().back().body;
    ASSERT_TRUE(answer.is_array()) << ws.answers().back().text;
    ASSERT_EQ(answer.size(), 3u) << answer;  // the notification inside gets none
    EXPECT_EQ(ids_in(answer), (std::set<std::string>{"1", R"("b")", "3"}));
    for (const auto& a : answer) {
      if (a["id"] == 1) {
        EXPECT_EQ(a.value("result", json()), "0x1");
      } else if (a["id"] == "b") {
        EXPECT_EQ(a.value("result", json()), "1");
      } else if (a["id"] == 3) {
        EXPECT_EQ(a["error"].value("code", 0), -32601) << a;
      }
    }
  }

  ASSERT_TRUE(ws.send("[]"));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() == 3; }, 5s));
  const json& empty = ws.answers().back().body;
  EXPECT_TRUE(empty.is_object() && empty.contains("error")) << ws.answers().back().text;
  EXPECT_TRUE(empty.is_object() && empty["id"].is_null());
}

TEST(WsFrames, OddIdsComeBackByteExactAlsoAfterAReconnection) {
  WsCluster c;
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "before the kill" : "right after the kill");
    if (round == 1) {
      ASSERT_TRUE(c.kill("el-primary"));
    }
    std::size_t before = ws.answers().size();
    for (const auto& id : kOddIds) ASSERT_TRUE(ws.send(request_text(id, "eth_chainId")));
    ASSERT_TRUE(ws.pump_until([&] { return ws.answers().size() >= before + kOddIds.size(); }, 10s));
    EXPECT_EQ(ws.observe(kQuietWindow), 0u);
    for (const auto& id : kOddIds) {
      std::size_t count = 0;
      for (std::size_t i = before; i < ws.answers().size(); ++i) {
        if (ws.answers()[i].id != id) continue;
        ++count;
        EXPECT_EQ(ws.answers()[i].body.value("result", json()), "0x1") << ws.answers()[i].text;
      }
      EXPECT_EQ(count, 1u) << "id " << id;
    }
  }
}

// One frame the session cannot take, sent on `bad` while `bystander` (the cluster's session) holds
// a subscription.
struct BadFrameFixture : WsCluster {
  RpcWs& bystander = ws;
  RpcWs bad;
  std::string sub;

  using WsCluster::WsCluster;
  void start() {
    ASSERT_TRUE(open());
    sub = bystander.subscribe("1", {"newHeads"});
    ASSERT_TRUE(connect(bad));
    ASSERT_TRUE(bad.call("0", "eth_chainId"));
  }
  // The bad session got an error answer or a close frame with one of `codes`; whichever it was,
  // the bystander's session still works and still gets its notifications.
  void expect_handled(const std::set<int>& codes, const std::string& what) {
    bool answered = bad.pump_until([&] { return bad.answers().size() > 1; }, 5s);
    if (answered) {
      const json& error = bad.answers().back().body;
      EXPECT_TRUE(error.is_object() && error.contains("error") && error["id"].is_null()) << what << ": " << error;
      EXPECT_TRUE(bad.call("\"still\"", "eth_chainId")) << what << ": the session stopped working";
    } else {
      EXPECT_TRUE(bad.closed()) << what << ": neither an answer nor a close";
      EXPECT_TRUE(codes.count(bad.client().close_code())) << what << ": close code " << bad.client().close_code();
    }
    EXPECT_TRUE(bystander.notified_after(sub, bystander.notifications().size(), 5s));
    EXPECT_TRUE(bystander.call("2", "eth_chainId")) << what << " disturbed another session";
    EXPECT_EQ(bystander.observe(200ms), 0u);
  }
};

TEST(WsFrames, ABinaryFrameGetsAClearAnswer) {
  BadFrameFixture f;
  ASSERT_NO_FATAL_FAILURE(f.start());
  ASSERT_FALSE(f.bad.client().send_binary(std::string("\x00\x01{\"id\":1}", 9)));
  f.expect_handled({1003}, "binary frame");
}

TEST(WsFrames, TextThatIsNotJsonGetsAParseError) {
  BadFrameFixture f;
  ASSERT_NO_FATAL_FAILURE(f.start());
  ASSERT_TRUE(f.bad.send("this is not {json"));
  ASSERT_TRUE(f.bad.pump_until([&] { return f.bad.answers().size() > 1; }, 5s));
  EXPECT_EQ(f.bad.answers().back().body["error"].value("code", 0), -32700) << f.bad.answers().back().text;
  f.expect_handled({}, "non-JSON text");
}

TEST(WsFrames, AnOversizedFrameIsRefusedWithoutHarmingOthers) {
  ClusterOptions options;
  options.extra_toml = "[websocket]\nmax_message_size = 4096\n";
  BadFrameFixture f(options);
  ASSERT_NO_FATAL_FAILURE(f.start());
  std::string big = request_text("5", "eth_getBalance", {std::string(8192, 'a'), "latest"});
  f.bad.send(big);  // the proxy may close while this is still being written
  f.expect_handled({1009}, "oversized frame");
  // A frame under the limit is still taken by a new session.
  RpcWs fresh;
  ASSERT_TRUE(f.connect(fresh));
  EXPECT_TRUE(fresh.call("1", "eth_chainId", json::array(), 5s));
}

}  // namespace
}  // namespace vixy::testing
