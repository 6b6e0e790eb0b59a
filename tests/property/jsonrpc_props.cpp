#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "jsonrpc/jsonrpc.hpp"

namespace vixy::jsonrpc {
namespace {

RC_GTEST_PROP(JsonRpcProps, QuantityRoundTrips, (std::uint64_t value)) {
  RC_ASSERT(from_quantity(to_quantity(value)) == value);
}

// Every request with an id gets exactly one error carrying that id, in order; notifications none.
RC_GTEST_PROP(JsonRpcProps, ErrorForEachKeepsEveryIdOnce, ()) {
  auto size = *rc::gen::inRange<std::size_t>(1, 20);
  json batch = json::array();
  std::vector<json> expected_ids;
  for (std::size_t i = 0; i < size; ++i) {
    json request{{"jsonrpc", "2.0"}, {"method", "m"}};
    switch (*rc::gen::inRange(0, 4)) {
      case 0: request["id"] = *rc::gen::arbitrary<std::int64_t>(); break;
      case 1: request["id"] = *rc::gen::arbitrary<std::string>(); break;
      case 2: request["id"] = nullptr; break;
      default: break;  // notification
    }
    batch.push_back(request);
  }
  // Arbitrary strings are not all UTF-8; the ids expected are the ones the text really carries.
  auto body = batch.dump(-1, ' ', false, json::error_handler_t::replace);
  for (const auto& request : json::parse(body)) {
    if (request.contains("id")) expected_ids.push_back(request["id"]);
  }
  auto text = error_for_each(body, kServerError, "x");
  if (expected_ids.empty()) {
    RC_ASSERT(text.empty());
    return;
  }
  auto answers = json::parse(text);
  RC_ASSERT(answers.is_array());
  RC_ASSERT(answers.size() == expected_ids.size());
  for (std::size_t i = 0; i < expected_ids.size(); ++i) {
    RC_ASSERT(answers[i]["id"] == expected_ids[i]);
    RC_ASSERT(answers[i]["error"]["code"] == kServerError);
  }
}

// The codec never throws, whatever bytes come in.
RC_GTEST_PROP(JsonRpcProps, InspectNeverThrows, (std::string body)) {
  auto shape = inspect_request_body(body);
  RC_ASSERT(shape.kind != RequestShape::Kind::single || shape.count == 1);
}

}  // namespace
}  // namespace vixy::jsonrpc
