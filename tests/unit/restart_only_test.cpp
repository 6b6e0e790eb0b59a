// What a reload may change: config::keep_restart_only names each restart-only setting the new file
// changed and gives it back its running value; reloadable settings pass through untouched.
#include <gtest/gtest.h>

#include <string>

#include "config/restart_only.hpp"

namespace vixy::config {
namespace {

constexpr std::string_view kNodes = R"(
[el]
[[el.primary]]
name = "p"
http_url = "http://127.0.0.1:8545"
ws_url = "ws://127.0.0.1:8546"
)";

Config file(const std::string& head) { return parse(head + std::string(kNodes), "cfg.toml"); }

TEST(RestartOnly, EachRestartOnlySettingIsNamedAndKeepsItsRunningValue) {
  const Config running = file("");
  struct Case {
    std::string toml;
    std::string key;
  };
  const Case cases[] = {
      {"[server]\nlisten = \"127.0.0.1:9000\"\n", "server.listen"},
      {"[server]\nhost = \"127.0.0.2\"\nport = 8080\n", "server.listen"},
      {"[server]\nthreads = 3\n", "server.threads"},
      {"[server]\nmax_connections = 9\n", "server.max_connections"},
      {"[server]\nmax_connections_per_ip = 9\n", "server.max_connections_per_ip"},
      {"[server]\nclient_write_timeout_ms = 9\n", "server.client_write_timeout_ms"},
      {"[global]\nmax_body_size = 9\n", "global.max_body_size"},
      {"[metrics]\nenabled = false\n", "metrics.enabled"},
      {"[metrics]\nport = 9100\n", "metrics.port"},
      {"[metrics]\nport = 9100\nhost = \"127.0.0.1\"\n", "metrics.port"},
  };
  for (const auto& c : cases) {
    Config next = file(c.toml);
    auto named = keep_restart_only(next, running);
    ASSERT_FALSE(named.empty()) << c.toml;
    EXPECT_EQ(named.front(), c.key) << c.toml;
    // Nothing restart-only differs any more: a second pass names nothing.
    EXPECT_TRUE(keep_restart_only(next, running).empty()) << c.toml;
    EXPECT_EQ(next.server.listen, running.server.listen);
    EXPECT_EQ(next.server.threads, running.server.threads);
    EXPECT_EQ(next.metrics.port, running.metrics.port);
    EXPECT_EQ(next.global.max_body_size, running.global.max_body_size);
  }
}

TEST(RestartOnly, ReloadableSettingsAreNotNamedAndKeepTheFilesValue) {
  const Config running = file("");
  Config next = file(
      "[global]\nmax_retries = 7\nhealth_check_interval_ms = 250\n"
      "[server]\nshutdown_timeout_ms = 1234\nmax_buffered_bytes = 2097152\n"
      "[websocket]\nbackfill_blocks = 9\n[limits]\nrequests_per_second = 5\n[routing]\nstrategy = \"round_robin\"\n");
  EXPECT_TRUE(keep_restart_only(next, running).empty());
  EXPECT_EQ(next.global.max_retries, 7u);
  EXPECT_EQ(next.global.health_check_interval_ms, 250u);
  EXPECT_EQ(next.server.shutdown_timeout_ms, 1234u);
  EXPECT_EQ(next.server.max_buffered_bytes, 2097152u);
  EXPECT_EQ(next.websocket.backfill_blocks, 9u);
  EXPECT_EQ(next.limits.requests_per_second, 5u);
  EXPECT_EQ(next.routing.strategy, "round_robin");
}

}  // namespace
}  // namespace vixy::config
