// `vixy-chaos inject`: the real binary in front of an echo server, driven through its control API.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chaos/http_client.hpp"
#include "chaos/process.hpp"
#include "echo_fixture.hpp"

namespace vixy::testing {
namespace {

using json = nlohmann::json;

json parsed(const chaos::HttpResult& result) { return json::parse(result.body, nullptr, false); }

TEST(InjectCli, ControlApiSwitchesFaultsAndRejectsBadInput) {
  EchoServer echo;
  chaos::TempDir dir("vixy-inject");
  chaos::ChildProcess inject({VIXY_CHAOS_BIN, "inject", "--target", "127.0.0.1:" + std::to_string(echo.port())},
                             dir.file("inject.log"));
  auto relay = inject.wait_for_listening("relay", 10s);
  auto control = inject.wait_for_listening("control", 10s);
  ASSERT_TRUE(relay && control) << inject.log();

  auto state = chaos::get("127.0.0.1", *control, "/state");
  ASSERT_EQ(state.status, 200) << state.body;
  EXPECT_EQ(parsed(state)["state"]["port"], *relay);

  auto set = chaos::post_json("127.0.0.1", *control, "/latency", R"({"direction":"to_node","ms":250})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(parsed(set)["state"]["faults"]["to_node"]["latency_ms"], 250);
  RawClient client;
  ASSERT_FALSE(client.connect(*relay));
  auto start = Clock::now();
  EXPECT_EQ(client.echo("through"), "through");
  EXPECT_GE(Clock::now() - start, 250ms);

  struct Bad {
    std::string path, body, names;
  };
  for (const Bad& bad :
       {Bad{"/latency", "{\"ms\":", "JSON"}, Bad{"/latency", R"({"ms":1,"speed":2})", "speed"},
        Bad{"/latency", R"({"ms":-5})", "ms"}, Bad{"/latency", R"({"ms":1,"direction":"up"})", "direction"},
        Bad{"/bandwidth", R"({})", "bytes_per_second"}, Bad{"/blackhole", R"({"on":"yes"})", "on"},
        Bad{"/kill", R"({"now":true})", "now"}, Bad{"/latency", "[1]", "object"}}) {
    auto answer = chaos::post_json("127.0.0.1", *control, bad.path, bad.body);
    EXPECT_EQ(answer.status, 400) << bad.path << " " << bad.body;
    auto body = parsed(answer);
    ASSERT_TRUE(body.is_object()) << answer.body;
    EXPECT_EQ(body["ok"], false);
    EXPECT_NE(body.value("error", "").find(bad.names), std::string::npos) << body;
  }
  EXPECT_EQ(chaos::post_json("127.0.0.1", *control, "/nothing", "{}").status, 404);
  EXPECT_EQ(chaos::get("127.0.0.1", *control, "/kill").status, 405);

  ASSERT_EQ(chaos::post_json("127.0.0.1", *control, "/kill", "").status, 200);
  RawClient refused;
  EXPECT_EQ(refused.connect(*relay), boost::asio::error::connection_refused);
  ASSERT_EQ(chaos::post_json("127.0.0.1", *control, "/restart", "{}").status, 200);
  ASSERT_EQ(chaos::post_json("127.0.0.1", *control, "/clear", "").status, 200);
  RawClient again;
  ASSERT_FALSE(again.connect(*relay));
  EXPECT_EQ(again.echo("again"), "again");

  EXPECT_EQ(inject.terminate(5s), 0) << inject.log();
}

TEST(InjectCli, MissingTargetIsAUsageError) {
  chaos::TempDir dir("vixy-inject");
  chaos::ChildProcess inject({VIXY_CHAOS_BIN, "inject", "--listen", "0"}, dir.file("inject.log"));
  EXPECT_EQ(inject.wait_for_exit(10s), 2);
  EXPECT_NE(inject.log().find("--target"), std::string::npos) << inject.log();
}

}  // namespace
}  // namespace vixy::testing
