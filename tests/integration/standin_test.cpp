// The TEST-ONLY broken stand-in proxy (tests/standin): it starts from a vixy config, relays
// WebSocket JSON-RPC to the first EL node, and its bug flag changes what a reconnection shows.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chaos/cluster.hpp"
#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class Standin {
 public:
  explicit Standin(const std::string& bug) {
    chaos::ClusterOptions options;
    options.cl_nodes = {};
    options.start_proxy = false;
    cluster_ = std::make_unique<chaos::Cluster>(chaos::Binaries{VIXY_BIN, VIXY_FAKENODE_BIN}, options);
    std::string toml = "[global]\nconnect_timeout_ms = 1000\n\n[el]\n";
    for (const auto& node : cluster_->nodes()) {
      std::string url = "127.0.0.1:" + std::to_string(node.rpc_port);
      toml += std::string(node.name == "el-primary" ? "[[el.primary]]\n" : "[[el.backup]]\n") + "name = \"" +
              node.name + "\"\nhttp_url = \"http://" + url + "\"\nws_url = \"ws://" + url + "\"\n\n";
    }
    auto config = cluster_->dir().write("standin.toml", toml);
    process_ = std::make_unique<chaos::ChildProcess>(
        std::vector<std::string>{VIXY_STANDIN_BIN, "--config", config, "--listen", "127.0.0.1:0", "--bug", bug},
        cluster_->dir().file("standin.log"));
    auto port = process_->wait_for_listening("proxy", 10s);
    if (!port) throw std::runtime_error("vixy-standin did not start:\n" + process_->log());
    port_ = *port;
  }
  ~Standin() { process_->terminate(5s); }

  chaos::Cluster& cluster() { return *cluster_; }
  std::uint16_t port() const { return port_; }
  std::string log() const { return process_->log(); }

 private:
  std::unique_ptr<chaos::Cluster> cluster_;
  std::unique_ptr<chaos::ChildProcess> process_;
  std::uint16_t port_ = 0;
};

// The next message that is not a subscription notification.
std::optional<json> next_answer(chaos::WsClient& client, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = client.receive(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (!text) return std::nullopt;
    auto message = json::parse(*text, nullptr, false);
    if (message.is_object() && message.value("method", "") == "eth_subscription") continue;
    return message;
  }
  return std::nullopt;
}

TEST(Standin, RelaysARequestToTheFirstNode) {
  Standin standin("no-failback");
  EXPECT_EQ(chaos::get("127.0.0.1", standin.port(), "/health").status, 200);
  chaos::WsClient client;
  ASSERT_FALSE(client.connect("127.0.0.1", standin.port(), "/el/ws")) << standin.log();
  ASSERT_FALSE(client.send(R"({"jsonrpc":"2.0","id":7,"method":"web3_clientVersion"})"));
  auto answer = next_answer(client, 5s);
  ASSERT_TRUE(answer) << standin.log();
  EXPECT_EQ((*answer)["id"], 7);
  EXPECT_NE((*answer)["result"].get<std::string>().find("el-primary"), std::string::npos) << *answer;
}

// After the primary dies, the replay-answers stand-in shows the client a second answer to its
// subscribe; the careful variant does not, and serves the next request from the backup.
TEST(Standin, ReplayAnswersBugShowsAReplayedSubscribeAnswer) {
  for (const std::string bug : {"replay-answers", "no-failback"}) {
    Standin standin(bug);
    chaos::WsClient client;
    ASSERT_FALSE(client.connect("127.0.0.1", standin.port(), "/el/ws")) << standin.log();
    ASSERT_FALSE(client.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})"));
    auto subscribed = next_answer(client, 5s);
    ASSERT_TRUE(subscribed && (*subscribed)["result"].is_string()) << standin.log();

    ASSERT_EQ(standin.cluster().admin("el-primary", "/kill").status, 200);
    // Once reconnected, a request is answered by the backup; anything before that answer with id 1
    // is the replayed subscribe's answer.
    std::optional<json> answer;
    bool replayed_answer_seen = false;
    ASSERT_TRUE(chaos::wait_until(
        [&] {
          if (client.send(R"({"jsonrpc":"2.0","id":2,"method":"web3_clientVersion"})")) return false;
          for (;;) {
            answer = next_answer(client, 1s);
            if (!answer) return false;
            if ((*answer)["id"] == 1) replayed_answer_seen = true;
            if ((*answer)["id"] == 2) return true;
          }
        },
        10s, 10ms))
        << bug << "\n"
        << standin.log();
    EXPECT_NE((*answer)["result"].get<std::string>().find("el-backup"), std::string::npos) << *answer;
    // Whatever else arrives shortly after (answers to the repeated probes, a late replay answer).
    while (auto late = next_answer(client, 500ms)) replayed_answer_seen |= (*late)["id"] == 1;
    EXPECT_EQ(replayed_answer_seen, bug == "replay-answers") << bug;
  }
}

// With every node down the stand-in is certainly reconnecting: the drop bug loses a request sent
// then, the careful variant answers it once a node is back.
TEST(Standin, DropBugLosesRequestsSentWhileReconnecting) {
  for (const std::string bug : {"drop-during-reconnect", "no-failback"}) {
    Standin standin(bug);
    chaos::WsClient client;
    ASSERT_FALSE(client.connect("127.0.0.1", standin.port(), "/el/ws")) << standin.log();
    ASSERT_FALSE(client.send(R"({"jsonrpc":"2.0","id":1,"method":"web3_clientVersion"})"));
    ASSERT_TRUE(next_answer(client, 5s)) << standin.log();

    ASSERT_EQ(standin.cluster().admin("el-primary", "/kill").status, 200);
    ASSERT_EQ(standin.cluster().admin("el-backup", "/kill").status, 200);
    // With both nodes dead no connection can succeed: once a round of connects has failed after the
    // last connection was made, the stand-in is reconnecting and stays so until a node comes back.
    // (The last line being a loss is not enough: a connect to the backup made just before its kill
    // may still be on its way, and a request sent then goes to it and is re-sent later.)
    ASSERT_TRUE(chaos::wait_until(
        [&] {
          auto log = standin.log();
          auto unreachable = log.rfind("no node reachable");
          return unreachable != std::string::npos && unreachable > log.rfind("upstream connected");
        },
        5s))
        << standin.log();
    ASSERT_FALSE(client.send(R"({"jsonrpc":"2.0","id":5,"method":"web3_clientVersion"})"));
    auto connects = [&] { return count_occurrences(standin.log(), "upstream connected"); };
    auto before = connects();
    ASSERT_EQ(standin.cluster().admin("el-primary", "/restart").status, 200);
    ASSERT_TRUE(chaos::wait_until([&] { return connects() > before; }, 10s)) << standin.log();
    ASSERT_FALSE(client.send(R"({"jsonrpc":"2.0","id":6,"method":"web3_clientVersion"})"));
    // Requests are relayed in order, so id 5's answer, if there is one, comes before id 6's.
    auto first = next_answer(client, 10s);
    ASSERT_TRUE(first) << bug << "\n" << standin.log();
    if (bug == "drop-during-reconnect") {
      EXPECT_EQ((*first)["id"], 6) << *first;
    } else {
      EXPECT_EQ((*first)["id"], 5) << *first;
    }
  }
}

}  // namespace
}  // namespace vixy::testing
