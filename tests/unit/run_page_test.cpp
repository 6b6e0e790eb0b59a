// The run's picture: the figures taken from hand-written histories, the faults paired with what
// undid them, and a page that carries its evidence escaped and fetches nothing.
#include "chaos/run_page.hpp"
#include "chaos/run_picture.hpp"

#include <gtest/gtest.h>

namespace vixy::chaos {
namespace {

const SteadyTime t0{};
SteadyTime at(int ms) { return t0 + std::chrono::milliseconds(ms); }

std::string probe(const std::string& id) {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"web3_clientVersion","params":[]})";
}
std::string version(const std::string& id, const std::string& node) {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":"vixy-fakenode/v1/)" + node + R"("})";
}

TEST(RunPicture, SessionsRequestsAndNotificationsOverTime) {
  ConnectionHistory h;
  h.client = 2;
  h.opened = at(100);
  h.sent(probe("1"), at(200));
  h.received(version("1", "el-primary"), at(201));
  h.sent(probe("1"), at(300));  // the same id again: matched in order
  h.sent(R"({"jsonrpc":"2.0","id":2,"method":"eth_blockNumber","params":[]})", at(310));
  h.received(R"({"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"x"}})", at(330));
  h.received(version("1", "el-backup"), at(340));
  h.received(R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x00000000000000000000000000abcdef","result":{}}})",
             at(400));
  h.received(R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x00000000000000000000000000abcdef","result":{}}})",
             at(500));
  h.closed(true, "1001 going away", at(600));
  HttpSample http;
  http.sent = at(700);
  http.latency_ms = 5;
  auto p = picture_of({h}, {http}, t0);

  ASSERT_EQ(p.connections.size(), 1u);
  const auto& c = p.connections[0];
  EXPECT_EQ(c.label, "client 2 connection 0");
  EXPECT_DOUBLE_EQ(c.opened_ms, 100);
  EXPECT_DOUBLE_EQ(c.ended_ms, 600);
  EXPECT_TRUE(c.ended_by_peer);
  EXPECT_EQ(c.end_reason, "1001 going away");
  ASSERT_EQ(c.served_by.size(), 2u);
  EXPECT_EQ(c.served_by[0], (std::pair<double, std::string>{201, "el-primary"}));
  EXPECT_EQ(c.served_by[1], (std::pair<double, std::string>{340, "el-backup"}));

  ASSERT_EQ(p.requests.size(), 4u);
  EXPECT_DOUBLE_EQ(p.requests[0].latency_ms, 1);
  EXPECT_DOUBLE_EQ(p.requests[1].latency_ms, 20);  // eth_blockNumber, answered first
  EXPECT_TRUE(p.requests[1].error);
  EXPECT_DOUBLE_EQ(p.requests[2].latency_ms, 40);  // the second probe
  EXPECT_TRUE(p.requests[3].http);
  EXPECT_DOUBLE_EQ(p.end_ms, 705);

  ASSERT_EQ(p.subscriptions.size(), 1u);
  EXPECT_EQ(p.subscriptions[0].notified_ms, (std::vector<double>{400, 500}));
  EXPECT_NE(p.subscriptions[0].label.find("abcdef"), std::string::npos);  // the id's distinct end
}

AppliedEvent applied(int ms, const std::string& action, const std::string& target, nlohmann::json args = nlohmann::json::object(),
                     const std::string& result = "ok") {
  return {TimelineEvent{ms, action, target, std::move(args)}, static_cast<double>(ms), result};
}

TEST(RunPage, FaultsArePairedWithWhatUndidThem) {
  std::vector<AppliedEvent> timeline{
      applied(0, "method_delay", "p", {{"method", "eth_getBalance"}, {"delay_ms", 300}}),
      applied(1000, "kill", "p"),
      applied(1500, "close_all", "b"),
      applied(2500, "restart", "p"),
      applied(3000, "method_clear", "p"),
      applied(3500, "lag", "b", {{"blocks", 20}}),
      applied(4000, "blackhole", "b", {{"on", true}}),
      applied(4500, "clear", "b"),
      applied(5000, "reset", "p", nlohmann::json::object(), "no injector in front of p"),
      applied(5500, "kill", "b"),
  };
  auto spans = fault_spans(timeline, 6000);
  auto find = [&](const std::string& node, const std::string& what) -> const FaultSpan* {
    for (const auto& s : spans) {
      if (s.node == node && s.what.find(what) != std::string::npos) return &s;
    }
    return nullptr;
  };
  const FaultSpan* delay = find("p", "eth_getBalance delayed 300 ms");
  ASSERT_NE(delay, nullptr);
  EXPECT_DOUBLE_EQ(delay->to_ms, 3000);
  const FaultSpan* down = find("p", "down");
  ASSERT_NE(down, nullptr);
  EXPECT_DOUBLE_EQ(down->from_ms, 1000);
  EXPECT_DOUBLE_EQ(down->to_ms, 2500);
  ASSERT_NE(find("b", "close_all"), nullptr);
  EXPECT_DOUBLE_EQ(find("b", "close_all")->to_ms, 1500);
  EXPECT_DOUBLE_EQ(find("b", "20 blocks behind")->to_ms, 4500);  // clear ends every fault but a kill
  EXPECT_DOUBLE_EQ(find("b", "blackholed")->to_ms, 4500);
  ASSERT_NE(find("p", "not applied: no injector"), nullptr);
  const FaultSpan* last = find("b", "down");
  ASSERT_NE(last, nullptr);
  EXPECT_DOUBLE_EQ(last->to_ms, 6000);  // never undone: to the end of the run
}

TEST(RunPage, SelfContainedWithItsEvidenceEscaped) {
  Scenario s;
  s.name = "page-test";
  s.description = "a <made-up> run";
  RunReport r;
  r.scenario = s.name;
  InvariantResult i1{"I1", "violated", "", 1, {{"client 0 connection 0", 1234, "answer <script>alert(1)</script> & more"}}};
  r.check.invariants.push_back(i1);
  r.timeline.push_back(applied(1000, "kill", "el-primary"));
  ConnectionHistory h;
  h.opened = t0;
  h.sent(probe("1"), at(10));
  h.received(version("1", "el-primary"), at(11));
  h.closed(false, "", at(2000));
  r.picture = picture_of({h}, {}, t0);

  std::string page = render_run_page(s, r);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("page-test: FAILED"), std::string::npos);
  EXPECT_NE(page.find("a &lt;made-up&gt; run"), std::string::npos);
  EXPECT_NE(page.find("answer &lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("src="), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  for (auto at = page.find("href=\""); at != std::string::npos; at = page.find("href=\"", at + 1)) {
    EXPECT_EQ(page[at + 6], '#') << page.substr(at, 40);  // only links within the page
  }
  EXPECT_NE(page.find("href=\"#v1\""), std::string::npos);  // the marker links to its evidence
  EXPECT_NE(page.find("id=\"v1\""), std::string::npos);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("el-primary: down"), std::string::npos);
  EXPECT_NE(page.find("client 0 connection 0 on el-primary"), std::string::npos);
}

}  // namespace
}  // namespace vixy::chaos
