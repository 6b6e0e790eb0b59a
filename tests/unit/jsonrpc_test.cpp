#include "jsonrpc/jsonrpc.hpp"

#include <gtest/gtest.h>

namespace vixy::jsonrpc {
namespace {

TEST(JsonRpc, InspectsSingleBatchAndInvalidBodies) {
  auto single = inspect_request_body(R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})");
  EXPECT_EQ(single.kind, RequestShape::Kind::single);
  EXPECT_EQ(single.count, 1u);

  auto batch = inspect_request_body(R"([{"method":"a","id":1},{"method":"b"},{"method":"c","id":"x"}])");
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

TEST(JsonRpc, DeepBodiesAndLargeBatchesAreRefusedBeforeAnyTreeIsBuilt) {
  std::string deep_id = R"({"jsonrpc":"2.0","method":"m","id":)" + std::string(100000, '[') +
                        std::string(100000, ']') + "}";
  auto deep = inspect_request_body(deep_id);
  EXPECT_EQ(deep.kind, RequestShape::Kind::invalid_request);
  EXPECT_EQ(deep.problem, "JSON nested deeper than 128 levels (max_json_depth)");
  auto expected = json::parse(R"json({"jsonrpc":"2.0","id":null,"error":{"code":-32600,
      "message":"invalid request: JSON nested deeper than 128 levels (max_json_depth)"}})json");
  EXPECT_EQ(json::parse(deep.answer), expected);
  EXPECT_EQ(inspect_request_body(R"({"method":"m","params":[[[1]]]})", {3, 10}).kind,
            RequestShape::Kind::invalid_request);
  EXPECT_EQ(inspect_request_body(R"({"method":"m","params":[[1]]})", {3, 10}).kind, RequestShape::Kind::single);

  std::string batch = "[";
  for (int i = 0; i < 11; ++i) batch += std::string(i == 0 ? "" : ",") + R"({"method":"m","id":)" + std::to_string(i) + "}";
  batch += "]";
  auto large = inspect_request_body(batch, {128, 10});
  EXPECT_EQ(large.kind, RequestShape::Kind::invalid_request);
  EXPECT_EQ(large.problem, "batch of more than 10 requests (max_batch_size)");
  auto large_answer = json::parse(large.answer);
  EXPECT_TRUE(large_answer["id"].is_null());
  EXPECT_EQ(large_answer["error"]["code"], kInvalidRequest);
  EXPECT_EQ(inspect_request_body(batch, {128, 11}).kind, RequestShape::Kind::batch);
}

TEST(JsonRpc, AnInvalidRequestIsAnsweredUnderItsIdOnlyWhenTheIdIsOneARequestMayHave) {
  auto object_id = inspect_request_body(R"({"method":"m","id":{"a":1}})");
  EXPECT_EQ(object_id.kind, RequestShape::Kind::invalid_request);
  auto object_answer = json::parse(object_id.answer);
  EXPECT_TRUE(object_answer["id"].is_null());
  EXPECT_EQ(object_answer["error"]["message"], "invalid request: \"id\" must be a number, a string or null");
  auto no_method = inspect_request_body(R"({"id":"q7"})");
  EXPECT_EQ(no_method.answer, R"({"jsonrpc":"2.0","id":"q7","error":{"code":-32600,"message":"invalid request: request needs a string \"method\""}})");
}

TEST(JsonRpc, ABatchWithAnInvalidRequestIsAnsweredWholeWithOneAnswerPerId) {
  auto shape = inspect_request_body(R"([{"method":"a","id":1},{"method":"n"},{"id":[2],"method":"b"},7,{"method":"c","id":"z"}])");
  EXPECT_EQ(shape.kind, RequestShape::Kind::invalid_request);
  EXPECT_EQ(shape.problem, "request 3 of the batch: \"id\" must be a number, a string or null");
  auto expected = json::parse(R"([
    {"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"not sent: request 3 of this batch is invalid"}},
    {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: \"id\" must be a number, a string or null"}},
    {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: request must be a JSON object"}},
    {"jsonrpc":"2.0","id":"z","error":{"code":-32600,"message":"not sent: request 3 of this batch is invalid"}}])");
  EXPECT_EQ(json::parse(shape.answer), expected);
}

TEST(JsonRpc, ErrorForEachAnswersEveryRequestWithItsOwnIdByteExact) {
  EXPECT_EQ(error_for_each(R"({"id":"abc","method":"m"})", -32000, "down"),
            R"({"jsonrpc":"2.0","id":"abc","error":{"code":-32000,"message":"down"}})");
  // A number beyond a double comes back as the client wrote it.
  EXPECT_EQ(error_for_each(R"({"id":123456789012345678901234567890,"method":"m"})", -32000, "down"),
            R"({"jsonrpc":"2.0","id":123456789012345678901234567890,"error":{"code":-32000,"message":"down"}})");

  auto batch = json::parse(error_for_each(R"([{"id":1,"method":"m"},{"method":"notification"},{"id":null,"method":"m"},7])",
                                          -32000, "down"));
  ASSERT_TRUE(batch.is_array());
  ASSERT_EQ(batch.size(), 3u);  // the notification gets no answer
  EXPECT_EQ(batch[0]["id"], 1);
  EXPECT_TRUE(batch[1]["id"].is_null());
  EXPECT_TRUE(batch[2]["id"].is_null());
  EXPECT_EQ(batch[2]["error"]["code"], -32000);

  auto odd_id = json::parse(error_for_each(R"({"id":{"x":[1]},"method":"m"})", -32000, "down"));
  EXPECT_TRUE(odd_id["id"].is_null());
  // JSON-RPC: a batch of notifications only is answered with nothing, not with [].
  EXPECT_EQ(error_for_each(R"([{"method":"a"},{"method":"b"}])", -32000, "down"), "");
}

TEST(JsonRpc, ValidatesRequestObjects) {
  EXPECT_TRUE(is_valid_request(json::parse(R"({"method":"m","id":1,"params":[]})")));
  EXPECT_TRUE(is_valid_request(json::parse(R"({"method":"m","params":{}})")));
  auto no_method = is_valid_request(json::parse(R"({"id":1})"));
  EXPECT_FALSE(no_method);
  EXPECT_NE(no_method.problem().find("method"), std::string::npos);
  EXPECT_FALSE(is_valid_request(json::parse(R"({"method":"m","id":[1]})")));
  EXPECT_FALSE(is_valid_request(json::parse(R"({"method":"m","params":3})")));
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
