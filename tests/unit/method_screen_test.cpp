// [methods] on POST /el (http/method_screen.hpp): what goes to a node, what vixy answers itself,
// and the two answers of a batch put back together.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/method_screen.hpp"

namespace vixy::http {
namespace {

using nlohmann::json;

const routing::MethodPolicy kNoDebug(config::Methods{{}, {"debug_*", "admin_peers"}});

json parsed(const std::string& text) { return json::parse(text); }

json refusal(json id, const std::string& method) {
  return {{"jsonrpc", "2.0"},
          {"id", std::move(id)},
          {"error", {{"code", -32601}, {"message", "the method " + method + " does not exist/is not available on this proxy"}}}};
}

TEST(MethodScreen, AnAllowedRequestIsLeftAsItIs) {
  auto screen = screen_methods(R"({"jsonrpc":"2.0","id":1,"method":"eth_call","params":[]})", false, kNoDebug);
  EXPECT_EQ(screen.refused, 0u);
  EXPECT_TRUE(screen.forward.empty());
  EXPECT_TRUE(screen.answers.empty());
}

TEST(MethodScreen, ARefusedRequestIsAnsweredWithItsIdAsWritten) {
  auto screen = screen_methods(R"({"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"debug_traceCall"})",
                               false, kNoDebug);
  EXPECT_EQ(screen.refused, 1u);
  EXPECT_TRUE(screen.forward.empty());
  ASSERT_EQ(screen.answers.size(), 1u);
  // The id survives byte for byte (a double would not hold it).
  EXPECT_NE(screen.answers[0].find(R"("id":123456789012345678901234567890,)"), std::string::npos) << screen.answers[0];
  EXPECT_EQ(parsed(refusals_only(screen, false))["error"], refusal(0, "debug_traceCall")["error"]);
}

// The method is read as a node reads it: escapes resolved, so "debug\u005f..." is debug_...
TEST(MethodScreen, AnEscapedMethodNameIsReadAsTheNodeWouldReadIt) {
  auto screen = screen_methods(R"({"jsonrpc":"2.0","id":1,"method":"debug\u005ftraceCall"})", false, kNoDebug);
  EXPECT_EQ(screen.refused, 1u);
}

TEST(MethodScreen, ARefusedNotificationIsCountedAndGetsNothing) {
  auto screen = screen_methods(R"({"jsonrpc":"2.0","method":"admin_peers"})", false, kNoDebug);
  EXPECT_EQ(screen.refused, 1u);
  EXPECT_TRUE(screen.answers.empty());
  EXPECT_EQ(refusals_only(screen, false), "");
}

TEST(MethodScreen, ABatchKeepsItsAllowedEntriesByteForByteInOrder) {
  std::string body = R"([{"jsonrpc":"2.0","id":"a","method":"eth_chainId"},
    {"jsonrpc":"2.0","id":"b","method":"debug_traceTransaction","params":["0x1"]},
    {"jsonrpc":"2.0","method":"admin_peers"},
    { "jsonrpc" : "2.0", "id" : 7, "method" : "eth_blockNumber" }])";
  auto screen = screen_methods(body, true, kNoDebug);
  EXPECT_EQ(screen.refused, 2u);
  EXPECT_EQ(screen.forward,
            R"([{"jsonrpc":"2.0","id":"a","method":"eth_chainId"},{ "jsonrpc" : "2.0", "id" : 7, "method" : "eth_blockNumber" }])");
  ASSERT_EQ(screen.answers.size(), 1u);
  EXPECT_EQ(parsed(screen.answers[0]), refusal("b", "debug_traceTransaction"));
}

TEST(MethodScreen, ABatchRefusedWholeIsAnsweredWholeByVixy) {
  auto screen = screen_methods(R"([{"jsonrpc":"2.0","id":1,"method":"debug_a"},{"jsonrpc":"2.0","id":2,"method":"debug_b"}])",
                               true, kNoDebug);
  EXPECT_EQ(screen.refused, 2u);
  EXPECT_TRUE(screen.forward.empty());
  EXPECT_EQ(parsed(refusals_only(screen, true)), json::array({refusal(1, "debug_a"), refusal(2, "debug_b")}));
}

TEST(MethodScreen, TheNodesAnswersComeFirstThenVixysOwn) {
  std::vector<std::string> own{refusal(3, "debug_x").dump()};
  auto merged = merge_batch_answer(R"([{"jsonrpc":"2.0","id":1,"result":"0x1"}, {"jsonrpc":"2.0","id":2,"result":[1,[2]]}] )", own);
  ASSERT_TRUE(merged);
  EXPECT_EQ(parsed(*merged), json::parse(R"([{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"result":[1,[2]]},)" +
                                         own[0] + "]"));
  auto after_empty = merge_batch_answer(" [ ] ", own);
  ASSERT_TRUE(after_empty);
  EXPECT_EQ(parsed(*after_empty), json::array({refusal(3, "debug_x")}));
}

TEST(MethodScreen, ANodeAnswerThatIsNotAnArrayCannotBeMerged) {
  std::vector<std::string> own{refusal(3, "debug_x").dump()};
  EXPECT_FALSE(merge_batch_answer(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no batches"}})", own));
  EXPECT_FALSE(merge_batch_answer(R"([{"jsonrpc":"2.0","id":1,"result":"0x1"})", own));  // cut short
  EXPECT_FALSE(merge_batch_answer("", own));
}

}  // namespace
}  // namespace vixy::http
