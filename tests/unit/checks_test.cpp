#include "monitor/checks.hpp"

#include <gtest/gtest.h>

namespace vixy::monitor {
namespace {

using health::CheckOutcome;

TEST(Checkers, ElBlockNumberAnswer) {
  auto ok = interpret_el_block_number(200, R"({"jsonrpc":"2.0","id":1,"result":"0x10"})");
  EXPECT_EQ(ok.outcome, CheckOutcome::ok);
  EXPECT_EQ(ok.height, 16u);
  EXPECT_EQ(interpret_el_block_number(503, "").outcome, CheckOutcome::failed);
  EXPECT_EQ(interpret_el_block_number(200, "<html>").outcome, CheckOutcome::failed);
  auto rpc_error = interpret_el_block_number(200, R"({"id":1,"error":{"code":-32000,"message":"x"}})");
  EXPECT_EQ(rpc_error.outcome, CheckOutcome::failed);
  EXPECT_NE(rpc_error.detail.find("-32000"), std::string::npos);
  EXPECT_EQ(interpret_el_block_number(200, R"({"id":1,"result":16})").outcome, CheckOutcome::failed);
  EXPECT_EQ(interpret_el_block_number(200, R"({"id":1,"result":"16"})").outcome, CheckOutcome::failed);
}

TEST(Checkers, ClHeadAnswer) {
  auto ok = interpret_cl_head(200, R"({"data":{"header":{"message":{"slot":"12345"}}}})");
  EXPECT_EQ(ok.outcome, CheckOutcome::ok);
  EXPECT_EQ(ok.height, 12345u);
  EXPECT_EQ(interpret_cl_head(404, "{}").outcome, CheckOutcome::failed);
  EXPECT_EQ(interpret_cl_head(200, R"({"data":{"header":{"message":{"slot":12}}}})").outcome, CheckOutcome::failed);
  EXPECT_EQ(interpret_cl_head(200, R"({"data":{"header":{"message":{"slot":"12x"}}}})").outcome,
            CheckOutcome::failed);
  EXPECT_EQ(interpret_cl_head(200, R"({"data":{}})").outcome, CheckOutcome::failed);
}

}  // namespace
}  // namespace vixy::monitor
