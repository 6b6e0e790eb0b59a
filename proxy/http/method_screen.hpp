#pragma once
// [methods] on POST /el: a request body split into what goes to a node and what vixy answers
// itself ("method not found" for a refused method), and the two answers put back together.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/method_policy.hpp"

namespace vixy::http {

struct MethodScreen {
  std::size_t refused = 0;  // requests refused (notifications too)
  // The body for a node when some but not all of a batch was refused: its allowed entries, as
  // the client wrote them. Empty when nothing was refused (send the body as it is) or nothing is left.
  std::string forward;
  std::vector<std::string> answers;  // error objects for the refused requests that have an id
};

// `body` must be a valid single request or batch (jsonrpc::inspect_request_body said so).
MethodScreen screen_methods(std::string_view body, bool batch, const routing::MethodPolicy& policy);

// What the client gets when nothing was left to forward: the single error, the batch of errors,
// or "" when only notifications were refused (JSON-RPC answers those with nothing).
std::string refusals_only(const MethodScreen& screen, bool batch);

// A node's answer to the forwarded part of a batch with vixy's own answers added (a batch's answers
// may come in any order); nullopt when the node's answer is not a JSON array.
std::optional<std::string> merge_batch_answer(std::string_view node_answer, const std::vector<std::string>& answers);

}  // namespace vixy::http
