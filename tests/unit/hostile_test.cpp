// The hostile clients: their messages, the words for what came back, and the clients themselves
// run against a fake EL node (which answers every path over HTTP and WebSocket like the proxy's
// /el and /el/ws).

#include "chaos/hostile.hpp"
#include "chaos/hostile_messages.hpp"

#include <gtest/gtest.h>

#include "fakenode_fixture.hpp"

namespace vixy::testing {
namespace {

using chaos::describe_answer;
using chaos::nesting_depth;

TEST(HostileMessages, NestingDepthSkipsStrings) {
  EXPECT_EQ(nesting_depth("1"), 0u);
  EXPECT_EQ(nesting_depth("[]"), 1u);
  EXPECT_EQ(nesting_depth(R"({"a":[1,{"b":[]}],"c":{}})"), 4u);
  EXPECT_EQ(nesting_depth(R"(["[[[[", "\"{{{"])"), 1u);
  EXPECT_EQ(nesting_depth("]]]]["), 1u);  // stray closers never go below zero
}

TEST(HostileMessages, NestedRequestsNestAsDeepAsAsked) {
  std::string params = chaos::nested_params_request("hostile-n1", 100'000);
  EXPECT_EQ(nesting_depth(params), 100'001u);  // the request object around the params
  EXPECT_EQ(params.rfind(R"({"jsonrpc":"2.0","id":"hostile-n1","method":"eth_blockNumber","params":[[[)", 0), 0u);
  EXPECT_EQ(nesting_depth(chaos::nested_id_request(500)), 501u);
  EXPECT_EQ(nesting_depth(chaos::nested_logs_subscribe("x", 300)), 303u);  // request, params, filter, address
  // Shallow ones are valid JSON: the nesting is the only thing wrong with them.
  for (const auto& text : {chaos::nested_params_request("a", 5), chaos::nested_id_request(5),
                           chaos::nested_logs_subscribe("b", 5)}) {
    EXPECT_FALSE(json::parse(text, nullptr, false).is_discarded()) << text;
  }
  EXPECT_TRUE(json::parse(chaos::nested_id_request(3))["id"].is_object());
}

TEST(HostileMessages, HugeBatchHasOneRequestPerEntry) {
  json batch = json::parse(chaos::huge_batch("hostile-b2", 1000));
  ASSERT_EQ(batch.size(), 1000u);
  EXPECT_EQ(batch[999]["id"], "hostile-b2-999");
  EXPECT_EQ(batch[0]["method"], "eth_blockNumber");
}

TEST(HostileMessages, ParseBoundedRefusesWhatIsTooDeep) {
  EXPECT_TRUE(chaos::parse_bounded(std::string(300, '[') + std::string(300, ']')).is_discarded());
  EXPECT_EQ(chaos::parse_bounded("[[1]]").dump(), "[[1]]");
  EXPECT_TRUE(chaos::parse_bounded("[[1]]", 1).is_discarded());
  EXPECT_TRUE(chaos::parse_bounded("{nope").is_discarded());
}

TEST(HostileMessages, WhatCameBackInWords) {
  EXPECT_EQ(describe_answer(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"too deep"}})"), "error -32600");
  EXPECT_EQ(describe_answer(R"({"jsonrpc":"2.0","id":1,"result":"0x1"})"), "a result");
  EXPECT_EQ(describe_answer(R"([{"id":1,"result":"0x1"},{"id":2,"error":{"code":-32005}},{"id":3,"error":{"code":-32000}}])"),
            "3 answers (2 errors, first error -32005)");
  EXPECT_EQ(describe_answer("[]"), "an empty batch answer");
  EXPECT_EQ(describe_answer(""), "an empty body");
  EXPECT_EQ(describe_answer("<html>"), "not JSON");
  EXPECT_EQ(describe_answer(R"({"error":"x"})"), "an error without a code");
  EXPECT_EQ(describe_answer(std::string(1000, '[') + std::string(1000, ']')), "an answer nested 1000 deep");
  chaos::HttpResult refused;
  refused.ec = boost::asio::error::connection_refused;
  EXPECT_EQ(chaos::describe_http(refused).rfind("transport error: ", 0), 0u);
  chaos::HttpResult bad;
  bad.status = 400;
  bad.body = R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x"}})";
  EXPECT_EQ(chaos::describe_http(bad), "HTTP 400, error -32600");
}

std::uint64_t total(const chaos::HostileReport& r, const std::string& group) {
  auto it = r.outcomes.find(group);
  if (it == r.outcomes.end()) return 0;
  std::uint64_t n = 0;
  for (const auto& [outcome, count] : it->second) n += count;
  return n;
}

std::uint64_t count_of(const chaos::HostileReport& r, const std::string& group, const std::string& outcome) {
  auto it = r.outcomes.find(group);
  if (it == r.outcomes.end()) return 0;
  auto o = it->second.find(outcome);
  return o == it->second.end() ? 0 : o->second;
}

TEST(HostileRunner, EveryKindOfAttackRunsAndIsCounted) {
  RunningNode node(fakenodes::NodeKind::el, 7, 50);
  chaos::HostileWorkload spec;
  spec.slow_readers = 2;
  spec.slow_reader_subscriptions = 5;
  spec.nested_json_per_second = 40;  // shallow: the fake node's own parser is not what is tested here
  spec.nested_depth = 20;
  spec.huge_batches_per_second = 20;
  spec.huge_batch_size = 50;
  spec.idle_connections = 3;
  spec.connection_flood_per_second = 50;
  chaos::HostileRunner hostile(spec, node.rpc_port());
  hostile.start();
  // Each WebSocket attacker sends its second message only after its first was answered.
  ASSERT_TRUE(eventually([&] {
    auto r = hostile.report();
    return count_of(r, "idle connections", "opened") == 3 && count_of(r, "slow readers", "connected") == 2 &&
           total(r, "nested JSON") >= 8 && total(r, "huge batches") >= 8 && total(r, "connection flood") >= 5;
  }, 10s)) << hostile.summary();
  hostile.stop_attacking();
  hostile.finish();
  auto r = hostile.report();
  // The fake node answers everything: shallow nesting gets an answer, a batch one answer per entry.
  EXPECT_GT(count_of(r, "nested JSON", "http: HTTP 200, a result"), 0u) << hostile.summary();
  EXPECT_GT(count_of(r, "nested JSON", "ws: a result"), 0u);
  EXPECT_GT(count_of(r, "huge batches", "http: HTTP 200, 50 answers"), 0u);
  EXPECT_GT(count_of(r, "huge batches", "ws: 50 answers"), 0u);
  EXPECT_EQ(count_of(r, "idle connections", "still open at the end of the run"), 3u);
  EXPECT_EQ(count_of(r, "slow readers", "still open at the end of the run"), 2u);
  EXPECT_GT(count_of(r, "connection flood", "connected and closed at once"), 0u);
  EXPECT_TRUE(r.slow_reader_closed_after_ms.empty());
}

TEST(HostileRunner, ConnectionsTheServerClosesAreCountedAndOpenedAgain) {
  RunningNode node(fakenodes::NodeKind::el, 7, 50);
  chaos::HostileWorkload spec;
  spec.idle_connections = 2;
  spec.slow_readers = 1;
  spec.slow_reader_subscriptions = 3;
  chaos::HostileRunner hostile(spec, node.rpc_port());
  hostile.start();
  ASSERT_TRUE(eventually([&] {
    auto r = hostile.report();
    return count_of(r, "idle connections", "opened") == 2 && count_of(r, "slow readers", "connected") == 1;
  })) << hostile.summary();
  ASSERT_TRUE(eventually([&] { return node.state()["subscriptions"] == 3; }));
  node.admin("/close-connections");
  ASSERT_TRUE(eventually([&] {
    auto r = hostile.report();
    return count_of(r, "idle connections", "closed by the proxy") == 2 && count_of(r, "idle connections", "opened") == 4 &&
           count_of(r, "slow readers", "connected") == 2;
  })) << hostile.summary();
  hostile.finish();
  auto r = hostile.report();
  ASSERT_EQ(r.slow_reader_closed_after_ms.size(), 1u);
  std::uint64_t closed = 0;
  for (const auto& [outcome, n] : r.outcomes.at("slow readers")) {
    if (outcome.rfind("closed by the proxy", 0) == 0) closed += n;
  }
  EXPECT_EQ(closed, 1u) << hostile.summary();
}

}  // namespace
}  // namespace vixy::testing
