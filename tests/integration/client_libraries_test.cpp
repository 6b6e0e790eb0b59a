// Real client libraries (ethers v6, viem, web3.js v4) through the real vixy binary, unchanged,
// across a failover (primary killed) and a failback (primary restarted). Each library runs as a
// `node tests/clients/<lib>.mjs` child that subscribes to new blocks and repeats a round of
// requests, printing JSON lines (tests/clients/common.mjs); this test breaks the upstreams and
// judges what the library saw. go-ethereum's ethclient is not covered: it needs Go modules.
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "fakenodes/chain.hpp"
#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kClientsDir = std::string(VIXY_SOURCE_DIR) + "/tests/clients";
constexpr std::string_view kAddress = "0x1111111111111111111111111111111111111111";  // as common.mjs
constexpr int kMethodNotFound = -32601;  // the fake node's answer to eth_call

struct Library {
  std::string script;                // tests/clients/<script>.mjs
  std::string package;               // what must be installed in node_modules
  std::vector<std::string> sources;  // the block subscribers the script reports
};

void PrintTo(const Library& library, std::ostream* out) { *out << library.script; }

bool is_file(const std::string& path) {
  struct stat info{};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && is_file(dir + "/node")) return dir + "/node";
  }
  return "";
}

// What the script printed: its protocol lines, and anything else (a library complaining on the
// console counts against it). Only complete lines, so a line being written is read next time.
struct Output {
  std::vector<json> events;
  std::vector<std::string> noise;

  explicit Output(const std::string& text) {
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      std::string line = text.substr(start, end - start);
      json event = json::parse(line, nullptr, false);
      if (event.is_object() && event.contains("event")) {
        events.push_back(std::move(event));
      } else if (!line.empty()) {
        noise.push_back(line);
      }
    }
  }

  std::size_t count(std::size_t from, const std::string& kind, const std::string& source = "") const {
    std::size_t n = 0;
    for (std::size_t i = from; i < events.size(); ++i) {
      n += events[i]["event"] == kind && (source.empty() || events[i].value("source", "") == source);
    }
    return n;
  }
};

std::string tail(const std::string& text, std::size_t bytes = 4000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

class ClientLibrary : public ::testing::TestWithParam<Library> {
 protected:
  void SetUp() override {
    node_ = find_node();
    ASSERT_FALSE(node_.empty()) << "node not found in PATH (scripts/bootstrap.sh installs nodejs)";
    ASSERT_TRUE(is_file(kClientsDir + "/node_modules/" + GetParam().package + "/package.json"))
        << "client libraries missing: run scripts/npm-clients.sh (ctest's npm_clients fixture does)";
  }

  Output output() const { return Output(script_->log()); }

  // Waits until, after event index `mark`, every subscriber reported `blocks` blocks and the
  // script finished `rounds` request rounds; false as soon as the script has ended.
  bool progressed(std::size_t mark, std::size_t blocks, std::size_t rounds, std::chrono::milliseconds timeout) {
    return chaos::wait_until(
        [&] {
          if (!script_->running()) return true;
          Output out = output();
          if (out.count(mark, "requests") < rounds) return false;
          for (const auto& source : GetParam().sources) {
            if (out.count(mark, "block", source) < blocks) return false;
          }
          return true;
        },
        timeout, 50ms) &&
           script_->running();
  }

  std::string node_;
  std::unique_ptr<chaos::ChildProcess> script_;
};

bool upstream_is(chaos::Cluster& cluster, const std::string& node) {
  std::string metrics = cluster.proxy_get("/metrics", 2s).body;
  return metrics.find("vixy_ws_upstream_node{node=\"" + node + "\"} 1") != std::string::npos;
}

TEST_P(ClientLibrary, SubscriptionsAndRequestsSurviveFailoverAndFailback) {
  const Library& library = GetParam();
  chaos::ClusterOptions options;
  options.cl_nodes.clear();  // not needed here; one process fewer to start under ASan
  chaos::Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  std::string url = "ws://127.0.0.1:" + std::to_string(cluster.proxy_port()) + "/el/ws";
  script_ = std::make_unique<chaos::ChildProcess>(
      std::vector<std::string>{node_, kClientsDir + "/" + library.script + ".mjs", url},
      cluster.dir().file(library.script + ".log"));

  // Cold start of node and the library can take seconds on a loaded machine.
  ASSERT_TRUE(progressed(0, 5, 3, 30s)) << tail(script_->log());
  EXPECT_TRUE(upstream_is(cluster, "el-primary"));

  const std::size_t kill_mark = output().events.size();
  std::size_t mark = kill_mark;
  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  EXPECT_TRUE(chaos::wait_until([&] { return upstream_is(cluster, "el-backup"); }, 5s));
  ASSERT_TRUE(progressed(mark, 5, 3, 10s)) << "after the failover:\n" << tail(script_->log());

  ASSERT_EQ(cluster.admin("el-primary", "/restart").status, 200);
  EXPECT_TRUE(chaos::wait_until([&] { return upstream_is(cluster, "el-primary"); }, 10s))
      << cluster.proxy_get("/metrics").body;
  const std::size_t failback_mark = output().events.size();
  mark = failback_mark;
  ASSERT_TRUE(progressed(mark, 5, 3, 10s)) << "after the failback:\n" << tail(script_->log());

  EXPECT_EQ(script_->terminate(5s), 0) << "the script did not end cleanly on SIGTERM";
  const std::string log = script_->log();
  Output out(log);
  EXPECT_TRUE(out.noise.empty()) << "unexpected console output:\n" << tail(log);

  fakenodes::Chain chain({.seed = 42, .block_time_ms = 200, .chain_id = 1});
  const std::string balance = chain.balance(kAddress);
  std::map<std::string, std::uint64_t> last_block;
  // Gaps per source and phase: [0] before the kill, [1] after it, [2] after the failback was seen.
  std::map<std::string, std::array<std::size_t, 3>> gaps;
  std::size_t errors = 0;
  for (std::size_t index = 0; index < out.events.size(); ++index) {
    const json& event = out.events[index];
    if (event["event"] == "error") {
      ADD_FAILURE() << "library reported: " << event.dump();
      ++errors;
    } else if (event["event"] == "block") {
      std::string source = event.value("source", "");
      auto number = event["number"].get<std::uint64_t>();
      if (auto last = last_block.find(source); last != last_block.end()) {
        EXPECT_GT(number, last->second) << source << " went backwards or repeated: " << event.dump();
        if (number > last->second + 1) ++gaps[source][(index >= kill_mark) + (index >= failback_mark)];
      }
      last_block[source] = number;
      if (event.contains("hash")) {
        EXPECT_EQ(event["hash"], chain.block_hash(number)) << event.dump();
      }
    } else if (event["event"] == "requests") {
      auto number = event["blockNumber"].get<std::uint64_t>();
      EXPECT_EQ(event["blockHash"], chain.block_hash(number)) << event.dump();
      EXPECT_EQ(event["balance"], balance) << event.dump();
      EXPECT_EQ(event["callCode"], kMethodNotFound) << event.dump();
    }
  }
  if (errors > 0) ADD_FAILURE() << tail(log);
  // Heads skipped across a switch are not the libraries' fault (ARCHITECTURE I7 is the proxy's);
  // they are shown here so that a run says how gapless the delivery was.
  for (const auto& source : library.sources) {
    std::cout << "[ client ] " << library.script << " " << source << ": " << out.count(0, "block", source)
              << " blocks, gaps before/after the kill/after the failback: " << gaps[source][0] << "/"
              << gaps[source][1] << "/" << gaps[source][2] << ", " << out.count(0, "requests") << " request rounds\n";
  }
  std::string metrics = cluster.proxy_get("/metrics").body;
  EXPECT_NE(metrics.find("vixy_ws_connections_total 1\n"), std::string::npos)
      << "the library reconnected or opened more sockets:\n" << metrics;
}

INSTANTIATE_TEST_SUITE_P(
    Real, ClientLibrary,
    ::testing::Values(Library{"ethers", "ethers", {"block"}},
                      Library{"viem", "viem", {"watchBlocks", "watchBlockNumber"}},
                      Library{"web3", "web3", {"newBlockHeaders"}}),
    [](const ::testing::TestParamInfo<Library>& param_info) { return param_info.param.script; });

}  // namespace
}  // namespace vixy::testing
