#include "server/status.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vixy::server {
namespace {

using nlohmann::json;

config::Config make_config() {
  config::Config config;
  config.el.push_back({"geth", "http://127.0.0.1:8545", "ws://127.0.0.1:8546", config::Tier::primary});
  config.el.push_back({"infura", "https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161",
                       "wss://mainnet.infura.io/ws/v3/9aa3d95b3bc440fa88ea12eaa4456161", config::Tier::backup});
  config.cl.push_back({"lighthouse", "https://user:hunter2@beacon.example.com:5052/?token=abc"});
  return config;
}

health::HealthSnapshot make_snapshot() {
  health::HealthSnapshot snapshot;
  health::NodeHealth geth;
  geth.name = "geth";
  geth.tier = config::Tier::primary;
  geth.height = 21000000;
  geth.lag = 3;
  geth.consecutive_failures = 0;
  geth.checked = true;
  geth.last_outcome = health::CheckOutcome::ok;
  geth.last_detail = "";
  geth.healthy = true;

  health::NodeHealth infura;  // never checked: the defaults a fresh snapshot holds
  infura.name = "infura";
  infura.tier = config::Tier::backup;

  health::NodeHealth lighthouse;
  lighthouse.name = "lighthouse";
  lighthouse.height = 10500000;
  lighthouse.lag = 0;
  lighthouse.consecutive_failures = 2;
  lighthouse.checked = true;
  lighthouse.last_outcome = health::CheckOutcome::syncing;
  lighthouse.last_detail = "node health 206";
  lighthouse.healthy = false;

  snapshot.el.nodes = {geth, infura};
  snapshot.el.chain_head = 21000003;
  snapshot.el.healthy_count = 1;
  snapshot.cl.nodes = {lighthouse};
  snapshot.cl.chain_head = 10500000;
  snapshot.el_failover_active = false;
  snapshot.round = 42;
  return snapshot;
}

TEST(Status, TopLevelFields) {
  const json status = json::parse(render_status(make_snapshot(), make_config()));
  EXPECT_EQ(status.at("el_chain_head"), 21000003u);
  EXPECT_EQ(status.at("cl_chain_head"), 10500000u);
  EXPECT_EQ(status.at("el_failover_active"), false);
  EXPECT_EQ(status.at("health_round"), 42u);
  ASSERT_EQ(status.at("el_nodes").size(), 2u);
  ASSERT_EQ(status.at("cl_nodes").size(), 1u);
}

TEST(Status, CheckedElNode) {
  const json node = json::parse(render_status(make_snapshot(), make_config())).at("el_nodes").at(0);
  const json expected = {
      {"name", "geth"},
      {"tier", "primary"},
      {"http_url", "http://127.0.0.1:8545"},
      {"ws_url", "ws://127.0.0.1:8546"},
      {"is_primary", true},
      {"block_number", 21000000},
      {"lag", 3},
      {"check_ok", true},
      {"check_result", "ok"},
      {"check_detail", ""},
      {"consecutive_failures", 0},
      {"is_healthy", true},
  };
  EXPECT_EQ(node, expected);
}

TEST(Status, NeverCheckedBackupWithRedactedUrls) {
  const json node = json::parse(render_status(make_snapshot(), make_config())).at("el_nodes").at(1);
  EXPECT_EQ(node.at("name"), "infura");
  EXPECT_EQ(node.at("tier"), "backup");
  EXPECT_EQ(node.at("is_primary"), false);
  EXPECT_EQ(node.at("http_url"), "https://mainnet.infura.io/***");
  EXPECT_EQ(node.at("ws_url"), "wss://mainnet.infura.io/***");
  EXPECT_EQ(node.at("block_number"), 0u);
  EXPECT_EQ(node.at("check_ok"), false);
  EXPECT_EQ(node.at("check_result"), "not_checked");
  EXPECT_EQ(node.at("check_detail"), "not checked yet");
  EXPECT_EQ(node.at("is_healthy"), false);
}

TEST(Status, ClNode) {
  const json node = json::parse(render_status(make_snapshot(), make_config())).at("cl_nodes").at(0);
  const json expected = {
      {"name", "lighthouse"},
      {"url", "https://***@beacon.example.com:5052/***"},
      {"slot", 10500000},
      {"lag", 0},
      {"health_ok", false},
      {"check_result", "syncing"},
      {"check_detail", "node health 206"},
      {"consecutive_failures", 2},
      {"is_healthy", false},
  };
  EXPECT_EQ(node, expected);
}

TEST(Status, NoSecretAppearsAnywhere) {
  const std::string text = render_status(make_snapshot(), make_config());
  EXPECT_EQ(text.find("9aa3d95b3bc440fa88ea12eaa4456161"), std::string::npos);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find("token=abc"), std::string::npos);
}

TEST(Status, MismatchedConfigOmitsUrlsButKeepsSnapshotNames) {
  config::Config config = make_config();
  config.el.pop_back();
  const json status = json::parse(render_status(make_snapshot(), config));
  ASSERT_EQ(status.at("el_nodes").size(), 2u);
  EXPECT_EQ(status.at("el_nodes").at(1).at("name"), "infura");
  for (const json& node : status.at("el_nodes")) {
    EXPECT_FALSE(node.contains("http_url"));
    EXPECT_FALSE(node.contains("ws_url"));
  }
  // The CL layer still matches its configuration, so its URL is shown.
  EXPECT_TRUE(status.at("cl_nodes").at(0).contains("url"));
}

TEST(Status, FailedOutcomeAndFailoverFlag) {
  health::HealthSnapshot snapshot = make_snapshot();
  snapshot.el.nodes[0].last_outcome = health::CheckOutcome::failed;
  snapshot.el.nodes[0].last_detail = "timeout after 2000ms";
  snapshot.el.nodes[0].consecutive_failures = 3;
  snapshot.el.nodes[0].healthy = false;
  snapshot.el_failover_active = true;
  const json status = json::parse(render_status(snapshot, make_config()));
  EXPECT_EQ(status.at("el_failover_active"), true);
  const json& node = status.at("el_nodes").at(0);
  EXPECT_EQ(node.at("check_ok"), false);
  EXPECT_EQ(node.at("check_result"), "failed");
  EXPECT_EQ(node.at("check_detail"), "timeout after 2000ms");
  EXPECT_EQ(node.at("consecutive_failures"), 3u);
  EXPECT_EQ(node.at("is_healthy"), false);
}

TEST(Status, InvalidUtf8InDetailStillRenders) {
  health::HealthSnapshot snapshot = make_snapshot();
  snapshot.cl.nodes[0].last_detail = "bad body \xff\xfe";
  std::string text;
  ASSERT_NO_THROW(text = render_status(snapshot, make_config()));
  const json status = json::parse(text);
  EXPECT_EQ(status.at("cl_nodes").at(0).at("check_detail").get<std::string>().rfind("bad body ", 0), 0u);
}

}  // namespace
}  // namespace vixy::server
