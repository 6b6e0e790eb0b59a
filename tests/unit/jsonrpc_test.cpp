#include "jsonrpc/jsonrpc.hpp"

#include <gtest/gtest.h>

namespace vixy::jsonrpc {
namespace {

TEST(JsonRpc, InspectsSingleBatchAndInvalidBodies) {
  auto single = inspect_request_body(R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})");
  EXPECT_EQ(single.kind, RequestShape::Kind::single);
  EXPECT_EQ(single.count, 1u);

  auto batch = inspect_request_body(R"([{"method":"a","id":1},{"method":"b"},5])");
  EXPECT_EQ(batch.kind, RequestShape::Kind::batch);
  EXPECT_EQ(batch.count, 3u);

  EXPECT_EQ(inspect_request_body("{not json").kind, RequestShape::Kind::parse_error);
  EXPECT_EQ(inspect_request_body("").kind, RequestShape::Kind::parse_error);
  EXPECT_EQ(inspect_request_body("[]").kind, RequestShape::Kind::invalid_request);
  EXPECT_EQ(inspect_request_body("\"text\"").kind, RequestShape::Kind::invalid_request);
  EXPECT_EQ(inspect_request_body(" [ ] ").problem, "empty batch");
  EXPECT_EQ(inspect_request_body(R"({"method":"m"} x)").kind, RequestShape::Kind::parse_error);
  EXPECT_EQ(inspect_request_body("[{\"method\":\"m\"},]").kind, RequestShape::Kind::parse_error);
}

TEST(JsonRpc, ErrorForEachAnswersEveryRequestWithItsOwnId) {
  auto single = error_for_each(json::parse(R"({"id":"abc","method":"m"})"), -32000, "down");
  EXPECT_EQ(single, json::parse(R"({"jsonrpc":"2.0","id":"abc","error":{"code":-32000,"message":"down"}})"));

  auto batch = error_for_each(json::parse(R"([{"id":1,"method":"m"},{"method":"notification"},{"id":null,"method":"m"},7])"),
                              -32000, "down");
  ASSERT_TRUE(batch.is_array());
  ASSERT_EQ(batch.size(), 3u);  // the notification gets no answer
  EXPECT_EQ(batch[0]["id"], 1);
  EXPECT_TRUE(batch[1]["id"].is_null());
  EXPECT_TRUE(batch[2]["id"].is_null());
  EXPECT_EQ(batch[2]["error"]["code"], -32000);
}

TEST(JsonRpc, ValidatesRequestObjects) {
  std::string problem;
  EXPECT_TRUE(is_valid_request(json::parse(R"({"method":"m","id":1,"params":[]})")));
  EXPECT_TRUE(is_valid_request(json::parse(R"({"method":"m","params":{}})")));
  EXPECT_FALSE(is_valid_request(json::parse(R"({"id":1})"), &problem));
  EXPECT_NE(problem.find("method"), std::string::npos);
  EXPECT_FALSE(is_valid_request(json::parse(R"({"method":"m","id":[1]})"), &problem));
  EXPECT_FALSE(is_valid_request(json::parse(R"({"method":"m","params":3})"), &problem));
}

TEST(JsonRpc, QuantitiesAreEthereumHex) {
  EXPECT_EQ(to_quantity(0), "0x0");
  EXPECT_EQ(to_quantity(26), "0x1a");
  EXPECT_EQ(from_quantity("0x1a"), 26u);
  EXPECT_EQ(from_quantity("0XFF"), 255u);
  EXPECT_EQ(from_quantity("0xffffffffffffffff"), UINT64_MAX);
  EXPECT_FALSE(from_quantity("0x"));
  EXPECT_FALSE(from_quantity("1a"));
  EXPECT_FALSE(from_quantity("0x1g"));
  EXPECT_FALSE(from_quantity("0x10000000000000000"));
}

}  // namespace
}  // namespace vixy::jsonrpc
